#include "cli/feature_applier.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "cli/csv.h"

namespace mast {

namespace json = boost::json;

namespace {

// The names of the columns `f` fills, in order.
std::vector<std::string> ColumnNames(const FeatureSpec& f) {
  if (!f.transforms.empty()) {
    const Transform& last = f.transforms.back();
    if (last.kind == Transform::kOneHot) {
      std::vector<std::string> out;
      for (const auto& c : last.categories) out.push_back(f.name + "=" + c);
      if (last.unknown_other) out.push_back(f.name + "=<other>");
      return out;
    }
    if (last.kind == Transform::kHash) {
      std::vector<std::string> out;
      for (int64_t k = 0; k < last.buckets; ++k) out.push_back(f.name + "#" + std::to_string(k));
      return out;
    }
  }
  return {f.name};
}

// `text` as a JSON number if it is one (parsed as the server parses request
// bodies), else as a string.
json::value NumberOrText(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (!ec && v.is_number()) return v;
  return json::string(text);
}

json::value BoolOrText(const std::string& text) {
  std::string t;
  for (char c : text) {
    if (c != ' ' && c != '\t')
      t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (t == "true" || t == "1") return true;
  if (t == "false" || t == "0") return false;
  return json::string(text);
}

}  // namespace

void AppendTensorElement(const Tensor& t, int64_t i, std::string* out) {
  char buf[64];
  switch (t.type) {
    case DataType::kFp32: {
      const float f = t.data<float>()[i];
      auto res = std::to_chars(buf, buf + sizeof(buf), f);
      if (std::isfinite(f)) {
        // The shortest decimal reads back as `f` when parsed as a float; make
        // sure it also does when read as a double first (pandas, numpy),
        // else write the 9 digits that always do.
        double back = 0;
        std::from_chars(buf, res.ptr, back);
        if (static_cast<float>(back) != f) {
          res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::general, 9);
        }
      }
      out->append(buf, res.ptr);
      return;
    }
    case DataType::kFp64: {
      auto res = std::to_chars(buf, buf + sizeof(buf), t.data<double>()[i]);
      out->append(buf, res.ptr);
      return;
    }
    case DataType::kInt32:
      out->append(std::to_string(t.data<int32_t>()[i]));
      return;
    case DataType::kInt64:
      out->append(std::to_string(t.data<int64_t>()[i]));
      return;
    case DataType::kBool:
      out->append(t.data<uint8_t>()[i] != 0 ? "true" : "false");
      return;
    case DataType::kBytes:
      AppendCsvField(t.strings[static_cast<size_t>(i)], out);
      return;
  }
}

StatusOr<std::unique_ptr<FeatureApplier>> FeatureApplier::Create(const ModelSignature& signature,
                                                                 const std::string& manifest_text,
                                                                 const std::string& origin) {
  ASSIGN_OR_RETURN(ModelManifest manifest, ParseModelManifest(manifest_text, origin));
  auto mapper = FeatureMapper::Create(signature, manifest);
  if (!mapper.ok()) {
    if (mapper.status().code() == StatusCode::kUnprocessable) return mapper.status();
    return InvalidArgument(origin + ": " + mapper.status().message());  // as the loader says
  }
  std::unique_ptr<FeatureApplier> a(new FeatureApplier());
  a->mapper_ = std::move(mapper).value();

  // The features the mapper uses: the manifest's, else one plain column per
  // name it found in the model.
  std::vector<FeatureSpec> features = manifest.features;
  if (features.empty()) {
    const auto names = a->mapper_->feature_names();
    const auto types = a->mapper_->feature_types();
    for (size_t i = 0; i < names.size(); ++i) {
      FeatureSpec f;
      f.name = names[i];
      f.type = types[i];
      features.push_back(std::move(f));
    }
  }
  for (const auto& f : features) {
    a->types_[f.name] = f.type;
    if (f.required()) a->required_.push_back(f.name);
    for (auto& name : ColumnNames(f)) a->columns_.push_back(std::move(name));
  }

  // FeatureMapper fills either one 2-D input, a column per model column in
  // feature order, or one input per feature, named by the feature.
  if (signature.inputs.size() == 1) {
    for (size_t k = 0; k < a->columns_.size(); ++k) {
      a->sources_.emplace_back(0, static_cast<int64_t>(k));
    }
  } else {
    for (const auto& f : features) {
      size_t j = 0;
      while (j < signature.inputs.size() && signature.inputs[j].name != f.name) ++j;
      if (j == signature.inputs.size()) {
        return Internal("feature '" + f.name + "' matches no model input");
      }
      a->sources_.emplace_back(j, 0);
    }
  }
  return a;
}

std::vector<std::string> FeatureApplier::MissingRequired(
    const std::vector<std::string>& header) const {
  std::vector<std::string> missing;
  for (const auto& name : required_) {
    if (std::find(header.begin(), header.end(), name) == header.end()) missing.push_back(name);
  }
  return missing;
}

json::object FeatureApplier::RowFromCsv(const std::vector<std::string>& header,
                                        const std::vector<std::string>& cells) const {
  json::object row;
  for (size_t i = 0; i < header.size() && i < cells.size(); ++i) {
    const std::string& cell = cells[i];
    if (cell.empty()) continue;  // a missing field
    auto type = types_.find(header[i]);
    if (type == types_.end()) {
      row[header[i]] = NumberOrText(cell);
      continue;
    }
    switch (type->second) {
      case FeatureType::kString:
        row[header[i]] = cell;
        break;
      case FeatureType::kBool:
        row[header[i]] = BoolOrText(cell);
        break;
      case FeatureType::kFloat:
      case FeatureType::kInt:
        row[header[i]] = NumberOrText(cell);
        break;
    }
  }
  return row;
}

bool FeatureApplier::Apply(const json::value& row, std::string* out,
                           std::vector<FieldError>* errors) const {
  // Map() reads an array as several rows: one row here is one object.
  if (!row.is_object()) {
    errors->push_back({json::array{"body"}, "value is not a valid dict", "type_error.dict"});
    return false;
  }
  std::vector<Tensor> tensors;
  int64_t rows = 0;
  if (!mapper_->Map(row, &tensors, &rows, errors)) return false;
  int64_t mapped = 0;
  for (const auto& t : tensors) mapped += t.size();
  if (mapped != static_cast<int64_t>(sources_.size())) {
    // Create() derived the layout from the mapper's; a mismatch is our bug.
    std::cerr << "mast: internal error: the mapper filled " << mapped << " values for "
              << sources_.size() << " columns\n";
    std::abort();
  }
  for (size_t i = 0; i < sources_.size(); ++i) {
    const auto [t, element] = sources_[i];
    if (i > 0) out->push_back(',');
    AppendTensorElement(tensors[t], element, out);
  }
  return true;
}

}  // namespace mast
