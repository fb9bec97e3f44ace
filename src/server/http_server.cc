#include "server/http_server.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>

#include "common/completion_batch.h"
#include "common/cpus.h"
#include "common/logging.h"
#include "common/thread_name.h"

namespace mast {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

class Session;

// Answers an I/O thread holds until the end of its current round of ready
// handlers (see HttpServerOptions::write_coalesce). Used only on its
// context's thread.
struct WriteQueue {
  std::vector<std::shared_ptr<Session>> sessions;
  std::chrono::steady_clock::time_point oldest;  // when the first was queued
  bool flush_posted = false;
};

// Sockets and timers bound to one io_context's executor (no type-erased
// executor on the hot path).
using Socket = asio::basic_stream_socket<tcp, asio::io_context::executor_type>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>,
                                         asio::io_context::executor_type>;

struct HttpServer::Impl {
  // Declared before `contexts`: sessions still owned by pending handlers are
  // destroyed with the io_context and touch these members on the way out.
  HttpServerOptions options;
  HttpHandler* handler = nullptr;
  uint16_t port = 0;
  std::atomic<int> connections{0};
  std::atomic<int64_t> rejected{0};
  std::atomic<int> inflight{0};
  std::atomic<bool> draining{false};
  std::mutex sessions_mu;
  std::list<std::weak_ptr<Session>> sessions;  // GUARDED_BY(sessions_mu)

  // One io_context per I/O thread; a connection lives on one of them (its
  // handlers never run concurrently, so it needs no strand, and a request is
  // read, run and answered without handing it between threads). The first
  // also runs the acceptor and the shutdown timer.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  // One per context; declared after `contexts` so that held sessions go
  // first, while the io_contexts they are bound to still exist.
  std::vector<WriteQueue> write_queues;
  std::atomic<size_t> next_context{0};
  // Keep run() going while the server has nothing to do (no connection, or
  // between the steps of a shutdown); released when the drain completes.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor;

  explicit Impl(int threads)
      : contexts(MakeContexts(threads)), write_queues(threads), acceptor(*contexts[0]) {}
  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int threads) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (int i = 0; i < threads; ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }
  // The index of the context for the next connection (round robin).
  size_t NextContext() {
    return next_context.fetch_add(1, std::memory_order_relaxed) % contexts.size();
  }
  void Accept();
  // Starts serving an accepted connection on contexts[index].
  void Serve(tcp::socket socket, size_t index);
  // On shutdown: serves the connections the kernel has already accepted
  // (their clients may have sent a request), then closes the listener.
  void AcceptBacklogAndClose();
  void CloseIdleSessions();
};

// One connection. Lives as long as an async operation holds its shared_ptr.
//
// The request is parsed with Beast's parser fed from our own buffer, and the
// answer is written as one gather write of a head formatted here plus the
// body, so a request costs one read and one write system call and no
// composed-operation machinery. Time limits are deadlines checked by one
// lazily re-armed timer per connection: moving a deadline is a store, and
// the timer is only touched when it fires or must fire earlier.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Socket&& socket, HttpServer::Impl* server, WriteQueue* write_queue)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        server_(server),
        write_queue_(write_queue) {
    beast::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    auto remote = socket_.remote_endpoint(ec);
    if (!ec) {
      peer_.address = remote.address().to_string();
      peer_.loopback = remote.address().is_loopback() ||
                       (remote.address().is_v6() && remote.address().to_v6().is_v4_mapped() &&
                        asio::ip::make_address_v4(asio::ip::v4_mapped, remote.address().to_v6())
                            .is_loopback());
    }
  }
  ~Session() {
    server_->connections.fetch_sub(1);
    std::lock_guard<std::mutex> lock(server_->sessions_mu);
    server_->sessions.erase(self_it_);
  }

  void Start(std::list<std::weak_ptr<Session>>::iterator it) {
    self_it_ = it;
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      self->ReadRequest();
    });
  }

  // Closes the connection if it waits for a new request and no byte of one
  // has arrived (not even in the kernel's buffer). The pending read is
  // cancelled rather than the socket closed, so a read that has already
  // completed still delivers its request (see OnReadError).
  void CloseIfIdle() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      if (self->idle_ && !self->RequestStarted()) {
        beast::error_code ec;
        self->socket_.cancel(ec);
      }
    });
  }

 private:
  using Clock = std::chrono::steady_clock;
  // Bytes asked of the kernel per read: small while headers arrive, larger
  // for bodies (model uploads).
  static constexpr size_t kHeaderReadBytes = 8 * 1024;
  static constexpr size_t kBodyReadBytes = 64 * 1024;

  // True once any byte of the next request has been received or is waiting
  // in the socket.
  bool RequestStarted() {
    beast::error_code ec;
    return buffer_.size() > 0 || (parser_ && parser_->got_some()) ||
           socket_.available(ec) > 0;
  }

  // Waits for the next request. A new connection gets `header_timeout` for
  // its request line and headers; a kept-alive one may first sit idle for
  // `idle_timeout`, and from its first byte the header timeout applies too.
  void ReadRequest() {
    idle_ = true;
    header_checked_ = false;
    parser_.emplace();
    parser_->header_limit(server_->options.max_header_bytes);
    // The body limit depends on the route, known once the header is read
    // (CheckHeader); until then none applies.
    parser_->body_limit(boost::none);
    body_limit_ = server_->options.max_body_bytes;
    if (server_->draining.load() && !RequestStarted()) return Close();
    SetDeadline(first_request_ ? server_->options.header_timeout
                               : server_->options.idle_timeout);
    if (buffer_.size() > 0) return Parse();  // a pipelined request
    Read();
  }

  void Read() {
    const size_t want = header_checked_ ? kBodyReadBytes : kHeaderReadBytes;
    socket_.async_read_some(buffer_.prepare(want),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->buffer_.commit(n);
                              if (ec) return self->OnReadError(ec);
                              self->Parse();
                            });
  }

  // Feeds what has arrived to the parser; dispatches a complete request,
  // reads more otherwise.
  void Parse() {
    if (idle_ && buffer_.size() > 0) {
      idle_ = false;
      if (!first_request_) SetDeadline(server_->options.header_timeout);
    }
    while (buffer_.size() > 0) {
      if (spool_) return SpoolBody();
      beast::error_code ec;
      // Returns once the header is complete (the parser is not eager), so
      // no byte of a spooled body goes through it.
      const size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) break;
      if (ec) return OnReadError(ec);
      if (!header_checked_ && parser_->is_header_done()) {
        if (!CheckHeader()) return;
        if (spool_) return SpoolBody();
      }
      if (parser_->is_done()) return Dispatch();
      if (used == 0) break;
    }
    Read();
  }

  // Starts writing the body of the request being read (`size` bytes) to a
  // new file in `dir`; false if the request was rejected.
  bool StartSpool(const std::string& dir, uint64_t size) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::string path = dir + "/upload." + std::to_string(rng());
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      RejectStorage(errno);
      return false;
    }
    auto spool = std::make_unique<Spool>();
    spool->fd = fd;
    spool->body = std::make_shared<SpooledBody>(std::move(path), size);
    // Claims the space first, so that a full disk refuses the upload before
    // its bytes are sent (filesystems without fallocate just write later).
    const int reserved = size > 0 ? ::posix_fallocate(fd, 0, static_cast<off_t>(size)) : 0;
    if (reserved == ENOSPC || reserved == EFBIG) {
      RejectStorage(reserved);
      return false;
    }
    spool_ = std::move(spool);
    return true;
  }

  // Writes what has arrived of a spooled body; dispatches the request once
  // all of it is written, reads more otherwise.
  void SpoolBody() {
    Spool& spool = *spool_;
    const uint64_t size = spool.body->size;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buffer_.size(), size - spool.written));
    const char* data = static_cast<const char*>(buffer_.data().data());
    for (size_t done = 0; done < n;) {
      const ssize_t w = ::write(spool.fd, data + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        const int error = errno;
        spool_.reset();
        return RejectStorage(error);
      }
      done += static_cast<size_t>(w);
    }
    buffer_.consume(n);
    spool.written += n;
    // An upload of gigabytes may take longer than the body timeout: the
    // timeout counts from its last progress (its sender was admitted).
    if (n > 0) SetDeadline(server_->options.body_timeout);
    if (spool.written < size) return Read();
    std::shared_ptr<SpooledBody> body = std::move(spool.body);
    spool_.reset();  // closes the file; `body` keeps it
    Dispatch(std::move(body));
  }

  // 507 when the disk is full, 500 for any other failure to store a body.
  void RejectStorage(int error) {
    const bool full = error == ENOSPC || error == EDQUOT || error == EFBIG;
    Reject(full ? 507 : 500, StatusCode::kInternal,
           std::string("cannot store the request body: ") + std::strerror(error));
  }

  // Applies the route's body limit once the header is complete; false if
  // the request was rejected.
  bool CheckHeader() {
    header_checked_ = true;
    first_request_ = false;
    body_limit_ = server_->handler->BodyLimit(parser_->get().target(),
                                              server_->options.max_body_bytes);
    if (parser_->content_length() && *parser_->content_length() > body_limit_) {
      OnReadError(http::error::body_limit);
      return false;
    }
    parser_->body_limit(body_limit_);
    SetDeadline(server_->options.body_timeout);
    if (parser_->content_length() && !parser_->chunked()) {
      const std::string dir = server_->handler->SpoolDir(parser_->get().target());
      if (!dir.empty()) {
        const Status admitted = server_->handler->AdmitBody(parser_->get(), peer_);
        if (!admitted.ok()) {
          Reject(HttpStatusFor(admitted.code()), admitted.code(), admitted.message());
          return false;
        }
        if (!StartSpool(dir, *parser_->content_length())) return false;
      }
    }
    SendContinue();
    return true;
  }

  // Tells a client that waits for it (Expect: 100-continue, which curl sends
  // with bodies over 1 MiB) to send the body; it would otherwise wait a
  // second first. Written at once: 25 bytes to a connection whose answers
  // are written only after the body is read.
  void SendContinue() {
    const HttpRequest& request = parser_->get();
    // A body that has already arrived was not waiting (the common case:
    // a small body in the header's packet); no header lookup then.
    const auto length = parser_->content_length();
    if (request.version() < 11 || parser_->is_done() ||
        (length && buffer_.size() >= *length) ||
        !beast::iequals(request[http::field::expect], "100-continue")) {
      return;
    }
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    beast::error_code ec;
    asio::write(socket_, asio::buffer(kContinue.data(), kContinue.size()), ec);
  }

  void OnReadError(beast::error_code ec) {
    if (closed_) return;
    if (ec == http::error::body_limit) {
      return Reject(413, StatusCode::kPayloadTooLarge, "request body exceeds the limit of " +
                             std::to_string(body_limit_) +
                             " bytes");
    }
    if (ec == http::error::header_limit) {
      return Reject(431, StatusCode::kInvalidArgument, "request headers exceed the limit of " +
                             std::to_string(server_->options.max_header_bytes) +
                             " bytes");
    }
    if (ec == asio::error::operation_aborted && server_->draining.load() &&
        RequestStarted()) {
      // CloseIfIdle raced with the first bytes of a request: serve it.
      return Parse();
    }
    if (ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      // The peer left (a request cut short included), or shutdown closed
      // an idle connection.
      return Close();
    }
    // Any other parse error is a malformed request.
    Reject(400, StatusCode::kInvalidArgument,
           std::string("malformed HTTP request: ") + ec.message());
  }

  // Hands the request read to the handler; `spooled` is its body if it was
  // written to a file.
  void Dispatch(std::shared_ptr<SpooledBody> spooled = nullptr) {
    server_->inflight.fetch_add(1);
    dispatched_ = Clock::now();
    HttpRequest request = parser_->release();
    keep_alive_ = request.keep_alive();
    ClearDeadline();
    auto self = shared_from_this();
    HttpResponder respond(
        [self](HttpResponse response, std::shared_ptr<BodyStream> body) {
          auto write = [self, r = std::move(response), body = std::move(body)]() mutable {
            if (body) return self->WriteStreamed(std::move(r), std::move(body));
            self->Write(std::move(r), /*counted=*/true);
          };
          if (self->socket_.get_executor().running_in_this_thread()) return write();
          // From another thread; answers completed in bulk (a batch) reach
          // this connection's thread together.
          asio::io_context& context = self->socket_.get_executor().context();
          std::function<void()> deferred = std::move(write);
          if (CompletionBatch::Defer(&context, &PostAll, deferred)) return;
          asio::post(context, std::move(deferred));
        });
    if (spooled) {
      return server_->handler->HandleSpooled(std::move(request), std::move(spooled), peer_,
                                             std::move(respond));
    }
    server_->handler->Handle(std::move(request), peer_, std::move(respond));
  }

  // Runs `work` (answers deferred by a CompletionBatch) on `context`'s thread.
  static void PostAll(void* context, CompletionBatch::Work work) {
    asio::post(*static_cast<asio::io_context*>(context), [work = std::move(work)] {
      for (const auto& answer : work) answer();
    });
  }

  // Sends `head` with chunked transfer encoding, then each piece of `body`
  // as one chunk, asking for the next piece only once the previous one is
  // written.
  void WriteStreamed(HttpResponse head, std::shared_ptr<BodyStream> body) {
    const bool keep = keep_alive_ && !server_->draining.load();
    auto header = std::make_shared<http::response<http::empty_body>>(head.result(),
                                                                       head.version());
    for (const auto& field : head.base()) header->set(field.name_string(), field.value());
    header->keep_alive(keep);
    header->chunked(true);
    auto serializer =
        std::make_shared<http::response_serializer<http::empty_body>>(*header);
    SetDeadline(server_->options.body_timeout);
    http::async_write_header(
        socket_, *serializer,
        [self = shared_from_this(), header, serializer, body, keep](beast::error_code ec,
                                                                    size_t) {
          if (ec) return self->EndStreamed(/*ok=*/false, keep);
          self->NextChunk(std::move(body), keep);
        });
  }

  void NextChunk(std::shared_ptr<BodyStream> body, bool keep) {
    ClearDeadline();  // the producer may take its time
    BodyStream* producer = body.get();
    producer->Next([self = shared_from_this(), body = std::move(body), keep](
                       std::string chunk, bool ok) mutable {
      asio::dispatch(self->socket_.get_executor(), [self, body = std::move(body), keep,
                                                    chunk = std::move(chunk), ok]() mutable {
        if (!ok) return self->EndStreamed(/*ok=*/false, keep);
        auto data = std::make_shared<std::string>(std::move(chunk));
        self->SetDeadline(self->server_->options.body_timeout);
        if (data->empty()) {
          return asio::async_write(
              self->socket_, http::make_chunk_last(),
              [self, keep](beast::error_code ec, size_t) { self->EndStreamed(!ec, keep); });
        }
        asio::async_write(self->socket_, http::make_chunk(asio::buffer(*data)),
                          [self, data, body = std::move(body), keep](beast::error_code ec,
                                                                     size_t) mutable {
                            if (ec) return self->EndStreamed(/*ok=*/false, keep);
                            self->NextChunk(std::move(body), keep);
                          });
      });
    });
  }

  void EndStreamed(bool ok, bool keep) {
    server_->inflight.fetch_sub(1);
    if (!ok || !keep) return Close();
    ReadRequest();
  }

  void Reject(int status, StatusCode code, const std::string& message) {
    std::string target;
    if (parser_ && parser_->is_header_done()) {
      target = std::string(parser_->get().target());
    }
    HttpResponse r = server_->handler->Reject(status, code, target, message);
    keep_alive_ = false;
    Write(std::move(r), /*counted=*/false);
  }

  void Write(HttpResponse response, bool counted) {
    write_keep_ = keep_alive_ && !server_->draining.load();
    write_counted_ = counted;
    FormatHead(response, write_keep_, &head_);
    body_ = std::move(response.body());
    SetDeadline(server_->options.body_timeout);
    const std::chrono::microseconds budget = server_->options.write_coalesce;
    if (budget.count() <= 0) return Send();
    // Held answers go out at the end of the round (FlushWrites, posted
    // behind the handlers that are ready now), or with this one if it came
    // from slow work (the next request may be as slow) or the oldest has
    // waited long enough.
    WriteQueue& queue = *write_queue_;
    const Clock::time_point now = Clock::now();
    if (queue.sessions.empty()) queue.oldest = now;
    queue.sessions.push_back(shared_from_this());
    if (now - dispatched_ > budget / 4 || now - queue.oldest >= budget) {
      return FlushWrites(&queue);
    }
    if (!queue.flush_posted) {
      queue.flush_posted = true;
      asio::post(socket_.get_executor(), [&queue] {
        queue.flush_posted = false;
        FlushWrites(&queue);
      });
    }
  }

  // Send() never runs a handler inline (completions are posted), so the
  // queue cannot change while it is walked.
  static void FlushWrites(WriteQueue* queue) {
    for (const auto& session : queue->sessions) session->Send();
    queue->sessions.clear();
  }

  // Writes the answer prepared by Write().
  void Send() {
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(body_)};
    asio::async_write(socket_, buffers,
                      [self = shared_from_this(), keep = write_keep_,
                       counted = write_counted_](beast::error_code ec, size_t) {
                        if (counted) self->server_->inflight.fetch_sub(1);
                        self->body_.clear();
                        if (ec || !keep) return self->Close();
                        self->ReadRequest();
                      });
  }

  // The status line and header fields of `response`, with Content-Length
  // and Connection set here (a handler's own values for them are ignored).
  static void FormatHead(const HttpResponse& response, bool keep, std::string* out) {
    out->clear();
    const unsigned version = response.version();
    const unsigned status = response.result_int();
    out->append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    char code[4] = {char('0' + status / 100 % 10), char('0' + status / 10 % 10),
                    char('0' + status % 10), ' '};
    out->append(code, 4);
    const std::string_view reason = response.reason();
    out->append(reason.data(), reason.size());
    out->append("\r\n");
    for (const auto& field : response.base()) {
      const http::field name = field.name();
      if (name == http::field::content_length || name == http::field::connection ||
          name == http::field::transfer_encoding) {
        continue;
      }
      const std::string_view n = field.name_string();
      const std::string_view v = field.value();
      out->append(n.data(), n.size());
      out->append(": ");
      out->append(v.data(), v.size());
      out->append("\r\n");
    }
    // No body may follow 1xx, 204 and 304 answers (RFC 9110 section 8.6).
    if (status >= 200 && status != 204 && status != 304) {
      out->append("Content-Length: ");
      out->append(std::to_string(response.body().size()));
      out->append("\r\n");
    }
    if (version == 10 && keep) out->append("Connection: keep-alive\r\n");
    if (version != 10 && !keep) out->append("Connection: close\r\n");
    out->append("\r\n");
  }

  // Deadlines. The connection is closed once `deadline_` passes; the timer
  // is armed for a deadline and, when it fires, re-armed for the current one
  // if that moved later.
  void SetDeadline(std::chrono::milliseconds limit) {
    deadline_ = Clock::now() + limit;
    ArmTimer();
  }
  void ClearDeadline() { deadline_ = Clock::time_point::max(); }

  // Makes sure the timer fires no later than `deadline_`.
  void ArmTimer() {
    if (closed_ || deadline_ == Clock::time_point::max() ||
        (timer_armed_ && timer_expiry_ <= deadline_)) {
      return;
    }
    timer_armed_ = true;
    timer_expiry_ = deadline_;
    timer_.expires_at(deadline_);  // a pending wait completes as aborted
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->OnTimer();
    });
  }

  void OnTimer() {
    timer_armed_ = false;
    if (closed_ || Clock::now() < deadline_) return ArmTimer();  // moved on
    Close();  // a pending read or write completes with an error
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
  }

  Socket socket_;
  Timer timer_;
  HttpServer::Impl* server_;
  WriteQueue* write_queue_;  // this connection's thread's
  PeerInfo peer_;
  size_t body_limit_ = 0;  // of the request being read
  // A body being written to a file as it arrives (HttpHandler::SpoolDir).
  // Destroying it before the body is complete (the connection closed)
  // removes the file, through its SpooledBody.
  struct Spool {
    int fd = -1;
    std::shared_ptr<SpooledBody> body;  // its path and size (the Content-Length)
    uint64_t written = 0;
    ~Spool() { ::close(fd); }
  };
  std::unique_ptr<Spool> spool_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string head_;  // the response head being written
  std::string body_;  // the response body being written
  bool write_keep_ = false;     // keep the connection after that answer
  bool write_counted_ = false;  // the answer ends an in-flight request
  Clock::time_point dispatched_;  // when the request being answered was
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point timer_expiry_;
  bool timer_armed_ = false;
  bool closed_ = false;
  bool keep_alive_ = false;
  bool idle_ = true;
  bool first_request_ = true;
  bool header_checked_ = false;
  std::list<std::weak_ptr<Session>>::iterator self_it_;
};

void HttpServer::Impl::Accept() {
  const size_t index = NextContext();
  acceptor.async_accept(
      *contexts[index], [this, index](beast::error_code ec, tcp::socket socket) {
        if (ec) {
          if (draining.load()) return AcceptBacklogAndClose();
          if (!acceptor.is_open()) return;
          // Out of descriptors and similar: keep accepting.
          return Accept();
        }
        Serve(std::move(socket), index);
        if (draining.load()) return AcceptBacklogAndClose();
        Accept();
      });
}

void HttpServer::Impl::Serve(tcp::socket socket, size_t index) {
  beast::error_code ec;
  if (connections.load() >= options.max_connections) {
    rejected.fetch_add(1);
    socket.close(ec);
    return;
  }
  const tcp::endpoint local = socket.local_endpoint(ec);
  if (ec) return;  // already reset by the peer
  Socket own(*contexts[index], local.protocol(), socket.release(ec));
  if (ec) return;
  connections.fetch_add(1);
  auto session = std::make_shared<Session>(std::move(own), this, &write_queues[index]);
  std::list<std::weak_ptr<Session>>::iterator it;
  {
    std::lock_guard<std::mutex> lock(sessions_mu);
    it = sessions.insert(sessions.end(), session);
  }
  session->Start(it);
}

void HttpServer::Impl::AcceptBacklogAndClose() {
  if (!acceptor.is_open()) return;
  beast::error_code ec;
  acceptor.non_blocking(true, ec);
  while (!ec) {
    const size_t index = NextContext();
    tcp::socket socket(*contexts[index]);
    acceptor.accept(socket, ec);
    if (!ec) Serve(std::move(socket), index);
  }
  acceptor.close(ec);
}

void HttpServer::Impl::CloseIdleSessions() {
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lock(sessions_mu);
    for (auto& w : sessions) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->CloseIfIdle();
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(
    const HttpServerOptions& options, HttpHandler* handler) {
  auto impl = std::make_unique<Impl>(std::max(1, options.io_threads));
  impl->options = options;
  impl->handler = handler;
  beast::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) {
    return InvalidArgument("invalid --host '" + options.host + "': " + ec.message());
  }
  tcp::endpoint endpoint(address, options.port);
  const std::string where = options.host + ":" + std::to_string(options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("cannot listen on " + where + ": " + ec.message());
  impl->port = impl->acceptor.local_endpoint().port();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->port; }

SpooledBody::~SpooledBody() {
  if (!path.empty()) ::unlink(path.c_str());
}

void HttpHandler::HandleSpooled(HttpRequest request, std::shared_ptr<SpooledBody> /*body*/,
                                const PeerInfo& /*peer*/, HttpResponder respond) {
  HttpResponse r{http::status::internal_server_error, request.version()};
  r.body() = "this handler takes no spooled bodies";
  respond(std::move(r));
}

namespace {

// Busy polling shared by a server's I/O threads: while any of them has work,
// the idle ones keep polling too, so that no core the server (or its
// clients, or the network path) runs on is halted.
struct PollGroup {
  explicit PollGroup(size_t threads) : sleeping(threads) {}
  std::atomic<int64_t> last_work_ns{0};  // steady clock, by any thread
  std::vector<std::atomic<bool>> sleeping;  // blocked in run_one
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Runs `contexts[index]` until it stops. With `busy_poll` > 0 the thread
// keeps polling (yielding the core to anything else runnable) for that long
// after the last handler of any thread of the group before it blocks: on
// virtual machines a halted core takes tens of microseconds to wake, which
// would otherwise be added to every request of a lightly loaded server. A
// thread that works wakes the sleeping others. While `suspend` says so a
// thread blocks at once: a poller that always finds work soon enough never
// sleeps, and would take a core from threads that need it.
//
// No thread sleeps through another's busy stretch: a thread going to sleep
// sets its flag and then reads `last_work_ns`; a working thread stores
// `last_work_ns` and then reads the flags (all sequentially consistent), so
// at least one of them sees the other. Without this a thread that fell
// asleep just as another's work began slept until that work paused, and
// the core it left halted between requests (p50 at one connection 35 -> 60
// us).
void RunContext(const std::vector<std::unique_ptr<asio::io_context>>& contexts, size_t index,
                PollGroup* group, std::chrono::microseconds busy_poll,
                const std::function<bool()>& suspend) {
  asio::io_context& context = *contexts[index];
  if (busy_poll.count() <= 0) {
    context.run();
    return;
  }
  const int64_t window = std::chrono::nanoseconds(busy_poll).count();
  int64_t last_work = NowNs();
  auto worked = [&] {
    last_work = NowNs();
    // A store every few microseconds is enough; fewer writes to a shared line.
    if (last_work - group->last_work_ns.load(std::memory_order_relaxed) <= 5000) return;
    group->last_work_ns.store(last_work);
    if (suspend && suspend()) return;  // the others would go back to sleep
    for (size_t j = 0; j < contexts.size(); ++j) {
      if (j != index && group->sleeping[j].load() && group->sleeping[j].exchange(false)) {
        asio::post(*contexts[j], [] {});
      }
    }
  };
  while (!context.stopped()) {
    if (context.poll() > 0) {
      worked();
      continue;
    }
    if (context.stopped()) break;
    const int64_t latest =
        std::max(last_work, group->last_work_ns.load(std::memory_order_relaxed));
    const bool suspended = suspend && suspend();
    if (NowNs() - latest < window && !suspended) {
      std::this_thread::yield();
      continue;
    }
    group->sleeping[index].store(true);
    if (!suspended && NowNs() - group->last_work_ns.load() < window) {
      group->sleeping[index].store(false);  // another thread has just begun work
      continue;
    }
    const size_t ran = context.run_one();
    group->sleeping[index].store(false);
    if (ran == 0) break;  // stopped, or out of work
    worked();
  }
}

}  // namespace

void HttpServer::Run() {
  for (auto& c : impl_->contexts) impl_->work.push_back(asio::make_work_guard(*c));
  impl_->Accept();
  const std::chrono::microseconds busy_poll = impl_->options.busy_poll;
  const std::function<bool()>& suspend = impl_->options.suspend_busy_poll;
  std::vector<std::thread> threads;
  PollGroup group(impl_->contexts.size());
  // Read before any thread is pinned: the CPUs the calling thread may use.
  const std::vector<int> cpus = impl_->options.pin_io_threads ? UsableCpus() : std::vector<int>{};
  auto pin = [&cpus](size_t i) {
    if (cpus.empty()) return;
    const int cpu = cpus[i % cpus.size()];
    if (!PinCurrentThread(cpu)) {
      LogWarning("cannot pin an I/O thread", {{"thread", static_cast<int64_t>(i)}, {"cpu", cpu}});
    }
  };
  for (size_t i = 1; i < impl_->contexts.size(); ++i) {
    threads.emplace_back([this, i, busy_poll, &suspend, &group, &pin] {
      SetThreadName("mast-io-" + std::to_string(i));
      pin(i);
      RunContext(impl_->contexts, i, &group, busy_poll, suspend);
    });
  }
  pin(0);
  RunContext(impl_->contexts, 0, &group, busy_poll, suspend);
  for (auto& t : threads) t.join();
}

void HttpServer::Shutdown(std::chrono::milliseconds drain_timeout,
                          std::function<void(int)> on_drained) {
  if (impl_->draining.exchange(true)) return;
  Impl* impl = impl_.get();
  // The pending accept completes with an error, and its handler then takes
  // the backlog and closes the listener.
  asio::post(impl->acceptor.get_executor(), [impl] {
    beast::error_code ec;
    impl->acceptor.cancel(ec);
  });
  impl->CloseIdleSessions();
  auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  auto timer = std::make_shared<asio::steady_timer>(*impl->contexts[0]);
  auto check = std::make_shared<std::function<void()>>();
  *check = [impl, deadline, timer, check, on_drained] {
    // Done when every connection has closed: each closes after answering
    // its request, idle ones are closed below, and connections taken from
    // the backlog are counted from the moment they are accepted.
    const int inflight = impl->inflight.load();
    if (impl->connections.load() == 0 ||
        std::chrono::steady_clock::now() >= deadline) {
      if (on_drained) on_drained(inflight);
      impl->work.clear();
      for (auto& c : impl->contexts) c->stop();
      *check = nullptr;  // break the self-reference
      return;
    }
    // Connections that went idle after the first sweep are closed too.
    impl->CloseIdleSessions();
    timer->expires_after(std::chrono::milliseconds(10));
    timer->async_wait([check](beast::error_code) {
      if (*check) (*check)();
    });
  };
  asio::post(*impl->contexts[0], [check] { (*check)(); });
}

int HttpServer::active_connections() const { return impl_->connections.load(); }
int64_t HttpServer::rejected_connections() const { return impl_->rejected.load(); }
int HttpServer::inflight_requests() const { return impl_->inflight.load(); }

}  // namespace mast
