#include "cli/api_client.h"

#include <ostream>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

namespace mast {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

StatusOr<ApiClient> ApiClient::Create(const std::string& server, std::string token,
                                      std::chrono::seconds timeout) {
  std::string rest = server;
  constexpr std::string_view kScheme = "http://";
  if (rest.rfind(kScheme, 0) != 0) {
    return InvalidArgument("--server must look like http://host:port, got '" + server + "'");
  }
  rest = rest.substr(kScheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find('/') != std::string::npos) {
    return InvalidArgument("--server must look like http://host:port, got '" + server + "'");
  }
  std::string host = rest, port = "80";
  if (size_t colon = rest.rfind(':'); colon != std::string::npos && rest.front() != '[') {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  return ApiClient(server, host, port, std::move(token), timeout);
}

Status ApiClient::Connect(boost::beast::tcp_stream* stream) const {
  tcp::resolver resolver(stream->get_executor());
  beast::error_code ec;
  auto endpoints = resolver.resolve(host_, port_, ec);
  if (ec) return Unavailable("cannot resolve " + server_ + ": " + ec.message());
  stream->expires_after(timeout_);
  stream->connect(endpoints, ec);
  if (ec) return Unavailable("cannot reach the mast server at " + server_ + ": " + ec.message());
  return OkStatus();
}

StatusOr<ApiResponse> ApiClient::Send(std::string_view method, const std::string& target,
                                      std::string_view body,
                                      std::string_view content_type) const {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  RETURN_IF_ERROR(Connect(&stream));
  beast::error_code ec;

  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, host_);
  req.set(http::field::user_agent, "mast-cli");
  if (!token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req.set(http::field::content_type, content_type);
    req.body() = std::string(body);
  }
  req.keep_alive(false);
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) return Unavailable("sending to " + server_ + " failed: " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  http::read(stream, buffer, parser, ec);
  if (ec) return Unavailable("reading the answer from " + server_ + " failed: " + ec.message());
  ApiResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  out.body = std::move(parser.get().body());
  boost::system::error_code parse_ec;
  out.json = boost::json::parse(out.body, parse_ec);
  if (parse_ec) out.json = nullptr;
  return out;
}

StatusOr<ApiResponse> ApiClient::Call(std::string_view method, const std::string& target,
                                      std::string_view body,
                                      std::string_view content_type) const {
  ASSIGN_OR_RETURN(ApiResponse r, Send(method, target, body, content_type));
  if (r.status < 400) return r;
  return ErrorFromAnswer(r);
}

Status ApiClient::ErrorFromAnswer(const ApiResponse& r) {
  std::string message = r.body;
  if (const auto* o = r.json.if_object()) {
    if (const auto* e = o->if_contains("error")) {
      if (e->is_object() && e->as_object().contains("message")) {
        message = std::string(e->as_object().at("message").as_string());
      } else if (e->is_string()) {
        message = std::string(e->as_string());
      }
    }
  }
  StatusCode code = StatusCode::kInternal;
  switch (r.status) {
    case 400: code = StatusCode::kInvalidArgument; break;
    case 401: code = StatusCode::kUnauthenticated; break;
    case 403: code = StatusCode::kPermissionDenied; break;
    case 404: code = StatusCode::kNotFound; break;
    case 409: code = StatusCode::kFailedPrecondition; break;
    case 413: code = StatusCode::kPayloadTooLarge; break;
    case 422: code = StatusCode::kUnprocessable; break;
    case 503: code = StatusCode::kUnavailable; break;
    default: break;
  }
  if (r.status == 401 && message.find("Bearer") != std::string::npos) {
    message += " (set MAST_TOKEN)";
  }
  return Status(code, message);
}

Status ApiClient::Download(const std::string& target,
                           const std::function<Status(std::string_view)>& sink) const {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  RETURN_IF_ERROR(Connect(&stream));
  beast::error_code ec;
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, host_);
  req.set(http::field::user_agent, "mast-cli");
  if (!token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
  req.keep_alive(false);
  http::write(stream, req, ec);
  if (ec) return Unavailable("sending to " + server_ + " failed: " + ec.message());

  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  http::read_header(stream, buffer, parser, ec);
  if (ec) return Unavailable("reading the answer from " + server_ + " failed: " + ec.message());
  const int status = static_cast<int>(parser.get().result_int());
  std::string error_body;
  std::vector<char> piece(64 * 1024);
  while (!parser.is_done()) {
    stream.expires_after(timeout_);
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    http::read(stream, buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      return Unavailable("reading the answer from " + server_ + " failed: " + ec.message());
    }
    const std::string_view got(piece.data(), piece.size() - parser.get().body().size);
    if (status >= 400) {
      error_body.append(got);
    } else if (!got.empty()) {
      RETURN_IF_ERROR(sink(got));
    }
  }
  if (status < 400) return OkStatus();
  ApiResponse r;
  r.status = status;
  r.body = std::move(error_body);
  boost::system::error_code parse_ec;
  r.json = boost::json::parse(r.body, parse_ec);
  if (parse_ec) r.json = nullptr;
  return ErrorFromAnswer(r);
}

}  // namespace mast
