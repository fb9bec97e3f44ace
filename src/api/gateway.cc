#include "common/json_writer.h"
#include "api/gateway.h"

#include <cmath>
#include <unordered_map>

#include <openssl/crypto.h>

#include <cctype>
#include <random>

#include <boost/json.hpp>

#include "api/mlflow_errors.h"
#include "common/logging.h"

namespace mast {

namespace json = boost::json;

namespace {

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string id(32, '0');
  uint64_t a = rng(), b = rng();
  for (int i = 0; i < 16; ++i) {
    id[i] = kHex[(a >> (i * 4)) & 0xf];
    id[16 + i] = kHex[(b >> (i * 4)) & 0xf];
  }
  return id;
}

// A client's request id is kept if it is short and plain printable ASCII.
bool AcceptableRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

ErrorStyle StyleForPath(std::string_view path) {
  if (path.substr(0, 3) == "/v2") return ErrorStyle::kOip;
  if (path.substr(0, 16) == "/api/2.0/mlflow/") return ErrorStyle::kMlflow;
  if (path.substr(0, 4) == "/api") return ErrorStyle::kNative;
  return ErrorStyle::kClassic;
}

std::string ErrorBody(ErrorStyle style, StatusCode code, std::string_view message) {
  json::object body;
  switch (style) {
    case ErrorStyle::kClassic:
      body["detail"] = message;
      break;
    case ErrorStyle::kOip:
      body["error"] = message;
      break;
    case ErrorStyle::kNative:
      body["error"] = json::object{{"code", StatusCodeName(code)}, {"message", message}};
      break;
    case ErrorStyle::kMlflow:
      body["error_code"] = MlflowCodeFor(code).name;
      body["message"] = message;
      break;
  }
  return ToJson(body);
}

namespace {

// An error answer with `style`'s body; a 401 also names the scheme to use.
HttpResponse ErrorResponse(int status, unsigned version, ErrorStyle style, StatusCode code,
                           std::string_view message) {
  HttpResponse r{static_cast<http::status>(status), version};
  r.set(http::field::content_type, "application/json");
  if (code == StatusCode::kUnauthenticated) r.set(http::field::www_authenticate, "Bearer");
  r.body() = ErrorBody(style, code, message);
  return r;
}

}  // namespace

std::optional<std::string> Exchange::QueryParam(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (key == name) {
      std::string value(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
      auto segments = SplitPath(value);  // percent-decodes
      return segments.empty() ? "" : segments[0];
    }
    if (amp == std::string_view::npos) break;
    q = q.substr(amp + 1);
  }
  return std::nullopt;
}

void Exchange::Reply(int status, std::string body, std::string_view content_type) {
  HttpResponse r{static_cast<http::status>(status), request.version()};
  r.set(http::field::content_type, content_type);
  r.body() = std::move(body);
  ReplyResponse(std::move(r));
}

void Exchange::ReplyJson(int status, const json::value& body) {
  Reply(status, ToJson(body));
}

void Exchange::ReplyError(const Status& status) {
  ReplyError(HttpStatusFor(status.code()), status.code(), status.message());
}

void Exchange::ReplyError(int http_status, StatusCode code, std::string_view message) {
  Reply(http_status, ErrorBody(style, code, message));
}

void Exchange::ReplyUnavailable(const Status& status) {
  HttpResponse r = ErrorResponse(503, request.version(), style, status.code(), status.message());
  r.set(http::field::retry_after, "1");
  ReplyResponse(std::move(r));
}

void Exchange::ReplyResponse(HttpResponse response) {
  gateway_->Finish(this, std::move(response), &respond_, nullptr);
}

void Exchange::ReplyStream(int status, std::string_view content_type,
                           std::shared_ptr<BodyStream> body) {
  HttpResponse head{static_cast<http::status>(status), request.version()};
  head.set(http::field::content_type, content_type);
  gateway_->Finish(this, std::move(head), &respond_, std::move(body));
}

void Gateway::AddRoute(RouteInfo route) {
  router_.Add(route.method, route.pattern);
  routes_.push_back(std::move(route));
}

namespace {

bool IsUpload(std::string_view target) {
  return target.substr(0, target.find('?')) == "/api/v1/blobs";
}

}  // namespace

size_t Gateway::BodyLimit(std::string_view target, size_t default_limit) {
  return IsUpload(target) ? options_.max_upload_bytes : default_limit;
}

std::string Gateway::SpoolDir(std::string_view target) {
  return IsUpload(target) ? options_.spool_dir : std::string();
}

Status Gateway::Authorize(const HttpRequest& request, const PeerInfo& peer) const {
  if (options_.admin_token.empty()) {
    if (peer.loopback) return OkStatus();
    return Status(StatusCode::kPermissionDenied,
                  "management routes answer only on loopback unless MAST_ADMIN_TOKEN is set");
  }
  std::string_view auth = request[http::field::authorization];
  // The scheme is case-insensitive (RFC 7235 section 2.1).
  constexpr std::string_view kBearer = "bearer ";
  bool bearer = auth.size() > kBearer.size();
  for (size_t i = 0; bearer && i < kBearer.size(); ++i) {
    bearer = std::tolower(static_cast<unsigned char>(auth[i])) == kBearer[i];
  }
  if (!bearer) {
    return Status(StatusCode::kUnauthenticated,
                  "management routes need 'Authorization: Bearer <token>'");
  }
  std::string_view token = auth.substr(kBearer.size());
  const std::string& want = options_.admin_token;
  // Constant time in the token's content; the length is not secret enough
  // to hide (and comparing unequal lengths would read out of bounds).
  if (token.size() != want.size() ||
      CRYPTO_memcmp(token.data(), want.data(), want.size()) != 0) {
    return Status(StatusCode::kUnauthenticated, "invalid token");
  }
  return OkStatus();
}

Status Gateway::AdmitBody(const HttpRequest& header, const PeerInfo& peer) {
  std::string_view target = header.target();
  const RouteMatch match = router_.Match(header.method(), target.substr(0, target.find('?')));
  if (match.result != RouteMatch::kFound || !routes_[match.route_id].admin) return OkStatus();
  return Authorize(header, peer);
}

void Gateway::Handle(HttpRequest request, const PeerInfo& peer, HttpResponder respond) {
  Run(std::make_shared<Exchange>(std::move(request), std::move(respond), this), peer);
}

void Gateway::HandleSpooled(HttpRequest request, std::shared_ptr<SpooledBody> body,
                            const PeerInfo& peer, HttpResponder respond) {
  auto ex = std::make_shared<Exchange>(std::move(request), std::move(respond), this);
  ex->spooled = std::move(body);
  Run(std::move(ex), peer);
}

void Gateway::Run(std::shared_ptr<Exchange> ex, const PeerInfo& peer) {
  ex->start = std::chrono::steady_clock::now();
  std::string_view target = ex->request.target();
  size_t q = target.find('?');
  ex->path = target.substr(0, q);
  if (q != std::string_view::npos) ex->query = target.substr(q + 1);
  auto id = ex->request["X-Request-Id"];
  ex->request_id = AcceptableRequestId(id) ? std::string(id) : NewRequestId();

  ex->match = router_.Match(ex->request.method(), ex->path);
  if (ex->match.result == RouteMatch::kFound) {
    ex->route_id = ex->match.route_id;
    const RouteInfo& route = routes_[ex->route_id];
    ex->style = route.style;
    if (route.admin) {
      Status allowed = Authorize(ex->request, peer);
      if (!allowed.ok()) {
        return ex->ReplyResponse(ErrorResponse(HttpStatusFor(allowed.code()),
                                               ex->request.version(), ex->style, allowed.code(),
                                               allowed.message()));
      }
      ex->actor = options_.admin_token.empty() ? "loopback:" + peer.address : "admin";
    }
    route.handler(ex);
    return;
  }
  ex->style = StyleForPath(ex->path);
  const bool wrong_method = ex->match.result == RouteMatch::kMethodNotAllowed;
  const std::string message =
      wrong_method ? "method " + std::string(ex->request.method_string()) + " is not allowed on " +
                         std::string(ex->path) + " (allowed: " + ex->match.allowed + ")"
                   : "no route " + std::string(ex->path);
  HttpResponse r = ErrorResponse(wrong_method ? 405 : 404, ex->request.version(), ex->style,
                                 wrong_method ? StatusCode::kInvalidArgument : StatusCode::kNotFound,
                                 message);
  if (wrong_method) r.set(http::field::allow, ex->match.allowed);
  // An MLflow endpoint is a method and a path: on MLflow's paths, neither an
  // unknown path nor a known one with another method is one.
  if (ex->style == ErrorStyle::kMlflow) {
    r.body() = ToJson(json::object{{"error_code", "ENDPOINT_NOT_FOUND"}, {"message", message}});
  }
  ex->ReplyResponse(std::move(r));
}

HttpResponse Gateway::Reject(int status, StatusCode code, std::string_view target,
                             std::string_view message) {
  std::string_view path = target.substr(0, target.find('?'));
  HttpResponse r = ErrorResponse(status, 11, StyleForPath(path), code, message);
  r.set("X-Request-Id", NewRequestId());
  metrics_->requests->WithLabels({"", "", "", std::to_string(status)})->Increment();
  LogInfo("request rejected", {{"route", path},
                               {"status", status},
                               {"error", message}});
  return r;
}

const Gateway::RequestSeries& Gateway::SeriesFor(const std::string& route,
                                                 const std::string& model,
                                                 const std::string& version, int status) {
  // Per thread, so the lookup takes no lock; the key buffer is reused, so a
  // hit allocates nothing. Children are never removed from their families.
  thread_local std::unordered_map<std::string, RequestSeries> cache;
  thread_local std::string key;
  key.clear();
  key.append(reinterpret_cast<const char*>(&metrics_), sizeof(metrics_));
  key.append(reinterpret_cast<const char*>(&status), sizeof(status));
  key += route;
  key += '\x1f';
  key += model;
  key += '\x1f';
  key += version;
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  RequestSeries series{
      metrics_->requests->WithLabels({route, model, version, std::to_string(status)}),
      metrics_->request_seconds->WithLabels({route, model, version})};
  return cache.emplace(key, series).first->second;
}

void Gateway::Finish(Exchange* ex, HttpResponse response, HttpResponder* respond,
                     std::shared_ptr<BodyStream> body) {
  response.set("X-Request-Id", ex->request_id);
  if (ex->request.method() == http::verb::head) response.body().clear();
  const int status = static_cast<int>(response.result_int());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - ex->start)
          .count();
  // Unmatched paths share one label value so that scans cannot grow the
  // metric without bound.
  const std::string& route =
      ex->route_id >= 0 ? routes_[ex->route_id].pattern : std::string("unmatched");
  const RequestSeries& series = SeriesFor(route, ex->model, ex->version, status);
  series.count->Increment();
  series.seconds->Observe(seconds);
  if (LogEnabled(LogLevel::kInfo)) {
    LogLine line(LogLevel::kInfo, "request");
    line.Add("request_id", ex->request_id)
        .Add("method", std::string_view(ex->request.method_string()))
        .Add("route", route)
        .Add("path", ex->path)
        .Add("status", status)
        // To the microsecond: 0.041, not 0.040633999999999997.
        .Add("latency_ms", std::round(seconds * 1e6) / 1e3);
    if (!ex->model.empty()) line.Add("model", ex->model).Add("version", ex->version);
    line.Write();
  }
  HttpResponder done = std::move(*respond);
  if (body) return done.Stream(std::move(response), std::move(body));
  done(std::move(response));
}

}  // namespace mast
