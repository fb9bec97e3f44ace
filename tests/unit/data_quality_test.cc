#include "monitor/data_quality.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace mast {
namespace {

namespace json = boost::json;

TEST(DataQualityTest, CountsRowsAndIssuesPerFieldAndKind) {
  MetricsRegistry registry;
  auto* rows = registry.AddCounter("mast_feature_rows_total", "R.", {"model", "version"});
  auto* issues = registry.AddCounter("mast_feature_issues_total", "I.",
                                     {"model", "version", "field", "kind"});
  DataQuality q("churn", "3", {"age", "plan"}, rows, issues);
  std::vector<FieldError> errors = {
      {json::array{"body", 0, "age"}, "field required", "value_error.missing"},
      {json::array{"body", 1, "age"}, "ensure ...", "value_error.number.not_ge"},
      {json::array{"body", 1, "plan"}, "permitted ...", "type_error.enum"},
      {json::array{"body", 2, "plan"}, "str type expected", "type_error.str"},
      {json::array{"body", 2, "agee"}, "extra fields not permitted", "value_error.extra"},
      {json::array{"body", 3}, "value is not a valid dict", "type_error.dict"},
      // Limits on the whole request: not a field's problem.
      {json::array{"body"}, "more than 1000 errors", "value_error.too_many_errors"},
  };
  q.Record(4, errors);
  q.Record(10, {});
  const std::string text = registry.Render();
  EXPECT_NE(text.find("mast_feature_rows_total{model=\"churn\",version=\"3\"} 14"),
            std::string::npos) << text;
  EXPECT_NE(text.find("mast_feature_issues_total{model=\"churn\",version=\"3\",field=\"age\","
                      "kind=\"out_of_range\"} 1"),
            std::string::npos) << text;
  EXPECT_NE(text.find("field=\"_undeclared\",kind=\"undeclared\"} 1"), std::string::npos);
  auto snap = q.Snapshot();
  EXPECT_EQ(snap.at("rows_seen").as_int64(), 14);
  const auto& fields = snap.at("fields").as_object();
  EXPECT_EQ(fields.at("age").at("missing").as_int64(), 1);
  EXPECT_EQ(fields.at("age").at("out_of_range").as_int64(), 1);
  EXPECT_EQ(fields.at("plan").at("unseen_category").as_int64(), 1);
  EXPECT_EQ(fields.at("plan").at("type_error").as_int64(), 1);
  EXPECT_EQ(fields.at("_undeclared").at("undeclared").as_int64(), 1);
  EXPECT_EQ(fields.at("_row").at("type_error").as_int64(), 1);
}

}  // namespace
}  // namespace mast
