// ApiClient: the CLI's blocking HTTP/1.1 client for a mast server's REST API.
//
// Talks to `--server` (http://host:port, default http://127.0.0.1:8000) with
// the bearer token from MAST_TOKEN, one request per connection. Error answers
// are turned into a Status carrying the server's message.
//
// Thread-safety: one client per thread.
#ifndef MAST_CLI_API_CLIENT_H_
#define MAST_CLI_API_CLIENT_H_

#include <chrono>
#include <ostream>  // before Boost.Beast (Boost 1.81 + GCC 12)
#include <functional>
#include <string>
#include <string_view>

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/json/value.hpp>

#include "common/status.h"

namespace mast {

struct ApiResponse {
  int status = 0;
  std::string body;
  boost::json::value json;  // null if the body is not JSON
};

class ApiClient {
 public:
  // Errors: kInvalidArgument if `server` is not http://host[:port].
  static StatusOr<ApiClient> Create(const std::string& server, std::string token,
                                    std::chrono::seconds timeout = std::chrono::seconds(600));

  // Sends a request; any HTTP status is returned as a response. Errors:
  // kUnavailable if the server cannot be reached (naming it).
  StatusOr<ApiResponse> Send(std::string_view method, const std::string& target,
                             std::string_view body = {},
                             std::string_view content_type = "application/json") const;

  // Like Send(), but a status >= 400 becomes an error with the server's
  // message, and the HTTP status mapped back to a StatusCode.
  StatusOr<ApiResponse> Call(std::string_view method, const std::string& target,
                             std::string_view body = {},
                             std::string_view content_type = "application/json") const;

  // GET `target` and hand the body to `sink` piece by piece as it arrives
  // (large answers, e.g. exports, never sit in memory whole). A status >= 400
  // is an error as in Call(); so is an error returned by `sink`.
  Status Download(const std::string& target,
                  const std::function<Status(std::string_view)>& sink) const;

  const std::string& server() const { return server_; }

 private:
  ApiClient(std::string server, std::string host, std::string port, std::string token,
            std::chrono::seconds timeout)
      : server_(std::move(server)),
        host_(std::move(host)),
        port_(std::move(port)),
        token_(std::move(token)),
        timeout_(timeout) {}

  // Resolves the server and connects `stream` to it.
  Status Connect(boost::beast::tcp_stream* stream) const;
  // Turns an error answer into a Status with the server's message.
  static Status ErrorFromAnswer(const ApiResponse& r);

  std::string server_;
  std::string host_;
  std::string port_;
  std::string token_;
  std::chrono::seconds timeout_;
};

// Percent-encodes a path segment or query value.
std::string UrlEncode(std::string_view s);

}  // namespace mast

#endif  // MAST_CLI_API_CLIENT_H_
