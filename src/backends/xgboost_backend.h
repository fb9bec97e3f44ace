// XgboostBackend: runs an XGBoost model (JSON or UBJ file) with libxgboost's
// C API, using in-place prediction on dense float rows.
//
// Signature: one input "input" FP32 [-1, num_features]. Classifiers
// (binary:logistic, multi:softprob, multi:softmax) have outputs "label" INT64
// [-1] and, except softmax, "probabilities" FP32 [-1, classes]; every other
// objective has one output "predict" FP32 [-1].
//
// Thread-safety: Run() is safe to call concurrently (XGBoost keeps in-place
// prediction results in per-thread storage; they are copied out at once).
// Ownership: owns its BoosterHandle and frees it on destruction.
#ifndef MAST_BACKENDS_XGBOOST_BACKEND_H_
#define MAST_BACKENDS_XGBOOST_BACKEND_H_

#include <memory>
#include <string>

#include "backends/backend.h"

namespace mast {

// Loads `path` (.json or .ubj). Errors (kInvalidArgument) name the file and
// carry XGBoost's message.
StatusOr<std::unique_ptr<Backend>> LoadXgboostBackend(
    const std::string& path, const BackendOptions& options);

}  // namespace mast

#endif  // MAST_BACKENDS_XGBOOST_BACKEND_H_
