// The classic API of a hand-written FastAPI model service:
//   GET  /health                      {"status":"healthy","model_loaded":true}
//   POST /predict                     one JSON object of named features, or
//                                     an array of them
//   POST /v1/models/{model}/predict   the same for a named model
//   GET  /v1/models                   the models served and their state
// Errors use FastAPI's shapes: {"detail": "..."} and, for invalid fields,
// {"detail": [{"loc": [...], "msg": "...", "type": "..."}]}.
#ifndef MAST_API_CLASSIC_API_H_
#define MAST_API_CLASSIC_API_H_

#include "api/gateway.h"
#include "api/serving_context.h"

namespace mast {

// Adds the classic routes to `gateway`; `context` must outlive it.
void RegisterClassicApi(Gateway* gateway, ServingContext* context);

}  // namespace mast

#endif  // MAST_API_CLASSIC_API_H_
