// DataQuality: data-quality counters of one model version, per input field:
// rows seen, and per field how often it was missing, out of range, an unseen
// category, of the wrong type, or (under `unknown_fields: forbid`) not
// declared. Fed from the feature mapper's validation errors; exposed on
// /metrics (mast_feature_rows_total, mast_feature_issues_total) and as JSON
// (GET /api/v1/models/{m}/quality).
//
// Label values are bounded: fields are the model's declared features; every
// undeclared field counts under field="_undeclared".
//
// Thread-safety: Record() and Snapshot() are safe from any thread (the
// counters are atomic; children are created on first use under the
// families' locks).
#ifndef MAST_MONITOR_DATA_QUALITY_H_
#define MAST_MONITOR_DATA_QUALITY_H_

#include <map>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "features/feature_mapper.h"
#include "monitor/metrics.h"

namespace mast {

// The kinds of problem counted per field.
enum class QualityIssue { kMissing, kOutOfRange, kUnseenCategory, kTypeError, kUndeclared };
std::string_view QualityIssueName(QualityIssue issue);

// The kind of a validation error type ("value_error.missing", ...).
QualityIssue ClassifyFieldError(const std::string& type);

class DataQuality {
 public:
  // `rows` and `issues` are mast_feature_rows_total{model,version} and
  // mast_feature_issues_total{model,version,field,kind}.
  DataQuality(std::string model, std::string version, std::vector<std::string> fields,
              Family<Counter>* rows, Family<Counter>* issues);
  DataQuality(const DataQuality&) = delete;
  DataQuality& operator=(const DataQuality&) = delete;

  // Counts `rows` scored or rejected and the problems in `errors`.
  void Record(int64_t rows, const std::vector<FieldError>& errors);

  // {"rows_seen", "rows_with_issues"?, "fields": {name: {kind: count}}}.
  boost::json::object Snapshot() const;

 private:
  std::string model_;
  std::string version_;
  std::vector<std::string> fields_;
  Counter* rows_;
  Family<Counter>* issues_;
};

}  // namespace mast

#endif  // MAST_MONITOR_DATA_QUALITY_H_
