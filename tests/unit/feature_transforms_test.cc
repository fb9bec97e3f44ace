// Feature transforms against values computed independently by scikit-learn
// and numpy (tests/fixtures/transforms, made by make_transforms.py).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "features/feature_mapper.h"
#include "fixture_util.h"

namespace mast {
namespace {

namespace json = boost::json;

std::string TransformsDir() {
  return std::string(MAST_SOURCE_DIR) + "/tests/fixtures/transforms";
}

ModelSignature MatrixOf(int64_t width, DataType type = DataType::kFp64) {
  ModelSignature sig;
  sig.inputs.push_back({"input", type, {-1, width}});
  sig.outputs.push_back({"out", DataType::kFp32, {-1, 1}});
  return sig;
}

TEST(FeatureTransformsTest, MatchScikitLearnOnTheFixture) {
  auto manifest = LoadModelManifest(TransformsDir() + "/model.yaml");
  ASSERT_TRUE(manifest.ok()) << manifest.status().message();
  const json::object expected =
      json::parse(testing::ReadFile(TransformsDir() + "/expected.json")).as_object();
  const int64_t width = expected.at("columns").as_int64();
  ASSERT_EQ(width, 20);
  auto mapper = FeatureMapper::Create(MatrixOf(width), *manifest);
  ASSERT_TRUE(mapper.ok()) << mapper.status().message();

  const json::value rows = json::parse(testing::ReadFile(TransformsDir() + "/rows.json"));
  std::vector<Tensor> inputs;
  int64_t n = 0;
  std::vector<FieldError> errors;
  ASSERT_TRUE((*mapper)->Map(rows, &inputs, &n, &errors))
      << (errors.empty() ? "" : json::serialize(errors[0].loc) + " " + errors[0].msg);
  const auto& want = expected.at("rows").as_array();
  ASSERT_EQ(n, static_cast<int64_t>(want.size()));
  const double* got = inputs[0].data<double>();
  for (int64_t r = 0; r < n; ++r) {
    const auto& row = want[static_cast<size_t>(r)].as_array();
    for (int64_t c = 0; c < width; ++c) {
      const double w = testing::Number(row[static_cast<size_t>(c)]);
      EXPECT_NEAR(got[r * width + c], w, 1e-9 * std::max(1.0, std::fabs(w)))
          << "row " << r << " column " << c;
    }
  }
}

// The /predict fast path (MapFlatObject) must fill exactly what Map fills,
// take every valid flat object, and decline everything else (Map then
// reports the errors). `flat` says whether the body is one object without
// nested values or repeated keys.
void ExpectFastPathAgrees(const FeatureMapper& m, const std::string& body, bool flat) {
  std::vector<Tensor> fast;
  const bool took = m.MapFlatObject(body, &fast);
  std::vector<Tensor> slow;
  int64_t rows = 0;
  std::vector<FieldError> errors;
  boost::system::error_code ec;
  const json::value parsed = json::parse(body, ec);
  const bool valid = !ec && m.Map(parsed, &slow, &rows, &errors);
  if (!flat) {
    EXPECT_FALSE(took) << body;
    return;
  }
  ASSERT_EQ(took, valid) << body;
  if (!took) return;
  ASSERT_EQ(fast.size(), slow.size());
  for (size_t i = 0; i < fast.size(); ++i) {
    EXPECT_EQ(fast[i].name, slow[i].name);
    EXPECT_EQ(fast[i].type, slow[i].type);
    EXPECT_EQ(fast[i].shape, slow[i].shape) << body;
    EXPECT_EQ(fast[i].bytes, slow[i].bytes) << body;
    EXPECT_EQ(fast[i].strings, slow[i].strings) << body;
  }
}

TEST(FeatureTransformsTest, FastPathEqualsMapOrDeclines) {
  auto manifest = LoadModelManifest(TransformsDir() + "/model.yaml");
  ASSERT_TRUE(manifest.ok()) << manifest.status().message();
  auto mapper = FeatureMapper::Create(MatrixOf(20), *manifest);
  ASSERT_TRUE(mapper.ok()) << mapper.status().message();
  const FeatureMapper& m = **mapper;
  const json::array rows =
      json::parse(testing::ReadFile(TransformsDir() + "/rows.json")).as_array();
  const std::vector<json::value> replacements = {
      nullptr, json::value("text"), json::value("caf\u00e9 \"q\" \\ \t"), 1.5, -7, true,
      json::value(std::numeric_limits<uint64_t>::max()), 1e300, 0, ""};
  int taken = 0;
  for (const auto& row_value : rows) {
    const json::object& row = row_value.as_object();
    const std::string text = json::serialize(row);
    ExpectFastPathAgrees(m, text, true);
    std::vector<Tensor> probe;
    taken += m.MapFlatObject(text, &probe) ? 1 : 0;
    ExpectFastPathAgrees(m, " \n" + text + "\t ", true);
    ExpectFastPathAgrees(m, "[" + text + "]", false);
    for (const auto& kv : row) {
      json::object without = row;
      without.erase(kv.key());
      ExpectFastPathAgrees(m, json::serialize(without), true);
      for (const auto& r : replacements) {
        json::object changed = row;
        changed[kv.key()] = r;
        ExpectFastPathAgrees(m, json::serialize(changed), true);
      }
      // The key again: boost::json keeps one of them, the fast path none.
      const std::string repeated = "{\"" + std::string(kv.key()) + "\":" +
                                   json::serialize(kv.value()) + "," + text.substr(1);
      ExpectFastPathAgrees(m, repeated, false);
    }
    json::object extra = row;
    extra["not_a_feature"] = 3;
    ExpectFastPathAgrees(m, json::serialize(extra), true);
    extra["not_a_feature"] = json::object{{"nested", 1}};
    ExpectFastPathAgrees(m, json::serialize(extra), false);
    extra["not_a_feature"] = json::array{1, 2};
    ExpectFastPathAgrees(m, json::serialize(extra), false);
  }
  // Every fixture row is valid, so the fast path took each one.
  EXPECT_EQ(taken, static_cast<int>(rows.size()));
  for (const char* body : {"", "{", "{}", "[]", "3", "null", "\"x\"", "{\"age\": 1,}",
                           "{\"age\": 1} {}", "{\"age\": 1e400}", "{\"age\": NaN}"}) {
    const std::string b(body);
    std::vector<Tensor> out;
    std::vector<FieldError> errors;
    int64_t n = 0;
    boost::system::error_code ec;
    const json::value v = json::parse(b, ec);
    const bool valid = !ec && m.Map(v, &out, &n, &errors);
    EXPECT_EQ(m.MapFlatObject(b, &out), valid) << b;
  }
}

TEST(FeatureTransformsTest, FastPathDeclinesUnknownFieldsWhenForbidden) {
  auto manifest = LoadModelManifest(TransformsDir() + "/model.yaml");
  ASSERT_TRUE(manifest.ok()) << manifest.status().message();
  manifest->unknown_fields = UnknownFieldPolicy::kForbid;
  auto mapper = FeatureMapper::Create(MatrixOf(20), *manifest);
  ASSERT_TRUE(mapper.ok()) << mapper.status().message();
  json::object row =
      json::parse(testing::ReadFile(TransformsDir() + "/rows.json")).as_array()[0].as_object();
  ExpectFastPathAgrees(**mapper, json::serialize(row), true);
  row["not_a_feature"] = 3;
  ExpectFastPathAgrees(**mapper, json::serialize(row), true);  // Map: extra not permitted
}

TEST(FeatureTransformsTest, WidthMismatchNamesBothSides) {
  auto manifest = LoadModelManifest(TransformsDir() + "/model.yaml");
  ASSERT_TRUE(manifest.ok());
  auto mapper = FeatureMapper::Create(MatrixOf(19), *manifest);
  ASSERT_FALSE(mapper.ok());
  EXPECT_NE(mapper.status().message().find("making 20 columns"), std::string::npos)
      << mapper.status().message();
  EXPECT_NE(mapper.status().message().find("19 columns"), std::string::npos);
}

TEST(FeatureTransformsTest, UnseenCategoryAndLog1pDomainAreRowErrors) {
  auto manifest = ParseModelManifest(R"(
features:
  - name: plan
    type: string
    transforms: [{one_hot: {categories: [a, b], unknown: error}}]
  - name: x
    type: float
    transforms: [{log1p: {}}]
)",
                                     "m.yaml");
  ASSERT_TRUE(manifest.ok()) << manifest.status().message();
  auto mapper = FeatureMapper::Create(MatrixOf(3, DataType::kFp32), *manifest);
  ASSERT_TRUE(mapper.ok()) << mapper.status().message();
  std::vector<Tensor> in;
  int64_t n = 0;
  std::vector<FieldError> errors;
  ASSERT_TRUE((*mapper)->Map(json::parse(R"({"plan": "b", "x": 0})"), &in, &n, &errors));
  EXPECT_EQ(in[0].data<float>()[0], 0.0f);
  EXPECT_EQ(in[0].data<float>()[1], 1.0f);
  ASSERT_FALSE((*mapper)->Map(json::parse(R"([{"plan": "c", "x": -1}])"), &in, &n, &errors));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(json::serialize(errors[0].loc), R"(["body",0,"plan"])");
  EXPECT_NE(errors[0].msg.find("unseen category 'c'"), std::string::npos);
  EXPECT_EQ(json::serialize(errors[1].loc), R"(["body",0,"x"])");
  EXPECT_NE(errors[1].msg.find("log1p"), std::string::npos);
}

TEST(FeatureTransformsTest, InvalidPipelinesAreRejectedWhenParsed) {
  for (const char* yaml : {
           "features: [{name: a, transforms: [{one_hot: {categories: [x]}}]}]",
           "features: [{name: a, type: string, transforms: [{log1p: {}}]}]",
           "features: [{name: a, type: string, transforms: [{hash: {buckets: 4}}, "
           "{ordinal: {categories: [x]}}]}]",
           "features: [{name: a, transforms: [{log1p: {}}, {impute: {value: 1}}]}]",
           "features: [{name: a, transforms: [{standardize: {mean: 1, std: 0}}]}]",
           "features: [{name: a, transforms: [{bucketize: {boundaries: [3, 1]}}]}]",
           "features: [{name: a, transforms: [{square: {}}]}]",
           "features: [{name: a, type: string, transforms: []}]"}) {
    auto m = ParseModelManifest(yaml, "m.yaml");
    // The last one (an empty list) is valid: a string passed through.
    if (std::string(yaml).find("transforms: []") != std::string::npos) {
      EXPECT_TRUE(m.ok()) << yaml;
      continue;
    }
    EXPECT_FALSE(m.ok()) << yaml;
    if (!m.ok()) EXPECT_NE(m.status().message().find("m.yaml"), std::string::npos) << yaml;
  }
}

}  // namespace
}  // namespace mast
