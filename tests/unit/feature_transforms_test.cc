// Feature transforms against values computed independently by scikit-learn
// and numpy (tests/fixtures/transforms, made by make_transforms.py).
#include <gtest/gtest.h>

#include <cmath>

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
