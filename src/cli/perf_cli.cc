#include "cli/perf_cli.h"

#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/json.hpp>

#include "cli/api_client.h"
#include "cli/cli_common.h"
#include "cli/load_generator.h"
#include "cli/perf_workload.h"
#include "common/json_writer.h"

namespace mast {

namespace json = boost::json;
using std::chrono::nanoseconds;

namespace {

constexpr int kMaxConcurrency = 100000;

struct PerfOptions {
  std::string url = "http://127.0.0.1:8000";  // --url / --server / MAST_SERVER
  std::string input;                          // --input FILE (required)
  std::string model;                          // --model
  std::string model_version;                  // --model-version (OIP)
  std::string protocol;                       // classic | oip; empty: detect
  std::string concurrency = "1";              // --concurrency list
  std::string duration = "10s";               // per level
  std::string warmup = "0s";                  // per level, not counted
  std::string timeout = "30s";                // per request
  int threads = 1;                            // I/O threads of the client
  std::vector<std::string> headers;           // -H 'Name: value'
  bool json = false;                          // one JSON document
};

struct State {
  PerfOptions perf;
  CLI::App* perf_cmd = nullptr;
};

State& S() {
  static State state;
  return state;
}

int Fail(const std::string& message) {
  std::cerr << "mast: " << message << "\n";
  return 1;
}

int UsageError(const std::string& message) {
  std::cerr << "mast: " << message << "\n";
  return 2;
}

// Raises the open-file limit to fit `connections` sockets if it is lower.
Status EnsureFileLimit(int connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return OkStatus();
  const rlim_t needed = static_cast<rlim_t>(connections) + 64;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
    const rlim_t raised =
        limit.rlim_max == RLIM_INFINITY ? needed : std::min(limit.rlim_max, needed);
    rlimit wanted = limit;
    wanted.rlim_cur = raised;
    if (::setrlimit(RLIMIT_NOFILE, &wanted) != 0 || raised < needed) {
      return FailedPrecondition("concurrency " + std::to_string(connections) + " needs " +
                                std::to_string(needed) + " open files but at most " +
                                std::to_string(limit.rlim_max) + " are allowed (ulimit -n)");
    }
  }
  return OkStatus();
}

double Seconds(int64_t nanos) { return static_cast<double>(nanos) / 1e9; }

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

// "0" or "12 (http 422: 10, timeout: 2)".
std::string ErrorSummary(const LoadStats& s) {
  std::string parts;
  auto add = [&](const std::string& what, int64_t n) {
    if (n == 0) return;
    parts += (parts.empty() ? "" : ", ") + what + ": " + std::to_string(n);
  };
  for (const auto& [status, n] : s.http_errors) add("http " + std::to_string(status), n);
  add("connect", s.connect_errors);
  add("connection", s.connection_errors);
  add("timeout", s.timeouts);
  return std::to_string(s.errors()) + (parts.empty() ? "" : " (" + parts + ")");
}

json::object LevelJson(const LoadResult& r) {
  const LoadStats& s = r.stats;
  const LatencyHistogram& h = s.latency;
  json::object http;
  for (const auto& [status, n] : s.http_errors) http[std::to_string(status)] = n;
  json::object level{
      {"concurrency", r.concurrency},
      {"duration_seconds", r.seconds},
      {"requests", s.answered()},
      {"ok", s.ok},
      {"errors", s.errors()},
      {"throughput_per_second", r.throughput()},
      {"latency_seconds", json::object{{"min", Seconds(h.min())},
                                       {"mean", h.mean() / 1e9},
                                       {"p50", Seconds(h.Percentile(0.50))},
                                       {"p90", Seconds(h.Percentile(0.90))},
                                       {"p99", Seconds(h.Percentile(0.99))},
                                       {"max", Seconds(h.max())}}},
      {"error_counts", json::object{{"http", std::move(http)},
                                    {"connect", s.connect_errors},
                                    {"connection", s.connection_errors},
                                    {"timeout", s.timeouts}}},
      {"reconnects", s.reconnects},
  };
  if (!s.first_error.empty()) level["first_error"] = s.first_error;
  return level;
}

// The table: fixed widths, so that each line can be printed when its level
// finishes.
constexpr const char* kTableHeader =
    "CONCURRENCY      REQ/S   P50_MS   P90_MS   P99_MS   MAX_MS  ERRORS";

std::string TableLine(const LoadResult& r) {
  const LatencyHistogram& h = r.stats.latency;
  // No success, no latency: "-" rather than a misleading 0.000.
  auto ms = [&](int64_t nanos) {
    return h.count() == 0 ? std::string("-") : Fixed(static_cast<double>(nanos) / 1e6, 3);
  };
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%11d %10s %8s %8s %8s %8s  %s", r.concurrency,
                Fixed(r.throughput(), 1).c_str(), ms(h.Percentile(0.50)).c_str(),
                ms(h.Percentile(0.90)).c_str(), ms(h.Percentile(0.99)).c_str(), ms(h.max()).c_str(),
                ErrorSummary(r.stats).c_str());
  return buf;
}

std::string DurationText(nanoseconds d) {
  const double s = std::chrono::duration<double>(d).count();
  if (s < 1) return Fixed(s * 1000, 0) + "ms";
  std::ostringstream out;
  out << s << "s";
  return out.str();
}

StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read '" + path + "'");
  std::stringstream s;
  s << in.rdbuf();
  if (in.bad()) return Unavailable("reading '" + path + "' failed");
  return s.str();
}

// "Name: value" -> (name, value). Errors name the header.
StatusOr<std::pair<std::string, std::string>> ParseHeader(const std::string& text) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || text.find_first_of("\r\n") != std::string::npos ||
      text.substr(0, colon).find_first_of(" \t") != std::string::npos) {
    return InvalidArgument("--header must look like 'Name: value', got '" + text + "'");
  }
  std::string value = text.substr(colon + 1);
  const size_t start = value.find_first_not_of(" \t");
  value = start == std::string::npos ? "" : value.substr(start);
  return std::make_pair(text.substr(0, colon), value);
}

// Shows the running level's elapsed time on a terminal.
class Progress {
 public:
  Progress() : enabled_(isatty(STDERR_FILENO) != 0) {}
  void Show(int concurrency, nanoseconds elapsed, nanoseconds total) {
    if (!enabled_) return;
    std::cerr << "\r\033[Kconcurrency " << concurrency << ": "
              << Fixed(std::chrono::duration<double>(std::min(elapsed, total)).count(), 1) << "s / "
              << DurationText(total) << std::flush;
    shown_ = true;
  }
  void Clear() {
    if (shown_) std::cerr << "\r\033[K" << std::flush;
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
};

int Perf() {
  const PerfOptions& o = S().perf;
  auto levels = ParseConcurrencyList(o.concurrency);
  if (!levels.ok()) return UsageError(levels.status().message());
  auto duration = ParseDuration(o.duration);
  if (!duration.ok()) return UsageError("--duration: " + duration.status().message());
  if (*duration <= nanoseconds::zero()) return UsageError("--duration must be positive");
  auto warmup = ParseDuration(o.warmup);
  if (!warmup.ok()) return UsageError("--warmup: " + warmup.status().message());
  auto timeout = ParseDuration(o.timeout);
  if (!timeout.ok()) return UsageError("--timeout: " + timeout.status().message());
  if (*timeout <= nanoseconds::zero()) return UsageError("--timeout must be positive");
  auto endpoint = ParseHttpUrl(o.url);
  if (!endpoint.ok()) return UsageError(endpoint.status().message());

  WorkloadSpec spec;
  spec.protocol = o.protocol == "classic" ? PerfProtocol::kClassic
                  : o.protocol == "oip"   ? PerfProtocol::kOip
                                          : PerfProtocol::kAuto;
  spec.model = o.model;
  spec.model_version = o.model_version;
  if (spec.protocol == PerfProtocol::kOip && spec.model.empty()) {
    return UsageError("--protocol oip needs --model");
  }
  LoadRequest request;
  bool has_authorization = false;
  for (const std::string& h : o.headers) {
    auto header = ParseHeader(h);
    if (!header.ok()) return UsageError(header.status().message());
    if (strcasecmp(header->first.c_str(), "authorization") == 0) has_authorization = true;
    request.headers.push_back(std::move(*header));
  }
  const std::string token = TokenFromEnvironment();
  if (!has_authorization && !token.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + token);
  }

  auto input_text = ReadWholeFile(o.input);
  if (!input_text.ok()) return Fail(input_text.status().message());
  const auto timeout_s = std::chrono::ceil<std::chrono::seconds>(*timeout);
  auto fetch_metadata = [&]() -> StatusOr<json::value> {
    ASSIGN_OR_RETURN(ApiClient client, ApiClient::Create("http://" + endpoint->HostHeader(),
                                                         token, timeout_s));
    const std::string target =
        "/v2/models/" + UrlEncode(spec.model) +
        (spec.model_version.empty() ? "" : "/versions/" + UrlEncode(spec.model_version));
    ASSIGN_OR_RETURN(ApiResponse r, client.Call("GET", target));
    if (!r.json.is_object()) return Internal("GET " + target + " did not answer a JSON object");
    return r.json;
  };
  auto workload = BuildWorkload(*input_text, spec, fetch_metadata);
  if (!workload.ok()) {
    return Fail(workload.status().code() == StatusCode::kInvalidArgument
                    ? o.input + ": " + workload.status().message()
                    : workload.status().message());
  }

  int most = 0;
  for (int c : *levels) most = std::max(most, c);
  if (Status s = EnsureFileLimit(most); !s.ok()) return Fail(s.message());

  request.method = "POST";
  request.target = workload->target;
  request.body = workload->body;
  Progress progress;
  int current_level = 0;
  LoadOptions options;
  options.endpoint = *endpoint;
  options.request = std::move(request);
  options.warmup = *warmup;
  options.duration = *duration;
  options.timeout = *timeout;
  options.threads = o.threads;
  options.on_progress = [&](nanoseconds elapsed) {
    progress.Show(current_level, elapsed, *warmup + *duration);
  };
  auto generator = LoadGenerator::Create(std::move(options));
  if (!generator.ok()) return Fail(generator.status().message());

  const std::string url = "http://" + endpoint->HostHeader();
  // The title and column names, printed once the first level has run (an
  // unreachable server prints nothing on stdout).
  auto print_title = [&] {
    std::cout << "mast perf: POST " << url << workload->target << " ("
              << PerfProtocolName(workload->protocol)
              << (workload->converted ? ", named features sent as OIP tensors" : "") << ", "
              << workload->rows_per_request << (workload->rows_per_request == 1 ? " row" : " rows")
              << " per request), " << DurationText(*duration) << " per level"
              << (*warmup > nanoseconds::zero() ? " after " + DurationText(*warmup) + " warm-up"
                                                : "")
              << ", " << o.threads << (o.threads == 1 ? " thread" : " threads") << "\n"
              << kTableHeader << "\n";
  };

  json::array measured;
  std::string failure;
  for (int concurrency : *levels) {
    current_level = concurrency;
    auto result = (*generator)->Run(concurrency);
    progress.Clear();
    if (!result.ok()) {
      failure = result.status().message();
      break;
    }
    measured.push_back(LevelJson(*result));
    if (!o.json) {
      if (measured.size() == 1) print_title();
      std::cout << TableLine(*result) << "\n" << std::flush;
      if (result->stats.errors() > 0 && result->stats.ok > 0) {
        std::cerr << "mast: concurrency " << concurrency
                  << ": first error: " << result->stats.first_error << "\n";
      }
    }
    if (result->stats.ok == 0) {
      failure = "no request succeeded at concurrency " + std::to_string(concurrency) +
                (result->stats.first_error.empty() ? " (no answer within the duration)"
                                                   : ": " + ErrorSummary(result->stats) +
                                                         "; first: " + result->stats.first_error);
      break;
    }
  }
  if (o.json && !measured.empty()) {
    json::object doc{
        {"url", url},
        {"protocol", PerfProtocolName(workload->protocol)},
        {"method", "POST"},
        {"target", workload->target},
        {"converted_to_oip", workload->converted},
        {"rows_per_request", workload->rows_per_request},
        {"threads", o.threads},
        {"warmup_seconds", std::chrono::duration<double>(*warmup).count()},
        {"duration_seconds", std::chrono::duration<double>(*duration).count()},
        {"levels", std::move(measured)},
    };
    std::cout << ToJson(doc) << "\n" << std::flush;
  }
  if (!failure.empty()) return Fail(failure);
  return 0;
}

}  // namespace

StatusOr<nanoseconds> ParseDuration(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("'" + std::string(text) + "' is not a duration" + why +
                           " (e.g. 10s, 500ms, 2m)");
  };
  size_t unit_at = 0;
  while (unit_at < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[unit_at])) || text[unit_at] == '.')) {
    ++unit_at;
  }
  const std::string number(text.substr(0, unit_at));
  const std::string_view unit = text.substr(unit_at);
  if (number.empty() || number.front() == '.' || number.back() == '.' ||
      std::count(number.begin(), number.end(), '.') > 1) {
    return bad("");
  }
  double scale = 0;  // nanoseconds per unit
  if (unit.empty() || unit == "s") {
    scale = 1e9;
  } else if (unit == "ms") {
    scale = 1e6;
  } else if (unit == "us") {
    scale = 1e3;
  } else if (unit == "m") {
    scale = 60e9;
  } else if (unit == "h") {
    scale = 3600e9;
  } else {
    return bad(": unknown unit '" + std::string(unit) + "' (us, ms, s, m, h)");
  }
  const double nanos = std::stod(number) * scale;
  if (!(nanos <= 7 * 24 * 3600e9)) return bad(": at most a week");
  return nanoseconds(static_cast<int64_t>(std::llround(nanos)));
}

StatusOr<std::vector<int>> ParseConcurrencyList(std::string_view text) {
  std::vector<int> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    int value = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || value < 1 ||
        value > kMaxConcurrency) {
      return InvalidArgument(
          "--concurrency: '" + std::string(item) + "' is not a whole number from 1 to " +
          std::to_string(kMaxConcurrency) + " (in '" + std::string(text) + "'; e.g. 1,8,32)");
    }
    out.push_back(value);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

void AddPerfCommands(CLI::App* app) {
  State& s = S();
  PerfOptions& o = s.perf;
  CLI::App* cmd = app->add_subcommand(
      "perf", "Measure a server's throughput and latency at several concurrency levels");
  s.perf_cmd = cmd;
  cmd->add_option("-i,--input", o.input,
                  "Request body: named features (an object or an array of rows) or an OIP "
                  "request ({\"inputs\": [...]})")
      ->required();
  cmd->add_option("--url,--server", o.url, "Server to load, http://host:port")
      ->envname("MAST_SERVER")
      ->capture_default_str();
  cmd->add_option("-m,--model", o.model,
                  "Model name: /v1/models/M/predict (classic) or /v2/models/M/infer (oip)");
  cmd->add_option("--model-version", o.model_version, "OIP: /v2/models/M/versions/V/infer");
  cmd->add_option("--protocol", o.protocol, "classic or oip (default: from the input)")
      ->check(CLI::IsMember({"classic", "oip"}));
  cmd->add_option("-c,--concurrency", o.concurrency,
                  "Connections with one request in flight each, one level per value: 1,8,32")
      ->capture_default_str();
  cmd->add_option("-d,--duration", o.duration, "Measurement per level: 10s, 500ms, 2m")
      ->capture_default_str();
  cmd->add_option("--warmup", o.warmup, "Load before each measurement, not counted")
      ->capture_default_str();
  cmd->add_option("--timeout", o.timeout, "A request without an answer after this is an error")
      ->capture_default_str();
  cmd->add_option("--threads", o.threads, "Client I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("-H,--header", o.headers, "Extra request header 'Name: value' (repeatable)");
  cmd->add_flag("--json", o.json, "Print one JSON document for scripts");
}

int RunPerfCommands() {
  State& s = S();
  if (s.perf_cmd != nullptr && s.perf_cmd->parsed()) return Perf();
  return -1;
}

}  // namespace mast
