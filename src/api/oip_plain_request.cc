#include "api/oip_plain_request.h"

#include "common/json_scan.h"

namespace mast {

namespace json = boost::json;

namespace {

// Reads one input object of a PlainInferRequest.
const char* ReadInput(const char* p, const char* end, PlainInferRequest* in) {
  using namespace json_scan;
  unsigned seen = 0;  // a bit per member
  auto once = [&seen](unsigned bit) { return (seen & bit) == 0 && (seen |= bit) != 0; };
  p = ReadMembers(p, end, [&](std::string_view key, const char* at) -> const char* {
    if (key == "name" && once(1)) return ReadPlainString(at, end, &in->name);
    if (key == "datatype" && once(2)) return ReadPlainString(at, end, &in->datatype);
    if (key == "shape" && once(4)) {
      return ReadElements(at, end, [&](const char* e) -> const char* {
        json::value d;
        e = ReadNumber(e, end, &d);
        if (e == nullptr || !d.is_int64() || d.get_int64() < 0) return nullptr;
        in->shape.push_back(d.get_int64());
        return e;
      });
    }
    if (key == "data" && once(8)) {
      return ReadElements(at, end, [&](const char* e) -> const char* {
        json::value& v = in->data.emplace_back();
        e = ReadScalar(e, end, &v);
        return e != nullptr && (v.is_number() || v.is_bool()) ? e : nullptr;
      });
    }
    return nullptr;
  });
  return seen == 15 ? p : nullptr;
}

}  // namespace

bool ReadPlainInferRequest(std::string_view text, PlainInferRequest* in) {
  using namespace json_scan;
  in->has_id = false;
  in->shape.clear();
  in->data.clear();
  const char* const end = text.data() + text.size();
  bool has_inputs = false;
  int inputs = 0;
  const char* p = ReadMembers(SkipSpace(text.data(), end), end,
                              [&](std::string_view key, const char* at) -> const char* {
                                if (key == "id" && !in->has_id) {
                                  in->has_id = true;
                                  return ReadPlainString(at, end, &in->id);
                                }
                                if (key != "inputs" || has_inputs) return nullptr;
                                has_inputs = true;
                                return ReadElements(at, end, [&](const char* e) -> const char* {
                                  return ++inputs == 1 ? ReadInput(e, end, in) : nullptr;
                                });
                              });
  return p != nullptr && SkipSpace(p, end) == end && inputs == 1;
}

}  // namespace mast
