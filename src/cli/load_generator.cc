#include "cli/load_generator.h"

#include <ostream>  // before any Beast header (Boost 1.81 + GCC 12)

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace mast {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// How long a connection that could not be opened waits before it retries.
constexpr auto kReconnectBackoff = std::chrono::milliseconds(100);
// How much of an error answer's body first_error keeps.
constexpr size_t kErrorBodyChars = 300;

bool IsDigits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

// ---------------------------------------------------------------------------
// URL and request bytes

std::string HttpEndpoint::HostHeader() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return port == "80" ? h : h + ":" + port;
}

StatusOr<HttpEndpoint> ParseHttpUrl(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("--url must look like http://host:port, got '" + url + "'" +
                           (why.empty() ? "" : ": " + why));
  };
  std::string_view rest = url;
  if (rest.rfind("https://", 0) == 0) return bad("https is not supported");
  if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return bad("only http:// is supported");
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) {
    return bad("give the server only; the routes come from --protocol and --model");
  }
  HttpEndpoint ep;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {  // [v6 address]:port
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    ep.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    ep.host = std::string(rest.substr(0, colon));
    port = rest.substr(colon + 1);
    if (port.empty()) return bad("empty port");
  } else {
    ep.host = std::string(rest);
  }
  if (ep.host.empty()) return bad("no host");
  if (!port.empty()) {
    if (!IsDigits(port) || port.size() > 5 || std::stoi(std::string(port)) < 1 ||
        std::stoi(std::string(port)) > 65535) {
      return bad("the port must be a number from 1 to 65535");
    }
    ep.port = std::string(port);
  }
  return ep;
}

std::string SerializeRequest(const HttpEndpoint& endpoint, const LoadRequest& request) {
  std::string out;
  out.reserve(256 + request.body.size());
  out += request.method;
  out += ' ';
  out += request.target;
  out += " HTTP/1.1\r\nHost: ";
  out += endpoint.HostHeader();
  out += "\r\nUser-Agent: mast-perf\r\n";
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    out += "Content-Type: " + request.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  }
  for (const auto& [name, value] : request.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  out += request.body;
  return out;
}

// ---------------------------------------------------------------------------
// LoadStats

int64_t LoadStats::answered() const {
  int64_t n = ok;
  for (const auto& [status, count] : http_errors) n += count;
  return n;
}

int64_t LoadStats::errors() const {
  return answered() - ok + connect_errors + connection_errors + timeouts;
}

void LoadStats::Merge(const LoadStats& other) {
  ok += other.ok;
  for (const auto& [status, count] : other.http_errors) http_errors[status] += count;
  connect_errors += other.connect_errors;
  connection_errors += other.connection_errors;
  timeouts += other.timeouts;
  reconnects += other.reconnects;
  latency.Merge(other.latency);
  if (first_error.empty()) first_error = other.first_error;
}

// ---------------------------------------------------------------------------
// The engine

namespace {

class Connection;

// One I/O thread's share of a level: its io_context, connections and
// counters. Only that thread touches it while the level runs.
struct Worker {
  Worker(const LoadOptions* o, const std::string* bytes, const tcp::resolver::results_type* e)
      : options(o), request_bytes(bytes), endpoints(e) {}

  // The measurement window, in the counting sense: [start, end).
  bool InWindow(Clock::time_point t) const { return t >= window_start && t < window_end; }
  void NoteError(Clock::time_point t, std::string what) {
    if (!InWindow(t) || !stats.first_error.empty()) return;
    for (char& c : what) {
      if (c == '\n' || c == '\r') c = ' ';  // shown on one line
    }
    stats.first_error = std::move(what);
  }

  const LoadOptions* options;
  const std::string* request_bytes;
  const tcp::resolver::results_type* endpoints;
  // Phase 2 (warm-up and measurement) has begun; set between the phases,
  // while no thread runs.
  bool loading = false;
  Clock::time_point window_start;
  Clock::time_point window_end;
  LoadStats stats;
  int connected = 0;          // phase 1: connections opened
  std::string connect_error;  // phase 1: the first failure

  // Declared before the connections, whose sockets and timers use it.
  asio::io_context ioc{1};
  std::vector<std::unique_ptr<Connection>> connections;
};

// One keep-alive connection with one request in flight. Handlers capture
// `this`: the connection outlives them, because the worker's io_context
// runs until no handler is pending before the connections are destroyed.
class Connection {
 public:
  explicit Connection(Worker* worker)
      : worker_(worker), stream_(worker->ioc), backoff_(worker->ioc) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Opens the connection; in phase 2 it then starts sending.
  void Connect() {
    stream_.expires_after(worker_->options->timeout);
    stream_.async_connect(*worker_->endpoints,
                          [this](beast::error_code ec, const tcp::endpoint&) { OnConnect(ec); });
  }

  // Phase 2 begins: send, or keep trying to connect.
  void Start() {
    if (connected_) {
      Send();
    } else {
      Connect();
    }
  }

 private:
  void OnConnect(beast::error_code ec) {
    const auto now = Clock::now();
    if (ec) {
      const std::string what = "cannot connect: " + ec.message();
      if (!worker_->loading) {
        if (worker_->connect_error.empty()) worker_->connect_error = ec.message();
        return;
      }
      if (worker_->InWindow(now)) ++worker_->stats.connect_errors;
      worker_->NoteError(now, what);
      if (now >= worker_->window_end) return;
      backoff_.expires_after(kReconnectBackoff);
      backoff_.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && Clock::now() < worker_->window_end) Connect();
      });
      return;
    }
    beast::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);
    connected_ = true;
    if (!worker_->loading) {
      ++worker_->connected;
      return;
    }
    Send();
  }

  void Send() {
    if (Clock::now() >= worker_->window_end) return Close();
    sent_ = Clock::now();
    stream_.expires_after(worker_->options->timeout);  // covers write and read
    asio::async_write(stream_, asio::buffer(*worker_->request_bytes),
                      [this](beast::error_code ec, size_t) { OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    if (ec) return Lost(ec);
    parser_.emplace();
    parser_->body_limit(worker_->options->max_answer_bytes);
    http::async_read(stream_, buffer_, *parser_,
                     [this](beast::error_code read_ec, size_t) { OnRead(read_ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return Lost(ec);
    const auto now = Clock::now();
    const auto& answer = parser_->get();
    const int status = static_cast<int>(answer.result_int());
    if (worker_->InWindow(now)) {
      if (status >= 200 && status < 300) {
        ++worker_->stats.ok;
        worker_->stats.latency.Record(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - sent_).count());
      } else {
        ++worker_->stats.http_errors[status];
        const std::string& body = answer.body();
        worker_->NoteError(
            now,
            "HTTP " + std::to_string(status) + ": " +
                (body.size() <= kErrorBodyChars ? body : body.substr(0, kErrorBodyChars) + "..."));
      }
    }
    if (!answer.keep_alive()) return Reopen(now);
    Send();
  }

  // The connection failed before a complete answer.
  void Lost(beast::error_code ec) {
    const auto now = Clock::now();
    if (worker_->InWindow(now)) {
      if (ec == beast::error::timeout) {
        ++worker_->stats.timeouts;
      } else {
        ++worker_->stats.connection_errors;
      }
    }
    worker_->NoteError(now, ec == beast::error::timeout ? "timeout: no complete answer in time"
                                                        : "connection lost: " + ec.message());
    Reopen(now);
  }

  void Reopen(Clock::time_point now) {
    Close();
    if (now >= worker_->window_end) return;
    if (worker_->InWindow(now)) ++worker_->stats.reconnects;
    Connect();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    buffer_.clear();
    connected_ = false;
  }

  Worker* worker_;
  beast::tcp_stream stream_;
  asio::steady_timer backoff_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  Clock::time_point sent_;
  bool connected_ = false;
};

}  // namespace

struct LoadGenerator::Impl {
  LoadOptions options;
  std::string request_bytes;
  tcp::resolver::results_type endpoints;
};

LoadGenerator::LoadGenerator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LoadGenerator::~LoadGenerator() = default;

StatusOr<std::unique_ptr<LoadGenerator>> LoadGenerator::Create(LoadOptions options) {
  if (options.duration <= std::chrono::nanoseconds::zero()) {
    return InvalidArgument("the duration must be positive");
  }
  if (options.timeout <= std::chrono::nanoseconds::zero()) {
    return InvalidArgument("the timeout must be positive");
  }
  if (options.warmup < std::chrono::nanoseconds::zero()) {
    return InvalidArgument("the warm-up must not be negative");
  }
  if (options.threads < 1) return InvalidArgument("threads must be at least 1");
  auto impl = std::make_unique<Impl>();
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  impl->endpoints = resolver.resolve(options.endpoint.host, options.endpoint.port, ec);
  if (ec) {
    return Unavailable("cannot resolve " + options.endpoint.HostHeader() + ": " + ec.message());
  }
  impl->request_bytes = SerializeRequest(options.endpoint, options.request);
  impl->options = std::move(options);
  return std::unique_ptr<LoadGenerator>(new LoadGenerator(std::move(impl)));
}

StatusOr<LoadResult> LoadGenerator::Run(int concurrency) {
  if (concurrency < 1) return InvalidArgument("concurrency must be at least 1");
  const LoadOptions& o = impl_->options;
  const int threads = std::min(o.threads, concurrency);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < threads; ++t) {
    workers.push_back(std::make_unique<Worker>(&o, &impl_->request_bytes, &impl_->endpoints));
  }
  for (int c = 0; c < concurrency; ++c) {
    Worker* w = workers[c % threads].get();
    w->connections.push_back(std::make_unique<Connection>(w));
  }

  // Runs every worker's io_context on its own thread until it has no work
  // left, calling on_progress from here meanwhile.
  const Clock::time_point* progress_origin = nullptr;
  auto run_all = [&] {
    std::mutex mu;
    std::condition_variable cv;
    int finished = 0;  // GUARDED_BY(mu)
    std::vector<std::thread> running;
    for (auto& w : workers) {
      running.emplace_back([&, w = w.get()] {
        w->ioc.run();
        std::lock_guard<std::mutex> lock(mu);
        ++finished;
        cv.notify_all();
      });
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      while (finished < threads) {
        cv.wait_for(lock, std::chrono::milliseconds(250));
        if (progress_origin != nullptr && o.on_progress && finished < threads) {
          o.on_progress(Clock::now() - *progress_origin);
        }
      }
    }
    for (auto& t : running) t.join();
  };

  // Phase 1: open every connection before the clock starts.
  for (auto& w : workers) {
    for (auto& c : w->connections) c->Connect();
  }
  run_all();
  int connected = 0;
  std::string connect_error;
  for (auto& w : workers) {
    connected += w->connected;
    if (connect_error.empty()) connect_error = w->connect_error;
  }
  if (connected == 0) {
    return Unavailable("cannot connect to " + o.endpoint.HostHeader() + ": " + connect_error);
  }

  // Phases 2 and 3: warm-up, then the measurement window.
  const Clock::time_point origin = Clock::now();
  progress_origin = &origin;
  for (auto& w : workers) {
    w->loading = true;
    w->window_start = origin + o.warmup;
    w->window_end = w->window_start + o.duration;
    w->ioc.restart();
    for (auto& c : w->connections) {
      asio::post(w->ioc, [c = c.get()] { c->Start(); });
    }
  }
  run_all();

  LoadResult result;
  result.concurrency = concurrency;
  result.seconds = std::chrono::duration<double>(o.duration).count();
  for (auto& w : workers) result.stats.Merge(w->stats);
  return result;
}

}  // namespace mast
