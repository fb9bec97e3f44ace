// Gateway: the first stage of every request after HTTP parsing. It assigns
// the request id (the client's X-Request-Id if acceptable, else a new one),
// checks credentials on management routes (a bearer token compared in
// constant time, or loopback-only when no token is configured), routes the
// request, and on the way back adds X-Request-Id, records
// mast_requests_total / mast_request_duration_seconds and writes one access
// log line. Artifact uploads are written to disk as they arrive (spool_dir),
// their credentials checked on the header, before the body is sent.
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
  // Management routes need the admin credentials (see GatewayOptions).
  bool admin = false;
};

struct GatewayOptions {
  // Bearer token for management routes. Empty: management routes answer only
  // clients on the loopback interface.
  std::string admin_token;
  // Body limit for artifact uploads (POST /api/v1/blobs).
  size_t max_upload_bytes = size_t{2} << 30;
  // Where artifact uploads are written as they arrive, rather than held in
  // memory ("": in memory). On the blob store's filesystem, so that storing
  // one is a rename.
  std::string spool_dir;
};

class Gateway final : public HttpHandler {
 public:
  explicit Gateway(ServingMetrics* metrics, GatewayOptions options = {})
      : metrics_(metrics), options_(std::move(options)) {}
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  void AddRoute(RouteInfo route);
  const std::vector<RouteInfo>& routes() const { return routes_; }

  void Handle(HttpRequest request, const PeerInfo& peer, HttpResponder respond) override;
  void HandleSpooled(HttpRequest request, std::shared_ptr<SpooledBody> body,
                     const PeerInfo& peer, HttpResponder respond) override;
  size_t BodyLimit(std::string_view target, size_t default_limit) override;
  std::string SpoolDir(std::string_view target) override;
  // Management routes check credentials before an upload's body is read.
  Status AdmitBody(const HttpRequest& header, const PeerInfo& peer) override;
  HttpResponse Reject(int status, StatusCode code, std::string_view target,
                      std::string_view message) override;

  // Called by Exchange: records the request (metrics, access log; a
  // streamed body's latency is to its first byte) and sends the response.
  void Finish(Exchange* exchange, HttpResponse response, HttpResponder* respond,
              std::shared_ptr<BodyStream> body);

 private:
  // The request counter and latency histogram of one label set.
  struct RequestSeries {
    Counter* count;
    Histogram* seconds;
  };
  const RequestSeries& SeriesFor(const std::string& route, const std::string& model,
                                 const std::string& version, int status);
  void Run(std::shared_ptr<Exchange> ex, const PeerInfo& peer);
  // OK, or the 401/403 to answer for a management route.
  Status Authorize(const HttpRequest& request, const PeerInfo& peer) const;

  ServingMetrics* metrics_;
  GatewayOptions options_;
  Router router_;
  std::vector<RouteInfo> routes_;  // indexed by route id
};

// The error style of a path not matched by any route (by its prefix).
ErrorStyle StyleForPath(std::string_view path);

}  // namespace mast

#endif  // MAST_API_GATEWAY_H_
