// Shared helpers of the end-to-end suites: the `mast` server process
// (ServerProcess: spawn with a clean environment, wait for the "listening"
// log line, read its JSON log, stop by PID), temporary directories, fixture
// files and JSON comparisons, OIP request builders.
//
// Everything here is inline so that several test files of one binary can
// include it.
#ifndef MAST_TESTS_E2E_E2E_UTIL_H_
#define MAST_TESTS_E2E_E2E_UTIL_H_

#include <ostream>  // before any Boost header (Boost 1.81 + GCC 12)

#include "http_client.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>

extern char** environ;

namespace mast_e2e {

namespace fs = std::filesystem;
namespace json = boost::json;
using boost::beast::http::verb;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A peer closing a socket must not kill the test process.
inline const bool kSigpipeIgnored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

inline const std::string kSourceDir = MAST_SOURCE_DIR;
inline const std::string kBinary = MAST_BINARY;

// ---------------------------------------------------------------------------
// Files, fixtures and JSON helpers

inline std::string FixtureDir(const std::string& name) {
  return kSourceDir + "/tests/fixtures/models/" + name;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline json::object Expected(const std::string& fixture) {
  return json::parse(ReadFile(FixtureDir(fixture) + "/expected.json")).as_object();
}

// Row `r` of expected.json as {feature: value}.
inline json::object NamedRow(const json::object& expected, size_t r) {
  const auto& names = expected.at("feature_names").as_array();
  const auto& values = expected.at("inputs").as_array().at(r).as_array();
  json::object row;
  for (size_t i = 0; i < names.size(); ++i) row[names[i].as_string()] = values[i];
  return row;
}

inline json::array NamedRows(const json::object& expected) {
  json::array rows;
  for (size_t r = 0; r < expected.at("inputs").as_array().size(); ++r) {
    rows.push_back(NamedRow(expected, r));
  }
  return rows;
}

// The rows of expected.json flattened (row-major) as numbers.
inline json::array FlatInputs(const json::object& expected) {
  json::array flat;
  for (const auto& row : expected.at("inputs").as_array()) {
    for (const auto& v : row.as_array()) flat.push_back(v);
  }
  return flat;
}

inline json::array Flatten(const json::array& nested) {
  json::array flat;
  for (const auto& row : nested) {
    if (row.is_array()) {
      for (const auto& v : row.as_array()) flat.push_back(v);
    } else {
      flat.push_back(row);
    }
  }
  return flat;
}

inline std::string Str(const json::value& v) { return json::serialize(v); }

// Compares JSON values; numbers within `tolerance`, everything else exactly.
inline ::testing::AssertionResult JsonNear(const json::value& got, const json::value& want,
                                    double tolerance, const std::string& where = "$") {
  if (want.is_array()) {
    if (!got.is_array()) {
      return ::testing::AssertionFailure() << where << ": expected an array, got " << Str(got);
    }
    const auto& g = got.as_array();
    const auto& w = want.as_array();
    if (g.size() != w.size()) {
      return ::testing::AssertionFailure() << where << ": expected " << w.size()
                                           << " elements, got " << g.size() << ": "
                                           << Str(got);
    }
    for (size_t i = 0; i < w.size(); ++i) {
      auto r = JsonNear(g[i], w[i], tolerance, where + "[" + std::to_string(i) + "]");
      if (!r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (want.is_number()) {
    if (!got.is_number()) {
      return ::testing::AssertionFailure() << where << ": expected a number, got " << Str(got);
    }
    const double g = got.to_number<double>();
    const double w = want.to_number<double>();
    const double scale = std::max(1.0, std::fabs(w));
    if (!(std::fabs(g - w) <= tolerance * scale)) {
      return ::testing::AssertionFailure() << where << ": got " << Str(got) << ", expected "
                                           << Str(want) << " (tolerance " << tolerance << ")";
    }
    return ::testing::AssertionSuccess();
  }
  if (got != want) {
    return ::testing::AssertionFailure() << where << ": got " << Str(got) << ", expected "
                                         << Str(want);
  }
  return ::testing::AssertionSuccess();
}

// The string member `key` of a JSON object value, or "".
inline std::string StringField(const json::value& v, const char* key) {
  const json::object* o = v.if_object();
  if (!o) return "";
  const json::value* f = o->if_contains(key);
  return f && f->is_string() ? std::string(f->get_string()) : "";
}

inline std::string RandomHex(int n) {
  static std::mt19937_64 rng{std::random_device{}()};
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back("0123456789abcdef"[rng() % 16]);
  return s;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "mast-e2e-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

// Adds DIR/<name>/<version>/ holding symlinks to the fixture's model files
// (model.onnx / model.json / model.ubj and model.yaml if present).
inline void AddModel(const fs::path& repo, const std::string& name, const std::string& fixture,
              const std::string& version = "1") {
  const fs::path dir = repo / name / version;
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(FixtureDir(fixture))) {
    const std::string file = e.path().filename().string();
    if (file.rfind("model.", 0) == 0) fs::create_symlink(e.path(), dir / file);
  }
}

// ---------------------------------------------------------------------------
// Running the CLI

// What a command printed and how it ended.
struct CliRun {
  int exit_code = -1;
  std::string out;  // stdout; with stderr too unless it went to `err`
  std::string err;  // stderr, when RunShell was given a file for it
};

// Runs `command` through the shell and collects its stdout. Its stderr goes
// with stdout, or to `stderr_path` (then read into `err`) if one is given.
inline CliRun RunShell(const std::string& command, const std::string& stderr_path = "") {
  const std::string cmd =
      command + (stderr_path.empty() ? std::string(" 2>&1") : " 2>'" + stderr_path + "'");
  CliRun r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) r.out.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (!stderr_path.empty()) r.err = ReadFile(stderr_path);
  return r;
}

// Runs `mast <args>` with `env` (VAR=value ...) in front; stdout and stderr
// together in `out`.
inline CliRun RunCli(const std::string& args, const std::string& env = "") {
  return RunShell(env + " " + kBinary + " " + args);
}

// ---------------------------------------------------------------------------
// The server process

using Env = std::vector<std::pair<std::string, std::string>>;

class ServerProcess {
 public:
  // Spawns `mast <args>` with stdout and stderr going to a temporary log file.
  // The environment is the test's own minus everything mast reads (MODEL_PATH,
  // LOG_LEVEL, PORT, MAST_*), plus `env`.
  static std::unique_ptr<ServerProcess> Spawn(const std::vector<std::string>& args,
                                              const Env& env = {}) {
    std::unique_ptr<ServerProcess> p(new ServerProcess());
    p->log_path_ = (p->log_dir_.path() / "mast.log").string();

    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      std::string name = entry.substr(0, entry.find('='));
      if (name == "MODEL_PATH" || name == "LOG_LEVEL" || name == "PORT" ||
          name.rfind("MAST_", 0) == 0) {
        continue;
      }
      env_strings.push_back(entry);
    }
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);

    std::vector<std::string> argv_strings{kBinary};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, p->log_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 2, 1);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t empty, defaults;
    sigemptyset(&empty);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);  // ignored here; default in the server
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    const int rc = posix_spawn(&p->pid_, kBinary.c_str(), &actions, &attr, argv.data(),
                               envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      p->pid_ = -1;
      p->spawn_error_ = std::string("posix_spawn: ") + std::strerror(rc);
    }
    return p;
  }

  // Spawns and waits (up to `timeout`) for the "listening" log line. Returns
  // null and fills `*error` (with the log) if the server did not come up.
  static std::unique_ptr<ServerProcess> Start(const std::vector<std::string>& args,
                                              const Env& env, std::string* error,
                                              std::chrono::milliseconds timeout = 10s) {
    auto p = Spawn(args, env);
    if (!p->WaitListening(timeout, error)) return nullptr;
    return p;
  }

  ~ServerProcess() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }

  bool WaitListening(std::chrono::milliseconds timeout, std::string* error) {
    if (pid_ < 0) {
      *error = spawn_error_;
      return false;
    }
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      for (const auto& line : LogLines()) {
        if (StringField(line, "msg") == "listening") {
          listening_ = line.as_object();
          port_ = static_cast<uint16_t>(listening_.at("port").to_number<int64_t>());
          return true;
        }
      }
      if (auto status = WaitExit(0ms)) {
        *error = "mast exited (" + DescribeStatus(*status) + ") before listening; log:\n" + Log();
        return false;
      }
      std::this_thread::sleep_for(10ms);
    }
    *error = "no \"listening\" line within " + std::to_string(timeout.count()) +
             " ms; log:\n" + Log();
    return false;
  }

  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  const json::object& listening_line() const { return listening_; }

  std::string Log() const { return ReadFile(log_path_); }

  // Every log line that parses as a JSON object.
  std::vector<json::value> LogLines() const {
    std::vector<json::value> out;
    std::istringstream in(Log());
    std::string line;
    while (std::getline(in, line)) {
      boost::system::error_code ec;
      json::value v = json::parse(line, ec);
      if (!ec && v.is_object()) out.push_back(std::move(v));
    }
    return out;
  }

  // Polls the log until a line satisfies `match` (the log is written
  // asynchronously).
  std::optional<json::object> FindLogLine(const std::function<bool(const json::object&)>& match,
                                          std::chrono::milliseconds timeout = 3s) const {
    const auto deadline = Clock::now() + timeout;
    do {
      for (const auto& v : LogLines()) {
        if (match(v.as_object())) return v.as_object();
      }
      std::this_thread::sleep_for(10ms);
    } while (Clock::now() < deadline);
    return std::nullopt;
  }

  bool running() const { return pid_ > 0 && !exit_status_; }

  bool Signal(int sig) { return running() && ::kill(pid_, sig) == 0; }

  // The wait status once the process has exited (polls up to `timeout`).
  std::optional<int> WaitExit(std::chrono::milliseconds timeout) {
    if (exit_status_ || pid_ <= 0) return exit_status_;
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exit_status_ = status;
        return exit_status_;
      }
      if (Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(5ms);
    }
  }

  // SIGTERM, then wait up to `timeout`; SIGKILL after that. Returns the wait
  // status, or nullopt if SIGKILL was needed.
  std::optional<int> Stop(std::chrono::milliseconds timeout = 15s) {
    if (!running()) return exit_status_;
    Signal(SIGTERM);
    auto status = WaitExit(timeout);
    if (!status) {
      ::kill(pid_, SIGKILL);
      int s = 0;
      ::waitpid(pid_, &s, 0);
      exit_status_ = s;
      return std::nullopt;
    }
    return status;
  }

  static std::string DescribeStatus(int status) {
    if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "wait status " + std::to_string(status);
  }

 private:
  ServerProcess() = default;

  TempDir log_dir_;
  std::string log_path_;
  pid_t pid_ = -1;
  std::string spawn_error_;
  uint16_t port_ = 0;
  json::object listening_;
  std::optional<int> exit_status_;
};

inline bool ExitedCleanly(const std::optional<int>& status) {
  return status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
}

inline std::string StatusText(const std::optional<int>& status) {
  return status ? ServerProcess::DescribeStatus(*status) : "still running (needed SIGKILL)";
}

// State of a server shared by one suite.
struct SuiteServer {
  std::unique_ptr<TempDir> repo;
  std::unique_ptr<ServerProcess> server;
  std::string error;

  void Stop() {
    if (!server) return;
    auto status = server->Stop();
    EXPECT_TRUE(ExitedCleanly(status))
        << "server did not exit cleanly on SIGTERM: " << StatusText(status) << "\nlog:\n"
        << server->Log();
    server.reset();
  }
};

// ---------------------------------------------------------------------------
// OIP request helpers

inline json::object Tensor(const std::string& name, const std::string& datatype, json::array shape,
                    json::value data) {
  return json::object{
      {"name", name}, {"datatype", datatype}, {"shape", std::move(shape)}, {"data", std::move(data)}};
}

inline std::string InferBody(json::array inputs, std::optional<json::array> outputs = std::nullopt,
                      std::optional<std::string> id = std::nullopt) {
  json::object body{{"inputs", std::move(inputs)}};
  if (outputs) body["outputs"] = std::move(*outputs);
  if (id) body["id"] = *id;
  return json::serialize(body);
}

inline const json::object* FindOutput(const json::value& response, const std::string& name) {
  const json::object* o = response.if_object();
  if (!o || !o->contains("outputs") || !o->at("outputs").is_array()) return nullptr;
  for (const auto& out : o->at("outputs").as_array()) {
    if (StringField(out, "name") == name) return &out.as_object();
  }
  return nullptr;
}
// Returns a pointer into `response`: never call with a temporary.
const json::object* FindOutput(json::value&& response, const std::string& name) = delete;

}  // namespace mast_e2e

#endif  // MAST_TESTS_E2E_E2E_UTIL_H_
