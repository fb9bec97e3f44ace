#include "api/tensor_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include <boost/json.hpp>

#include "common/json_writer.h"

namespace mast {

namespace json = boost::json;

json::value ElementToJson(const Tensor& t, int64_t i) {
  switch (t.type) {
    case DataType::kFp32: {
      const float f = t.data<float>()[i];
      if (!std::isfinite(f)) return nullptr;  // JSON has no NaN or Inf
      char buf[32];
      auto res = std::to_chars(buf, buf + sizeof(buf), f);
      double d = 0;
      std::from_chars(buf, res.ptr, d);
      return d;
    }
    case DataType::kFp64: {
      const double d = t.data<double>()[i];
      if (!std::isfinite(d)) return nullptr;
      return d;
    }
    case DataType::kInt32: return static_cast<int64_t>(t.data<int32_t>()[i]);
    case DataType::kInt64: return t.data<int64_t>()[i];
    case DataType::kBool: return t.data<uint8_t>()[i] != 0;
    case DataType::kBytes: return json::string(t.strings[static_cast<size_t>(i)]);
  }
  return nullptr;
}

json::array FlatToJson(const Tensor& t) {
  json::array out;
  const int64_t n = t.size();
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out.push_back(ElementToJson(t, i));
  return out;
}

json::array RowsToJson(const Tensor& t) {
  json::array out;
  if (t.shape.empty()) {
    out.push_back(ElementToJson(t, 0));
    return out;
  }
  const int64_t rows = t.shape[0];
  const int64_t per_row = rows > 0 ? t.size() / rows : 0;
  out.reserve(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    if (per_row == 1) {
      out.push_back(ElementToJson(t, r));
    } else {
      json::array row;
      row.reserve(static_cast<size_t>(per_row));
      for (int64_t k = 0; k < per_row; ++k) row.push_back(ElementToJson(t, r * per_row + k));
      out.push_back(std::move(row));
    }
  }
  return out;
}

void AppendFlatJson(const Tensor& t, std::string* out) {
  out->push_back('[');
  const int64_t n = t.size();
  for (int64_t i = 0; i < n; ++i) {
    if (i > 0) out->push_back(',');
    AppendJson(ElementToJson(t, i), out);
  }
  out->push_back(']');
}

void AppendRowsJson(const Tensor& t, std::string* out) {
  out->push_back('[');
  if (t.shape.empty()) {
    AppendJson(ElementToJson(t, 0), out);
    out->push_back(']');
    return;
  }
  const int64_t rows = t.shape[0];
  const int64_t per_row = rows > 0 ? t.size() / rows : 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (r > 0) out->push_back(',');
    if (per_row == 1) {
      AppendJson(ElementToJson(t, r), out);
      continue;
    }
    out->push_back('[');
    for (int64_t k = 0; k < per_row; ++k) {
      if (k > 0) out->push_back(',');
      AppendJson(ElementToJson(t, r * per_row + k), out);
    }
    out->push_back(']');
  }
  out->push_back(']');
}

namespace {

constexpr int kMaxDepth = 32;

// Appends the leaves of `v` (depth-first) to `leaves`.
Status Flatten(const json::value& v, int depth, const std::string& name,
               std::vector<const json::value*>* leaves) {
  if (depth > kMaxDepth) {
    return InvalidArgument("input '" + name + "': data is nested too deeply");
  }
  if (const json::array* a = v.if_array()) {
    for (const auto& e : *a) RETURN_IF_ERROR(Flatten(e, depth + 1, name, leaves));
    return OkStatus();
  }
  leaves->push_back(&v);
  return OkStatus();
}

std::optional<double> AsNumber(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nullopt;
}

std::optional<int64_t> AsInteger(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    double d = v.get_double();
    if (std::floor(d) == d && std::fabs(d) < 9.2e18) return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

// Stores `leaves` (as many as `t` holds) in `t`.
Status FillFromLeaves(const std::vector<const json::value*>& leaves, Tensor* t) {
  auto bad = [&](size_t i, const char* want) {
    return InvalidArgument("input '" + t->name + "': element " + std::to_string(i) +
                           " is not " + want + " (datatype " +
                           std::string(DataTypeName(t->type)) + ")");
  };
  for (size_t i = 0; i < leaves.size(); ++i) {
    const json::value& v = *leaves[i];
    switch (t->type) {
      case DataType::kFp32: {
        auto d = AsNumber(v);
        if (!d) return bad(i, "a number");
        if (std::fabs(*d) > std::numeric_limits<float>::max()) {
          return bad(i, "within the FP32 range");
        }
        t->data<float>()[i] = static_cast<float>(*d);
        break;
      }
      case DataType::kFp64: {
        auto d = AsNumber(v);
        if (!d) return bad(i, "a number");
        // A literal beyond the double range (1e400) parses as infinity.
        if (!std::isfinite(*d)) return bad(i, "within the FP64 range");
        t->data<double>()[i] = *d;
        break;
      }
      case DataType::kInt32: {
        auto n = AsInteger(v);
        if (!n || *n > std::numeric_limits<int32_t>::max() ||
            *n < std::numeric_limits<int32_t>::min()) {
          return bad(i, "an integer within the INT32 range");
        }
        t->data<int32_t>()[i] = static_cast<int32_t>(*n);
        break;
      }
      case DataType::kInt64: {
        auto n = AsInteger(v);
        if (!n) return bad(i, "an integer within the INT64 range");
        t->data<int64_t>()[i] = *n;
        break;
      }
      case DataType::kBool:
        if (!v.is_bool()) return bad(i, "true or false");
        t->data<uint8_t>()[i] = v.get_bool() ? 1 : 0;
        break;
      case DataType::kBytes:
        if (!v.is_string()) return bad(i, "a string");
        t->strings[i] = std::string(v.get_string());
        break;
    }
  }
  return OkStatus();
}

Status CountMismatch(const std::string& name, int64_t expected, size_t got) {
  return InvalidArgument("input '" + name + "': shape holds " + std::to_string(expected) +
                         " elements but data has " + std::to_string(got));
}

}  // namespace

Status FillTensorFromJson(const json::value& data, Tensor* t) {
  std::vector<const json::value*> leaves;
  const int64_t expected = t->size();
  leaves.reserve(static_cast<size_t>(std::max<int64_t>(expected, 0)));
  RETURN_IF_ERROR(Flatten(data, 0, t->name, &leaves));
  if (static_cast<int64_t>(leaves.size()) != expected) {
    return CountMismatch(t->name, expected, leaves.size());
  }
  return FillFromLeaves(leaves, t);
}

StatusOr<Tensor> TensorFromJson(std::string name, DataType type, std::vector<int64_t> shape,
                                const json::value& data) {
  std::vector<const json::value*> leaves;
  RETURN_IF_ERROR(Flatten(data, 0, name, &leaves));
  return TensorFromLeaves(std::move(name), type, std::move(shape), leaves);
}

StatusOr<Tensor> TensorFromLeaves(std::string name, DataType type, std::vector<int64_t> shape,
                                  const std::vector<const json::value*>& leaves) {
  // The product saturates (a shape beyond int64 holds more than any body
  // can carry); a zero dimension still makes it 0.
  int64_t expected = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      return InvalidArgument("input '" + name + "': shape dimensions must be non-negative");
    }
    if (__builtin_mul_overflow(expected, d, &expected)) {
      expected = std::numeric_limits<int64_t>::max();
    }
  }
  if (static_cast<int64_t>(leaves.size()) != expected) {
    return CountMismatch(name, expected, leaves.size());
  }
  Tensor t = Tensor::Make(std::move(name), type, std::move(shape));
  RETURN_IF_ERROR(FillFromLeaves(leaves, &t));
  return t;
}

}  // namespace mast
