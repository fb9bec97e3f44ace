// OnnxBackend: runs an ONNX model with ONNX Runtime (CPU execution provider),
// including the ai.onnx.ml operators that exported scikit-learn models use.
//
// Thread-safety: Run() is safe to call concurrently (Ort::Session::Run is).
// Ownership: owns its Ort::Session; all sessions share one process-wide
// Ort::Env created on first use.
#ifndef MAST_BACKENDS_ONNX_BACKEND_H_
#define MAST_BACKENDS_ONNX_BACKEND_H_

#include <memory>
#include <string>

#include "backends/backend.h"

namespace mast {

// Loads `path` into an ONNX Runtime session. Errors (kInvalidArgument) name the
// file and carry ONNX Runtime's message; inputs or outputs of an unsupported
// type (e.g. the sequence-of-maps that ZipMap produces) are rejected here.
StatusOr<std::unique_ptr<Backend>> LoadOnnxBackend(
    const std::string& path, const BackendOptions& options);

}  // namespace mast

#endif  // MAST_BACKENDS_ONNX_BACKEND_H_
