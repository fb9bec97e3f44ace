// PostgresServer: a throwaway PostgreSQL server for tests, so the store's
// PostgreSQL path runs against the real engine.
//
// Start() makes a temporary directory, runs initdb in it (trust
// authentication, superuser `mast`) and starts `postgres` on 127.0.0.1 with a
// free port, its Unix socket in the same directory and fsync off (test data
// only). The binaries are the newest /usr/lib/postgresql/<version>/bin, or
// $MAST_POSTGRES_BIN_DIR. initdb refuses to run as root, so when the tests run
// as root the directory is given to the `postgres` system user and both
// programs run as that user.
//
// Ownership: the PostgresServer owns the server process and the directory;
// its destructor stops the server (fast shutdown by PID, escalating to
// SIGQUIT and SIGKILL) and deletes the directory. If the test process dies
// without running destructors, the server still shuts down: it receives
// SIGINT when the thread that started it exits, so start it from the main
// thread (Shared() is called from test bodies, which run there).
//
// Thread-safety: const methods and CreateDatabase() may be called from any
// thread; Shared() is safe to call concurrently.
#ifndef MAST_TESTS_SUPPORT_POSTGRES_SERVER_H_
#define MAST_TESTS_SUPPORT_POSTGRES_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

namespace mast::testing {

class PostgresServer {
 public:
  // Starts a server and creates the database `mast_test`; on failure returns
  // nullptr and sets `*error` to the reason (with the server's log tail).
  static std::unique_ptr<PostgresServer> Start(std::string* error);

  // One server per test process, started on first use and stopped at exit
  // (startup takes a second or two). Returns nullptr and sets `*error` if it
  // could not start; later calls report the same error without retrying.
  static PostgresServer* Shared(std::string* error);

  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // "postgresql://mast@127.0.0.1:<port>/mast_test".
  std::string dsn() const { return DsnFor("mast_test"); }
  // The DSN of another database of this server.
  std::string DsnFor(std::string_view database) const;
  int port() const { return port_; }

  // Creates the empty database `name` (letters, digits and `_`). CREATE
  // DATABASE cannot run inside a transaction, so not through SqlDatabase.
  // Returns false and sets `*error` on failure.
  bool CreateDatabase(std::string_view name, std::string* error) const;

 private:
  PostgresServer(std::string dir, pid_t pid, int port)
      : dir_(std::move(dir)), pid_(pid), port_(port) {}

  const std::string dir_;  // temporary directory: data/, logs, socket
  const pid_t pid_;        // the postmaster, our child
  const int port_;
};

}  // namespace mast::testing

#endif  // MAST_TESTS_SUPPORT_POSTGRES_SERVER_H_
