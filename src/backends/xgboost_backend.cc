#include "backends/xgboost_backend.h"

#include <xgboost/c_api.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>

namespace mast {
namespace {

// XGBoost's last error without the stack trace it appends.
std::string LastError() {
  std::string e = XGBGetLastError();
  size_t cut = e.find("\nStack trace:");
  if (cut != std::string::npos) e.resize(cut);
  while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
  return e;
}

enum class Objective { kBinaryProbability, kMultiProbability, kMultiClass, kValue };

class XgboostBackend final : public Backend {
 public:
  XgboostBackend(BoosterHandle booster, ModelSignature signature,
                 Objective objective, int num_features, int num_classes)
      : booster_(booster),
        signature_(std::move(signature)),
        objective_(objective),
        num_features_(num_features),
        num_classes_(num_classes) {}
  ~XgboostBackend() override { XGBoosterFree(booster_); }
  XgboostBackend(const XgboostBackend&) = delete;
  XgboostBackend& operator=(const XgboostBackend&) = delete;

  std::string_view platform() const override { return "xgboost"; }
  const ModelSignature& signature() const override { return signature_; }

  StatusOr<std::vector<Tensor>> Run(
      const std::vector<Tensor>& inputs,
      const std::vector<std::string>& output_names) const override {
    if (inputs.size() != 1 || inputs[0].type != DataType::kFp32 ||
        inputs[0].shape.size() != 2 ||
        inputs[0].shape[1] != num_features_) {
      return InvalidArgument("model expects one FP32 input of shape [-1, " +
                             std::to_string(num_features_) + "]");
    }
    const Tensor& in = inputs[0];
    const int64_t rows = in.shape[0];
    char array_interface[160];
    std::snprintf(array_interface, sizeof(array_interface),
                  "{\"data\":[%llu,true],\"shape\":[%lld,%d],"
                  "\"typestr\":\"<f4\",\"version\":3}",
                  static_cast<unsigned long long>(
                      reinterpret_cast<uintptr_t>(in.bytes.data())),
                  static_cast<long long>(rows), num_features_);
    static const char* kConfig =
        "{\"type\":0,\"training\":false,\"iteration_begin\":0,"
        "\"iteration_end\":0,\"strict_shape\":false,\"cache_id\":0,"
        "\"missing\":NaN}";
    const bst_ulong* out_shape = nullptr;
    bst_ulong out_dim = 0;
    const float* out = nullptr;
    if (XGBoosterPredictFromDense(booster_, array_interface, kConfig, nullptr,
                                  &out_shape, &out_dim, &out) != 0) {
      return Internal(std::string("xgboost: ") + LastError());
    }
    int64_t count = 1;
    for (bst_ulong i = 0; i < out_dim; ++i) count *= static_cast<int64_t>(out_shape[i]);
    const int64_t per_row = rows > 0 ? count / rows : 0;

    std::vector<Tensor> all;
    if (objective_ == Objective::kValue) {
      Tensor t = Tensor::Make("predict", DataType::kFp32, {rows});
      if (per_row != 1) {
        t = Tensor::Make("predict", DataType::kFp32, {rows, per_row});
      }
      std::memcpy(t.bytes.data(), out, static_cast<size_t>(count) * 4);
      all.push_back(std::move(t));
    } else {
      Tensor label = Tensor::Make("label", DataType::kInt64, {rows});
      int64_t* labels = label.data<int64_t>();
      if (objective_ == Objective::kMultiClass) {
        for (int64_t r = 0; r < rows; ++r) labels[r] = static_cast<int64_t>(out[r]);
        all.push_back(std::move(label));
      } else {
        const int c = num_classes_;
        Tensor proba = Tensor::Make("probabilities", DataType::kFp32, {rows, c});
        float* p = proba.data<float>();
        for (int64_t r = 0; r < rows; ++r) {
          if (objective_ == Objective::kBinaryProbability) {
            p[r * 2] = 1.0f - out[r];
            p[r * 2 + 1] = out[r];
            labels[r] = out[r] > 0.5f ? 1 : 0;
          } else {
            int best = 0;
            for (int k = 0; k < c; ++k) {
              p[r * c + k] = out[r * c + k];
              if (out[r * c + k] > out[r * c + best]) best = k;
            }
            labels[r] = best;
          }
        }
        all.push_back(std::move(label));
        all.push_back(std::move(proba));
      }
    }
    if (output_names.empty()) return all;
    std::vector<Tensor> selected;
    for (const auto& name : output_names) {
      bool found = false;
      for (auto& t : all) {
        if (t.name == name) {
          selected.push_back(t);
          found = true;
          break;
        }
      }
      if (!found) return InvalidArgument("model has no output named '" + name + "'");
    }
    return selected;
  }

 private:
  BoosterHandle booster_;
  ModelSignature signature_;
  Objective objective_;
  int num_features_;
  int num_classes_;
};

StatusOr<boost::json::value> ReadConfig(BoosterHandle booster) {
  bst_ulong len = 0;
  const char* text = nullptr;
  if (XGBoosterSaveJsonConfig(booster, &len, &text) != 0) {
    return Internal(std::string("xgboost: ") + LastError());
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(std::string_view(text, len), ec);
  if (ec) return Internal("xgboost: unreadable model config");
  return v;
}

}  // namespace

StatusOr<std::unique_ptr<Backend>> LoadXgboostBackend(
    const std::string& path, const BackendOptions& options) {
  BoosterHandle booster = nullptr;
  if (XGBoosterCreate(nullptr, 0, &booster) != 0) {
    return Internal(std::string("xgboost: ") + LastError());
  }
  auto fail = [&](const std::string& why) -> Status {
    XGBoosterFree(booster);
    return InvalidArgument("cannot load XGBoost model '" + path + "': " + why);
  };
  // From a buffer, so that the format is read from the content (JSON or
  // UBJ) whatever the file is called: registry blobs have no extension.
  std::ifstream in(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return fail("cannot read the file");
  if (XGBoosterLoadModelFromBuffer(booster, content.data(), content.size()) != 0) {
    return fail(LastError());
  }
  std::string threads = std::to_string(std::max(1, options.intra_op_threads));
  XGBoosterSetParam(booster, "nthread", threads.c_str());

  bst_ulong num_features = 0;
  if (XGBoosterGetNumFeature(booster, &num_features) != 0 || num_features == 0) {
    return fail("model declares no features");
  }
  ModelSignature sig;
  bst_ulong n_names = 0;
  const char** names = nullptr;
  if (XGBoosterGetStrFeatureInfo(booster, "feature_name", &n_names, &names) == 0 &&
      n_names == num_features) {
    for (bst_ulong i = 0; i < n_names; ++i) sig.feature_names.emplace_back(names[i]);
  }

  auto config = ReadConfig(booster);
  if (!config.ok()) return fail(config.status().message());
  std::string objective_name;
  int num_classes = 0;
  if (const auto* learner = config->as_object().if_contains("learner")) {
    const auto& l = learner->as_object();
    if (const auto* obj = l.if_contains("objective")) {
      if (const auto* name = obj->as_object().if_contains("name")) {
        objective_name = std::string(name->as_string());
      }
    }
    if (const auto* param = l.if_contains("learner_model_param")) {
      if (const auto* nc = param->as_object().if_contains("num_class")) {
        num_classes = std::atoi(std::string(nc->as_string()).c_str());
      }
    }
  }

  Objective objective = Objective::kValue;
  if (objective_name == "binary:logistic") {
    objective = Objective::kBinaryProbability;
    num_classes = 2;
  } else if (objective_name == "multi:softprob") {
    objective = Objective::kMultiProbability;
  } else if (objective_name == "multi:softmax") {
    objective = Objective::kMultiClass;
  }
  if ((objective == Objective::kMultiProbability ||
       objective == Objective::kMultiClass) && num_classes < 2) {
    return fail("multi-class objective without num_class");
  }
  const int nf = static_cast<int>(num_features);
  sig.inputs.push_back({"input", DataType::kFp32, {-1, nf}});
  if (objective == Objective::kValue) {
    sig.outputs.push_back({"predict", DataType::kFp32, {-1}});
  } else {
    sig.is_classifier = true;
    sig.outputs.push_back({"label", DataType::kInt64, {-1}});
    if (objective != Objective::kMultiClass) {
      sig.outputs.push_back({"probabilities", DataType::kFp32, {-1, num_classes}});
      sig.probabilities_output = "probabilities";
    }
  }
  return std::unique_ptr<Backend>(
      new XgboostBackend(booster, std::move(sig), objective, nf, num_classes));
}

}  // namespace mast
