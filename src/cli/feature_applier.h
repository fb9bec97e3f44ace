// FeatureApplier: one model version's feature spec applied offline, row by
// row, by the same FeatureMapper the server builds for /predict, so that
// `mast features apply` writes exactly the values the model is fed.
//
// Output columns are the model input's columns, named from the spec:
//   - a feature that fills one column: its name (`age`; also after
//     standardize, min_max, log1p, clip, bucketize or ordinal);
//   - one_hot: `name=category` per category, and `name=<other>` for the
//     column of unseen categories (`unknown: other`);
//   - hash: `name#0` ... `name#<buckets-1>`.
// Values are written so that they read back to the very same tensor element:
// FP32 as the shortest decimal that parses back to the same float (also when
// read as a double and then rounded to float), FP64 as the shortest decimal
// of the double, integers as integers, BOOL as true/false, strings as text.
//
// Thread-safety: immutable after Create(); every method is const.
#ifndef MAST_CLI_FEATURE_APPLIER_H_
#define MAST_CLI_FEATURE_APPLIER_H_

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "features/feature_mapper.h"
#include "models/model_manifest.h"

namespace mast {

class FeatureApplier {
 public:
  FeatureApplier(const FeatureApplier&) = delete;
  FeatureApplier& operator=(const FeatureApplier&) = delete;

  // `signature`: the version's inputs (and stored feature names);
  // `manifest_text`: its model.yaml, empty if it has none; `origin` names it
  // in errors. Errors: kInvalidArgument if the manifest does not parse or
  // does not fit the inputs, kUnprocessable if nothing declares the feature
  // names (the server cannot map named features for this model either).
  static StatusOr<std::unique_ptr<FeatureApplier>> Create(const ModelSignature& signature,
                                                          const std::string& manifest_text,
                                                          const std::string& origin);

  // One name per model input column (the output header).
  const std::vector<std::string>& columns() const { return columns_; }

  // The required features (no default, no impute) that `header` lacks, in
  // spec order: every row of such a CSV would be invalid.
  std::vector<std::string> MissingRequired(const std::vector<std::string>& header) const;

  // A CSV record as the JSON object /predict would receive. `header` names
  // the cells. An empty cell is a missing field. Cells of float and int
  // features that are JSON numbers become those numbers (read by the same
  // JSON parser as the server's); bool features take true/false/1/0 (any
  // case); string features take the text. Anything else stays text, so the
  // mapper reports it as the server would (`value is not a valid float`).
  // Cells of other columns go in as numbers or text (they matter only under
  // `unknown_fields: forbid`). The caller checks that `cells` is as long as
  // `header`; extra cells are left out.
  boost::json::object RowFromCsv(const std::vector<std::string>& header,
                                 const std::vector<std::string>& cells) const;

  // Maps one row (a JSON object of named features). On success appends its
  // values as one CSV line (no line break) to `out` and returns true. On
  // invalid input returns false and appends every problem to `errors`, with
  // the server's messages and loc ["body", field]; `out` is then unchanged.
  bool Apply(const boost::json::value& row, std::string* out,
             std::vector<FieldError>* errors) const;

 private:
  FeatureApplier() = default;

  std::unique_ptr<FeatureMapper> mapper_;
  std::vector<std::string> columns_;
  // Where column i is found in the mapped tensors: (tensor, element of row 0).
  std::vector<std::pair<size_t, int64_t>> sources_;
  // Declared type of each feature, by name (for typing CSV cells).
  std::unordered_map<std::string, FeatureType> types_;
  // Features a row must have, in spec order.
  std::vector<std::string> required_;
};

// Appends tensor element `i` to `out` as FeatureApplier writes it.
void AppendTensorElement(const Tensor& t, int64_t i, std::string* out);

}  // namespace mast

#endif  // MAST_CLI_FEATURE_APPLIER_H_
