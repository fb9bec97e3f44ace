// PostgresServer: starts and stops a throwaway PostgreSQL server for tests.
// See postgres_server.h for the contract.
#include "support/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace mast::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kStartTimeout = std::chrono::seconds(20);
constexpr int kPortAttempts = 3;  // another process may take the free port first

// Who the server's programs run as.
struct RunAs {
  bool switch_user = false;  // true when we are root
  uid_t uid = 0;
  gid_t gid = 0;
};

// The newest /usr/lib/postgresql/<major>/bin holding initdb and postgres.
std::string FindBinDir() {
  if (const char* dir = std::getenv("MAST_POSTGRES_BIN_DIR"); dir != nullptr && *dir) {
    return dir;
  }
  std::string best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    const fs::path bin = entry.path() / "bin";
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit) ||
        !fs::exists(bin / "initdb") || !fs::exists(bin / "postgres")) {
      continue;
    }
    if (std::stoi(name) > best_version) {
      best_version = std::stoi(name);
      best = bin.string();
    }
  }
  return best;
}

std::string Tail(const std::string& path, size_t max_chars = 2000) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  if (text.size() > max_chars) text = "..." + text.substr(text.size() - max_chars);
  return text;
}

// A port on 127.0.0.1 that was free a moment ago, or -1.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// Forks and execs `args` (args[0] is the program's path) in `dir`, as
// `run_as`, stdout and stderr appended to `log_path`. The child gets SIGINT
// (PostgreSQL's fast shutdown) if this thread dies. Returns the PID or -1.
pid_t Spawn(const std::vector<std::string>& args, const std::string& dir,
            const std::string& log_path, const RunAs& run_as) {
  // Everything the child needs is prepared before fork(): after it, only
  // async-signal-safe calls are allowed in a multithreaded process.
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) {
    if (log_fd >= 0) close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return -1;
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    setpgid(0, 0);  // keep terminal signals for our own, orderly shutdown
    if (run_as.switch_user &&
        (setgroups(0, nullptr) != 0 || setgid(run_as.gid) != 0 || setuid(run_as.uid) != 0)) {
      static const char kMsg[] = "postgres_server: cannot switch to the postgres user\n";
      (void)!write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
      _exit(126);
    }
    // After setuid, which clears it.
    prctl(PR_SET_PDEATHSIG, SIGINT);
    if (getppid() != parent) _exit(1);
    if (chdir(dir.c_str()) != 0) _exit(126);
    execv(argv[0], argv.data());
    static const char kMsg[] = "postgres_server: exec failed\n";
    (void)!write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
    _exit(127);
  }
  close(log_fd);
  close(null_fd);
  return pid;
}

// Waits up to `timeout` for child `pid` to exit; true if it did (and was
// reaped), storing its wait status in `*status` if not null.
bool WaitFor(pid_t pid, Clock::duration timeout, int* status = nullptr) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    int s = 0;
    pid_t r = waitpid(pid, &s, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      if (status != nullptr) *status = s;
      return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Stops our child `pid`: fast shutdown (SIGINT), then immediate (SIGQUIT),
// then SIGKILL. Signals only this PID.
void StopProcess(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGINT);
  if (WaitFor(pid, std::chrono::seconds(20))) return;
  kill(pid, SIGQUIT);
  if (WaitFor(pid, std::chrono::seconds(5))) return;
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

std::string ExitDescription(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended";
}

std::string KeywordDsn(int port, std::string_view database) {
  return "host=127.0.0.1 port=" + std::to_string(port) +
         " user=mast dbname=" + std::string(database) + " connect_timeout=5";
}

// Runs one statement outside a transaction; false and `*error` on failure.
bool RunSql(int port, std::string_view database, const std::string& sql, std::string* error) {
  PGconn* conn = PQconnectdb(KeywordDsn(port, database).c_str());
  bool ok = false;
  if (PQstatus(conn) != CONNECTION_OK) {
    *error = "cannot connect to the test server: " + std::string(PQerrorMessage(conn));
  } else {
    PGresult* res = PQexec(conn, sql.c_str());
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) *error = sql + ": " + PQresultErrorMessage(res);
    PQclear(res);
  }
  PQfinish(conn);
  return ok;
}

}  // namespace

std::unique_ptr<PostgresServer> PostgresServer::Start(std::string* error) {
  const std::string bin = FindBinDir();
  if (bin.empty()) {
    *error =
        "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin "
        "(install postgresql-15, or set MAST_POSTGRES_BIN_DIR)";
    return nullptr;
  }
  RunAs run_as;
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      *error = "running as root, and initdb refuses root, but there is no `postgres` user";
      return nullptr;
    }
    run_as = {true, pw->pw_uid, pw->pw_gid};
  }
  // /tmp, not $TMPDIR: the Unix socket path must stay under ~100 bytes.
  char dir_template[] = "/tmp/mast-pg-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    *error = std::string("mkdtemp: ") + std::strerror(errno);
    return nullptr;
  }
  const std::string dir = dir_template;
  auto fail = [&](std::string reason) -> std::unique_ptr<PostgresServer> {
    *error = std::move(reason);
    std::error_code ec;
    fs::remove_all(dir, ec);
    return nullptr;
  };
  if (run_as.switch_user && chown(dir.c_str(), run_as.uid, run_as.gid) != 0) {
    return fail("chown " + dir + ": " + std::strerror(errno));
  }

  const std::string data = dir + "/data";
  const std::string initdb_log = dir + "/initdb.log";
  pid_t initdb = Spawn({bin + "/initdb", "-D", data, "-A", "trust", "-U", "mast", "--no-sync", "-E",
                        "UTF8", "--locale=C"},
                       dir, initdb_log, run_as);
  if (initdb < 0) return fail("cannot start " + bin + "/initdb");
  int status = 0;
  waitpid(initdb, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return fail("initdb " + ExitDescription(status) + ":\n" + Tail(initdb_log));
  }

  const std::string server_log = dir + "/postgres.log";
  std::string last_failure;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    const int port = FreePort();
    if (port < 0) return fail("no free TCP port on 127.0.0.1");
    pid_t pid = Spawn({bin + "/postgres", "-D", data, "-p", std::to_string(port), "-k", dir, "-c",
                       "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c",
                       "synchronous_commit=off", "-c", "full_page_writes=off"},
                      dir, server_log, run_as);
    if (pid < 0) return fail("cannot start " + bin + "/postgres");
    const auto deadline = Clock::now() + kStartTimeout;
    const std::string ping_dsn = KeywordDsn(port, "postgres");
    bool ready = false;
    bool exited = false;
    while (Clock::now() < deadline) {
      if (WaitFor(pid, std::chrono::milliseconds(0), &status)) {
        exited = true;
        break;
      }
      if (PQping(ping_dsn.c_str()) == PQPING_OK) {
        ready = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (ready) {
      // From here on the destructor stops the server and removes `dir`.
      std::unique_ptr<PostgresServer> server(new PostgresServer(dir, pid, port));
      std::string create_error;
      if (!RunSql(port, "postgres", "CREATE DATABASE mast_test", &create_error)) {
        *error = create_error;
        return nullptr;
      }
      return server;
    }
    if (!exited) {
      StopProcess(pid);
      return fail("postgres did not accept connections within " +
                  std::to_string(kStartTimeout.count()) + " s:\n" + Tail(server_log));
    }
    last_failure = "postgres " + ExitDescription(status) + ":\n" + Tail(server_log);
    if (Tail(server_log).find("could not bind") == std::string::npos &&
        Tail(server_log).find("already in use") == std::string::npos) {
      break;  // not a port race: retrying will not help
    }
  }
  return fail(last_failure);
}

PostgresServer* PostgresServer::Shared(std::string* error) {
  struct Holder {
    std::unique_ptr<PostgresServer> server;
    std::string error;
  };
  // Destroyed at exit, which stops the server.
  static Holder holder = [] {
    Holder h;
    h.server = Start(&h.error);
    return h;
  }();
  if (holder.server == nullptr) *error = holder.error;
  return holder.server.get();
}

PostgresServer::~PostgresServer() {
  StopProcess(pid_);
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string PostgresServer::DsnFor(std::string_view database) const {
  return "postgresql://mast@127.0.0.1:" + std::to_string(port_) + "/" + std::string(database);
}

bool PostgresServer::CreateDatabase(std::string_view name, std::string* error) const {
  if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      })) {
    *error = "bad database name '" + std::string(name) + "'";
    return false;
  }
  return RunSql(port_, "postgres", "CREATE DATABASE \"" + std::string(name) + "\"", error);
}

}  // namespace mast::testing
