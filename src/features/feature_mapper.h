// FeatureMapper: turns rows of named features (JSON objects) into the input
// tensors of one model version, and reports every invalid field.
//
// The mapping is decided once, when the version loads, from (in order):
//   1. the manifest's feature list (model.yaml), in input column order;
//   2. feature names stored in the artifact (XGBoost feature_names, ONNX
//      metadata_props "feature_names");
//   3. one model input per feature (each input [N] or [N,1]): the input
//      names are the feature names.
// Features fill either one 2-D input (one column each) or one input each.
// The manifest's constraints are enforced on every row: required fields (a
// missing field with a default takes the default), min/max, categories, and
// unknown fields when the manifest says `unknown_fields: forbid` (else they
// are ignored).
//
// Each feature's transforms (impute, standardize, min_max, log1p, clip,
// bucketize, ordinal, one_hot, hash; see model_manifest.h) turn its value
// into its columns; their total must match the model input's width.
//
// Thread-safety: immutable after Create(); Map() is safe from any thread.
#ifndef MAST_FEATURES_FEATURE_MAPPER_H_
#define MAST_FEATURES_FEATURE_MAPPER_H_

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "backends/backend.h"
#include "models/model_manifest.h"

namespace mast {

// One invalid field, shaped like a FastAPI validation error:
// loc = ["body", <row index if the body is an array>, <field>].
struct FieldError {
  boost::json::array loc;
  std::string msg;
  std::string type;
};

class FeatureMapper {
 public:
  // Errors: kUnprocessable if no mapping applies (the message says how to
  // declare feature names); kInvalidArgument if the manifest does not fit the
  // model's inputs (wrong count, width or type), naming both.
  static StatusOr<std::unique_ptr<FeatureMapper>> Create(
      const ModelSignature& signature, const ModelManifest& manifest);

  // At most this many errors are listed for one body.
  static constexpr size_t kMaxErrors = 1000;
  // Most input values one request may expand to (rows x columns); more is
  // one error (type value_error.too_many_rows) before anything is allocated.
  static constexpr int64_t kMaxElements = int64_t{1} << 24;

  // Converts `body` (one object, or a non-empty array of objects) into
  // tensors. On invalid input returns false and fills `errors` with every
  // problem found, in body order; `inputs` is then unspecified. Past
  // kMaxErrors problems, checking stops and `errors` holds the first
  // kMaxErrors plus one last entry (loc ["body"], type
  // "value_error.too_many_errors") saying that more were left out.
  // Numbers must be finite (a literal such as 1e400 parses as infinity) and
  // fit the model input's type, before and after the transforms.
  bool Map(const boost::json::value& body, std::vector<Tensor>* inputs,
           int64_t* rows, std::vector<FieldError>* errors) const;

  // The same mapping straight from the text of a body that is one flat JSON
  // object (no nested value, no repeated key) whose fields are all valid:
  // returns true with `inputs` exactly as Map fills them for that body,
  // without building a JSON document (the /predict fast path). Returns false
  // for anything else, valid or not; `inputs` is then unspecified and Map on
  // the parsed body gives the answer and its errors.
  bool MapFlatObject(std::string_view text, std::vector<Tensor>* inputs) const;

  // Feature names in column order.
  std::vector<std::string> feature_names() const;
  // Declared feature types in column order.
  std::vector<FeatureType> feature_types() const;

 private:
  struct Column {
    FeatureSpec spec;   // name, what the JSON value must be, constraints
    size_t input;       // index into the model inputs
    int64_t column;     // first column within that input (matrix layout)
  };
  // Applies `f`'s transforms to one validated value and writes the result
  // at `index` (and the following columns for encodings) of `t`. Returns
  // false and appends an error if the value cannot be transformed.
  // Where a field is: loc ["body", <row if the body is an array>, <field>],
  // built only when an error names it.
  struct FieldLocation {
    bool in_array;
    int64_t row;
    const std::string* field;
    boost::json::array Make() const;
  };
  static bool Transform(const FeatureSpec& f, double number, const std::string& text,
                        Tensor* t, int64_t index, const FieldLocation& where,
                        std::vector<FieldError>* errors);
  // Makes the model inputs for `rows` rows (storage allocated, unfilled).
  void AllocateInputs(int64_t rows, std::vector<Tensor>* inputs) const;
  // Checks, transforms and stores row `r`'s declared fields; `values[i]` is
  // the JSON value given for columns_[i] (nullptr if absent).
  void MapFields(const boost::json::value* const* values, bool in_array, int64_t r,
                 std::vector<Tensor>* inputs, std::vector<FieldError>* errors) const;
  class FlatObjectHandler;
  static constexpr size_t kNoColumn = std::size_t(-1);
  // The column of `key` (kNoColumn if it names no feature). Bodies usually
  // list the features in the manifest's order, so the column after `*last`
  // is tried first; `*last` becomes the column found.
  size_t FindColumn(std::string_view key, size_t* last) const;
  static StatusOr<std::unique_ptr<FeatureMapper>> Build(const ModelSignature& signature,
                                                        const ModelManifest& manifest);
  FeatureMapper() = default;

  std::vector<Column> columns_;
  std::vector<TensorSpec> inputs_;  // model inputs, in signature order
  bool matrix_ = false;             // one 2-D input holding every column
  int64_t width_ = 1;               // columns per row in the matrix layout
  bool forbid_unknown_ = false;
  // Column index by feature name (views of columns_' names).
  std::unordered_map<std::string_view, size_t> column_of_;
};

}  // namespace mast

#endif  // MAST_FEATURES_FEATURE_MAPPER_H_
