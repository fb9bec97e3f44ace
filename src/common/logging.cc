#include "common/json_writer.h"
#include "common/logging.h"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <ctime>

#include <boost/json/serialize.hpp>

namespace mast {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::shared_ptr<spdlog::logger> g_logger;  // set once by InitLogging

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "info";
}

}  // namespace

StatusOr<LogLevel> ParseLogLevel(std::string_view text) {
  std::string t(text);
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  if (t == "DEBUG") return LogLevel::kDebug;
  if (t == "INFO") return LogLevel::kInfo;
  if (t == "WARNING" || t == "WARN") return LogLevel::kWarning;
  if (t == "ERROR" || t == "CRITICAL") return LogLevel::kError;
  return InvalidArgument("unknown log level '" + std::string(text) +
                         "' (use DEBUG, INFO, WARNING or ERROR)");
}

void InitLogging(LogLevel level) {
  g_level.store(static_cast<int>(level));
  if (g_logger) return;
  spdlog::init_thread_pool(8192, 1);
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  g_logger = std::make_shared<spdlog::async_logger>(
      "mast", sink, spdlog::thread_pool(), spdlog::async_overflow_policy::block);
  g_logger->set_pattern("%v");
  g_logger->set_level(spdlog::level::trace);
  g_logger->flush_on(spdlog::level::warn);
}

void FlushLogs() {
  if (g_logger) g_logger->flush();
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() %
            1000;
  if (ms < 0) ms += 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

std::string NowRfc3339() { return Rfc3339(std::chrono::system_clock::now()); }

void Log(LogLevel level, std::string_view msg, const boost::json::object& fields) {
  if (!LogEnabled(level)) return;
  boost::json::object line;
  line.reserve(fields.size() + 3);
  line["ts"] = NowRfc3339();
  line["level"] = LevelName(level);
  line["msg"] = msg;
  for (const auto& kv : fields) line[kv.key()] = kv.value();
  std::string text = ToJson(line);
  if (g_logger) {
    g_logger->log(level >= LogLevel::kWarning ? spdlog::level::warn
                                              : spdlog::level::info,
                  text);
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
}

}  // namespace mast
