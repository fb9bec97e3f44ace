#include "features/feature_mapper.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include <boost/json.hpp>

namespace mast {
namespace {

namespace json = boost::json;

ModelSignature MatrixModel(int64_t width, DataType type = DataType::kFp32) {
  ModelSignature sig;
  sig.inputs.push_back({"input", type, {-1, width}});
  sig.outputs.push_back({"out", DataType::kFp32, {-1, 1}});
  return sig;
}

ModelManifest Manifest(std::vector<FeatureSpec> features) {
  ModelManifest m;
  m.features = std::move(features);
  return m;
}

struct Mapped {
  bool ok;
  std::vector<Tensor> inputs;
  int64_t rows = 0;
  std::vector<FieldError> errors;
};

Mapped Map(const FeatureMapper& m, std::string_view body) {
  Mapped r;
  r.ok = m.Map(json::parse(body), &r.inputs, &r.rows, &r.errors);
  return r;
}

TEST(FeatureMapperTest, ManifestOrderDefinesColumns) {
  auto m = FeatureMapper::Create(
      MatrixModel(3), Manifest({{"b", FeatureType::kFloat},
                                {"a", FeatureType::kInt},
                                {"c", FeatureType::kBool}}));
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto r = Map(**m, R"({"a": 2, "c": true, "b": 0.5, "extra": "ignored"})");
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.rows, 1);
  ASSERT_EQ(r.inputs[0].shape, (std::vector<int64_t>{1, 3}));
  const float* v = r.inputs[0].data<float>();
  EXPECT_EQ(v[0], 0.5f);
  EXPECT_EQ(v[1], 2.0f);
  EXPECT_EQ(v[2], 1.0f);
}

TEST(FeatureMapperTest, ArrayBodyGivesOneRowPerObject) {
  ModelSignature sig = MatrixModel(2, DataType::kFp64);
  sig.feature_names = {"x", "y"};
  auto m = FeatureMapper::Create(sig, {});
  ASSERT_TRUE(m.ok());
  auto r = Map(**m, R"([{"x": 1, "y": 2}, {"x": 3.5, "y": -4}])");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.rows, 2);
  const double* v = r.inputs[0].data<double>();
  EXPECT_EQ(v[2], 3.5);
  EXPECT_EQ(v[3], -4);
}

TEST(FeatureMapperTest, EveryInvalidFieldIsReportedWithItsLocation) {
  ModelSignature sig = MatrixModel(2);
  sig.feature_names = {"x", "y"};
  auto m = FeatureMapper::Create(sig, {});
  ASSERT_TRUE(m.ok());
  auto r = Map(**m, R"([{"x": "high", "y": 1}, {"x": 1}, {"x": null, "y": true}])");
  ASSERT_FALSE(r.ok);
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_EQ(json::serialize(r.errors[0].loc), R"(["body",0,"x"])");
  EXPECT_EQ(r.errors[0].type, "type_error.float");
  EXPECT_EQ(json::serialize(r.errors[1].loc), R"(["body",1,"y"])");
  EXPECT_EQ(r.errors[1].msg, "field required");
  EXPECT_EQ(json::serialize(r.errors[2].loc), R"(["body",2,"x"])");
  EXPECT_EQ(r.errors[2].type, "type_error.none.not_allowed");
  EXPECT_EQ(json::serialize(r.errors[3].loc), R"(["body",2,"y"])");  // bool is not a float
}

TEST(FeatureMapperTest, SingleObjectErrorsHaveNoRowIndex) {
  ModelSignature sig = MatrixModel(1);
  sig.feature_names = {"x"};
  auto m = FeatureMapper::Create(sig, {});
  auto r = Map(**m, R"({"y": 1})");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(json::serialize(r.errors[0].loc), R"(["body","x"])");
}

TEST(FeatureMapperTest, BodiesThatAreNotRowsAreRejected) {
  ModelSignature sig = MatrixModel(1);
  sig.feature_names = {"x"};
  auto m = FeatureMapper::Create(sig, {});
  for (const char* body : {"[]", "42", "\"x\"", "null"}) {
    auto r = Map(**m, body);
    EXPECT_FALSE(r.ok) << body;
    EXPECT_EQ(json::serialize(r.errors[0].loc), R"(["body"])") << body;
  }
  auto r = Map(**m, R"([{"x": 1}, 5])");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(json::serialize(r.errors[0].loc), R"(["body",1])");
}

TEST(FeatureMapperTest, IntegerFeaturesRejectFractions) {
  auto m = FeatureMapper::Create(MatrixModel(1, DataType::kInt64),
                                 Manifest({{"n", FeatureType::kInt}}));
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(Map(**m, R"({"n": 3.0})").ok);
  auto r = Map(**m, R"({"n": 3.5})");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.errors[0].type, "type_error.integer");
}

TEST(FeatureMapperTest, FloatOverflowIsAnError) {
  auto m = FeatureMapper::Create(MatrixModel(1), Manifest({{"x", FeatureType::kFloat}}));
  auto r = Map(**m, R"({"x": 1e300})");
  EXPECT_FALSE(r.ok);
}

// Boost.JSON reads a literal beyond the double range as infinity.
TEST(FeatureMapperTest, NumberLiteralsThatOverflowToInfinityAreErrors) {
  for (DataType type : {DataType::kFp32, DataType::kFp64}) {
    auto m = FeatureMapper::Create(MatrixModel(1, type), Manifest({{"x", FeatureType::kFloat}}));
    ASSERT_TRUE(m.ok());
    for (const char* body : {R"({"x": 1e400})", R"({"x": -1e400})"}) {
      auto r = Map(**m, body);
      ASSERT_FALSE(r.ok) << body;
      ASSERT_EQ(r.errors.size(), 1u) << body;
      EXPECT_EQ(json::serialize(r.errors[0].loc), R"(["body","x"])");
      EXPECT_EQ(r.errors[0].type, "value_error.number.not_finite") << body;
      EXPECT_EQ(r.errors[0].msg, "value is not a finite number") << body;
    }
    EXPECT_TRUE(Map(**m, R"({"x": 1e30})").ok);
  }
}

TEST(FeatureMapperTest, IntegersBeyondInt64AreErrors) {
  auto m = FeatureMapper::Create(MatrixModel(1, DataType::kInt64),
                                 Manifest({{"n", FeatureType::kInt}}));
  ASSERT_TRUE(m.ok());
  for (const char* body : {R"({"n": 1e19})", R"({"n": -1e19})", R"({"n": 9223372036854775808})",
                           R"({"n": 18446744073709551615})"}) {
    auto r = Map(**m, body);
    ASSERT_FALSE(r.ok) << body;
    EXPECT_EQ(r.errors[0].type, "value_error.number.out_of_range") << body;
    EXPECT_EQ(r.errors[0].msg, "value is out of range for a 64-bit integer") << body;
  }
  auto low = Map(**m, R"({"n": -9223372036854775808})");
  ASSERT_TRUE(low.ok);
  EXPECT_EQ(low.inputs[0].data<int64_t>()[0], std::numeric_limits<int64_t>::min());
  auto high = Map(**m, R"({"n": 9.2e18})");
  ASSERT_TRUE(high.ok);
  EXPECT_EQ(high.inputs[0].data<int64_t>()[0], int64_t{9200000000000000000});
}

// A double holds 53 bits: integers for int64 inputs must not pass through one.
TEST(FeatureMapperTest, IntegersKeepEveryDigitOnTheWayToAnInt64Input) {
  auto m = FeatureMapper::Create(MatrixModel(1, DataType::kInt64),
                                 Manifest({{"n", FeatureType::kInt}}));
  ASSERT_TRUE(m.ok());
  for (int64_t n : {int64_t{9007199254740993}, int64_t{-9007199254740993},
                    std::numeric_limits<int64_t>::max(), int64_t{1234567890123456789}}) {
    const std::string body = "{\"n\": " + std::to_string(n) + "}";
    auto r = Map(**m, body);
    ASSERT_TRUE(r.ok) << body;
    EXPECT_EQ(r.inputs[0].data<int64_t>()[0], n) << body;
    std::vector<Tensor> flat;
    ASSERT_TRUE((*m)->MapFlatObject(body, &flat)) << body;
    EXPECT_EQ(flat[0].data<int64_t>()[0], n) << body;
  }
  // Bounds still apply to them.
  auto bounded = FeatureMapper::Create(MatrixModel(1, DataType::kInt64), [] {
    FeatureSpec f{"n", FeatureType::kInt};
    f.max = 100;
    return Manifest({f});
  }());
  ASSERT_TRUE(bounded.ok());
  auto r = Map(**bounded, R"({"n": 9007199254740993})");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.errors[0].type, "value_error.number.not_le");
}

TEST(FeatureMapperTest, TransformResultBeyondTheInputTypeIsAnError) {
  auto manifest = ParseModelManifest(R"(
features:
  - name: x
    type: float
    transforms: [{standardize: {mean: 0, std: 1e-10}}]
)",
                                     "model.yaml");
  ASSERT_TRUE(manifest.ok()) << manifest.status().message();
  auto m = FeatureMapper::Create(MatrixModel(1), *manifest);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_TRUE(Map(**m, R"({"x": 1})").ok);
  auto r = Map(**m, R"([{"x": 1}, {"x": 1e30}])");  // 1e40 does not fit a float
  ASSERT_FALSE(r.ok);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(json::serialize(r.errors[0].loc), R"(["body",1,"x"])");
  EXPECT_EQ(r.errors[0].type, "value_error.number.not_finite");
  EXPECT_NE(r.errors[0].msg.find("after the transforms"), std::string::npos) << r.errors[0].msg;
}

// `n` copies of `row` as a JSON array.
std::string RepeatedRows(const std::string& row, size_t n) {
  std::string body = "[";
  for (size_t i = 0; i < n; ++i) body += (i ? "," : "") + row;
  return body + "]";
}

TEST(FeatureMapperTest, ErrorsStopAfterTheCapWithAFinalNote) {
  auto m = FeatureMapper::Create(
      MatrixModel(2), Manifest({{"x", FeatureType::kFloat}, {"y", FeatureType::kFloat}}));
  ASSERT_TRUE(m.ok());
  const size_t cap = FeatureMapper::kMaxErrors;
  // Exactly the cap: every error listed, no note.
  auto exact = Map(**m, RepeatedRows("{}", cap / 2));
  ASSERT_FALSE(exact.ok);
  ASSERT_EQ(exact.errors.size(), cap);
  EXPECT_EQ(exact.errors.back().type, "value_error.missing");
  // Far more: the first `cap` in body order, then the note.
  auto many = Map(**m, RepeatedRows("{}", 100000));
  ASSERT_FALSE(many.ok);
  ASSERT_EQ(many.errors.size(), cap + 1);
  EXPECT_EQ(json::serialize(many.errors[0].loc), R"(["body",0,"x"])");
  EXPECT_EQ(json::serialize(many.errors[cap - 1].loc),
            "[\"body\"," + std::to_string(cap / 2 - 1) + ",\"y\"]");
  EXPECT_EQ(json::serialize(many.errors[cap].loc), R"(["body"])");
  EXPECT_EQ(many.errors[cap].type, "value_error.too_many_errors");
  EXPECT_EQ(many.errors[cap].msg, "more than 1000 errors; only the first 1000 are listed");
}

TEST(FeatureMapperTest, ExtraFieldsOfOneRowCountTowardsTheCap) {
  ModelManifest manifest = Manifest({{"x", FeatureType::kFloat}});
  manifest.unknown_fields = UnknownFieldPolicy::kForbid;
  auto m = FeatureMapper::Create(MatrixModel(1), manifest);
  ASSERT_TRUE(m.ok());
  std::string body = R"({"x": 1)";
  for (int i = 0; i < 50000; ++i) body += ",\"f" + std::to_string(i) + "\": 0";
  auto r = Map(**m, body + "}");
  ASSERT_FALSE(r.ok);
  ASSERT_EQ(r.errors.size(), FeatureMapper::kMaxErrors + 1);
  EXPECT_EQ(json::serialize(r.errors[0].loc), R"(["body","f0"])");
  EXPECT_EQ(r.errors.back().type, "value_error.too_many_errors");
}

TEST(FeatureMapperTest, OneInputPerFeatureUsesInputNamesAndTypes) {
  ModelSignature sig;
  sig.inputs = {{"color", DataType::kBytes, {-1, 1}},
                {"size", DataType::kInt64, {-1, 1}},
                {"weight", DataType::kFp32, {-1}}};
  auto m = FeatureMapper::Create(sig, {});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->feature_names(), (std::vector<std::string>{"color", "size", "weight"}));
  auto r = Map(**m, R"([{"color": "red", "size": 3, "weight": 1.5},
                        {"color": "blue", "size": 1, "weight": 2}])");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.inputs[0].strings, (std::vector<std::string>{"red", "blue"}));
  EXPECT_EQ(r.inputs[0].shape, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(r.inputs[1].data<int64_t>()[0], 3);
  EXPECT_EQ(r.inputs[2].shape, (std::vector<int64_t>{2}));
  auto bad = Map(**m, R"({"color": 7, "size": "3", "weight": 1})");
  ASSERT_FALSE(bad.ok);
  EXPECT_EQ(bad.errors.size(), 2u);
  EXPECT_EQ(bad.errors[0].type, "type_error.str");
}

TEST(FeatureMapperTest, ManifestThatDoesNotFitTheModelIsInvalid) {
  auto m = FeatureMapper::Create(MatrixModel(3), Manifest({{"a", FeatureType::kFloat}}));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("declares 1 features"), std::string::npos);
  EXPECT_NE(m.status().message().find("3 columns"), std::string::npos);

  auto type = FeatureMapper::Create(MatrixModel(1), Manifest({{"s", FeatureType::kString}}));
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.status().message().find("declared string"), std::string::npos);
}

TEST(FeatureMapperTest, NoWayToNameFeaturesSaysHowToDeclareThem) {
  auto m = FeatureMapper::Create(MatrixModel(20), {});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kUnprocessable);
  EXPECT_NE(m.status().message().find("model.yaml"), std::string::npos);
}

}  // namespace
}  // namespace mast

namespace mast {
namespace {

ModelSignature Matrix3() {
  ModelSignature sig;
  sig.inputs.push_back({"input", DataType::kFp32, {-1, 3}});
  sig.outputs.push_back({"out", DataType::kFp32, {-1, 1}});
  return sig;
}

std::unique_ptr<FeatureMapper> ConstrainedMapper(bool forbid) {
  auto manifest = ParseModelManifest(std::string(forbid ? "unknown_fields: forbid\n" : "") + R"(
features:
  - {name: age, type: float, min: 0, max: 120}
  - {name: kids, type: int, default: 0}
  - {name: score, type: float, min: -1.5}
)",
                                     "model.yaml");
  EXPECT_TRUE(manifest.ok()) << manifest.status().message();
  auto m = FeatureMapper::Create(Matrix3(), *manifest);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::move(m).value();
}

TEST(FeatureMapperConstraintsTest, RangesAreEnforcedAndDefaultsFilled) {
  auto m = ConstrainedMapper(false);
  std::vector<Tensor> in;
  int64_t rows = 0;
  std::vector<FieldError> errors;
  ASSERT_TRUE(m->Map(json::parse(R"({"age": 120, "score": -1.5, "other": 1})"), &in, &rows,
                     &errors));
  EXPECT_EQ(in[0].data<float>()[1], 0.0f);  // kids defaulted
  errors.clear();
  ASSERT_FALSE(m->Map(json::parse(R"([{"age": -1, "score": 0}, {"age": 121, "score": -2}])"), &in,
                      &rows, &errors));
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(json::serialize(errors[0].loc), R"(["body",0,"age"])");
  EXPECT_EQ(errors[0].type, "value_error.number.not_ge");
  EXPECT_EQ(errors[0].msg, "ensure this value is greater than or equal to 0");
  EXPECT_EQ(errors[1].type, "value_error.number.not_le");
  EXPECT_EQ(errors[1].msg, "ensure this value is less than or equal to 120");
  EXPECT_EQ(json::serialize(errors[2].loc), R"(["body",1,"score"])");
  EXPECT_EQ(errors[2].msg, "ensure this value is greater than or equal to -1.5");
}

TEST(FeatureMapperConstraintsTest, ForbiddenUnknownFieldsAreListed) {
  auto m = ConstrainedMapper(true);
  std::vector<Tensor> in;
  int64_t rows = 0;
  std::vector<FieldError> errors;
  ASSERT_FALSE(m->Map(json::parse(R"({"age": 3, "score": 0, "agee": 4})"), &in, &rows, &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(json::serialize(errors[0].loc), R"(["body","agee"])");
  EXPECT_EQ(errors[0].type, "value_error.extra");
}

TEST(FeatureMapperConstraintsTest, CategoriesAreEnforced) {
  ModelSignature sig;
  sig.inputs = {{"plan", DataType::kBytes, {-1, 1}}};
  auto manifest =
      ParseModelManifest("features: [{name: plan, type: string, categories: [basic, pro]}]", "m");
  ASSERT_TRUE(manifest.ok());
  auto m = FeatureMapper::Create(sig, *manifest);
  ASSERT_TRUE(m.ok()) << m.status().message();
  std::vector<Tensor> in;
  int64_t rows = 0;
  std::vector<FieldError> errors;
  EXPECT_TRUE((*m)->Map(json::parse(R"({"plan": "pro"})"), &in, &rows, &errors));
  EXPECT_FALSE((*m)->Map(json::parse(R"({"plan": "gold"})"), &in, &rows, &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].type, "type_error.enum");
  EXPECT_NE(errors[0].msg.find("'basic', 'pro'"), std::string::npos) << errors[0].msg;
}

}  // namespace
}  // namespace mast

namespace mast {
namespace {

TEST(FeatureMapperLimitTest, RowsTimesColumnsOverTheLimitFailBeforeAllocating) {
  // A one-hot over 4096 categories: each `{}` row (all defaults) is 4096
  // values, so 4097 rows exceed 2^24 values.
  FeatureSpec plan{"plan", FeatureType::kString};
  plan.default_text = "c0";
  Transform one_hot{Transform::kOneHot};
  for (int i = 0; i < 4096; ++i) one_hot.categories.push_back("c" + std::to_string(i));
  plan.transforms.push_back(one_hot);
  auto m = FeatureMapper::Create(MatrixModel(4096), Manifest({plan}));
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto body = [](int rows) {
    std::string s = "[";
    for (int i = 0; i < rows; ++i) s += i ? ",{}" : "{}";
    return s + "]";
  };
  auto fits = Map(**m, body(4096));
  EXPECT_TRUE(fits.ok);
  auto over = Map(**m, body(4097));
  ASSERT_FALSE(over.ok);
  ASSERT_EQ(over.errors.size(), 1u);
  EXPECT_EQ(over.errors[0].type, "value_error.too_many_rows");
  EXPECT_EQ(over.errors[0].loc, json::array{"body"});
  EXPECT_NE(over.errors[0].msg.find("4097 rows"), std::string::npos) << over.errors[0].msg;
  EXPECT_TRUE(over.inputs.empty());
}

}  // namespace
}  // namespace mast
