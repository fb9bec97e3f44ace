#include "features/feature_mapper.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>
#include <unordered_map>

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include "features/flat_object_reader.h"

namespace mast {
namespace {

namespace json = boost::json;

FeatureType DefaultTypeFor(DataType t) {
  switch (t) {
    case DataType::kInt32:
    case DataType::kInt64: return FeatureType::kInt;
    case DataType::kBool: return FeatureType::kBool;
    case DataType::kBytes: return FeatureType::kString;
    default: return FeatureType::kFloat;
  }
}

// Can values of declared type `f` be stored in a tensor of type `t`?
bool Compatible(FeatureType f, DataType t) {
  if (t == DataType::kBytes) return f == FeatureType::kString;
  if (f == FeatureType::kString) return false;
  if (t == DataType::kBool) return f == FeatureType::kBool;
  if (t == DataType::kInt32 || t == DataType::kInt64) {
    return f == FeatureType::kInt || f == FeatureType::kBool;
  }
  return true;  // float tensors take float, int and bool features
}

// Width of a 2-D input, or -1 when dynamic; nullopt if not 2-D.
std::optional<int64_t> MatrixWidth(const TensorSpec& s) {
  if (s.shape.size() != 2) return std::nullopt;
  return s.shape[1];
}

bool IsColumnInput(const TensorSpec& s) {
  return s.shape.size() == 1 || (s.shape.size() == 2 && s.shape[1] == 1);
}

const char* TypeErrorCode(FeatureType t) {
  switch (t) {
    case FeatureType::kFloat: return "type_error.float";
    case FeatureType::kInt: return "type_error.integer";
    case FeatureType::kBool: return "type_error.bool";
    case FeatureType::kString: return "type_error.str";
  }
  return "type_error";
}

const char* TypeErrorMessage(FeatureType t) {
  switch (t) {
    case FeatureType::kFloat: return "value is not a valid float";
    case FeatureType::kInt: return "value is not a valid integer";
    case FeatureType::kBool: return "value could not be parsed to a boolean";
    case FeatureType::kString: return "str type expected";
  }
  return "invalid value";
}

// Reads `v` as a number for a feature of type `type`; nullopt if it is not
// one (bools are accepted only for bool features).
std::optional<double> NumberOf(const json::value& v, FeatureType type) {
  if (type == FeatureType::kBool) {
    if (v.is_bool()) return v.get_bool() ? 1.0 : 0.0;
    return std::nullopt;
  }
  double d;
  if (v.is_int64()) d = static_cast<double>(v.get_int64());
  else if (v.is_uint64()) d = static_cast<double>(v.get_uint64());
  else if (v.is_double()) d = v.get_double();
  else return std::nullopt;
  if (type == FeatureType::kInt && (std::floor(d) != d || !std::isfinite(d))) {
    return std::nullopt;
  }
  return d;
}

// A bound as people write it: 0, 2.5, 1e-06.
std::string FormatBound(double v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

// Whether finite `v` can be stored in an element of `type` without
// overflowing it.
bool Representable(DataType type, double v) {
  switch (type) {
    case DataType::kFp32: return std::fabs(v) <= std::numeric_limits<float>::max();
    case DataType::kInt32:
      return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
    // 2^63 is exact as a double; casting anything outside [-2^63, 2^63) to
    // int64_t is undefined.
    case DataType::kInt64: return v >= -0x1p63 && v < 0x1p63;
    default: return true;
  }
}

void Store(Tensor* t, int64_t index, double v) {
  switch (t->type) {
    case DataType::kFp32: t->data<float>()[index] = static_cast<float>(v); break;
    case DataType::kFp64: t->data<double>()[index] = v; break;
    case DataType::kInt32: t->data<int32_t>()[index] = static_cast<int32_t>(v); break;
    case DataType::kInt64: t->data<int64_t>()[index] = static_cast<int64_t>(v); break;
    case DataType::kBool: t->data<uint8_t>()[index] = v != 0 ? 1 : 0; break;
    case DataType::kBytes: break;
  }
}

}  // namespace

StatusOr<std::unique_ptr<FeatureMapper>> FeatureMapper::Create(
    const ModelSignature& signature, const ModelManifest& manifest) {
  ASSIGN_OR_RETURN(std::unique_ptr<FeatureMapper> m, Build(signature, manifest));
  for (size_t i = 0; i < m->columns_.size(); ++i) {
    m->column_of_.emplace(m->columns_[i].spec.name, i);
  }
  return m;
}

StatusOr<std::unique_ptr<FeatureMapper>> FeatureMapper::Build(
    const ModelSignature& signature, const ModelManifest& manifest) {
  std::unique_ptr<FeatureMapper> m(new FeatureMapper());
  m->inputs_ = signature.inputs;
  m->forbid_unknown_ = manifest.unknown_fields == UnknownFieldPolicy::kForbid;
  const auto& inputs = signature.inputs;

  std::vector<FeatureSpec> features = manifest.features;
  const bool from_manifest = !features.empty();
  if (features.empty() && !signature.feature_names.empty() && inputs.size() == 1) {
    for (const auto& name : signature.feature_names) {
      FeatureSpec spec;
      spec.name = name;
      spec.type = DefaultTypeFor(inputs[0].type);
      features.push_back(std::move(spec));
    }
  }

  if (!features.empty()) {
    int64_t n = 0;  // columns the features fill
    for (const auto& f : features) n += f.Width();
    // Matrix layout: a single 2-D input with one column per feature (or
    // several, for encodings).
    if (inputs.size() == 1 && MatrixWidth(inputs[0]) &&
        (*MatrixWidth(inputs[0]) == n || *MatrixWidth(inputs[0]) < 0)) {
      m->matrix_ = true;
      m->width_ = n;
      int64_t column = 0;
      for (size_t i = 0; i < features.size(); ++i) {
        const FeatureSpec& f = features[i];
        const FeatureType produced = f.Encoded() ? FeatureType::kFloat : f.type;
        if (!Compatible(produced, inputs[0].type)) {
          return InvalidArgument(
              "feature '" + f.name + "' is declared " +
              std::string(FeatureTypeName(f.type)) + " but model input '" +
              inputs[0].name + "' holds " +
              std::string(DataTypeName(inputs[0].type)));
        }
        m->columns_.push_back({f, 0, column});
        column += f.Width();
      }
      return m;
    }
    // Per-input layout: the manifest names the model's inputs.
    if (from_manifest && inputs.size() == features.size()) {
      bool all_named = true;
      for (const auto& f : features) {
        bool found = false;
        for (size_t j = 0; j < inputs.size(); ++j) {
          if (inputs[j].name == f.name && IsColumnInput(inputs[j]) && f.Width() == 1) {
            if (!Compatible(f.Encoded() ? FeatureType::kFloat : f.type, inputs[j].type)) {
              return InvalidArgument(
                  "feature '" + f.name + "' is declared " +
                  std::string(FeatureTypeName(f.type)) + " but model input '" +
                  inputs[j].name + "' holds " +
                  std::string(DataTypeName(inputs[j].type)));
            }
            m->columns_.push_back({f, j, 0});
            found = true;
          }
        }
        all_named = all_named && found;
      }
      if (all_named) return m;
      m->columns_.clear();
    }
    std::string shape;
    if (inputs.size() == 1) {
      shape = "its input '" + inputs[0].name + "' has " +
              (MatrixWidth(inputs[0]) ? std::to_string(*MatrixWidth(inputs[0])) +
                                            " columns"
                                      : "rank " + std::to_string(inputs[0].shape.size()));
    } else {
      shape = "it has " + std::to_string(inputs.size()) + " inputs";
    }
    const std::string declared =
        n == static_cast<int64_t>(features.size())
            ? std::to_string(n) + " features"
            : std::to_string(features.size()) + " features making " + std::to_string(n) +
                  " columns";
    return InvalidArgument(std::string(from_manifest ? "manifest" : "model") + " declares " +
                           declared + " but " + shape);
  }

  // One input per feature, named by the inputs.
  bool per_input = !inputs.empty();
  for (const auto& in : inputs) per_input = per_input && IsColumnInput(in);
  if (per_input) {
    for (size_t j = 0; j < inputs.size(); ++j) {
      FeatureSpec spec;
      spec.name = inputs[j].name;
      spec.type = DefaultTypeFor(inputs[j].type);
      m->columns_.push_back({spec, j, 0});
    }
    return m;
  }
  return Unprocessable(
      "the model does not declare its feature names, so named features "
      "cannot be mapped to its input; add a model.yaml beside the model "
      "file listing `features:` (name and type) in input column order, or "
      "store feature names in the model (XGBoost feature_names, ONNX "
      "metadata_props 'feature_names'), or send tensors to "
      "/v2/models/{name}/infer");
}

void FeatureMapper::AllocateInputs(int64_t rows, std::vector<Tensor>* inputs) const {
  inputs->clear();
  for (const auto& spec : inputs_) {
    std::vector<int64_t> shape;
    if (matrix_) {
      shape = {rows, width_};
    } else if (spec.shape.size() == 2) {
      shape = {rows, 1};
    } else {
      shape = {rows};
    }
    inputs->push_back(Tensor::Make(spec.name, spec.type, std::move(shape)));
  }
}

void FeatureMapper::MapFields(const json::value* const* values, bool in_array, int64_t r,
                              std::vector<Tensor>* inputs,
                              std::vector<FieldError>* errors) const {
  const int64_t width = matrix_ ? width_ : 1;
  // Built only when an error is reported: valid fields cost nothing here.
  auto loc = [&](const std::string& field) { return FieldLocation{in_array, r, &field}.Make(); };
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Column& c = columns_[i];
    const FeatureSpec& f = c.spec;
    Tensor& t = (*inputs)[c.input];
    const int64_t index = r * width + c.column;
    const json::value* v = values[i];
    if (v == nullptr || v->is_null()) {
      // A default stands in for the raw value; impute is the pipeline's
      // first step, so both go through the transforms.
      std::optional<double> number = f.default_number;
      std::optional<std::string> text = f.default_text;
      if (f.Imputed()) {
        number = f.transforms[0].value;
        text = f.transforms[0].text;
      }
      if (number || text) {
        Transform(f, number.value_or(0), text.value_or(""), &t, index,
                  FieldLocation{in_array, r, &f.name}, errors);
        continue;
      }
      if (v == nullptr) {
        errors->push_back({loc(f.name), "field required", "value_error.missing"});
      } else {
        errors->push_back({loc(f.name), "none is not an allowed value",
                           "type_error.none.not_allowed"});
      }
      continue;
    }
    if (f.type == FeatureType::kString) {
      if (!v->is_string()) {
        errors->push_back({loc(f.name), TypeErrorMessage(f.type), TypeErrorCode(f.type)});
        continue;
      }
      std::string value(v->get_string());
      if (!f.categories.empty() &&
          std::find(f.categories.begin(), f.categories.end(), value) == f.categories.end()) {
        std::string allowed;
        for (const auto& cat : f.categories) allowed += (allowed.empty() ? "'" : ", '") + cat + "'";
        errors->push_back({loc(f.name),
                           "value is not a valid enumeration member; permitted: " + allowed,
                           "type_error.enum"});
        continue;
      }
      Transform(f, 0, value, &t, index, FieldLocation{in_array, r, &f.name}, errors);
      continue;
    }
    std::optional<double> d = NumberOf(*v, f.type);
    if (!d) {
      errors->push_back({loc(f.name), TypeErrorMessage(f.type), TypeErrorCode(f.type)});
      continue;
    }
    // JSON has no Inf or NaN, but a literal beyond the double range (1e400)
    // parses as infinity; no model input takes it.
    if (!std::isfinite(*d)) {
      errors->push_back(
          {loc(f.name), "value is not a finite number", "value_error.number.not_finite"});
      continue;
    }
    if (f.min && *d < *f.min) {
      errors->push_back({loc(f.name),
                         "ensure this value is greater than or equal to " +
                             FormatBound(*f.min),
                         "value_error.number.not_ge"});
      continue;
    }
    if (f.max && *d > *f.max) {
      errors->push_back({loc(f.name),
                         "ensure this value is less than or equal to " + FormatBound(*f.max),
                         "value_error.number.not_le"});
      continue;
    }
    if (t.type == DataType::kFp32 && std::fabs(*d) > std::numeric_limits<float>::max()) {
      errors->push_back({loc(f.name), "value is out of range for a 32-bit float",
                         "value_error.number.not_finite"});
      continue;
    }
    if (t.type == DataType::kInt32 &&
        (*d > std::numeric_limits<int32_t>::max() ||
         *d < std::numeric_limits<int32_t>::min())) {
      errors->push_back({loc(f.name), "value is out of range for a 32-bit integer",
                         "value_error.number.out_of_range"});
      continue;
    }
    // An integer bound for an int64 input as it is keeps every digit (a
    // double holds 53 bits: 2^53 + 1 would arrive as 2^53).
    if (t.type == DataType::kInt64 && f.transforms.empty() &&
        (v->is_int64() ||
         (v->is_uint64() && v->get_uint64() <= uint64_t{std::numeric_limits<int64_t>::max()}))) {
      t.data<int64_t>()[index] =
          v->is_int64() ? v->get_int64() : static_cast<int64_t>(v->get_uint64());
      continue;
    }
    if (t.type == DataType::kInt64 && !Representable(t.type, *d)) {
      errors->push_back({loc(f.name), "value is out of range for a 64-bit integer",
                         "value_error.number.out_of_range"});
      continue;
    }
    static const std::string kNoText;
    Transform(f, *d, kNoText, &t, index, FieldLocation{in_array, r, &f.name}, errors);
  }
}

// Parse events of a body that should be one flat object, stored per column.
// Any event outside that shape (nesting, a top-level array or scalar, a
// repeated key, an unknown key under `unknown_fields: forbid`) stops the
// parse: the caller then takes the general path, which reports errors.
class FeatureMapper::FlatObjectHandler {
 public:
  static constexpr size_t max_object_size = std::size_t(-1);
  static constexpr size_t max_array_size = std::size_t(-1);
  static constexpr size_t max_key_size = std::size_t(-1);
  static constexpr size_t max_string_size = std::size_t(-1);

  explicit FlatObjectHandler(const FeatureMapper* mapper)
      : mapper_(mapper), values_(mapper->columns_.size()), seen_(mapper->columns_.size()) {}

  // The value given for each column (nullptr if absent), once parsed.
  std::vector<const json::value*> Values() const {
    std::vector<const json::value*> out(values_.size());
    for (size_t i = 0; i < values_.size(); ++i) out[i] = seen_[i] ? &values_[i] : nullptr;
    return out;
  }

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code& ec) { return Stop(ec); }
  bool on_array_end(std::size_t, boost::system::error_code& ec) { return Stop(ec); }
  bool on_object_begin(boost::system::error_code& ec) {
    if (in_object_) return Stop(ec);
    in_object_ = true;
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) { return true; }
  bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
    text_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code& ec) {
    std::string_view key(s.data(), s.size());
    if (!text_.empty()) {  // the key came in parts
      text_.append(s.data(), s.size());
      key = text_;
    }
    column_ = Find(key);
    text_.clear();
    if (column_ == kIgnored) {
      if (mapper_->forbid_unknown_) return Stop(ec);
      return true;
    }
    if (seen_[column_]) return Stop(ec);  // a repeated key
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, boost::system::error_code&) {
    text_.append(s.data(), s.size());
    return true;
  }
  bool on_string(json::string_view s, std::size_t, boost::system::error_code& ec) {
    text_.append(s.data(), s.size());
    json::value* slot = Slot(ec);
    if (slot != nullptr) slot->emplace_string() = text_;
    text_.clear();
    return !ec;
  }
  bool on_number_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(int64_t v, json::string_view, boost::system::error_code& ec) {
    if (json::value* slot = Slot(ec)) slot->emplace_int64() = v;
    return !ec;
  }
  bool on_uint64(uint64_t v, json::string_view, boost::system::error_code& ec) {
    if (json::value* slot = Slot(ec)) slot->emplace_uint64() = v;
    return !ec;
  }
  bool on_double(double v, json::string_view, boost::system::error_code& ec) {
    if (json::value* slot = Slot(ec)) slot->emplace_double() = v;
    return !ec;
  }
  bool on_bool(bool v, boost::system::error_code& ec) {
    if (json::value* slot = Slot(ec)) slot->emplace_bool() = v;
    return !ec;
  }
  bool on_null(boost::system::error_code& ec) {
    if (json::value* slot = Slot(ec)) slot->emplace_null();
    return !ec;
  }
  bool on_comment_part(json::string_view, boost::system::error_code& ec) { return Stop(ec); }
  bool on_comment(json::string_view, boost::system::error_code& ec) { return Stop(ec); }

 private:
  static constexpr size_t kIgnored = std::size_t(-1);

  bool Stop(boost::system::error_code& ec) {
    ec = json::error::syntax;
    return false;
  }
  size_t Find(std::string_view key) { return mapper_->FindColumn(key, &last_); }
  // Where the scalar just read goes: the current key's slot, or nullptr to
  // ignore it (an unknown field); sets `ec` if it may not appear here.
  json::value* Slot(boost::system::error_code& ec) {
    if (!in_object_) {  // the whole document is a scalar
      Stop(ec);
      return nullptr;
    }
    if (column_ == kIgnored) return nullptr;
    seen_[column_] = true;
    return &values_[column_];
  }

  const FeatureMapper* mapper_;
  std::vector<json::value> values_;  // per column
  std::vector<bool> seen_;
  std::string text_;  // the key or string being read, if it came in parts
  size_t column_ = kIgnored;
  size_t last_ = kIgnored;  // the column of the last known key
  bool in_object_ = false;
};

size_t FeatureMapper::FindColumn(std::string_view key, size_t* last) const {
  const size_t next = *last + 1;  // 0 after kNoColumn
  if (next < columns_.size() && columns_[next].spec.name == key) return *last = next;
  auto it = column_of_.find(key);
  if (it == column_of_.end()) return kNoColumn;
  return *last = it->second;
}

bool FeatureMapper::MapFlatObject(std::string_view text, std::vector<Tensor>* inputs) const {
  // The value of each column, and which ones the body gave (per thread:
  // nothing is allocated for a body of numbers).
  thread_local std::vector<json::value> values;
  thread_local std::vector<const json::value*> given;
  values.resize(std::max(values.size(), columns_.size()));
  given.assign(columns_.size(), nullptr);
  size_t last = kNoColumn;
  const bool read = ReadFlatObject(text, [&](std::string_view key, bool* stop) -> json::value* {
    const size_t c = FindColumn(key, &last);
    if (c == kNoColumn) {
      *stop = forbid_unknown_;
      return nullptr;
    }
    if (given[c] != nullptr) {  // a repeated key: the general path decides
      *stop = true;
      return nullptr;
    }
    given[c] = &values[c];
    return &values[c];
  });
  std::vector<FieldError> errors;
  if (read) {
    AllocateInputs(1, inputs);
    MapFields(given.data(), /*in_array=*/false, 0, inputs, &errors);
    return errors.empty();
  }
  // Text the reader does not take (escapes, non-ASCII, long numbers, or not
  // a flat object at all): boost::json's parser, still without a document.
  // Parsed with the same options as ParseJson (boost::json::parse's).
  json::basic_parser<FlatObjectHandler> parser(json::parse_options{}, this);
  boost::system::error_code ec;
  const size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (ec || !parser.done() || used != text.size()) return false;
  const std::vector<const json::value*> parsed = parser.handler().Values();
  AllocateInputs(1, inputs);
  MapFields(parsed.data(), /*in_array=*/false, 0, inputs, &errors);
  return errors.empty();
}

bool FeatureMapper::Map(const json::value& body, std::vector<Tensor>* inputs,
                        int64_t* rows, std::vector<FieldError>* errors) const {
  const json::object* single = body.if_object();
  const json::array* many = body.if_array();
  if ((single == nullptr && many == nullptr) || (many && many->empty())) {
    errors->push_back({json::array{"body"},
                       "expected a JSON object of named features or a "
                       "non-empty array of such objects",
                       "type_error.dict"});
    return false;
  }
  const int64_t n = single ? 1 : static_cast<int64_t>(many->size());
  *rows = n;
  // Rows of `{}` cost two bytes of body but a whole row of tensor: bound the
  // tensor, not just the body.
  const int64_t row_elements = matrix_ ? width_ : static_cast<int64_t>(inputs_.size());
  if (n > kMaxElements / std::max<int64_t>(row_elements, 1)) {
    errors->push_back({json::array{"body"},
                       std::to_string(n) + " rows of " + std::to_string(row_elements) +
                           " values exceed the limit of " + std::to_string(kMaxElements) +
                           " values per request; send fewer rows per request",
                       "value_error.too_many_rows"});
    return false;
  }

  AllocateInputs(n, inputs);

  // Stops once more than kMaxErrors are found: a megabyte of `[{},{},...]`
  // would otherwise be answered with hundreds of megabytes of errors.
  const size_t first_error = errors->size();
  auto too_many = [&] { return errors->size() - first_error > kMaxErrors; };
  for (int64_t r = 0; r < n && !too_many(); ++r) {
    const json::value& row_value = single ? body : (*many)[static_cast<size_t>(r)];
    // Built only when an error is reported: valid fields cost nothing here.
    auto loc = [&](const std::string& field) { return FieldLocation{!single, r, &field}.Make(); };
    const json::object* row = row_value.if_object();
    if (row == nullptr) {
      errors->push_back({loc(""), "value is not a valid dict", "type_error.dict"});
      continue;
    }
    if (forbid_unknown_) {
      for (const auto& kv : *row) {
        if (too_many()) break;
        bool known = false;
        for (const Column& c : columns_) known = known || c.spec.name == kv.key();
        if (!known) {
          errors->push_back({loc(std::string(kv.key())), "extra fields not permitted",
                             "value_error.extra"});
        }
      }
    }
    thread_local std::vector<const json::value*> values;
    values.resize(columns_.size());
    for (size_t i = 0; i < columns_.size(); ++i) values[i] = row->if_contains(columns_[i].spec.name);
    MapFields(values.data(), !single, r, inputs, errors);
  }
  if (too_many()) {
    errors->resize(first_error + kMaxErrors);
    errors->push_back({json::array{"body"},
                       "more than " + std::to_string(kMaxErrors) + " errors; only the first " +
                           std::to_string(kMaxErrors) + " are listed",
                       "value_error.too_many_errors"});
  }
  return errors->empty();
}

namespace {

uint32_t Fnv1a32(std::string_view s) {
  uint32_t h = 0x811C9DC5u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x01000193u;
  }
  return h;
}

}  // namespace

json::array FeatureMapper::FieldLocation::Make() const {
  json::array l{"body"};
  if (in_array) l.emplace_back(row);
  if (!field->empty()) l.emplace_back(*field);
  return l;
}

bool FeatureMapper::Transform(const FeatureSpec& f, double x, const std::string& text, Tensor* t,
                              int64_t index, const FieldLocation& where,
                              std::vector<FieldError>* errors) {
  if (f.transforms.empty()) {
    if (f.type == FeatureType::kString) {
      t->strings[static_cast<size_t>(index)] = text;
    } else {
      Store(t, index, x);
    }
    return true;
  }
  for (const auto& step : f.transforms) {
    switch (step.kind) {
      case mast::Transform::kImpute:
        break;  // applied before: a missing value arrives imputed
      case mast::Transform::kStandardize:
        x = (x - step.a) / step.b;
        break;
      case mast::Transform::kMinMax:
        x = (x - step.a) / (step.b - step.a);
        break;
      case mast::Transform::kLog1p:
        if (x <= -1) {
          errors->push_back({where.Make(), "log1p needs a value greater than -1, got " + FormatBound(x),
                             "value_error.number.not_gt"});
          return false;
        }
        x = std::log1p(x);
        break;
      case mast::Transform::kClip:
        if (step.lo && x < *step.lo) x = *step.lo;
        if (step.hi && x > *step.hi) x = *step.hi;
        break;
      case mast::Transform::kBucketize:
        x = static_cast<double>(
            std::upper_bound(step.boundaries.begin(), step.boundaries.end(), x) -
            step.boundaries.begin());
        break;
      case mast::Transform::kOrdinal:
      case mast::Transform::kOneHot: {
        auto it = std::find(step.categories.begin(), step.categories.end(), text);
        int64_t k = it - step.categories.begin();
        const int64_t n = static_cast<int64_t>(step.categories.size());
        if (it == step.categories.end()) {
          if (!step.unknown_other) {
            std::string allowed;
            for (const auto& c : step.categories) allowed += (allowed.empty() ? "'" : ", '") + c + "'";
            errors->push_back({where.Make(), "unseen category '" + text + "'; permitted: " + allowed,
                               "type_error.enum"});
            return false;
          }
          k = n;  // the "other" bucket
        }
        if (step.kind == mast::Transform::kOrdinal) {
          x = static_cast<double>(k);
          break;
        }
        const int64_t width = n + (step.unknown_other ? 1 : 0);
        for (int64_t j = 0; j < width; ++j) Store(t, index + j, j == k ? 1.0 : 0.0);
        return true;
      }
      case mast::Transform::kHash: {
        const int64_t k = static_cast<int64_t>(Fnv1a32(text) % static_cast<uint64_t>(step.buckets));
        for (int64_t j = 0; j < step.buckets; ++j) Store(t, index + j, j == k ? 1.0 : 0.0);
        return true;
      }
    }
  }
  // A valid value can still overflow on the way (a large value standardized
  // by a small std, min_max over a narrow range).
  if (!std::isfinite(x) || !Representable(t->type, x)) {
    errors->push_back({where.Make(), "value is out of range for the model input after the transforms",
                       "value_error.number.not_finite"});
    return false;
  }
  Store(t, index, x);
  return true;
}

std::vector<std::string> FeatureMapper::feature_names() const {
  std::vector<std::string> out;
  for (const auto& c : columns_) out.push_back(c.spec.name);
  return out;
}

std::vector<FeatureType> FeatureMapper::feature_types() const {
  std::vector<FeatureType> out;
  for (const auto& c : columns_) out.push_back(c.spec.type);
  return out;
}

}  // namespace mast
