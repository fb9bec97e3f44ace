#include "backends/onnx_backend.h"

#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <array>
#include <optional>
#include <unordered_map>

#include <boost/json.hpp>

namespace mast {
namespace {

Ort::Env& ProcessEnv() {
  static Ort::Env* env = new Ort::Env(ORT_LOGGING_LEVEL_ERROR, "mast");
  return *env;
}

std::optional<DataType> FromOrtType(ONNXTensorElementDataType t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return DataType::kFp32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return DataType::kFp64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return DataType::kInt32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return DataType::kInt64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return DataType::kBool;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING: return DataType::kBytes;
    default: return std::nullopt;
  }
}

ONNXTensorElementDataType ToOrtType(DataType t) {
  switch (t) {
    case DataType::kFp32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case DataType::kFp64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE;
    case DataType::kInt32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
    case DataType::kInt64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
    case DataType::kBool: return ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL;
    case DataType::kBytes: return ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING;
  }
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

// Feature names from metadata_props "feature_names": a JSON array of strings
// or a comma-separated list.
std::vector<std::string> ParseFeatureNames(const std::string& text) {
  std::vector<std::string> names;
  if (!text.empty() && text.front() == '[') {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    if (ec || !v.is_array()) return {};
    for (const auto& e : v.as_array()) {
      if (!e.is_string()) return {};
      names.emplace_back(e.as_string());
    }
    return names;
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string name = text.substr(start, end - start);
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    if (name.empty()) return {};
    names.push_back(std::move(name));
    start = end + 1;
  }
  return names;
}

class OnnxBackend final : public Backend {
 public:
  OnnxBackend(std::unique_ptr<Ort::Session> session, ModelSignature signature)
      : session_(std::move(session)), signature_(std::move(signature)) {
    for (const auto& s : signature_.inputs) input_names_.push_back(s.name);
    for (const auto& s : signature_.outputs) output_names_.push_back(s.name);
    for (size_t i = 0; i < signature_.inputs.size(); ++i) {
      input_index_[signature_.inputs[i].name] = i;
    }
    for (const auto& n : input_names_) input_name_ptrs_.push_back(n.c_str());
  }
  OnnxBackend(const OnnxBackend&) = delete;
  OnnxBackend& operator=(const OnnxBackend&) = delete;

  std::string_view platform() const override { return "onnxruntime"; }
  const ModelSignature& signature() const override { return signature_; }

  StatusOr<std::vector<Tensor>> Run(
      const std::vector<Tensor>& inputs,
      const std::vector<std::string>& output_names) const override {
    try {
      return RunOrThrow(inputs, output_names);
    } catch (const Ort::Exception& e) {
      // Inputs the engine refuses (shapes, values) are the caller's mistake.
      if (e.GetOrtErrorCode() == ORT_INVALID_ARGUMENT) {
        return InvalidArgument(std::string("onnxruntime: ") + e.what());
      }
      return Internal(std::string("onnxruntime: ") + e.what());
    }
  }

 private:
  StatusOr<std::vector<Tensor>> RunOrThrow(
      const std::vector<Tensor>& inputs,
      const std::vector<std::string>& output_names) const {
    if (inputs.size() != signature_.inputs.size()) {
      return InvalidArgument("model expects " +
                             std::to_string(signature_.inputs.size()) +
                             " inputs, got " + std::to_string(inputs.size()));
    }
    static const Ort::MemoryInfo memory_info =
        Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    Ort::AllocatorWithDefaultOptions allocator;

    // Order the values as the session declares its inputs.
    std::vector<Ort::Value> values;
    values.reserve(inputs.size());
    const Tensor* ordered_one = nullptr;
    std::vector<const Tensor*> ordered_many;
    const Tensor* const* ordered = &ordered_one;
    if (inputs.size() == 1 && inputs[0].name == input_names_[0]) {
      ordered_one = &inputs[0];  // the common case: no lookup
    } else {
      ordered_many.assign(inputs.size(), nullptr);
      for (const Tensor& t : inputs) {
        auto it = input_index_.find(t.name);
        if (it == input_index_.end()) {
          return InvalidArgument("model has no input named '" + t.name + "'");
        }
        ordered_many[it->second] = &t;
      }
      ordered = ordered_many.data();
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Tensor* t = ordered[i];
      if (t == nullptr) {
        return InvalidArgument("missing input '" + input_names_[i] + "'");
      }
      if (t->type == DataType::kBytes) {
        Ort::Value v = Ort::Value::CreateTensor(
            allocator, t->shape.data(), t->shape.size(),
            ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING);
        std::vector<const char*> ptrs;
        ptrs.reserve(t->strings.size());
        for (const auto& s : t->strings) ptrs.push_back(s.c_str());
        v.FillStringTensor(ptrs.data(), ptrs.size());
        values.push_back(std::move(v));
      } else {
        // ONNX Runtime does not write to input buffers.
        values.push_back(Ort::Value::CreateTensor(
            memory_info, const_cast<uint8_t*>(t->bytes.data()),
            t->bytes.size(), t->shape.data(), t->shape.size(),
            ToOrtType(t->type)));
      }
    }

    // The outputs asked for (all when none are named), by their index.
    constexpr size_t kInline = 8;
    const size_t wanted = output_names.empty() ? output_names_.size() : output_names.size();
    std::array<const char*, kInline> out_names_inline;
    std::array<size_t, kInline> out_spec_inline;
    std::vector<const char*> out_names_heap;
    std::vector<size_t> out_spec_heap;
    const char** out_names = out_names_inline.data();
    size_t* out_spec = out_spec_inline.data();
    if (wanted > kInline) {
      out_names_heap.resize(wanted);
      out_spec_heap.resize(wanted);
      out_names = out_names_heap.data();
      out_spec = out_spec_heap.data();
    }
    for (size_t i = 0; i < wanted; ++i) {
      size_t index = i;
      if (!output_names.empty()) {
        auto it = std::find(output_names_.begin(), output_names_.end(), output_names[i]);
        if (it == output_names_.end()) {
          return InvalidArgument("model has no output named '" + output_names[i] + "'");
        }
        index = static_cast<size_t>(it - output_names_.begin());
      }
      out_names[i] = output_names_[index].c_str();
      out_spec[i] = index;
    }

    std::vector<Ort::Value> results =
        session_->Run(Ort::RunOptions{nullptr}, input_name_ptrs_.data(), values.data(),
                      values.size(), out_names, wanted);

    std::vector<Tensor> outputs;
    outputs.reserve(results.size());
    for (size_t i = 0; i < results.size(); ++i) {
      Ort::Value& r = results[i];
      auto info = r.GetTensorTypeAndShapeInfo();
      const TensorSpec& spec = signature_.outputs[out_spec[i]];
      Tensor out = Tensor::Make(spec.name, spec.type, info.GetShape());
      const int64_t n = out.size();
      if (spec.type == DataType::kBytes) {
        for (int64_t j = 0; j < n; ++j) {
          size_t len = r.GetStringTensorElementLength(static_cast<size_t>(j));
          std::string s(len, '\0');
          if (len > 0) r.GetStringTensorElement(len, static_cast<size_t>(j), s.data());
          out.strings[static_cast<size_t>(j)] = std::move(s);
        }
      } else if (!out.bytes.empty()) {
        std::memcpy(out.bytes.data(), r.GetTensorRawData(), out.bytes.size());
      }
      outputs.push_back(std::move(out));
    }
    return outputs;
  }

  std::unique_ptr<Ort::Session> session_;
  ModelSignature signature_;
  std::vector<std::string> input_names_;
  std::vector<std::string> output_names_;
  std::unordered_map<std::string, size_t> input_index_;
  std::vector<const char*> input_name_ptrs_;  // into input_names_
};

StatusOr<TensorSpec> ReadSpec(const std::string& path, std::string name,
                              const Ort::TypeInfo& info, const char* what) {
  if (info.GetONNXType() != ONNX_TYPE_TENSOR) {
    return InvalidArgument(path + ": " + what + " '" + name +
                           "' is not a tensor (e.g. ZipMap's sequence of "
                           "maps); export the model without ZipMap");
  }
  auto tinfo = info.GetTensorTypeAndShapeInfo();
  std::optional<DataType> type = FromOrtType(tinfo.GetElementType());
  if (!type) {
    return InvalidArgument(path + ": " + what + " '" + name +
                           "' has an element type mast does not serve "
                           "(supported: float, double, int32, int64, bool, "
                           "string)");
  }
  return TensorSpec{std::move(name), *type, tinfo.GetShape()};
}

StatusOr<std::unique_ptr<Backend>> LoadOrThrow(const std::string& path,
                                               const BackendOptions& options) {
  Ort::SessionOptions so;
  so.SetIntraOpNumThreads(std::max(1, options.intra_op_threads));
  so.SetInterOpNumThreads(std::max(1, options.inter_op_threads));
  so.SetExecutionMode(options.inter_op_threads > 1 ? ExecutionMode::ORT_PARALLEL
                                                   : ExecutionMode::ORT_SEQUENTIAL);
  GraphOptimizationLevel level = GraphOptimizationLevel::ORT_ENABLE_ALL;
  if (options.graph_optimization == "disable") level = GraphOptimizationLevel::ORT_DISABLE_ALL;
  if (options.graph_optimization == "basic") level = GraphOptimizationLevel::ORT_ENABLE_BASIC;
  if (options.graph_optimization == "extended") {
    level = GraphOptimizationLevel::ORT_ENABLE_EXTENDED;
  }
  so.SetGraphOptimizationLevel(level);
  // Requests on several I/O threads share one session: ONNX Runtime's arena
  // serialises their allocations on one lock and keeps its peak forever;
  // plain malloc costs less per run here (measured: ~1.5 us less CPU per
  // /predict of the example model) and gives memory back.
  so.DisableCpuMemArena();
  auto session = std::make_unique<Ort::Session>(ProcessEnv(), path.c_str(), so);

  Ort::AllocatorWithDefaultOptions allocator;
  ModelSignature sig;
  for (size_t i = 0; i < session->GetInputCount(); ++i) {
    std::string name = session->GetInputNameAllocated(i, allocator).get();
    ASSIGN_OR_RETURN(TensorSpec spec,
                     ReadSpec(path, name, session->GetInputTypeInfo(i), "input"));
    sig.inputs.push_back(std::move(spec));
  }
  for (size_t i = 0; i < session->GetOutputCount(); ++i) {
    std::string name = session->GetOutputNameAllocated(i, allocator).get();
    ASSIGN_OR_RETURN(TensorSpec spec, ReadSpec(path, name,
                                               session->GetOutputTypeInfo(i),
                                               "output"));
    sig.outputs.push_back(std::move(spec));
  }
  Ort::ModelMetadata meta = session->GetModelMetadata();
  Ort::AllocatedStringPtr names =
      meta.LookupCustomMetadataMapAllocated("feature_names", allocator);
  if (names) sig.feature_names = ParseFeatureNames(names.get());

  // A classifier exported from scikit-learn has a label output (integer or
  // string) followed by a 2-D float probabilities output.
  if (sig.outputs.size() >= 2) {
    const TensorSpec& first = sig.outputs[0];
    const TensorSpec& second = sig.outputs[1];
    bool label_like = first.type == DataType::kInt64 ||
                      first.type == DataType::kInt32 ||
                      first.type == DataType::kBytes;
    bool proba_like = (second.type == DataType::kFp32 ||
                       second.type == DataType::kFp64) &&
                      second.shape.size() == 2;
    if (label_like && proba_like) {
      sig.is_classifier = true;
      sig.probabilities_output = second.name;
    }
  }
  return std::unique_ptr<Backend>(
      new OnnxBackend(std::move(session), std::move(sig)));
}

}  // namespace

StatusOr<std::unique_ptr<Backend>> LoadOnnxBackend(
    const std::string& path, const BackendOptions& options) {
  try {
    return LoadOrThrow(path, options);
  } catch (const Ort::Exception& e) {
    return InvalidArgument("cannot load ONNX model '" + path + "': " + e.what());
  }
}

}  // namespace mast
