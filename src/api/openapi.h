// Operational routes: GET /metrics (Prometheus text), GET /openapi.json (an
// OpenAPI 3.0 description generated from the gateway's route table, so it
// cannot drift from what is served) and GET /docs (a readable HTML page of
// the same).
#ifndef MAST_API_OPENAPI_H_
#define MAST_API_OPENAPI_H_

#include <string>

#include "api/gateway.h"
#include "api/serving_context.h"

namespace mast {

// Adds /metrics, /openapi.json and /docs. Call after every other route is
// added: the documents describe the routes present at that moment.
void RegisterOperationalRoutes(Gateway* gateway, ServingContext* context);

// The OpenAPI 3.0 document for `routes`.
std::string OpenApiDocument(const std::vector<RouteInfo>& routes,
                            const std::string& version);

}  // namespace mast

#endif  // MAST_API_OPENAPI_H_
