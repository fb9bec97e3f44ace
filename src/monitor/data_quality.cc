#include "monitor/data_quality.h"

#include <algorithm>

namespace mast {

std::string_view QualityIssueName(QualityIssue issue) {
  switch (issue) {
    case QualityIssue::kMissing: return "missing";
    case QualityIssue::kOutOfRange: return "out_of_range";
    case QualityIssue::kUnseenCategory: return "unseen_category";
    case QualityIssue::kTypeError: return "type_error";
    case QualityIssue::kUndeclared: return "undeclared";
  }
  return "type_error";
}

QualityIssue ClassifyFieldError(const std::string& type) {
  if (type == "value_error.missing" || type == "type_error.none.not_allowed") {
    return QualityIssue::kMissing;
  }
  if (type == "type_error.enum") return QualityIssue::kUnseenCategory;
  if (type == "value_error.extra") return QualityIssue::kUndeclared;
  if (type.rfind("value_error.number", 0) == 0) return QualityIssue::kOutOfRange;
  return QualityIssue::kTypeError;
}

DataQuality::DataQuality(std::string model, std::string version, std::vector<std::string> fields,
                         Family<Counter>* rows, Family<Counter>* issues)
    : model_(std::move(model)),
      version_(std::move(version)),
      fields_(std::move(fields)),
      rows_(rows->WithLabels({model_, version_})),
      issues_(issues) {}

void DataQuality::Record(int64_t rows, const std::vector<FieldError>& errors) {
  rows_->Increment(static_cast<double>(rows));
  for (const auto& e : errors) {
    // Limits on the request as a whole say nothing about a field.
    if (e.type == "value_error.too_many_errors" || e.type == "value_error.too_many_rows") {
      continue;
    }
    // loc is ["body", <row>?, <field>?]; a missing field means the row
    // itself was not an object.
    std::string field = "_row";
    if (!e.loc.empty() && e.loc.back().is_string() && e.loc.size() > 1) {
      field = std::string(e.loc.back().get_string());
    }
    const QualityIssue issue = ClassifyFieldError(e.type);
    if (issue == QualityIssue::kUndeclared ||
        (field != "_row" && std::find(fields_.begin(), fields_.end(), field) == fields_.end())) {
      field = "_undeclared";
    }
    issues_->WithLabels({model_, version_, field, std::string(QualityIssueName(issue))})
        ->Increment();
  }
}

boost::json::object DataQuality::Snapshot() const {
  boost::json::object fields;
  std::vector<std::string> names = fields_;
  names.push_back("_undeclared");
  names.push_back("_row");
  for (const auto& name : names) {
    boost::json::object counts;
    bool any = false;
    for (QualityIssue issue : {QualityIssue::kMissing, QualityIssue::kOutOfRange,
                               QualityIssue::kUnseenCategory, QualityIssue::kTypeError,
                               QualityIssue::kUndeclared}) {
      const double n =
          issues_->WithLabels({model_, version_, name, std::string(QualityIssueName(issue))})
              ->value();
      counts[QualityIssueName(issue)] = static_cast<int64_t>(n);
      any = any || n > 0;
    }
    // Declared fields are always listed; the catch-alls only when used.
    if (any || (name != "_undeclared" && name != "_row")) fields[name] = std::move(counts);
  }
  return {{"rows_seen", static_cast<int64_t>(rows_->value())}, {"fields", std::move(fields)}};
}

}  // namespace mast
