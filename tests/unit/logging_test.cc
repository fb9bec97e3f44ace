#include "common/logging.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "fixture_util.h"

namespace mast {
namespace {

namespace json = boost::json;

// Sends stderr (where the log writer writes) to a file while it lives.
class CapturedStderr {
 public:
  explicit CapturedStderr(const std::string& path) : saved_(dup(STDERR_FILENO)) {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
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

}  // namespace
}  // namespace mast
