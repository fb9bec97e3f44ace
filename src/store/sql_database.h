// SqlDatabase: the small SQL surface the store needs, with two real
// implementations: SqliteDatabase (single node, default) and PostgresDatabase
// (shared by replicas).
//
// Statements use `?` placeholders in both dialects (the PostgreSQL adapter
// numbers them). Values are NULL, 64-bit integers, doubles or text; BLOBs are
// not stored in SQL (model files live in the BlobStore).
//
// Errors from the engines are translated once, here:
//   unique-constraint violation  -> kAlreadyExists
//   foreign-key violation        -> kFailedPrecondition
//   cannot connect / connection lost -> kUnavailable
//   anything else                -> kInternal (with the engine's message)
//
// Thread-safety: InTransaction() may be called from any thread; transactions
// are serialised on one connection (the control plane's load is small), so
// never call InTransaction() from inside a transaction function.
#ifndef MAST_STORE_SQL_DATABASE_H_
#define MAST_STORE_SQL_DATABASE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "common/status.h"

namespace mast {

using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;
using SqlRow = std::vector<SqlValue>;

// Typed reads of a cell; NULL or a mismatched type reads as the default.
int64_t SqlInt(const SqlValue& v, int64_t fallback = 0);
double SqlDouble(const SqlValue& v, double fallback = 0);
std::string SqlText(const SqlValue& v);
bool SqlIsNull(const SqlValue& v);

// The statements of one open transaction. Only valid inside the function
// given to SqlDatabase::InTransaction.
class SqlTransaction {
 public:
  virtual ~SqlTransaction() = default;
  // Runs a statement that returns rows (SELECT, or ... RETURNING).
  virtual StatusOr<std::vector<SqlRow>> Query(std::string_view sql,
                                              const std::vector<SqlValue>& params = {}) = 0;
  // Runs a statement and returns the number of rows it changed.
  virtual StatusOr<int64_t> Exec(std::string_view sql,
                                 const std::vector<SqlValue>& params = {}) = 0;
  // Runs several `;`-separated statements without parameters (migrations).
  virtual Status ExecScript(std::string_view sql) = 0;
};

// Base of the adapters' transactions: the rule both engines follow, that a
// failed statement fails the whole transaction. Later statements answer
// kFailedPrecondition, and InTransaction returns first_error() (rolling
// back) even if the transaction function ignored the error.
class FailFastTransaction : public SqlTransaction {
 public:
  // The first error of a statement of this transaction, or OK.
  const Status& first_error() const { return first_error_; }

 protected:
  // OK while no statement has failed.
  Status CheckNotFailed() const {
    if (first_error_.ok()) return OkStatus();
    return FailedPrecondition("transaction already failed: " + first_error_.message());
  }
  // Remembers `status` if it is the first error; returns it.
  Status Record(Status status) {
    if (!status.ok() && first_error_.ok()) first_error_ = status;
    return status;
  }

 private:
  Status first_error_;
};

class SqlDatabase {
 public:
  virtual ~SqlDatabase() = default;
  // "sqlite" or "postgresql".
  virtual std::string_view dialect() const = 0;
  // Runs `fn` between BEGIN and COMMIT. If `fn` returns an error, or the
  // commit fails, the transaction is rolled back and the error returned.
  virtual Status InTransaction(const std::function<Status(SqlTransaction&)>& fn) = 0;
};

// The adapters' common base: one connection, so one transaction at a time;
// a transaction function that calls InTransaction again is refused (an
// error) rather than deadlocking on the lock.
class SerializedSqlDatabase : public SqlDatabase {
 public:
  Status InTransaction(const std::function<Status(SqlTransaction&)>& fn) final;

 protected:
  // Runs `fn` between BEGIN and COMMIT (rolling back on error); called with
  // the transaction lock held.
  virtual Status RunTransaction(const std::function<Status(SqlTransaction&)>& fn) = 0;

 private:
  std::mutex mu_;
  // The thread running a transaction function.
  std::atomic<std::thread::id> owner_{};
};

// Opens (creating if needed) an SQLite database file in WAL mode with foreign
// keys on. Errors: kUnavailable naming the path.
StatusOr<std::unique_ptr<SqlDatabase>> OpenSqliteDatabase(const std::string& path);

// Connects to PostgreSQL with a libpq connection string
// ("postgresql://user@host:port/db" or "host=... dbname=..."). Errors:
// kUnavailable with libpq's message (the password, if any, is not repeated).
StatusOr<std::unique_ptr<SqlDatabase>> OpenPostgresDatabase(const std::string& dsn);

}  // namespace mast

#endif  // MAST_STORE_SQL_DATABASE_H_
