#include "common/logging.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "common/cpus.h"
#include "fixture_util.h"

namespace mast {
namespace {

namespace json = boost::json;

// Sends stderr (where the log writer writes) to a file, or to a descriptor
// it takes over, while it lives; flushes the log before putting stderr back.
class CapturedStderr {
 public:
  explicit CapturedStderr(const std::string& path)
      : CapturedStderr(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600)) {}
  explicit CapturedStderr(int fd) : saved_(dup(STDERR_FILENO)) {
    dup2(fd, STDERR_FILENO);
    close(fd);
  }
  ~CapturedStderr() {
    FlushLogs();
    dup2(saved_, STDERR_FILENO);
    close(saved_);
  }

 private:
  int saved_;
};

std::vector<json::object> Lines(const std::string& path) {
  std::vector<json::object> out;
  std::istringstream in(testing::ReadFile(path));
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line).as_object());
  return out;
}

TEST(LogLineTest, WritesTypedFieldsInOrderAndALineMadeMeanwhileStaysWhole) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/stderr";
  {
    CapturedStderr captured(path);
    InitLogging(LogLevel::kInfo);
    LogLine outer(LogLevel::kInfo, "outer");
    outer.Add("text", "a \"quoted\" value").Add("count", 42);
    // A line logged while `outer` is being built (e.g. by code computing a
    // field) must not disturb it.
    LogLine(LogLevel::kWarning, "inner").Add("n", int64_t{7}).Write();
    LogInfo("plain", {{"k", "v"}});
    outer.Add("ratio", 0.25).Add("json", json::value(json::array{1, 2})).Write();
    LogLine(LogLevel::kDebug, "not at INFO").Add("x", 1).Write();
  }
  const auto lines = Lines(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].at("msg"), "inner");
  EXPECT_EQ(lines[0].at("level"), "warning");
  EXPECT_EQ(lines[0].at("n"), 7);
  EXPECT_EQ(lines[1].at("msg"), "plain");
  EXPECT_EQ(lines[1].at("k"), "v");
  const json::object& o = lines[2];
  EXPECT_EQ(o.at("msg"), "outer");
  EXPECT_EQ(o.at("text"), "a \"quoted\" value");
  EXPECT_EQ(o.at("count"), 42);
  EXPECT_EQ(o.at("ratio"), 0.25);
  EXPECT_EQ(o.at("json"), (json::array{1, 2}));
  // ts is RFC 3339 with milliseconds.
  const std::string ts(o.at("ts").as_string());
  EXPECT_EQ(ts.size(), 24u) << ts;
  EXPECT_TRUE(ParseRfc3339(ts).ok()) << ts;
  std::vector<std::string> keys;
  for (const auto& kv : o) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"ts", "level", "msg", "text", "count", "ratio",
                                            "json"}));
}

// When stderr stops taking lines the backlog stops at 64 MiB: later lines
// are dropped and counted, and a warning says how many once stderr moves.
TEST(LogWriterTest, DropsAndCountsLinesWhenStderrStalls) {
  InitLogging(LogLevel::kInfo);
  FlushLogs();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string seen;
  std::thread reader;
  int64_t dropped = 0;
  {
    CapturedStderr captured(fds[1]);
    const int64_t before = LogLinesDropped();
    const std::string filler(1000, 'x');
    // Nobody reads the pipe yet: the writer blocks after 64 KiB.
    for (int i = 0; i < 70000; ++i) LogInfo("filler", {{"text", filler}});
    dropped = LogLinesDropped() - before;
    // Now read everything, so the writer gets through its backlog.
    reader = std::thread([&] {
      char buf[65536];
      for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) {
        seen.append(buf, static_cast<size_t>(n));
        if (seen.size() > (1 << 20)) seen.erase(0, seen.size() - 4096);  // keep the tail
      }
    });
  }  // flushed, and the pipe's last writer goes: the reader ends
  reader.join();
  close(fds[0]);
  EXPECT_GT(dropped, 0);
  EXPECT_LT(dropped, 70000 - 60000);  // ~64 MiB of ~1 KiB lines were kept
  EXPECT_NE(seen.find("log lines dropped: stderr too slow"), std::string::npos);
}

// The tid of this process's thread named `name`, or -1.
pid_t ThreadNamed(const std::string& name) {
  for (int attempt = 0; attempt < 200; ++attempt) {  // it may still be starting
    const std::filesystem::path task = testing::ThreadTaskDir(name);
    if (!task.empty()) return static_cast<pid_t>(std::stol(task.filename().string()));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

// The writer yields its core to any thread that wakes (SCHED_IDLE); the
// thread that writes warnings and backlogs runs at normal priority.
TEST(LogWriterTest, BackgroundWriterRunsAtIdlePriority) {
  InitLogging(LogLevel::kInfo);
  const pid_t background = ThreadNamed("mast-log");
  const pid_t prompt = ThreadNamed("mast-log-now");
  ASSERT_GT(background, 0);
  ASSERT_GT(prompt, 0);
  EXPECT_EQ(sched_getscheduler(background), SCHED_IDLE);
  EXPECT_EQ(sched_getscheduler(prompt), SCHED_OTHER);
}

// With every core busy at normal priority, the idle-priority writer gets
// almost no CPU; the lines still reach the file, written by the
// normal-priority thread once 1 MiB waits, and none is dropped.
TEST(LogWriterTest, BusyCoresDoNotStopTheLog) {
  InitLogging(LogLevel::kInfo);
  FlushLogs();
  testing::TempDir dir;
  const std::string path = dir.path() + "/stderr";
  std::atomic<bool> stop{false};
  std::vector<std::thread> spinners;
  for (int cpu : UsableCpus()) {
    spinners.emplace_back([&stop, cpu] {
      PinCurrentThread(cpu);
      while (!stop.load(std::memory_order_relaxed)) {
      }
    });
  }
  const int64_t fell_behind = LogWriterFellBehind();
  const int64_t dropped = LogLinesDropped();
  constexpr int kLines = 16 * 1024;
  const std::string filler(1000, 'b');
  size_t size = 0;
  {
    CapturedStderr captured(path);
    for (int i = 0; i < kLines; ++i) LogInfo("filler", {{"text", filler}});
    // Not FlushLogs(): that would write from this thread.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      size = std::filesystem::file_size(path);
      if (size >= kLines * filler.size()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop = true;
    for (auto& t : spinners) t.join();
  }
  EXPECT_GE(size, kLines * filler.size());
  EXPECT_GT(LogWriterFellBehind(), fell_behind);
  EXPECT_EQ(LogLinesDropped(), dropped);
  EXPECT_EQ(Lines(path).size(), static_cast<size_t>(kLines));
}

// cachestat(2) (Linux 6.5): how many of a file's pages are cached and dirty.
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif
struct CacheStatRange {
  uint64_t off;
  uint64_t len;  // 0: to the end
};
struct CacheStat {
  uint64_t nr_cache;
  uint64_t nr_dirty;
  uint64_t nr_writeback;
  uint64_t nr_evicted;
  uint64_t nr_recently_evicted;
};

// When stderr is a file, the writer starts writing every 4 MiB of it to disk
// as it goes: the file does not pile up dirty pages for the kernel to write
// all at once 30 s later (600 MB at full load). Without that, all 32 MiB
// logged here would still be dirty when the test looks; with it, at most the
// last 4 MiB and the last batch.
TEST(LogWriterTest, StartsWritingAFileToDiskEvery4MiB) {
  InitLogging(LogLevel::kInfo);
  FlushLogs();
  testing::TempDir dir;
  struct statfs fs {};
  ASSERT_EQ(statfs(dir.path().c_str(), &fs), 0);
  if (fs.f_type == TMPFS_MAGIC) GTEST_SKIP() << dir.path() << " is in memory: nothing to write";
  const std::string path = dir.path() + "/stderr";
  {
    CapturedStderr captured(path);
    const std::string filler(1000, 'z');
    for (int i = 0; i < 32 * 1024; ++i) LogInfo("filler", {{"text", filler}});
  }
  const int fd = open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  CacheStatRange range{0, 0};
  CacheStat stat{};
  const long rc = syscall(__NR_cachestat, fd, &range, &stat, 0);
  const int error = errno;
  close(fd);
  if (rc != 0 && error == ENOSYS) GTEST_SKIP() << "cachestat(2) needs Linux 6.5";
  ASSERT_EQ(rc, 0) << "cachestat: errno " << error;
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  EXPECT_GT(stat.nr_cache * page, 16u << 20) << "the file should still be in the page cache";
  EXPECT_LE(stat.nr_dirty * page, (4u << 20) + (512u << 10))
      << stat.nr_dirty << " dirty pages of " << stat.nr_cache;
}

}  // namespace
}  // namespace mast
