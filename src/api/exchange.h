// Exchange: one request travelling through the gateway to a route handler,
// and the way back. Carries what the access log and the metrics need (request
// id, route, model, version) and formats errors in the surface's own shape:
//   kClassic  {"detail": "..."}            (FastAPI-compatible /predict API)
//   kOip      {"error": "..."}             (Open Inference Protocol, /v2)
//   kNative   {"error": {"code", "message"}} (/api/v1 and operational routes)
//
// Ownership: handlers receive a std::shared_ptr<Exchange> and must call one
// Reply*() exactly once, from any thread.
#ifndef MAST_API_EXCHANGE_H_
#define MAST_API_EXCHANGE_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "api/router.h"
#include "common/status.h"
#include "server/http_server.h"

namespace mast {

// The shape of a route's error bodies, also for the gateway's own answers
// (401, 403, 404, 405, 413) on it:
//   kClassic  {"detail": "..."}                          (FastAPI's)
//   kOip      {"error": "..."}                           (the Open Inference Protocol's)
//   kNative   {"error": {"code": "NOT_FOUND", "message": "..."}}
//   kMlflow   {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "..."}  (MLflow's)
enum class ErrorStyle { kClassic, kOip, kNative, kMlflow };

class Gateway;

class Exchange {
 public:
  Exchange(HttpRequest request, HttpResponder respond, Gateway* gateway)
      : request(std::move(request)), respond_(std::move(respond)), gateway_(gateway) {}
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  HttpRequest request;
  // The body, when the server wrote it to a file (uploads; see
  // HttpHandler::SpoolDir): `request.body()` is then empty.
  std::shared_ptr<SpooledBody> spooled;
  std::string_view path;    // target without the query
  std::string_view query;   // after '?', undecoded
  RouteMatch match;
  int route_id = -1;
  ErrorStyle style = ErrorStyle::kNative;
  std::string request_id;
  std::chrono::steady_clock::time_point start;
  // Set by handlers that resolve a model, for metrics and the access log.
  std::string model;
  std::string version;
  // Who made a management request (for records and the audit trail).
  std::string actor;

  // The decoded value of query parameter `name`, if present.
  std::optional<std::string> QueryParam(std::string_view name) const;

  // Sends `body` with `status` and `content_type`.
  void Reply(int status, std::string body,
             std::string_view content_type = "application/json");
  void ReplyJson(int status, const boost::json::value& body);
  // Sends an error in this exchange's style; the HTTP status comes from the
  // Status code.
  void ReplyError(const Status& status);
  void ReplyError(int http_status, StatusCode code, std::string_view message);
  // Sends 503 with Retry-After (overloaded or shutting down).
  void ReplyUnavailable(const Status& status);
  // Sends a prepared response (extra headers such as Allow or Retry-After).
  void ReplyResponse(HttpResponse response);
  // Sends `status` and then `body` piece by piece (chunked).
  void ReplyStream(int status, std::string_view content_type,
                   std::shared_ptr<BodyStream> body);

 private:
  HttpResponder respond_;
  Gateway* gateway_;
};

// Builds an error body in `style`.
std::string ErrorBody(ErrorStyle style, StatusCode code, std::string_view message);

}  // namespace mast

#endif  // MAST_API_EXCHANGE_H_
