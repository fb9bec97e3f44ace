#include "http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

namespace mast_e2e {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

const char* ErrorName(HttpResult::Error error) {
  switch (error) {
    case HttpResult::Error::kNone: return "none";
    case HttpResult::Error::kConnect: return "connect failed";
    case HttpResult::Error::kWrite: return "write failed";
    case HttpResult::Error::kNoResponse: return "no response";
    case HttpResult::Error::kPartialResponse: return "partial response";
    case HttpResult::Error::kTimeout: return "timeout";
  }
  return "?";
}

std::string HttpResult::Header(std::string_view name) const {
  auto it = headers.find(beast::string_view(name.data(), name.size()));
  if (it == headers.end()) return "";
  return std::string(it->value());
}

bool HttpResult::HasHeader(std::string_view name) const {
  return headers.find(beast::string_view(name.data(), name.size())) != headers.end();
}

boost::json::value HttpResult::Json(std::string* error) const {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec) {
    if (error) *error = ec.message();
    return nullptr;
  }
  return v;
}

std::string HttpResult::Describe() const {
  if (!ok()) {
    return std::string(ErrorName(error)) + ": " + error_message +
           (reused_connection ? " (reused connection)" : " (new connection)");
  }
  std::string b = body.size() > 600 ? body.substr(0, 600) + "..." : body;
  return "status " + std::to_string(status) + " body " + b;
}

// ---------------------------------------------------------------------------
// HttpClient

struct HttpClient::Impl {
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::string host;
  uint16_t port = 0;
  int opened = 0;
  int requests_on_connection = 0;
  bool pending_reused = false;
  http::request<http::string_body> request;

  // Runs the io_context until the operation started by `start` completes
  // (tcp_stream's own timer bounds the wait).
  template <typename Start>
  beast::error_code Run(Start start) {
    bool done = false;
    beast::error_code result;
    start([&](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    ioc.restart();
    while (!done) {
      if (ioc.run_one() == 0) break;
    }
    if (!done) result = asio::error::operation_aborted;
    return result;
  }
};

HttpClient::HttpClient(uint16_t port, std::chrono::milliseconds timeout, std::string host)
    : impl_(std::make_unique<Impl>()), timeout_(timeout) {
  impl_->host = std::move(host);
  impl_->port = port;
}

HttpClient::~HttpClient() { Close(); }

void HttpClient::Close() {
  if (impl_->stream) {
    beast::error_code ec;
    impl_->stream->socket().shutdown(tcp::socket::shutdown_both, ec);
    impl_->stream->socket().close(ec);
    impl_->stream.reset();
    // Let cancelled handlers run so that nothing refers to the old stream.
    impl_->ioc.restart();
    impl_->ioc.poll();
  }
  impl_->buffer.clear();
  impl_->requests_on_connection = 0;
}

bool HttpClient::connected() const { return impl_->stream.has_value(); }
int HttpClient::connections_opened() const { return impl_->opened; }

bool HttpClient::Send(http::verb method, const std::string& target, const std::string& body,
                      const Headers& headers, HttpResult* failure) {
  Impl& d = *impl_;
  const bool reused = d.stream.has_value() && d.requests_on_connection > 0;
  failure->reused_connection = reused;
  if (!d.stream) {
    d.stream.emplace(d.ioc);
    d.buffer.clear();
    beast::error_code ec;
    tcp::endpoint endpoint(asio::ip::make_address(d.host, ec), d.port);
    if (!ec) {
      d.stream->expires_after(timeout_);
      ec = d.Run([&](auto handler) { d.stream->async_connect(endpoint, handler); });
    }
    if (ec) {
      failure->error = ec == beast::error::timeout ? HttpResult::Error::kTimeout
                                                   : HttpResult::Error::kConnect;
      failure->error_message = "connect: " + ec.message();
      Close();
      return false;
    }
    ++d.opened;
    d.requests_on_connection = 0;
  }
  d.request = {};
  d.request.method(method);
  d.request.target(target);
  d.request.version(11);
  d.request.set(http::field::host, d.host + ":" + std::to_string(d.port));
  d.request.set(http::field::user_agent, "mast-e2e");
  bool has_content_type = false;
  for (const auto& [k, v] : headers) {
    d.request.set(k, v);
    if (beast::iequals(k, "content-type")) has_content_type = true;
  }
  if (!body.empty() && !has_content_type) {
    d.request.set(http::field::content_type, "application/json");
  }
  d.request.body() = body;
  d.request.keep_alive(true);
  d.request.prepare_payload();
  d.stream->expires_after(timeout_);
  beast::error_code ec =
      d.Run([&](auto handler) { http::async_write(*d.stream, d.request, handler); });
  if (ec) {
    failure->error = ec == beast::error::timeout ? HttpResult::Error::kTimeout
                                                 : HttpResult::Error::kWrite;
    failure->error_message = "write: " + ec.message();
    Close();
    return false;
  }
  ++d.requests_on_connection;
  d.pending_reused = reused;
  return true;
}

HttpResult HttpClient::ReadResponse() {
  Impl& d = *impl_;
  HttpResult r;
  r.reused_connection = d.pending_reused;
  if (!d.stream) {
    r.error = HttpResult::Error::kNoResponse;
    r.error_message = "not connected";
    return r;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 * 1024 * 1024);
  d.stream->expires_after(timeout_);
  beast::error_code ec =
      d.Run([&](auto handler) { http::async_read(*d.stream, d.buffer, parser, handler); });
  if (ec) {
    if (ec == beast::error::timeout) {
      r.error = HttpResult::Error::kTimeout;
    } else if (!parser.got_some() && d.buffer.size() == 0) {
      r.error = HttpResult::Error::kNoResponse;
    } else {
      r.error = HttpResult::Error::kPartialResponse;
    }
    r.error_message = "read: " + ec.message();
    Close();
    return r;
  }
  auto response = parser.release();
  r.status = static_cast<int>(response.result_int());
  r.headers = static_cast<const http::fields&>(response);
  r.body = std::move(response.body());
  r.keep_alive = response.keep_alive();
  if (!r.keep_alive) Close();
  return r;
}

HttpResult HttpClient::Request(http::verb method, const std::string& target,
                               const std::string& body, const Headers& headers) {
  HttpResult failure;
  if (!Send(method, target, body, headers, &failure)) return failure;
  return ReadResponse();
}

HttpResult HttpClient::Get(const std::string& target, const Headers& headers) {
  return Request(http::verb::get, target, "", headers);
}

HttpResult HttpClient::Post(const std::string& target, const std::string& body,
                            const Headers& headers) {
  return Request(http::verb::post, target, body, headers);
}

// ---------------------------------------------------------------------------
// RawConnection (plain POSIX sockets: full control over what is sent)

RawConnection::~RawConnection() { Close(); }

void RawConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawConnection::Connect(uint16_t port, std::chrono::milliseconds timeout,
                            const std::string& host) {
  Close();
  error_.clear();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) {
    error_ = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  int rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  if (rc != 0 && errno != EINPROGRESS) {
    error_ = std::string("connect: ") + std::strerror(errno);
    Close();
    return false;
  }
  if (rc != 0) {
    pollfd p{fd_, POLLOUT, 0};
    rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (rc <= 0) {
      error_ = "connect: timed out";
      Close();
      return false;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      error_ = std::string("connect: ") + std::strerror(err);
      Close();
      return false;
    }
  }
  return true;
}

bool RawConnection::Send(std::string_view bytes) {
  if (fd_ < 0) return false;
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd p{fd_, POLLOUT, 0};
        ::poll(&p, 1, 1000);
        continue;
      }
      if (errno == EINTR) continue;
      error_ = std::string("send: ") + std::strerror(errno);
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

namespace {

// True once `data` holds a complete response head and its Content-Length body.
bool CompleteResponse(const std::string& data) {
  const size_t head_end = data.find("\r\n\r\n");
  if (head_end == std::string::npos) return false;
  std::string head = data.substr(0, head_end);
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t length = 0;
  const size_t at = head.find("\r\ncontent-length:");
  if (at != std::string::npos) {
    length = std::strtoul(head.c_str() + at + 17, nullptr, 10);
  }
  return data.size() >= head_end + 4 + length;
}

}  // namespace

RawRead RawConnection::Read(std::chrono::milliseconds timeout, bool stop_after_response) {
  RawRead r;
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  while (fd_ >= 0) {
    if (stop_after_response && CompleteResponse(r.data)) break;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      break;
    }
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) {
      r.timed_out = true;
      break;
    }
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      r.data.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    r.closed = true;
    r.reset = n < 0 && errno == ECONNRESET;
    break;
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

RawRead RawConnection::ReadUntilClose(std::chrono::milliseconds timeout) {
  return Read(timeout, false);
}

RawRead RawConnection::ReadResponse(std::chrono::milliseconds timeout) {
  return Read(timeout, true);
}

RawRead SendRaw(uint16_t port, std::string_view bytes, std::chrono::milliseconds timeout) {
  RawConnection c;
  RawRead r;
  if (!c.Connect(port, timeout)) {
    r.closed = true;
    return r;
  }
  c.Send(bytes);
  return c.ReadUntilClose(timeout);
}

int RawStatus(const std::string& data) {
  if (data.rfind("HTTP/1.", 0) != 0 || data.size() < 12) return 0;
  return std::atoi(data.c_str() + 9);
}

std::string RawBody(const std::string& data) {
  const size_t head_end = data.find("\r\n\r\n");
  return head_end == std::string::npos ? "" : data.substr(head_end + 4);
}

}  // namespace mast_e2e
