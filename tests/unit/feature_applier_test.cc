// FeatureApplier (the offline side of `mast features apply`): column names,
// CSV cell typing, exact number output, and the --model reference syntax.
#include "cli/feature_applier.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>

#include "cli/features_cli.h"
#include "registry/registry.h"

namespace mast {
namespace {

namespace json = boost::json;

constexpr const char* kManifest = R"(
features:
  - {name: age, type: float, min: 0, transforms: [{min_max: {min: 18, max: 90}}]}
  - {name: visits, type: int, default: 0, transforms: [{log1p: {}}]}
  - {name: plan, type: string, transforms: [{one_hot: {categories: [basic, pro], unknown: other}}]}
  - {name: city, type: string, transforms: [{ordinal: {categories: [oslo, rome]}}]}
  - {name: device, type: string, transforms: [{hash: {buckets: 3}}]}
  - {name: active, type: bool, default: false}
)";

ModelSignature Matrix(int64_t width) {
  ModelSignature sig;
  sig.inputs.push_back({"x", DataType::kFp32, {-1, width}});
  sig.outputs.push_back({"y", DataType::kFp32, {-1, width}});
  return sig;
}

std::unique_ptr<FeatureApplier> MakeApplier(const ModelSignature& sig, const std::string& yaml) {
  auto a = FeatureApplier::Create(sig, yaml, "model.yaml");
  EXPECT_TRUE(a.ok()) << a.status().message();
  return a.ok() ? std::move(a).value() : nullptr;
}

TEST(FeatureApplierTest, ColumnsAreNamedFromTheSpec) {
  auto a = MakeApplier(Matrix(10), kManifest);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->columns(),
            (std::vector<std::string>{"age", "visits", "plan=basic", "plan=pro", "plan=<other>",
                                      "city", "device#0", "device#1", "device#2", "active"}));
}

TEST(FeatureApplierTest, ManifestErrorsAreTheLoadersMessages) {
  auto wide = FeatureApplier::Create(Matrix(9), kManifest, "churn version 2 model.yaml");
  ASSERT_FALSE(wide.ok());
  EXPECT_EQ(wide.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wide.status().message().find("churn version 2 model.yaml: manifest declares 6 "
                                         "features making 10 columns"),
            std::string::npos)
      << wide.status().message();

  ModelSignature unnamed = Matrix(3);
  auto none = FeatureApplier::Create(unnamed, "", "model.yaml");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kUnprocessable);
}

TEST(FeatureApplierTest, CsvCellsAreTypedAsTheSpecDeclares) {
  auto a = MakeApplier(Matrix(10), kManifest);
  ASSERT_NE(a, nullptr);
  const std::vector<std::string> header{"age", "visits", "plan", "city", "device", "active", "id"};
  json::object row = a->RowFromCsv(header, {"47.5", "3", "pro", "oslo", "1234", "True", "r-7"});
  EXPECT_EQ(
      json::serialize(row),
      R"({"age":4.75E1,"visits":3,"plan":"pro","city":"oslo","device":"1234","active":true,"id":"r-7"})");
  // Empty cells are missing fields; text that is not a number stays text.
  row = a->RowFromCsv(header, {"old", "", "", "rome", "web", "0", "12"});
  EXPECT_EQ(json::serialize(row),
            R"({"age":"old","city":"rome","device":"web","active":false,"id":12})");
  row = a->RowFromCsv(header, {"1e2", "2.5", "basic", "x", "y", "yes", ""});
  EXPECT_EQ(row.at("age").as_double(), 100.0);
  EXPECT_EQ(row.at("visits").as_double(), 2.5);
  EXPECT_EQ(row.at("active").as_string(), "yes");
}

TEST(FeatureApplierTest, MissingRequiredColumnsAreFoundFromTheHeader) {
  auto a = MakeApplier(Matrix(10), kManifest);
  ASSERT_NE(a, nullptr);
  // visits and active have defaults; the others are required.
  EXPECT_EQ(a->MissingRequired({"visits", "plan", "active"}),
            (std::vector<std::string>{"age", "city", "device"}));
  EXPECT_TRUE(a->MissingRequired({"device", "city", "plan", "age", "extra"}).empty());
}

TEST(FeatureApplierTest, AppliesTheServersMapping) {
  auto a = MakeApplier(Matrix(10), kManifest);
  ASSERT_NE(a, nullptr);
  std::string out;
  std::vector<FieldError> errors;
  ASSERT_TRUE(
      a->Apply(json::parse(R"({"age": 54, "plan": "team", "city": "rome", "device": "ios"})"), &out,
               &errors));
  // (54-18)/72 = 0.5; visits default 0 -> log1p 0; 'team' -> other; rome -> 1;
  // FNV-1a-32("ios") = 0x80eb9be6, % 3 = 1; active default false.
  EXPECT_EQ(out, "0.5,0,0,0,1,1,0,1,0,0");
}

TEST(FeatureApplierTest, InvalidRowsCarryTheServersMessages) {
  auto a = MakeApplier(Matrix(10), kManifest);
  ASSERT_NE(a, nullptr);
  std::string out = "kept";
  std::vector<FieldError> errors;
  EXPECT_FALSE(a->Apply(json::parse(R"({"age": -1, "plan": 3, "city": "paris", "device": "x"})"),
                        &out, &errors));
  EXPECT_EQ(out, "kept");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(json::serialize(errors[0].loc), R"(["body","age"])");
  EXPECT_EQ(errors[0].msg, "ensure this value is greater than or equal to 0");
  EXPECT_EQ(json::serialize(errors[1].loc), R"(["body","plan"])");
  EXPECT_EQ(errors[1].msg, "str type expected");
  EXPECT_EQ(json::serialize(errors[2].loc), R"(["body","city"])");
  EXPECT_EQ(errors[2].msg, "unseen category 'paris'; permitted: 'oslo', 'rome'");

  errors.clear();
  EXPECT_FALSE(a->Apply(json::parse("[{}, {}]"), &out, &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].msg, "value is not a valid dict");
}

TEST(FeatureApplierTest, OneInputPerFeatureKeepsEachInputsType) {
  ModelSignature sig;
  sig.inputs = {{"color", DataType::kBytes, {-1, 1}},
                {"size", DataType::kInt64, {-1, 1}},
                {"weight", DataType::kFp64, {-1, 1}},
                {"ok", DataType::kBool, {-1}}};
  sig.outputs.push_back({"y", DataType::kFp32, {-1, 1}});
  auto a = MakeApplier(sig, "");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->columns(), (std::vector<std::string>{"color", "size", "weight", "ok"}));
  std::string out;
  std::vector<FieldError> errors;
  ASSERT_TRUE(a->Apply(
      a->RowFromCsv({"weight", "ok", "color", "size"}, {"0.1", "true", "dark, red", "-5000000000"}),
      &out, &errors));
  EXPECT_EQ(out, "\"dark, red\",-5000000000,0.1,true");
}

// Every finite float is written so that it reads back exactly, whether the
// reader parses it as a float or as a double rounded to float afterwards.
TEST(FeatureApplierTest, Float32ValuesReadBackExactly) {
  std::mt19937 rng(7);
  Tensor t = Tensor::Make("x", DataType::kFp32, {200000});
  float* data = t.data<float>();
  for (int64_t i = 0; i < t.size(); ++i) {
    uint32_t bits = rng();
    std::memcpy(&data[i], &bits, sizeof(bits));
    if (!std::isfinite(data[i])) data[i] = static_cast<float>(i) / 7.0f;
  }
  data[0] = 0.1f;
  data[1] = -0.0f;
  data[2] = 16777217.0f;
  for (int64_t i = 0; i < t.size(); ++i) {
    std::string s;
    AppendTensorElement(t, i, &s);
    const float as_float = std::strtof(s.c_str(), nullptr);
    const float via_double = static_cast<float>(std::strtod(s.c_str(), nullptr));
    ASSERT_EQ(std::memcmp(&as_float, &data[i], sizeof(float)), 0) << s;
    ASSERT_EQ(std::memcmp(&via_double, &data[i], sizeof(float)), 0) << s;
  }
  std::string s;
  AppendTensorElement(t, 0, &s);
  EXPECT_EQ(s, "0.1");  // the shortest form, not 0.100000001
}

TEST(FeatureApplierTest, SignatureJsonRoundTrips) {
  ModelSignature sig;
  sig.inputs = {{"x", DataType::kFp32, {-1, 20}}, {"s", DataType::kBytes, {-1}}};
  sig.outputs = {{"label", DataType::kInt64, {-1}}};
  sig.feature_names = {"a", "b"};
  auto back = ParseSignatureJson(json::parse(SignatureJson(sig)));
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->inputs.size(), 2u);
  EXPECT_EQ(back->inputs[0].name, "x");
  EXPECT_EQ(back->inputs[0].type, DataType::kFp32);
  EXPECT_EQ(back->inputs[0].shape, (std::vector<int64_t>{-1, 20}));
  EXPECT_EQ(back->inputs[1].type, DataType::kBytes);
  EXPECT_EQ(back->outputs[0].type, DataType::kInt64);
  EXPECT_EQ(back->feature_names, sig.feature_names);

  auto bad = ParseSignatureJson(
      json::parse(R"({"inputs": [{"name": "x", "datatype": "FP16", "shape": [1]}]})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown datatype 'FP16'"), std::string::npos);
}

TEST(FeatureApplierTest, ModelReferences) {
  auto plain = ParseModelRef("churn");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->name, "churn");
  EXPECT_EQ(plain->alias, "production");
  EXPECT_EQ(plain->version, 0);

  auto alias = ParseModelRef("churn@staging");
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(alias->alias, "staging");

  auto version = ParseModelRef("churn@12");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->version, 12);
  EXPECT_EQ(version->alias, "");

  auto at_in_name = ParseModelRef("team@churn@latest");
  ASSERT_TRUE(at_in_name.ok());
  EXPECT_EQ(at_in_name->name, "team@churn");
  EXPECT_EQ(at_in_name->alias, "latest");

  for (const char* bad : {"", "@prod", "churn@", "churn@0", "churn@99999999999999999999"}) {
    EXPECT_FALSE(ParseModelRef(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace mast
