// HttpServer: the HTTP/1.1 front door (Asio sockets; requests parsed by Beast).
//
// Accepts connections on one address, reads requests with size and time
// limits, hands each complete request to an HttpHandler and writes the answer
// back on the same connection (keep-alive). It enforces, before any handler
// runs: a header size limit (431), a body size limit (413), a header read
// timeout and a body read timeout (the connection is closed), an idle
// keep-alive timeout, and a cap on open connections (excess connections are
// closed at once and counted).
//
// Large bodies (uploads): where the handler names a directory for a target
// (SpoolDir), a body sent with a Content-Length is written to a file there
// as it arrives instead of memory, after the handler has admitted the
// request on its header alone (AdmitBody: credentials, before the client
// sends the body); `Expect: 100-continue` is answered once the header is
// accepted.
//
// Graceful shutdown (Shutdown()): stop listening, but first take the
// connections the kernel already accepted; close keep-alive connections on
// which no byte of a new request has arrived; read, run and answer (with
// `Connection: close`) every request that has started arriving; stop the I/O
// threads once every connection has closed. Requests still running at the
// drain deadline are abandoned.
//
// Timeouts: a new connection must deliver its request headers within
// `header_timeout`; a kept-alive connection may idle for `idle_timeout`, and
// from the first byte of its next request the header timeout applies.
//
// Threading: Run() runs one io_context per I/O thread (`options.io_threads`)
// and hands new connections to them in turn; a connection stays on its
// thread, so its handlers never run concurrently and a request is read,
// handled and answered without a hand-off between threads. Handlers may
// complete on any thread: HttpResponder posts the write back to the
// connection's thread. Each thread sends the answers of one round of ready
// requests together at the end of the round (`write_coalesce`), and the
// threads busy-poll as a group while any of them has work (`busy_poll`),
// each on its own CPU with `pin_io_threads`.
// Ownership: the server owns its io_context and sessions; the handler must
// outlive the server.
#ifndef MAST_SERVER_HTTP_SERVER_H_
#define MAST_SERVER_HTTP_SERVER_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>

#include <boost/beast/http.hpp>

#include "common/status.h"

namespace mast {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// A response body produced piece by piece and sent with chunked transfer
// encoding (e.g. a long export read from disk). The server asks for one piece
// at a time, after the previous one has been written, so a slow client slows
// the producer instead of growing a buffer.
class BodyStream {
 public:
  // `chunk` empty means the body is complete; `ok` false means the producer
  // failed mid-way: the connection is closed without the final chunk, so the
  // client sees a truncated body rather than a complete-looking one.
  using Deliver = std::function<void(std::string chunk, bool ok)>;
  virtual ~BodyStream() = default;
  // Produces the next piece and calls `deliver` exactly once, from any
  // thread. Blocking work (disk) belongs on a worker thread, not here.
  virtual void Next(Deliver deliver) = 0;
};

// Delivers the response for one request. Call exactly once, from any thread:
// either with a complete response, or with a response head (status and
// headers; its body is ignored) and a BodyStream.
class HttpResponder {
 public:
  using Send = std::function<void(HttpResponse, std::shared_ptr<BodyStream>)>;
  HttpResponder() = default;
  explicit HttpResponder(Send send) : send_(std::move(send)) {}
  // A responder that only takes complete responses (handler tests); a
  // streamed answer reaches it as its head, without the body.
  template <typename F, typename = std::enable_if_t<std::is_invocable_v<F&, HttpResponse>>>
  HttpResponder(F complete)  // NOLINT: implicit, like the std::function it replaced
      : send_([complete = std::move(complete)](HttpResponse r,
                                                std::shared_ptr<BodyStream>) mutable {
          complete(std::move(r));
        }) {}
  void operator()(HttpResponse response) const { send_(std::move(response), nullptr); }
  void Stream(HttpResponse head, std::shared_ptr<BodyStream> body) const {
    send_(std::move(head), std::move(body));
  }
  explicit operator bool() const { return static_cast<bool>(send_); }

 private:
  Send send_;
};

// Who is on the other end of a connection.
struct PeerInfo {
  std::string address;    // e.g. "127.0.0.1"
  bool loopback = false;  // 127.0.0.0/8 or ::1
};

// A request body the server wrote to a file rather than to memory (see
// HttpHandler::SpoolDir). The file is removed with the last reference to
// this, unless a handler has moved it away (renamed it) before.
struct SpooledBody {
  std::string path;
  uint64_t size = 0;
  SpooledBody(std::string p, uint64_t n) : path(std::move(p)), size(n) {}
  SpooledBody(const SpooledBody&) = delete;
  SpooledBody& operator=(const SpooledBody&) = delete;
  ~SpooledBody();
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Handles `request` and eventually calls `respond` (before the server is
  // destroyed). Must not block for long: it runs on an I/O thread.
  virtual void Handle(HttpRequest request, const PeerInfo& peer, HttpResponder respond) = 0;
  // The body limit for a request to `target` (e.g. larger for model
  // uploads); `default_limit` is the server's configured limit.
  virtual size_t BodyLimit(std::string_view target, size_t default_limit) {
    return default_limit;
  }
  // A directory to write the body of a request to `target` to, instead of
  // memory ("" for memory): for uploads of large model artifacts. Applies to
  // bodies sent with a Content-Length; a chunked body stays in memory.
  virtual std::string SpoolDir(std::string_view target) { return {}; }
  // Whether to read the body of a request whose body would be spooled
  // (`header` has no body yet): OK, or the error to answer at once, before
  // the client sends the body (an upload without credentials, say).
  virtual Status AdmitBody(const HttpRequest& /*header*/, const PeerInfo& /*peer*/) {
    return OkStatus();
  }
  // Handles a request whose body is in `body` (its own body is empty). Only
  // handlers that name a spool directory get these; by default: 500.
  virtual void HandleSpooled(HttpRequest request, std::shared_ptr<SpooledBody> body,
                             const PeerInfo& peer, HttpResponder respond);
  // Answers a request the server rejected before any handler ran (too large
  // a body: 413, too large a header: 431, refused by AdmitBody), so that the
  // error has the API's shape; `code` is the cause in mast's terms. `target`
  // may be empty if the request line was not read.
  virtual HttpResponse Reject(int status, StatusCode code, std::string_view target,
                              std::string_view message) = 0;
};

struct HttpServerOptions {
  // Address to bind; loopback unless configured otherwise.
  std::string host = "127.0.0.1";
  // Port to bind; 0 picks a free one (see HttpServer::port()).
  uint16_t port = 8000;
  // Threads running the I/O loop (and inline inference).
  int io_threads = 2;
  // Largest accepted request body in bytes (413 above).
  size_t max_body_bytes = 4 * 1024 * 1024;
  // Largest accepted request line plus headers in bytes (431 above).
  uint32_t max_header_bytes = 16 * 1024;
  // Time allowed to receive a request's headers once its first byte came.
  std::chrono::milliseconds header_timeout{10000};
  // Time allowed to receive a request's body after its headers; for a body
  // written to a file (HttpHandler::SpoolDir), since its last bytes came.
  std::chrono::milliseconds body_timeout{30000};
  // How long an idle keep-alive connection stays open.
  std::chrono::milliseconds idle_timeout{30000};
  // Maximum open connections; further connections are closed at once.
  int max_connections = 1024;
  // How long an I/O thread keeps polling for work before it sleeps (0: sleep
  // at once). Cuts the wake-up latency of lightly loaded servers.
  std::chrono::microseconds busy_poll{0};
  // If set, idle I/O threads poll only while it returns false: e.g. while
  // batches run on other threads, which need the cores more than a poller.
  std::function<bool()> suspend_busy_poll;
  // Pin I/O thread i (thread 0 is the one calling Run()) to the i-th CPU the
  // process may run on (round robin if there are more threads). With busy
  // polling the kernel otherwise now and then puts an idle poller on the
  // core of the thread that has the work, which leaves the other core idle
  // and sends the client's wake-ups across cores. Threads these threads start
  // inherit the pin: they should start none.
  bool pin_io_threads = false;
  // Answers to quickly handled requests are held until the I/O thread has
  // handled the other requests that are ready, then sent together, so that a
  // client is woken once per round rather than once per answer; an answer
  // waits at most this long (0: every answer is sent at once). A request
  // whose handling took more than a quarter of it is answered at once.
  std::chrono::microseconds write_coalesce{100};
};

class HttpServer {
 public:
  // Binds and listens (does not accept until Run()). Errors: kUnavailable if
  // the address cannot be bound, naming the address and cause.
  static StatusOr<std::unique_ptr<HttpServer>> Create(
      const HttpServerOptions& options, HttpHandler* handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (useful with port 0).
  uint16_t port() const;

  // Accepts and serves until Shutdown() completes or Stop() is called;
  // returns when all I/O threads have finished.
  void Run();

  // Starts a graceful shutdown (safe from any thread, once): stop accepting,
  // close idle connections, finish in-flight requests, then let Run() return.
  // After `drain_timeout` remaining requests are abandoned. `on_drained` (may
  // be empty) runs once with the number of requests abandoned.
  void Shutdown(std::chrono::milliseconds drain_timeout,
                std::function<void(int abandoned)> on_drained = {});

  int active_connections() const;
  int64_t rejected_connections() const;
  int inflight_requests() const;

 // Implementation detail, public only so the connection class can name it.
  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mast

#endif  // MAST_SERVER_HTTP_SERVER_H_
