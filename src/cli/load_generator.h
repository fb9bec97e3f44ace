// LoadGenerator: the closed-loop HTTP/1.1 load engine behind `mast perf`
// (the model of wrk and Triton's perf_analyzer).
//
// Run(N) opens N keep-alive connections and keeps exactly one request in
// flight on each: a connection sends the next request as soon as the answer
// to the previous one is read. Every request is the same pre-serialised
// bytes, so the client spends its time on I/O, not on building requests.
// Connections are spread over `threads` I/O threads (one io_context each,
// no locks on the request path); each thread counts into its own LoadStats,
// merged at the end.
//
// A level runs in three phases:
//   1. connect: all N connections are opened before the clock starts; if
//      none can be, Run() fails (the server is unreachable);
//   2. warm-up (`warmup`): requests run but nothing is counted;
//   3. measurement (`duration`): only requests whose answer arrives inside
//      this window count. Then no new request is sent; requests still in
//      flight are awaited (up to `timeout`) but not counted, so the next
//      level starts against a quiet server.
//
// What is counted (inside the window):
//   - ok: a complete 2xx answer; its latency (from the first byte written
//     to the last byte read) goes into the histogram. Only successes are in
//     the histogram, so fast error answers cannot flatter the percentiles.
//   - http_errors: a complete answer with any other status, by status code.
//   - connect_errors: an attempt to (re)open a connection that failed; the
//     connection retries every 100 ms.
//   - connection_errors: a connection lost before a complete answer (reset,
//     end of stream, unparsable answer); it is reopened.
//   - timeouts: no complete answer within `timeout`; the connection is
//     closed (HTTP/1.1 cannot skip a late answer) and reopened.
//   - reconnects: connections reopened, for any of the reasons above or
//     because the server answered `Connection: close` (not an error).
//
// Thread-safety: Run() may be called repeatedly from one thread; it blocks.
#ifndef MAST_CLI_LOAD_GENERATOR_H_
#define MAST_CLI_LOAD_GENERATOR_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/latency_histogram.h"
#include "common/status.h"

namespace mast {

// Where the load goes: parsed from `http://host[:port]` (or `host:port`).
struct HttpEndpoint {
  std::string host;
  std::string port = "80";
  // "host" or "host:port" as the Host header carries it.
  std::string HostHeader() const;
};

// Errors: kInvalidArgument for anything but http://host[:port] with an
// optional trailing '/', naming the URL (https is not supported).
StatusOr<HttpEndpoint> ParseHttpUrl(const std::string& url);

// The one request every connection repeats.
struct LoadRequest {
  std::string method = "POST";
  std::string target = "/";  // path and query, e.g. /predict
  std::string body;          // sent as is
  std::string content_type = "application/json";
  // Extra header lines (name, value), e.g. Authorization.
  std::vector<std::pair<std::string, std::string>> headers;
};

// The complete HTTP/1.1 request bytes for `request` (keep-alive, with Host,
// User-Agent, Content-Type and Content-Length).
std::string SerializeRequest(const HttpEndpoint& endpoint, const LoadRequest& request);

struct LoadOptions {
  // Server to load; see ParseHttpUrl().
  HttpEndpoint endpoint;
  // What every request is.
  LoadRequest request;
  // Requests run but not counted before the measurement window.
  std::chrono::nanoseconds warmup{0};
  // Length of the measurement window; must be > 0.
  std::chrono::nanoseconds duration = std::chrono::seconds(10);
  // A request without a complete answer after this long is a timeout; also
  // the limit for opening a connection. Must be > 0.
  std::chrono::nanoseconds timeout = std::chrono::seconds(30);
  // I/O threads the connections are spread over; >= 1.
  int threads = 1;
  // Answers larger than this count as connection errors (protects memory).
  uint64_t max_answer_bytes = 64ull << 20;
  // Called on the calling thread about every 250 ms while a level runs,
  // with the time since the connect phase ended; may be empty.
  std::function<void(std::chrono::nanoseconds elapsed)> on_progress;
};

// What one level counted (see the header comment for each field).
struct LoadStats {
  int64_t ok = 0;
  std::map<int, int64_t> http_errors;  // status code -> answers
  int64_t connect_errors = 0;
  int64_t connection_errors = 0;
  int64_t timeouts = 0;
  int64_t reconnects = 0;
  LatencyHistogram latency;  // of ok requests
  // The first error seen in the window, for a person: "HTTP 422: <body>"
  // (a longer body cut at 300 bytes, then "...") or the socket error;
  // empty if none.
  std::string first_error;

  // Complete answers of any status.
  int64_t answered() const;
  // Every error of every kind.
  int64_t errors() const;
  void Merge(const LoadStats& other);
};

struct LoadResult {
  int concurrency = 0;
  double seconds = 0;  // length of the measurement window
  LoadStats stats;
  // ok requests per second of the window.
  double throughput() const { return seconds > 0 ? stats.ok / seconds : 0; }
};

class LoadGenerator {
 public:
  // Resolves the host once. Errors: kInvalidArgument for invalid options;
  // kUnavailable if the host name cannot be resolved.
  static StatusOr<std::unique_ptr<LoadGenerator>> Create(LoadOptions options);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Runs one level with `concurrency` connections (>= 1) and returns what
  // it counted. Errors: kUnavailable if not one connection could be opened
  // in the connect phase, naming the server and the cause.
  StatusOr<LoadResult> Run(int concurrency);

 private:
  struct Impl;
  explicit LoadGenerator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mast

#endif  // MAST_CLI_LOAD_GENERATOR_H_
