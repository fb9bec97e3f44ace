#include "common/json_writer.h"

#include <charconv>
#include <cmath>

#include <boost/json.hpp>

#include "common/json_scan.h"

namespace mast {

void AppendJsonString(std::string_view s, std::string* out) {
  static const char* kHex = "0123456789abcdef";
  // Usually all of it.
  const size_t plain =
      json_scan::FindStringStop(s.data(), s.data() + s.size(), /*ascii_only=*/false);
  out->reserve(out->size() + s.size() + 2);
  out->push_back('"');
  out->append(s.data(), plain);
  size_t from = plain;  // start of the run of characters that need no escape
  for (size_t i = plain; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + from, i - from);
    from = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xf]);
    }
  }
  out->append(s.data() + from, s.size() - from);
  out->push_back('"');
}

namespace {

template <typename T>
void AppendNumber(T v, std::string* out) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

}  // namespace

void AppendJson(const boost::json::value& value, std::string* out) {
  switch (value.kind()) {
    case boost::json::kind::null: out->append("null"); return;
    case boost::json::kind::bool_: out->append(value.get_bool() ? "true" : "false"); return;
    case boost::json::kind::int64: AppendNumber(value.get_int64(), out); return;
    case boost::json::kind::uint64: AppendNumber(value.get_uint64(), out); return;
    case boost::json::kind::double_: {
      const double d = value.get_double();
      if (!std::isfinite(d)) {
        out->append("null");
        return;
      }
      const size_t start = out->size();
      AppendNumber(d, out);
      // "1e+20" and "3" are valid JSON; keep integral doubles recognisable
      // as numbers with a fraction only when they are written plainly.
      std::string_view written(out->data() + start, out->size() - start);
      if (written.find_first_of(".e") == std::string_view::npos) out->append(".0");
      return;
    }
    case boost::json::kind::string: AppendJsonString(value.get_string(), out); return;
    case boost::json::kind::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& e : value.get_array()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(e, out);
      }
      out->push_back(']');
      return;
    }
    case boost::json::kind::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& kv : value.get_object()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(kv.key(), out);
        out->push_back(':');
        AppendJson(kv.value(), out);
      }
      out->push_back('}');
      return;
    }
  }
}

}  // namespace mast
