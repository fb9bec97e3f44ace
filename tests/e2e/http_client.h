// A small blocking HTTP/1.1 client for the end-to-end tests (Boost.Beast).
//
// HttpClient keeps one keep-alive connection to 127.0.0.1:<port> and reuses
// it until the server closes it (or answers `Connection: close`). Every call
// has a deadline. Failures are reported as data (HttpResult::error) rather
// than exceptions, so that tests can tell "never got a byte back" from "got a
// truncated response".
//
// RawConnection sends arbitrary bytes over a plain TCP socket and reads
// whatever comes back, for malformed-request and slow-client tests.
//
// Thread-safety: one object per thread.
#ifndef MAST_TESTS_E2E_HTTP_CLIENT_H_
#define MAST_TESTS_E2E_HTTP_CLIENT_H_

#include <ostream>  // before any Boost header (Boost 1.81 + GCC 12)

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>

namespace mast_e2e {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResult {
  enum class Error {
    kNone,             // a complete response was read
    kConnect,          // the TCP connection could not be opened
    kWrite,            // the request could not be written
    kNoResponse,       // EOF or reset before any response byte
    kPartialResponse,  // EOF, reset or parse error after some response bytes
    kTimeout,          // the deadline passed
  };
  Error error = Error::kNone;
  std::string error_message;  // set when error != kNone
  // Whether the request went over a connection that had served an earlier one.
  bool reused_connection = false;

  int status = 0;
  boost::beast::http::fields headers;
  std::string body;
  bool keep_alive = false;

  bool ok() const { return error == Error::kNone; }
  // The value of header `name` (case-insensitive), or empty.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  // The body parsed as JSON; null (and `*error` set) if it is not JSON.
  boost::json::value Json(std::string* error = nullptr) const;
  // One line for assertion messages: "status 200 body ..." or the error.
  std::string Describe() const;
};

const char* ErrorName(HttpResult::Error error);

class HttpClient {
 public:
  explicit HttpClient(uint16_t port,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10),
                      std::string host = "127.0.0.1");
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult Get(const std::string& target, const Headers& headers = {});
  HttpResult Post(const std::string& target, const std::string& body,
                  const Headers& headers = {});
  HttpResult Request(boost::beast::http::verb method, const std::string& target,
                     const std::string& body = "", const Headers& headers = {});

  // The two halves of Request(), for tests that act between them (e.g. send
  // a signal while requests are in flight). Send() returns false and fills
  // `*failure` if the connection or the write failed.
  bool Send(boost::beast::http::verb method, const std::string& target,
            const std::string& body, const Headers& headers, HttpResult* failure);
  HttpResult ReadResponse();

  // Closes the connection (the next request opens a new one).
  void Close();
  bool connected() const;
  // Connections opened so far (1 after any number of reused requests).
  int connections_opened() const;
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::chrono::milliseconds timeout_;
};

// What a raw read saw.
struct RawRead {
  std::string data;        // every byte received
  bool closed = false;     // the peer closed (EOF) or reset the connection
  bool reset = false;      // the close was a reset (ECONNRESET)
  bool timed_out = false;  // the deadline passed with the connection open
  double seconds = 0;      // time the read took
};

class RawConnection {
 public:
  RawConnection() = default;
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Opens a TCP connection; false (and `error()` set) on failure.
  bool Connect(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5),
               const std::string& host = "127.0.0.1");
  // Writes every byte; false if the connection failed.
  bool Send(std::string_view bytes);
  // Reads until the peer closes the connection or `timeout` passes.
  RawRead ReadUntilClose(std::chrono::milliseconds timeout);
  // Reads until one complete HTTP response (head plus Content-Length body)
  // arrived, the peer closed, or `timeout` passed.
  RawRead ReadResponse(std::chrono::milliseconds timeout);
  void Close();
  bool is_open() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }

 private:
  RawRead Read(std::chrono::milliseconds timeout, bool stop_after_response);
  int fd_ = -1;
  std::string error_;
};

// Connects, sends `bytes`, and reads until the server closes or `timeout`.
RawRead SendRaw(uint16_t port, std::string_view bytes,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));

// The status code of a raw HTTP response ("HTTP/1.1 400 ..."), or 0.
int RawStatus(const std::string& data);
// The body of a raw HTTP response (after the blank line), or empty.
std::string RawBody(const std::string& data);

}  // namespace mast_e2e

#endif  // MAST_TESTS_E2E_HTTP_CLIENT_H_
