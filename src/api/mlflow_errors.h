// MLflow's error codes (the `error_code` of {"error_code", "message"}) and
// HTTP statuses for mast's status codes: used by the MLflow-compatible API
// and by the gateway for its own answers on that API's routes. Stateless.
#ifndef MAST_API_MLFLOW_ERRORS_H_
#define MAST_API_MLFLOW_ERRORS_H_

#include <string_view>

#include "common/status.h"

namespace mast {

struct MlflowErrorCode {
  int http_status;
  std::string_view name;
};

// MLflow answers RESOURCE_ALREADY_EXISTS with 400, not 409.
inline MlflowErrorCode MlflowCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kNotFound: return {404, "RESOURCE_DOES_NOT_EXIST"};
    case StatusCode::kAlreadyExists: return {400, "RESOURCE_ALREADY_EXISTS"};
    case StatusCode::kInvalidArgument:
    case StatusCode::kUnprocessable:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kPayloadTooLarge: return {400, "INVALID_PARAMETER_VALUE"};
    case StatusCode::kUnauthenticated: return {401, "UNAUTHENTICATED"};
    case StatusCode::kPermissionDenied: return {403, "PERMISSION_DENIED"};
    case StatusCode::kResourceExhausted: return {429, "RESOURCE_EXHAUSTED"};
    case StatusCode::kUnavailable: return {503, "TEMPORARILY_UNAVAILABLE"};
    case StatusCode::kOk:
    case StatusCode::kInternal: break;
  }
  return {500, "INTERNAL_ERROR"};
}

}  // namespace mast

#endif  // MAST_API_MLFLOW_ERRORS_H_
