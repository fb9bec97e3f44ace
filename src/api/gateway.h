// Gateway: the first stage of every request after HTTP parsing. It assigns
// the request id (the client's X-Request-Id if acceptable, else a new one),
// routes the request, and on the way back adds X-Request-Id, records
// mast_requests_total / mast_request_duration_seconds and writes one access
// log line. Authentication, rate limits and caching will sit here too.
//
// Thread-safety: routes are added before serving; Handle() is then safe from
// any thread.
// Ownership: the gateway does not own the route handlers' state.
#ifndef MAST_API_GATEWAY_H_
#define MAST_API_GATEWAY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/exchange.h"
#include "api/router.h"
#include "monitor/serving_metrics.h"
#include "server/http_server.h"

namespace mast {

using RouteHandler = std::function<void(std::shared_ptr<Exchange>)>;

// One route: what the gateway dispatches and what /openapi.json describes.
struct RouteInfo {
  http::verb method;
  std::string pattern;
  ErrorStyle style;
  std::string summary;
  std::string tag;
  RouteHandler handler;
};

class Gateway final : public HttpHandler {
 public:
  explicit Gateway(ServingMetrics* metrics) : metrics_(metrics) {}
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  void AddRoute(RouteInfo route);
  const std::vector<RouteInfo>& routes() const { return routes_; }

  void Handle(HttpRequest request, HttpResponder respond) override;
  HttpResponse Reject(int status, std::string_view target,
                      std::string_view message) override;

  // Called by Exchange: finishes the response and records it.
  void Finish(Exchange* exchange, HttpResponse response, HttpResponder* respond);

 private:
  ServingMetrics* metrics_;
  Router router_;
  std::vector<RouteInfo> routes_;  // indexed by route id
};

// The error style of a path not matched by any route (by its prefix).
ErrorStyle StyleForPath(std::string_view path);

}  // namespace mast

#endif  // MAST_API_GATEWAY_H_
