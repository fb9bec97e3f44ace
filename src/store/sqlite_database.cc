// SqliteDatabase: the SqlDatabase implementation on one SQLite file, through
// the sqlite3 C API. The default store for a single node.
//
// Settings applied when the file is opened:
//   journal_mode=WAL     readers never block the writer, and another process
//                        (a CLI next to `mast serve`) can read meanwhile;
//   synchronous=FULL     every COMMIT fsyncs the WAL before it returns. With
//                        NORMAL, WAL is still never corrupted, but a power
//                        loss may drop the last commits after they were
//                        acknowledged (a registered version would vanish
//                        while its blob stays). The registry writes little,
//                        so one fsync per transaction is cheap;
//   foreign_keys=ON      SQLite's default is off;
//   busy_timeout=5000 ms two processes on one file wait for each other's
//                        write lock instead of failing with SQLITE_BUSY.
// Transactions start with BEGIN IMMEDIATE, so the write lock is taken up front
// (waiting under the busy timeout) and a transaction never fails half way
// because another connection upgraded to writing first.
//
// A statement that fails marks its transaction as failed: the following
// statements of that transaction return FailedPrecondition, and InTransaction
// rolls back and returns the first error even if the function ignored it.
// PostgreSQL aborts a transaction at its first error, so this keeps the two
// implementations alike (use INSERT ... ON CONFLICT to upsert).
//
// Thread-safety: one connection guarded by a mutex; InTransaction serialises
// callers. Ownership: the SqliteDatabase owns the connection and closes it in
// its destructor; SqliteTransaction borrows it for one transaction.
#include <sqlite3.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/logging.h"
#include "store/sql_database.h"

namespace mast {
namespace {

constexpr int kBusyTimeoutMs = 5000;
// How much of a failing statement an error message quotes.
constexpr size_t kMaxQuotedSql = 160;

std::string QuoteSql(std::string_view sql) {
  std::string s(sql.substr(0, kMaxQuotedSql));
  if (sql.size() > kMaxQuotedSql) s += "...";
  return s;
}

// Translates an SQLite result code (extended codes are on) into a Status.
Status SqliteError(sqlite3* db, int rc, std::string_view sql) {
  std::string message = "sqlite: ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (!sql.empty()) message += " (in: " + QuoteSql(sql) + ")";
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return Status(StatusCode::kAlreadyExists, std::move(message));
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return FailedPrecondition(std::move(message));
    default:
      break;
  }
  switch (rc & 0xff) {  // primary result code
    case SQLITE_BUSY:   // another process held the write lock past the timeout
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
      return Unavailable(std::move(message));
    default:
      return Internal(std::move(message));
  }
}

// Whether a column declared with type `decltype` has REAL affinity, by the
// rules of https://sqlite.org/datatype3.html#determination_of_column_affinity.
bool HasRealAffinity(const char* decltype_or_null) {
  if (decltype_or_null == nullptr) return false;
  std::string type(decltype_or_null);
  for (char& ch : type) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  auto has = [&type](const char* word) { return type.find(word) != std::string::npos; };
  if (has("INT") || has("CHAR") || has("CLOB") || has("TEXT") || has("BLOB")) return false;
  return has("REAL") || has("FLOA") || has("DOUB");
}

// Finalizes a prepared statement when it goes out of scope.
struct StatementDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

class SqliteTransaction final : public FailFastTransaction {
 public:
  explicit SqliteTransaction(sqlite3* db) : db_(db) {}
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;

  StatusOr<std::vector<SqlRow>> Query(std::string_view sql,
                                      const std::vector<SqlValue>& params) override {
    std::vector<SqlRow> rows;
    RETURN_IF_ERROR(Record(Run(sql, params, &rows)));
    return rows;
  }

  StatusOr<int64_t> Exec(std::string_view sql, const std::vector<SqlValue>& params) override {
    // sqlite3_changes() keeps the count of the last INSERT/UPDATE/DELETE, so a
    // statement that changes nothing (DDL, SELECT) would report a stale count;
    // the total-changes counter tells whether this statement changed rows.
    const int64_t total_before = sqlite3_total_changes64(db_);
    RETURN_IF_ERROR(Record(Run(sql, params, nullptr)));
    if (sqlite3_total_changes64(db_) == total_before) return int64_t{0};
    return static_cast<int64_t>(sqlite3_changes64(db_));
  }

  Status ExecScript(std::string_view sql) override {
    RETURN_IF_ERROR(CheckNotFailed());
    std::string script(sql);  // sqlite3_exec needs a NUL-terminated string
    char* errmsg = nullptr;
    int rc = sqlite3_exec(db_, script.c_str(), nullptr, nullptr, &errmsg);
    sqlite3_free(errmsg);  // sqlite3_errmsg() holds the same text
    if (rc != SQLITE_OK) return Record(SqliteError(db_, sqlite3_extended_errcode(db_), sql));
    return OkStatus();
  }

 private:
  // Prepares `sql`, binds `params`, steps to the end; appends the result rows
  // to `rows` unless it is null.
  Status Run(std::string_view sql, const std::vector<SqlValue>& params, std::vector<SqlRow>* rows) {
    RETURN_IF_ERROR(CheckNotFailed());
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
    Statement stmt(raw);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, sql);
    if (stmt == nullptr) return InvalidArgument("sqlite: empty statement");
    if (tail != nullptr && tail < sql.data() + sql.size()) {
      // Whatever follows must be whitespace, comments or `;` only.
      sqlite3_stmt* next = nullptr;
      const int remaining = static_cast<int>(sql.data() + sql.size() - tail);
      rc = sqlite3_prepare_v2(db_, tail, remaining, &next, nullptr);
      Statement next_stmt(next);
      if (rc != SQLITE_OK || next_stmt != nullptr) {
        return InvalidArgument(
            "sqlite: more than one statement; use ExecScript (in: " + QuoteSql(sql) + ")");
      }
    }
    if (sqlite3_bind_parameter_count(stmt.get()) != static_cast<int>(params.size())) {
      return InvalidArgument("sqlite: statement has " +
                             std::to_string(sqlite3_bind_parameter_count(stmt.get())) +
                             " placeholders but " + std::to_string(params.size()) +
                             " parameters were given (in: " + QuoteSql(sql) + ")");
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      const SqlValue& v = params[i];
      if (const auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt.get(), index, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt.get(), index, *d);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        // SQLITE_STATIC: `params` outlives the statement.
        rc = sqlite3_bind_text64(stmt.get(), index, s->data(), s->size(), SQLITE_STATIC,
                                 SQLITE_UTF8);
      } else {
        rc = sqlite3_bind_null(stmt.get(), index);
      }
      if (rc != SQLITE_OK) return SqliteError(db_, rc, sql);
    }
    const int columns = sqlite3_column_count(stmt.get());
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      if (rows == nullptr) continue;
      SqlRow& row = rows->emplace_back();
      row.reserve(columns);
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(stmt.get(), c)) {
          case SQLITE_INTEGER:
            if (HasRealAffinity(sqlite3_column_decltype(stmt.get(), c))) {
              // SQLite stores integral REALs as integers; SELECT converts them
              // back, but RETURNING (3.40) does not.
              row.emplace_back(sqlite3_column_double(stmt.get(), c));
            } else {
              row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt.get(), c)));
            }
            break;
          case SQLITE_FLOAT:
            row.emplace_back(sqlite3_column_double(stmt.get(), c));
            break;
          case SQLITE_NULL:
            row.emplace_back(std::monostate());
            break;
          default: {  // TEXT, or a BLOB read as its bytes
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), c));
            const int size = sqlite3_column_bytes(stmt.get(), c);
            row.emplace_back(std::string(text != nullptr ? text : "", size));
          }
        }
      }
    }
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, sql);
    return OkStatus();
  }

  sqlite3* const db_;  // borrowed; used only while the owner's mutex is held
};

class SqliteDatabase final : public SerializedSqlDatabase {
 public:
  // Takes ownership of `db`, an open connection already configured.
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  ~SqliteDatabase() override { sqlite3_close_v2(db_); }
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  std::string_view dialect() const override { return "sqlite"; }

 private:
  Status RunTransaction(const std::function<Status(SqlTransaction&)>& fn) override {
    RETURN_IF_ERROR(Execute("BEGIN IMMEDIATE"));
    SqliteTransaction txn(db_);
    Status status = fn(txn);
    if (status.ok()) status = txn.first_error();
    if (status.ok()) status = Execute("COMMIT");
    if (!status.ok()) Rollback();
    return status;
  }

  Status Execute(const char* sql) {
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, sqlite3_extended_errcode(db_), sql);
    return OkStatus();
  }

  void Rollback() {
    // Some errors (I/O, disk full) make SQLite roll back by itself.
    if (sqlite3_get_autocommit(db_)) return;
    Status status = Execute("ROLLBACK");
    if (!status.ok()) {
      LogError("sqlite rollback failed", {{"error", status.message()}});
    }
  }

  sqlite3* const db_;  // used under the base's transaction lock
};

}  // namespace

StatusOr<std::unique_ptr<SqlDatabase>> OpenSqliteDatabase(const std::string& path) {
  const std::string where = "SQLite database '" + path + "'";
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && path != ":memory:" && !std::filesystem::is_directory(parent, ec)) {
    return Unavailable("cannot open " + where + ": directory '" + parent.string() +
                       "' does not exist");
  }
  sqlite3* raw = nullptr;
  // NOMUTEX: SqliteDatabase serialises every use of the connection itself.
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  auto db = std::make_unique<SqliteDatabase>(raw);  // closes `raw` on every return
  if (rc != SQLITE_OK) {
    return Unavailable("cannot open " + where + ": " +
                       (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);

  // Runs a PRAGMA and returns the first column of its first row ("" if none).
  auto pragma = [&](const std::string& sql) -> StatusOr<std::string> {
    sqlite3_stmt* stmt_raw = nullptr;
    int prc = sqlite3_prepare_v2(raw, sql.c_str(), -1, &stmt_raw, nullptr);
    Statement stmt(stmt_raw);
    if (prc != SQLITE_OK) {
      return Unavailable("cannot open " + where + ": " + sqlite3_errmsg(raw));
    }
    std::string value;
    while ((prc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      if (value.empty() && sqlite3_column_count(stmt.get()) > 0) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
        if (text != nullptr) value = text;
      }
    }
    if (prc != SQLITE_DONE) {
      return Unavailable("cannot open " + where + ": " + sqlite3_errmsg(raw));
    }
    return value;
  };

  ASSIGN_OR_RETURN(std::string journal_mode, pragma("PRAGMA journal_mode=WAL"));
  if (journal_mode != "wal" && !(path == ":memory:" && journal_mode == "memory")) {
    return Unavailable("cannot open " + where + ": WAL journal mode not available (got '" +
                       journal_mode + "')");
  }
  ASSIGN_OR_RETURN(std::string ignored, pragma("PRAGMA synchronous=FULL"));
  ASSIGN_OR_RETURN(ignored, pragma("PRAGMA foreign_keys=ON"));
  ASSIGN_OR_RETURN(std::string foreign_keys, pragma("PRAGMA foreign_keys"));
  if (foreign_keys != "1") {
    return Unavailable("cannot open " + where + ": foreign keys cannot be enabled");
  }
  return std::unique_ptr<SqlDatabase>(std::move(db));
}

}  // namespace mast
