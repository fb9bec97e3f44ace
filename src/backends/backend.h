// Backend: one loaded model artifact that runs inference on tensor batches.
//
// Implementations: OnnxBackend (ONNX Runtime) and XgboostBackend (libxgboost).
// A Backend is created by LoadBackend() off the request threads; once built it
// is immutable apart from the engine's own state.
//
// Thread-safety: Run() may be called concurrently from many threads (both
// engines support concurrent inference on one loaded model).
// Ownership: the caller owns the Backend; requests hold it through the
// shared_ptr of the ModelVersion that contains it.
#ifndef MAST_BACKENDS_BACKEND_H_
#define MAST_BACKENDS_BACKEND_H_

#include <memory>
#include <string>
#include <vector>

#include "backends/tensor.h"
#include "common/status.h"

namespace mast {

// What the artifact says about itself.
struct ModelSignature {
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  // Feature names stored in the artifact (XGBoost `feature_names`, ONNX
  // metadata_props "feature_names"), in input column order; empty if none.
  std::vector<std::string> feature_names;
  // Name of the output holding class probabilities, empty if none.
  std::string probabilities_output;
  // True when the primary output is a class label (classifiers).
  bool is_classifier = false;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // "onnxruntime" or "xgboost".
  virtual std::string_view platform() const = 0;
  virtual const ModelSignature& signature() const = 0;

  // Runs the model on `inputs` (one tensor per model input, matched by name,
  // all with the same batch size) and returns the outputs named in
  // `output_names`, or all outputs in signature order if it is empty.
  // Errors: kInvalidArgument for inputs that do not fit the signature,
  // kInternal for engine failures (message carries the engine's words).
  virtual StatusOr<std::vector<Tensor>> Run(
      const std::vector<Tensor>& inputs,
      const std::vector<std::string>& output_names) const = 0;
};

// Backend settings shared by all engines.
struct BackendOptions {
  // Threads one inference may use inside the engine (ONNX Runtime intra-op,
  // XGBoost nthread). 1 suits a server that runs requests in parallel.
  int intra_op_threads = 1;
  // ONNX Runtime: threads running independent graph nodes in parallel (more
  // than 1 switches to the parallel execution mode).
  int inter_op_threads = 1;
  // ONNX Runtime graph optimisation: disable, basic, extended or all.
  std::string graph_optimization = "all";
};

// Artifact formats, as the registry records them.
inline constexpr std::string_view kFormatOnnx = "onnx";
inline constexpr std::string_view kFormatXgboostJson = "xgboost-json";
inline constexpr std::string_view kFormatXgboostUbj = "xgboost-ubj";

// The format of a file by its extension (.onnx, .json, .ubj); empty if none.
std::string_view FormatForPath(const std::string& path);
// The format of an artifact from its first bytes: a JSON object is an
// XGBoost JSON model, other data starting with '{' is XGBoost UBJ, anything
// else is taken for ONNX (its loader then says whether it is).
std::string_view DetectFormat(std::string_view head);
bool IsKnownFormat(std::string_view format);

// Loads the artifact at `path` in `format` (empty: by the file's extension):
// ONNX Runtime for onnx, XGBoost for xgboost-json/-ubj. Errors name the file
// and cause.
StatusOr<std::unique_ptr<Backend>> LoadBackend(const std::string& path,
                                               const BackendOptions& options,
                                               std::string_view format = {});

}  // namespace mast

#endif  // MAST_BACKENDS_BACKEND_H_
