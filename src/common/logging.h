// Logging: JSON lines on stderr, one object per line:
//   {"ts":"2026-11-26T20:11:00.123Z","level":"info","msg":"...", <fields>}
//
// Lines are collected in memory and written to stderr by a background
// thread at idle CPU priority in batches (every 20 ms; warnings and errors,
// and a backlog of 1 MiB, at once by a second thread at normal priority), so
// a request thread only formats and appends; FlushLogs() writes what is
// waiting. Callers pass context as a
// boost::json::object of fields; secrets must never be put in it.
//
// Thread-safety: all functions are safe from any thread after InitLogging().
#ifndef MAST_COMMON_LOGGING_H_
#define MAST_COMMON_LOGGING_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "common/status.h"

namespace mast {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Parses DEBUG/INFO/WARNING/WARN/ERROR (any case).
StatusOr<LogLevel> ParseLogLevel(std::string_view text);

// Sets up the process logger. Call once, before other threads log.
void InitLogging(LogLevel level);
// Flushes queued lines; call before exit.
void FlushLogs();
// Lines dropped since start because stderr fell 64 MiB behind.
int64_t LogLinesDropped();
// Times the idle-priority writer fell 1 MiB behind (the cores were busy) and
// the normal-priority thread wrote the backlog.
int64_t LogWriterFellBehind();

bool LogEnabled(LogLevel level);
void Log(LogLevel level, std::string_view msg,
         const boost::json::object& fields = {});

inline void LogInfo(std::string_view msg, const boost::json::object& f = {}) {
  Log(LogLevel::kInfo, msg, f);
}
inline void LogWarning(std::string_view msg, const boost::json::object& f = {}) {
  Log(LogLevel::kWarning, msg, f);
}
inline void LogError(std::string_view msg, const boost::json::object& f = {}) {
  Log(LogLevel::kError, msg, f);
}

// One log line built field by field, without an intermediate object: for
// lines written once per request (the access log). Fields are written in the
// order added; keys must be plain ASCII names and unique. Write() hands the
// line to the writer (nothing is written if the level is disabled).
//
//   LogLine(LogLevel::kInfo, "request").Add("status", 200).Add("route", r).Write();
//
// Not thread-safe; use one per line, on one thread.
class LogLine {
 public:
  LogLine(LogLevel level, std::string_view msg);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  LogLine& Add(std::string_view key, std::string_view value);
  LogLine& Add(std::string_view key, const char* value) {
    return Add(key, std::string_view(value));
  }
  LogLine& Add(std::string_view key, int64_t value);
  LogLine& Add(std::string_view key, int value) { return Add(key, int64_t{value}); }
  LogLine& Add(std::string_view key, double value);
  LogLine& Add(std::string_view key, const boost::json::value& value);
  void Write();

 private:
  void Key(std::string_view key);
  LogLevel level_;
  bool enabled_;
  bool borrowed_;      // text_ is the thread's reusable buffer
  std::string own_;    // used instead while another LogLine holds it
  std::string& text_;
};

// UTC time as RFC 3339 with milliseconds ("2026-11-26T20:11:00.123Z").
std::string Rfc3339(std::chrono::system_clock::time_point t);
std::string NowRfc3339();
// Parses an RFC 3339 time ("2026-11-26T20:11:00Z", fractional seconds and a
// "+hh:mm"/"-hh:mm" offset allowed; "t"/"z" and a space separator too).
// Errors: kInvalidArgument naming the text.
StatusOr<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

}  // namespace mast

#endif  // MAST_COMMON_LOGGING_H_
