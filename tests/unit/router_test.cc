#include "api/router.h"

#include <gtest/gtest.h>

namespace mast {
namespace {

using boost::beast::http::verb;

TEST(RouterTest, MatchesTemplatesAndExtractsParameters) {
  Router r;
  int health = r.Add(verb::get, "/health");
  int infer = r.Add(verb::post, "/v2/models/{model}/versions/{version}/infer");
  auto m = r.Match(verb::post, "/v2/models/churn/versions/3/infer");
  ASSERT_EQ(m.result, RouteMatch::kFound);
  EXPECT_EQ(m.route_id, infer);
  EXPECT_EQ(m.Param("model"), "churn");
  EXPECT_EQ(m.Param("version"), "3");
  EXPECT_EQ(r.Match(verb::get, "/health").route_id, health);
  EXPECT_EQ(r.Match(verb::get, "/health/").route_id, health);
}

TEST(RouterTest, WrongMethodIsMethodNotAllowedWithTheAllowList) {
  Router r;
  r.Add(verb::post, "/predict");
  auto m = r.Match(verb::get, "/predict");
  EXPECT_EQ(m.result, RouteMatch::kMethodNotAllowed);
  EXPECT_EQ(m.allowed, "POST");
}

TEST(RouterTest, UnknownPathIsNotFound) {
  Router r;
  r.Add(verb::get, "/v2/models/{model}");
  EXPECT_EQ(r.Match(verb::get, "/v2/models").result, RouteMatch::kNotFound);
  EXPECT_EQ(r.Match(verb::get, "/v2/models/a/b").result, RouteMatch::kNotFound);
  EXPECT_EQ(r.Match(verb::get, "/").result, RouteMatch::kNotFound);
}

TEST(RouterTest, HeadIsServedByGetRoutes) {
  Router r;
  r.Add(verb::get, "/health");
  EXPECT_EQ(r.Match(verb::head, "/health").result, RouteMatch::kFound);
}

TEST(RouterTest, SegmentsArePercentDecoded) {
  Router r;
  r.Add(verb::get, "/v2/models/{model}");
  auto m = r.Match(verb::get, "/v2/models/my%20model");
  EXPECT_EQ(m.Param("model"), "my model");
  EXPECT_EQ(SplitPath("/a//b/%41%zz"), (std::vector<std::string>{"a", "b", "A%zz"}));
}

}  // namespace
}  // namespace mast
