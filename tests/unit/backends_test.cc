// Every committed fixture, run through the real engine, must reproduce the
// training library's own predictions (expected.json).
#include <gtest/gtest.h>

#include "backends/backend.h"
#include "features/feature_mapper.h"
#include "fixture_util.h"
#include "models/model_manifest.h"

namespace mast {
namespace {

using testing::Expected;
using testing::FixtureDir;
using testing::NamedRows;
using testing::Number;

std::string ArtifactOf(const std::string& fixture) {
  for (const char* f : {"model.onnx", "model.json", "model.ubj"}) {
    std::string p = FixtureDir(fixture) + "/" + f;
    if (std::ifstream(p).good()) return p;
  }
  return "";
}

class FixtureParityTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureParityTest, MatchesTrainingLibrary) {
  const std::string fixture = GetParam();
  auto backend = LoadBackend(ArtifactOf(fixture), BackendOptions{});
  ASSERT_TRUE(backend.ok()) << backend.status().message();
  auto manifest = LoadModelManifest(FixtureDir(fixture) + "/model.yaml");
  ASSERT_TRUE(manifest.ok());
  auto mapper = FeatureMapper::Create((*backend)->signature(), *manifest);
  ASSERT_TRUE(mapper.ok()) << mapper.status().message();

  const auto expected = Expected(fixture);
  const boost::json::value rows = NamedRows(expected);
  std::vector<Tensor> inputs;
  int64_t n = 0;
  std::vector<FieldError> errors;
  ASSERT_TRUE((*mapper)->Map(rows, &inputs, &n, &errors))
      << (errors.empty() ? "" : errors[0].msg);
  ASSERT_EQ(n, static_cast<int64_t>(expected.at("inputs").as_array().size()));

  auto outputs = (*backend)->Run(inputs, {});
  ASSERT_TRUE(outputs.ok()) << outputs.status().message();
  const ModelSignature& sig = (*backend)->signature();
  const double tol = Number(expected.at("tolerance"));

  if (expected.contains("label")) {
    ASSERT_TRUE(sig.is_classifier);
    const Tensor& label = (*outputs)[0];
    const auto& want = expected.at("label").as_array();
    ASSERT_EQ(label.size(), static_cast<int64_t>(want.size()));
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(label.AsDouble(static_cast<int64_t>(i)), Number(want[i])) << "row " << i;
    }
    const auto& probs = expected.at("probabilities").as_array();
    const Tensor* proba = nullptr;
    for (const auto& t : *outputs) {
      if (t.name == sig.probabilities_output) proba = &t;
    }
    ASSERT_NE(proba, nullptr);
    const int64_t classes = proba->shape[1];
    for (size_t i = 0; i < probs.size(); ++i) {
      const auto& row = probs[i].as_array();
      ASSERT_EQ(static_cast<int64_t>(row.size()), classes);
      for (int64_t k = 0; k < classes; ++k) {
        EXPECT_NEAR(proba->AsDouble(static_cast<int64_t>(i) * classes + k),
                    Number(row[static_cast<size_t>(k)]), tol)
            << "row " << i << " class " << k;
      }
    }
  } else {
    const auto& want = expected.at("prediction").as_array();
    const Tensor& pred = (*outputs)[0];
    ASSERT_EQ(pred.size(), static_cast<int64_t>(want.size()));
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_NEAR(pred.AsDouble(static_cast<int64_t>(i)), Number(want[i]), tol) << "row " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureParityTest,
                         ::testing::Values("logreg20", "logreg20_manifest", "iris_forest",
                                           "binary_trees", "tree_regressor", "scaler_linear",
                                           "onehot_linear", "mlp", "xgb_binary",
                                           "xgb_multi_ubj", "xgb_regressor"));

TEST(BackendTest, OnnxSignatureAndFeatureNamesAreRead) {
  auto b = LoadBackend(FixtureDir("logreg20") + "/model.onnx", {});
  ASSERT_TRUE(b.ok());
  const ModelSignature& sig = (*b)->signature();
  EXPECT_EQ((*b)->platform(), "onnxruntime");
  ASSERT_EQ(sig.inputs.size(), 1u);
  EXPECT_EQ(sig.inputs[0].type, DataType::kFp32);
  EXPECT_EQ(sig.inputs[0].shape, (std::vector<int64_t>{-1, 20}));
  ASSERT_EQ(sig.feature_names.size(), 20u);
  EXPECT_EQ(sig.feature_names[0], "f0");
  EXPECT_EQ(sig.probabilities_output, "probabilities");
}

TEST(BackendTest, XgboostSignatureAndFeatureNamesAreRead) {
  auto b = LoadBackend(FixtureDir("xgb_multi_ubj") + "/model.ubj", {});
  ASSERT_TRUE(b.ok()) << b.status().message();
  const ModelSignature& sig = (*b)->signature();
  EXPECT_EQ((*b)->platform(), "xgboost");
  EXPECT_EQ(sig.inputs[0].shape, (std::vector<int64_t>{-1, 4}));
  EXPECT_EQ(sig.feature_names.size(), 4u);
  ASSERT_EQ(sig.outputs.size(), 2u);
  EXPECT_EQ(sig.outputs[1].shape, (std::vector<int64_t>{-1, 3}));
}

TEST(BackendTest, AllTypesRoundTripThroughOnnxRuntime) {
  auto b = LoadBackend(FixtureDir("all_types") + "/model.onnx", {});
  ASSERT_TRUE(b.ok()) << b.status().message();
  std::vector<Tensor> in;
  Tensor f = Tensor::Make("x_fp32", DataType::kFp32, {1, 2});
  f.data<float>()[0] = 1.5f;
  f.data<float>()[1] = -2.0f;
  Tensor d = Tensor::Make("x_fp64", DataType::kFp64, {1, 2});
  d.data<double>()[1] = 1e300;
  Tensor i32 = Tensor::Make("x_int32", DataType::kInt32, {1, 2});
  i32.data<int32_t>()[0] = -7;
  Tensor i64 = Tensor::Make("x_int64", DataType::kInt64, {1, 2});
  i64.data<int64_t>()[1] = int64_t{1} << 40;
  Tensor bo = Tensor::Make("x_bool", DataType::kBool, {1, 2});
  bo.data<uint8_t>()[0] = 1;
  Tensor s = Tensor::Make("x_bytes", DataType::kBytes, {1, 2});
  s.strings = {"hello", ""};
  in = {f, d, i32, i64, bo, s};
  auto out = (*b)->Run(in, {});
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 6u);
  EXPECT_EQ((*out)[0].data<float>()[0], 1.5f);
  EXPECT_EQ((*out)[1].data<double>()[1], 1e300);
  EXPECT_EQ((*out)[2].data<int32_t>()[0], -7);
  EXPECT_EQ((*out)[3].data<int64_t>()[1], int64_t{1} << 40);
  EXPECT_EQ((*out)[4].data<uint8_t>()[0], 1);
  EXPECT_EQ((*out)[5].strings, (std::vector<std::string>{"hello", ""}));

  auto selected = (*b)->Run(in, {"y_bytes"});
  ASSERT_TRUE(selected.ok());
  ASSERT_EQ(selected->size(), 1u);
  EXPECT_EQ((*selected)[0].name, "y_bytes");
  EXPECT_FALSE((*b)->Run(in, {"nope"}).ok());
}

TEST(BackendTest, CorruptModelErrorNamesTheFile) {
  const std::string path = FixtureDir("corrupt") + "/model.onnx";
  auto b = LoadBackend(path, {});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(b.status().message().find(path), std::string::npos) << b.status().message();
}

TEST(BackendTest, MissingAndUnknownFilesAreRejected) {
  auto missing = LoadBackend("/nonexistent/model.onnx", {});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  const std::string yaml = FixtureDir("logreg20_manifest") + "/model.yaml";
  auto unknown = LoadBackend(yaml, {});
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("unknown format"), std::string::npos);
  // A JSON file that is not an XGBoost model.
  auto not_xgb = LoadBackend(FixtureDir("logreg20") + "/expected.json", {});
  ASSERT_FALSE(not_xgb.ok());
  EXPECT_NE(not_xgb.status().message().find("expected.json"), std::string::npos);
}

TEST(BackendTest, WrongInputIsAnErrorNotACrash) {
  auto b = LoadBackend(FixtureDir("logreg20") + "/model.onnx", {});
  ASSERT_TRUE(b.ok());
  Tensor wrong = Tensor::Make("input", DataType::kFp32, {1, 3});
  auto out = (*b)->Run({wrong}, {});
  EXPECT_FALSE(out.ok());
  Tensor misnamed = Tensor::Make("other", DataType::kFp32, {1, 20});
  EXPECT_EQ((*b)->Run({misnamed}, {}).status().code(), StatusCode::kInvalidArgument);

  auto x = LoadBackend(FixtureDir("xgb_binary") + "/model.json", {});
  ASSERT_TRUE(x.ok());
  EXPECT_EQ((*x)->Run({wrong}, {}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mast
