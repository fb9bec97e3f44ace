#include "common/logging.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <charconv>
#include <mutex>
#include <thread>

#include "common/json_writer.h"
#include "common/thread_name.h"

namespace mast {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "info";
}

// Collects log lines in memory and writes them to stderr from a background
// thread, in batches: every 20 ms, as soon as 256 KiB are waiting, or at once
// for a warning or an error. A request thread only appends under a mutex (no
// system call), which keeps the access log off the hot path. If stderr falls
// 64 MiB behind, lines are dropped and counted rather than the memory
// growing. When stderr is a file, its disk writes are started as it grows
// (StartWriteback).
//
// The writer thread ("mast-log") runs at SCHED_IDLE: a request thread, or a
// client on the same machine, that wakes while it is copying a batch into the
// page cache takes the core at once instead of waiting out its time slice.
// (On the 2-core benchmark VM, with the log in a file on disk, wrk's p99 at
// one connection was lower than with the writer at normal priority in 10 of
// 10 alternated rounds: medians 85 and 109 us.) A thread at that priority
// gets almost no CPU while the cores are saturated, so a second thread at
// normal priority ("mast-log-now") writes whenever 1 MiB is waiting, and
// writes warnings and errors as they come; it sleeps otherwise. The two
// write in turns, one piece of at most 256 KiB at a time, so the file keeps
// the lines' order and a starved writer holds the other up for one piece at
// most. The price: under full load about 2 MiB wait at times, not 512 KiB
// (resident memory after a 32-connection run 53-56 MiB instead of 45-46).
class LineWriter {
 public:
  LineWriter()
      : background_([this] {
          SetThreadName("mast-log");
          sched_param param{};
          // Unprivileged and for good (leaving SCHED_IDLE needs CAP_SYS_NICE);
          // if refused, the thread stays at normal priority.
          pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
          Loop(&wake_cv_, &wake_, std::chrono::milliseconds(20), /*takes_over=*/false);
        }),
        prompt_thread_([this] {
          SetThreadName("mast-log-now");
          Loop(&prompt_cv_, &prompt_, std::chrono::hours(1), /*takes_over=*/true);
        }) {}

  void Append(const std::string& line, bool urgent) {
    bool wake = false;
    bool prompt = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (buffer_.size() >= kMaxBytes) {
        // stderr does not keep up: never grow without bound
        dropped_total_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      buffer_.append(line);
      buffer_.push_back('\n');
      const bool behind = buffer_.size() >= kBehindBytes;
      behind_ = behind_ || behind;
      // Each thread is woken once per batch, not once per line.
      if (!wake_ && buffer_.size() >= kWakeBytes) wake = wake_ = true;
      if (!prompt_ && (urgent || behind)) prompt = prompt_ = true;
    }
    if (wake) wake_cv_.notify_one();
    if (prompt) prompt_cv_.notify_one();
  }

  int64_t dropped_total() const { return dropped_total_.load(std::memory_order_relaxed); }
  int64_t fell_behind_total() const { return fell_behind_total_.load(std::memory_order_relaxed); }

  // Writes everything appended so far, in order, before returning: first the
  // batch being written, then one more batch, which holds the lines appended
  // before the call (or, if another writer took those meanwhile, a later one).
  void Flush() {
    while (WritePiece(false)) {
    }
    if (WritePiece(true)) {
      while (WritePiece(false)) {
      }
    }
  }

 private:
  static constexpr size_t kWakeBytes = 256 * 1024;
  static constexpr size_t kPieceBytes = 256 * 1024;
  static constexpr size_t kBehindBytes = 1024 * 1024;
  static constexpr size_t kMaxBytes = 64 * 1024 * 1024;
  static constexpr size_t kWritebackBytes = 4 * 1024 * 1024;

  // One writer thread's life: waits until `*flag` is set (or `period` has
  // passed), then writes until nothing is waiting. The thread that
  // `takes_over` from a starved writer counts the backlogs it wrote.
  void Loop(std::condition_variable* cv, bool* flag, std::chrono::milliseconds period,
            bool takes_over) {
    for (;;) {
      bool behind = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv->wait_for(lock, period, [&] { return *flag; });
        *flag = false;
        if (takes_over) std::swap(behind, behind_);
      }
      bool wrote = false;
      while (WritePiece(true)) wrote = true;
      if (behind && wrote) fell_behind_total_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // Writes the next piece (at most kPieceBytes) of the batch being written,
  // taking what is waiting as the next batch when that one is done if
  // `take_next`; false if there was nothing to write. A batch is finished
  // before the next is taken, so lines reach stderr in the order appended.
  bool WritePiece(bool take_next) {
    std::lock_guard<std::mutex> writing(write_mu_);
    if (out_off_ == out_.size()) {
      out_.clear();
      out_off_ = 0;
      if (!take_next) return false;
      std::lock_guard<std::mutex> lock(mu_);
      out_.swap(buffer_);
      // Drops are counted under mu_, so none is missed between the two.
      const int64_t dropped = dropped_total_.load(std::memory_order_relaxed);
      if (dropped > dropped_reported_) {
        out_ += "{\"ts\":\"" + NowRfc3339() +
                "\",\"level\":\"warning\",\"msg\":\"log lines dropped: stderr too slow\","
                "\"dropped\":" + std::to_string(dropped - dropped_reported_) + "}\n";
        dropped_reported_ = dropped;
      }
      if (out_.empty()) return false;
    }
    const size_t end = std::min(out_.size(), out_off_ + kPieceBytes);
    while (out_off_ < end) {
      const ssize_t n = ::write(STDERR_FILENO, out_.data() + out_off_, end - out_off_);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        out_off_ = out_.size();  // nowhere to log to: drop rather than block the server
        break;
      }
      out_off_ += static_cast<size_t>(n);
      StartWriteback(static_cast<size_t>(n));
    }
    return true;
  }

  // When stderr is a file, starts writing each 4 MiB of it to disk as soon
  // as it is written, without waiting for the disk. Left to itself the kernel
  // writes a file's dirty pages when the oldest is 30 s old, all at once: at
  // the 20 MB/s of access log mast writes under full load, 600 MB every half
  // minute, which stalled requests on a 2-core machine for milliseconds
  // (PostgreSQL's *_flush_after settings do the same for the same reason).
  // Each disk write costs the machine a fixed amount besides its bytes (on
  // the benchmark VM it delayed a request on the other core by 150-400 us),
  // so the pieces are large: at 256 KiB, one connection's requests spent
  // about 1.7 times as much of their time over 150 us as at 4 MiB.
  // Called with write_mu_ held.
  void StartWriteback(size_t written) {
    unsynced_ += written;
    if (unsynced_ < kWritebackBytes) return;
    struct stat st {};
    if (::fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
      const off_t end = ::lseek(STDERR_FILENO, 0, SEEK_CUR);
      const off_t from = std::max<off_t>(0, end - static_cast<off_t>(unsynced_));
      if (end > 0) ::sync_file_range(STDERR_FILENO, from, end - from, SYNC_FILE_RANGE_WRITE);
    }
    unsynced_ = 0;
  }

  std::mutex mu_;
  std::condition_variable wake_cv_;
  std::condition_variable prompt_cv_;
  std::string buffer_;    // GUARDED_BY(mu_)
  bool wake_ = false;     // GUARDED_BY(mu_): the background thread should write
  bool prompt_ = false;   // GUARDED_BY(mu_): the prompt thread should write
  bool behind_ = false;   // GUARDED_BY(mu_): kBehindBytes were waiting
  std::atomic<int64_t> dropped_total_{0};  // incremented under mu_
  int64_t dropped_reported_ = 0;           // GUARDED_BY(mu_): in warnings so far
  std::atomic<int64_t> fell_behind_total_{0};
  std::mutex write_mu_;
  std::string out_;      // GUARDED_BY(write_mu_): the batch being written
  size_t out_off_ = 0;   // GUARDED_BY(write_mu_): how much of out_ is written
  size_t unsynced_ = 0;  // GUARDED_BY(write_mu_): written, writeback not started
  // Run for the life of the process; declared last, so started last.
  std::thread background_;
  std::thread prompt_thread_;
};

// Created by InitLogging and never destroyed (threads may log until exit).
std::atomic<LineWriter*> g_writer{nullptr};

// Appends `t` as RFC 3339 in UTC with milliseconds. The text up to the
// seconds is formatted once per second per thread (log lines come in order).
void AppendRfc3339(std::chrono::system_clock::time_point t, std::string* out) {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[24];
  thread_local size_t cached_len = 0;
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  if (secs != cached_second) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    cached_len = std::strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second = secs;
  }
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  if (ms < 0) ms += 1000;
  out->append(cached, cached_len);
  const char frac[5] = {'.', char('0' + ms / 100), char('0' + ms / 10 % 10),
                        char('0' + ms % 10), 'Z'};
  out->append(frac, 5);
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
  if (g_writer.load() == nullptr) g_writer.store(new LineWriter());
}

void FlushLogs() {
  if (LineWriter* w = g_writer.load()) w->Flush();
}

int64_t LogLinesDropped() {
  const LineWriter* w = g_writer.load();
  return w == nullptr ? 0 : w->dropped_total();
}

int64_t LogWriterFellBehind() {
  const LineWriter* w = g_writer.load();
  return w == nullptr ? 0 : w->fell_behind_total();
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  std::string out;
  AppendRfc3339(t, &out);
  return out;
}

std::string NowRfc3339() { return Rfc3339(std::chrono::system_clock::now()); }

StatusOr<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("'" + std::string(text) +
                           "' is not an RFC 3339 time (e.g. 2026-11-26T20:11:00Z)");
  };
  size_t i = 0;
  auto digits = [&](int n, int* out) {
    if (i + n > text.size()) return false;
    int v = 0;
    for (int k = 0; k < n; ++k) {
      char c = text[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    i += n;
    *out = v;
    return true;
  };
  auto expect = [&](std::string_view any) {
    if (i >= text.size() || any.find(text[i]) == std::string_view::npos) return false;
    ++i;
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!digits(4, &year) || !expect("-") || !digits(2, &month) || !expect("-") ||
      !digits(2, &day) || !expect("Tt ") || !digits(2, &hour) || !expect(":") ||
      !digits(2, &minute) || !expect(":") || !digits(2, &second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return bad();
  }
  // The clock counts nanoseconds in 64 bits: about 1678 to 2262.
  if (year < 1900 || year > 2200) {
    return InvalidArgument("'" + std::string(text) + "' is outside the years 1900 to 2200");
  }
  int64_t micros = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    int64_t scale = 100000;
    size_t first = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      micros += (text[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == first) return bad();
  }
  int offset_minutes = 0;
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) {
    ++i;
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    const int sign = text[i] == '-' ? -1 : 1;
    ++i;
    int oh, om;
    if (!digits(2, &oh) || !expect(":") || !digits(2, &om) || oh > 23 || om > 59) {
      return bad();
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return bad();
  }
  if (i != text.size()) return bad();
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t secs = timegm(&tm);
  return std::chrono::system_clock::from_time_t(secs) - std::chrono::minutes(offset_minutes) +
         std::chrono::microseconds(micros);
}

namespace {

// The line being built on this thread (LogLine); its capacity is reused.
// A LogLine made while another is being built (a field computed by code
// that logs) uses its own string instead.
thread_local std::string t_line_buffer;
thread_local bool t_line_buffer_busy = false;

}  // namespace

LogLine::LogLine(LogLevel level, std::string_view msg)
    : level_(level),
      enabled_(LogEnabled(level)),
      borrowed_(!t_line_buffer_busy),
      text_(borrowed_ ? t_line_buffer : own_) {
  if (borrowed_) t_line_buffer_busy = true;
  if (!enabled_) return;
  text_.clear();
  text_ += "{\"ts\":\"";
  AppendRfc3339(std::chrono::system_clock::now(), &text_);
  text_ += "\",\"level\":\"";
  text_ += LevelName(level);
  text_ += "\",\"msg\":";
  AppendJsonString(msg, &text_);
}

void LogLine::Key(std::string_view key) {
  text_ += ',';
  AppendJsonString(key, &text_);
  text_ += ':';
}

LogLine::~LogLine() {
  if (borrowed_) t_line_buffer_busy = false;
}

LogLine& LogLine::Add(std::string_view key, std::string_view value) {
  if (!enabled_) return *this;
  Key(key);
  AppendJsonString(value, &text_);
  return *this;
}

LogLine& LogLine::Add(std::string_view key, int64_t value) {
  if (!enabled_) return *this;
  Key(key);
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  text_.append(buf, static_cast<size_t>(end - buf));
  return *this;
}

LogLine& LogLine::Add(std::string_view key, double value) {
  if (!enabled_) return *this;
  Key(key);
  AppendJson(boost::json::value(value), &text_);
  return *this;
}

LogLine& LogLine::Add(std::string_view key, const boost::json::value& value) {
  if (!enabled_) return *this;
  Key(key);
  AppendJson(value, &text_);
  return *this;
}

void LogLine::Write() {
  if (!enabled_) return;
  text_ += '}';
  if (LineWriter* w = g_writer.load()) {
    w->Append(text_, level_ >= LogLevel::kWarning);
  } else {
    std::fprintf(stderr, "%s\n", text_.c_str());
  }
  enabled_ = false;  // written once
}

void Log(LogLevel level, std::string_view msg, const boost::json::object& fields) {
  if (!LogEnabled(level)) return;
  LogLine line(level, msg);
  for (const auto& kv : fields) {
    if (kv.key() == "ts" || kv.key() == "level" || kv.key() == "msg") continue;
    line.Add(kv.key(), kv.value());
  }
  line.Write();
}

}  // namespace mast
