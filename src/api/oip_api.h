// The Open Inference Protocol (KServe V2) REST API, as Triton and KServe
// clients use it:
//   GET  /v2                                    server metadata
//   GET  /v2/health/live, /v2/health/ready      liveness, readiness
//   GET  /v2/models/{m}[/versions/{v}]          model metadata
//   GET  /v2/models/{m}[/versions/{v}]/ready    model readiness
//   POST /v2/models/{m}[/versions/{v}]/infer    inference on JSON tensors
// Errors are {"error": "..."} with 400 (bad request) or 404 (unknown model).
#ifndef MAST_API_OIP_API_H_
#define MAST_API_OIP_API_H_

#include "api/gateway.h"
#include "api/serving_context.h"

namespace mast {

void RegisterOipApi(Gateway* gateway, ServingContext* context);

}  // namespace mast

#endif  // MAST_API_OIP_API_H_
