// Conformance suite for SqlDatabase: every TEST_P runs against SQLite (a file
// in a temporary directory) and against a real PostgreSQL server, started
// once per test process by PostgresServer; each PostgreSQL test gets a fresh
// database. If the server cannot start, the PostgreSQL tests fail with the
// reason; they are never skipped. Engine-specific behaviour (file settings,
// bad DSNs, reconnecting) is in the SqlDatabaseSqliteTest and
// SqlDatabasePostgresTest suites at the end.
#include "store/sql_database.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <thread>

#include "support/postgres_server.h"

namespace mast {
namespace {

using ::mast::testing::PostgresServer;

// A new empty directory under the test temp dir.
std::string MakeTempDir() {
  std::string pattern = ::testing::TempDir() + "mast-sql-XXXXXX";
  char* dir = mkdtemp(pattern.data());
  EXPECT_NE(dir, nullptr) << "mkdtemp " << pattern;
  return dir != nullptr ? std::string(dir) : std::string();
}

// Creates a fresh database on the shared server; "" and a test failure if the
// server is not there.
std::string FreshPostgresDsn() {
  static std::atomic<int> next_database{0};
  std::string error;
  PostgresServer* server = PostgresServer::Shared(&error);
  if (server == nullptr) {
    ADD_FAILURE() << "the PostgreSQL test server did not start: " << error;
    return "";
  }
  const std::string name = "t_" + std::to_string(next_database++);
  if (!server->CreateDatabase(name, &error)) {
    ADD_FAILURE() << "CREATE DATABASE " << name << ": " << error;
    return "";
  }
  return server->DsnFor(name);
}

// Runs one statement in its own transaction.
StatusOr<std::vector<SqlRow>> QueryIn(SqlDatabase& db, std::string_view sql,
                                      const std::vector<SqlValue>& params = {}) {
  std::vector<SqlRow> rows;
  Status status = db.InTransaction([&](SqlTransaction& txn) -> Status {
    ASSIGN_OR_RETURN(rows, txn.Query(sql, params));
    return OkStatus();
  });
  if (!status.ok()) return status;
  return rows;
}

StatusOr<int64_t> ExecIn(SqlDatabase& db, std::string_view sql,
                         const std::vector<SqlValue>& params = {}) {
  int64_t changed = 0;
  Status status = db.InTransaction([&](SqlTransaction& txn) -> Status {
    ASSIGN_OR_RETURN(changed, txn.Exec(sql, params));
    return OkStatus();
  });
  if (!status.ok()) return status;
  return changed;
}

Status ScriptIn(SqlDatabase& db, std::string_view sql) {
  return db.InTransaction([&](SqlTransaction& txn) { return txn.ExecScript(sql); });
}

#define ASSERT_OK(expr)                                                  \
  do {                                                                   \
    const ::mast::Status assert_ok_status_ = (expr);                     \
    ASSERT_TRUE(assert_ok_status_.ok()) << assert_ok_status_.ToString(); \
  } while (0)

// The single value of a one-row, one-column query, or a test failure.
SqlValue Scalar(SqlDatabase& db, std::string_view sql, const std::vector<SqlValue>& params = {}) {
  StatusOr<std::vector<SqlRow>> rows = QueryIn(db, sql, params);
  if (!rows.ok()) {
    ADD_FAILURE() << sql << ": " << rows.status().ToString();
    return {};
  }
  if (rows->size() != 1 || (*rows)[0].size() != 1) {
    ADD_FAILURE() << sql << ": expected one cell, got " << rows->size() << " rows";
    return {};
  }
  return (*rows)[0][0];
}

class SqlDatabaseTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (IsSqlite()) {
      dir_ = MakeTempDir();
      ASSERT_FALSE(dir_.empty());
      path_ = dir_ + "/store.db";
    } else {
      dsn_ = FreshPostgresDsn();
      ASSERT_FALSE(dsn_.empty());
    }
    StatusOr<std::unique_ptr<SqlDatabase>> db = OpenAnother();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_EQ(db_->dialect(), GetParam());
  }

  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  bool IsSqlite() const { return GetParam() == "sqlite"; }

  // Another connection to the same database (for SQLite: as a second process
  // on the same file would have).
  StatusOr<std::unique_ptr<SqlDatabase>> OpenAnother() const {
    return IsSqlite() ? OpenSqliteDatabase(path_) : OpenPostgresDatabase(dsn_);
  }

  // An auto-numbered primary key column type.
  std::string IdColumn() const {
    return IsSqlite() ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY";
  }

  std::unique_ptr<SqlDatabase> db_;
  std::string dir_;   // SQLite
  std::string path_;  // SQLite
  std::string dsn_;   // PostgreSQL
};

INSTANTIATE_TEST_SUITE_P(Engines, SqlDatabaseTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST_P(SqlDatabaseTest, StoresAndReadsBackEveryValueType) {
  ASSERT_OK(ScriptIn(*db_,
                     "CREATE TABLE items (id BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, "
                     "s TEXT, n TEXT, lit TEXT)"));
  const std::string tricky = "it's a \"quoted\" ? and '?' with ''doubled'' -- not a comment ✓";
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const std::string insert =
      "INSERT INTO items (id, i, d, s, n, lit) VALUES (?, ?, ?, ?, ?, 'literal ? with ''?''')";
  ASSERT_OK(ExecIn(*db_, insert, {int64_t{1}, kMax, 0.1, tricky, SqlValue()}).status());
  ASSERT_OK(
      ExecIn(*db_, insert, {int64_t{2}, kMin, -1.5e300, std::string(), std::string("x")}).status());
  ASSERT_OK(ExecIn(*db_, insert, {int64_t{3}, int64_t{0}, 5e-324, std::string("?"), SqlValue()})
                .status());

  StatusOr<std::vector<SqlRow>> rows =
      QueryIn(*db_, "SELECT id, i, d, s, n, lit FROM items ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 3u);
  const SqlRow& a = (*rows)[0];
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(std::get<int64_t>(a[0]), 1);
  EXPECT_EQ(std::get<int64_t>(a[1]), kMax);
  EXPECT_EQ(std::get<double>(a[2]), 0.1);
  EXPECT_EQ(std::get<std::string>(a[3]), tricky);
  EXPECT_TRUE(SqlIsNull(a[4]));
  EXPECT_EQ(std::get<std::string>(a[5]), "literal ? with '?'");
  const SqlRow& b = (*rows)[1];
  EXPECT_EQ(std::get<int64_t>(b[1]), kMin);
  EXPECT_EQ(std::get<double>(b[2]), -1.5e300);
  EXPECT_EQ(std::get<std::string>(b[3]), "");  // empty text is not NULL
  EXPECT_EQ(std::get<std::string>(b[4]), "x");
  const SqlRow& c = (*rows)[2];
  EXPECT_EQ(std::get<double>(c[2]), 5e-324);
  EXPECT_EQ(std::get<std::string>(c[3]), "?");

  // Parameters in WHERE, including the string with quotes and `?`.
  EXPECT_EQ(SqlInt(Scalar(*db_, "SELECT id FROM items WHERE s = ? AND i = ?", {tricky, kMax})), 1);
  EXPECT_EQ(SqlInt(Scalar(*db_, "SELECT COUNT(*) FROM items WHERE n IS NULL")), 2);
}

TEST_P(SqlDatabaseTest, ParametersAndExpressionsReadBackWithTheirTypes) {
  StatusOr<std::vector<SqlRow>> rows =
      QueryIn(*db_, "SELECT ?, ?, ?, ?, 1 = 1, 1 = 0, 2.5, COUNT(*)",
              {int64_t{42}, 2.25, std::string("text"), SqlValue()});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  const SqlRow& r = (*rows)[0];
  ASSERT_EQ(r.size(), 8u);
  EXPECT_EQ(std::get<int64_t>(r[0]), 42);
  EXPECT_EQ(std::get<double>(r[1]), 2.25);
  EXPECT_EQ(std::get<std::string>(r[2]), "text");
  EXPECT_TRUE(SqlIsNull(r[3]));
  EXPECT_EQ(std::get<int64_t>(r[4]), 1);  // a PostgreSQL bool reads as 0/1
  EXPECT_EQ(std::get<int64_t>(r[5]), 0);
  EXPECT_EQ(std::get<double>(r[6]), 2.5);
  EXPECT_EQ(std::get<int64_t>(r[7]), 1);
}

TEST_P(SqlDatabaseTest, QuestionMarksInLiteralsIdentifiersAndCommentsAreNotPlaceholders) {
  ASSERT_OK(ScriptIn(*db_, "CREATE TABLE odd (\"q?\" TEXT, v BIGINT)"));
  ASSERT_OK(ExecIn(*db_, "INSERT INTO odd (\"q?\", v) /* a ? here */ VALUES ('?', ?) -- and ? here",
                   {int64_t{7}})
                .status());
  ASSERT_OK(
      ExecIn(*db_, "INSERT INTO odd (\"q?\", v) VALUES (?, ?)", {std::string("?'?"), int64_t{8}})
          .status());
  EXPECT_EQ(SqlInt(Scalar(*db_, "SELECT v FROM odd WHERE \"q?\" = '?'")), 7);
  EXPECT_EQ(SqlInt(Scalar(*db_, "SELECT v FROM odd WHERE \"q?\" = ?", {std::string("?'?")})), 8);
}

TEST_P(SqlDatabaseTest, PlaceholderCountMustMatchParameters) {
  StatusOr<std::vector<SqlRow>> rows = QueryIn(*db_, "SELECT ?, ?", {int64_t{1}});
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), StatusCode::kInvalidArgument) << rows.status().ToString();
}

TEST_P(SqlDatabaseTest, ReturningGivesTheChangedRows) {
  ASSERT_OK(ScriptIn(*db_, "CREATE TABLE models (id " + IdColumn() +
                               ", name TEXT NOT NULL, weight DOUBLE PRECISION)"));
  StatusOr<std::vector<SqlRow>> first =
      QueryIn(*db_, "INSERT INTO models (name, weight) VALUES (?, ?) RETURNING id, name",
              {std::string("churn"), 0.5});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 1u);
  const int64_t churn_id = std::get<int64_t>((*first)[0][0]);
  EXPECT_EQ(std::get<std::string>((*first)[0][1]), "churn");
  // An integral double stays a double (SQLite stores it as an integer).
  StatusOr<std::vector<SqlRow>> second =
      QueryIn(*db_, "INSERT INTO models (name, weight) VALUES (?, ?) RETURNING id, weight",
              {std::string("fraud"), 1.0});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_GT(std::get<int64_t>((*second)[0][0]), churn_id);
  EXPECT_EQ(std::get<double>((*second)[0][1]), 1.0);

  StatusOr<std::vector<SqlRow>> updated =
      QueryIn(*db_, "UPDATE models SET weight = weight * 2 RETURNING name, weight");
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  ASSERT_EQ(updated->size(), 2u);
  double total = 0;
  for (const SqlRow& row : *updated) total += std::get<double>(row[1]);
  EXPECT_EQ(total, 3.0);

  StatusOr<std::vector<SqlRow>> deleted =
      QueryIn(*db_, "DELETE FROM models WHERE id = ? RETURNING name", {churn_id});
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  ASSERT_EQ(deleted->size(), 1u);
  EXPECT_EQ(std::get<std::string>((*deleted)[0][0]), "churn");

  // Exec on a RETURNING statement counts the rows.
  EXPECT_EQ(*ExecIn(*db_, "UPDATE models SET weight = 1 RETURNING id"), 1);
}

TEST_P(SqlDatabaseTest, ExecReturnsTheNumberOfChangedRows) {
  StatusOr<int64_t> created = ExecIn(*db_, "CREATE TABLE t (k BIGINT PRIMARY KEY, v TEXT)");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(*created, 0);
  EXPECT_EQ(*ExecIn(*db_, "INSERT INTO t (k, v) VALUES (?, ?)", {int64_t{1}, std::string("a")}), 1);
  EXPECT_EQ(*ExecIn(*db_, "INSERT INTO t (k, v) VALUES (2, 'b'), (3, 'b'), (4, 'c')"), 3);
  EXPECT_EQ(*ExecIn(*db_, "UPDATE t SET v = ? WHERE v = ?", {std::string("z"), std::string("b")}),
            2);
  EXPECT_EQ(*ExecIn(*db_, "DELETE FROM t WHERE k > ?", {int64_t{100}}), 0);
  EXPECT_EQ(*ExecIn(*db_, "SELECT * FROM t"), 0);  // reads change nothing
  EXPECT_EQ(*ExecIn(*db_, "DELETE FROM t"), 4);
}

TEST_P(SqlDatabaseTest, UniqueViolationIsAlreadyExists) {
  ASSERT_OK(ScriptIn(*db_, "CREATE TABLE t (k BIGINT PRIMARY KEY, name TEXT UNIQUE)"));
  ASSERT_OK(ExecIn(*db_, "INSERT INTO t VALUES (1, 'a')").status());
  StatusOr<int64_t> duplicate_key = ExecIn(*db_, "INSERT INTO t VALUES (1, 'b')");
  ASSERT_FALSE(duplicate_key.ok());
  EXPECT_EQ(duplicate_key.status().code(), StatusCode::kAlreadyExists)
      << duplicate_key.status().ToString();
  StatusOr<int64_t> duplicate_name = ExecIn(*db_, "INSERT INTO t VALUES (2, 'a')");
  ASSERT_FALSE(duplicate_name.ok());
  EXPECT_EQ(duplicate_name.status().code(), StatusCode::kAlreadyExists)
      << duplicate_name.status().ToString();
}

TEST_P(SqlDatabaseTest, ForeignKeyViolationIsFailedPrecondition) {
  ASSERT_OK(ScriptIn(*db_,
                     "CREATE TABLE parent (id BIGINT PRIMARY KEY);"
                     "CREATE TABLE child (id BIGINT PRIMARY KEY,"
                     "  parent_id BIGINT NOT NULL REFERENCES parent (id));"
                     "INSERT INTO parent VALUES (1);"
                     "INSERT INTO child VALUES (10, 1);"));
  StatusOr<int64_t> orphan =
      ExecIn(*db_, "INSERT INTO child VALUES (?, ?)", {int64_t{11}, int64_t{2}});
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.status().code(), StatusCode::kFailedPrecondition) << orphan.status().ToString();
  StatusOr<int64_t> referenced = ExecIn(*db_, "DELETE FROM parent WHERE id = 1");
  ASSERT_FALSE(referenced.ok());
  EXPECT_EQ(referenced.status().code(), StatusCode::kFailedPrecondition)
      << referenced.status().ToString();
  EXPECT_EQ(SqlInt(Scalar(*db_, "SELECT COUNT(*) FROM child")), 1);
}

TEST_P(SqlDatabaseTest, ErrorFromTheFunctionRollsBack) {
  ASSERT_OK(ScriptIn(*db_, "CREATE TABLE t (k BIGINT PRIMARY KEY)"));
  Status status = db_->InTransaction([](SqlTransaction& txn) -> Status {
    RETURN_IF_ERROR(txn.Exec("INSERT INTO t VALUES (1)").status());
    RETURN_IF_ERROR(txn.Exec("INSERT INTO t VALUES (2)").status());
    return NotFound("the blob is missing");
  });
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "the blob is missing");
  EXPECT_EQ(SqlInt(Scalar(*db_, "SELECT COUNT(*) FROM t"), -1), 0);
}

TEST_P(SqlDatabaseTest, FailedStatementRollsBackTheWholeTransaction) {
  ASSERT_OK(ScriptIn(*db_, "CREATE TABLE t (k BIGINT PRIMARY KEY)"));
  ASSERT_OK(ExecIn(*db_, "INSERT INTO t VALUES (1)").status());
  Status status = db_->InTransaction([](SqlTransaction& txn) -> Status {
    RETURN_IF_ERROR(txn.Exec("INSERT INTO t VALUES (2)").status());
    RETURN_IF_ERROR(txn.Exec("INSERT INTO t VALUES (1)").status());  // fails
    return txn.Exec("INSERT INTO t VALUES (3)").status();
  });
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
  EXPECT_EQ(SqlInt(Scalar(*db_, "SELECT COUNT(*) FROM t"), -1), 1);
  // The connection is usable afterwards.
  EXPECT_EQ(*ExecIn(*db_, "INSERT INTO t VALUES (2)"), 1);
}

TEST_P(SqlDatabaseTest, IgnoredStatementErrorStillFailsTheTransaction) {
  ASSERT_OK(ScriptIn(*db_, "CREATE TABLE t (k BIGINT PRIMARY KEY)"));
  ASSERT_OK(ExecIn(*db_, "INSERT INTO t VALUES (1)").status());
  Status later;
  Status status = db_->InTransaction([&](SqlTransaction& txn) -> Status {
    RETURN_IF_ERROR(txn.Exec("INSERT INTO t VALUES (2)").status());
    (void)txn.Exec("INSERT INTO t VALUES (1)");  // fails; ignored on purpose
    later = txn.Exec("INSERT INTO t VALUES (3)").status();
    return OkStatus();
  });
  EXPECT_EQ(later.code(), StatusCode::kFailedPrecondition) << later.ToString();
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
  EXPECT_EQ(SqlInt(Scalar(*db_, "SELECT COUNT(*) FROM t"), -1), 1);
}

TEST_P(SqlDatabaseTest, ExecScriptRunsSeveralStatementsInTheTransaction) {
  ASSERT_OK(ScriptIn(*db_,
                     "CREATE TABLE a (x BIGINT PRIMARY KEY);\n"
                     "INSERT INTO a VALUES (1); INSERT INTO a VALUES (2);"));
  EXPECT_EQ(SqlInt(Scalar(*db_, "SELECT SUM(x) FROM a")), 3);

  // A failing script leaves nothing behind, DDL included.
  Status failed = ScriptIn(*db_,
                           "CREATE TABLE b (x BIGINT PRIMARY KEY);"
                           "INSERT INTO b VALUES (1); INSERT INTO b VALUES (1);");
  EXPECT_EQ(failed.code(), StatusCode::kAlreadyExists) << failed.ToString();
  EXPECT_FALSE(QueryIn(*db_, "SELECT COUNT(*) FROM b").ok());
}

TEST_P(SqlDatabaseTest, MultipleStatementsNeedExecScript) {
  StatusOr<int64_t> two = ExecIn(*db_, "SELECT 1; SELECT 2");
  EXPECT_FALSE(two.ok());
}

TEST_P(SqlDatabaseTest, ConcurrentTransactionsAreSerialised) {
  ASSERT_OK(ScriptIn(*db_,
                     "CREATE TABLE counter (id BIGINT PRIMARY KEY, v BIGINT NOT NULL);"
                     "INSERT INTO counter VALUES (1, 0);"));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        // Read, then write: only correct if transactions do not interleave.
        Status status = db_->InTransaction([](SqlTransaction& txn) -> Status {
          ASSIGN_OR_RETURN(std::vector<SqlRow> rows,
                           txn.Query("SELECT v FROM counter WHERE id = 1"));
          return txn.Exec("UPDATE counter SET v = ? WHERE id = 1", {SqlInt(rows[0][0]) + 1})
              .status();
        });
        if (!status.ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(SqlInt(Scalar(*db_, "SELECT v FROM counter WHERE id = 1")), 200);
}

TEST_P(SqlDatabaseTest, TwoConnectionsWriteConcurrently) {
  // For SQLite this is two processes on one file: the busy timeout makes a
  // writer wait for the other's lock instead of failing with SQLITE_BUSY.
  ASSERT_OK(ScriptIn(*db_,
                     "CREATE TABLE counter (id BIGINT PRIMARY KEY, v BIGINT NOT NULL);"
                     "CREATE TABLE log (id " +
                         IdColumn() +
                         ", who TEXT);"
                         "INSERT INTO counter VALUES (1, 0);"));
  StatusOr<std::unique_ptr<SqlDatabase>> other = OpenAnother();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  std::vector<std::string> errors(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    SqlDatabase* db = t % 2 == 0 ? db_.get() : other->get();
    threads.emplace_back([db, t, &errors] {
      for (int i = 0; i < 50; ++i) {
        Status status = db->InTransaction([t](SqlTransaction& txn) -> Status {
          RETURN_IF_ERROR(
              txn.Exec("INSERT INTO log (who) VALUES (?)", {std::to_string(t)}).status());
          return txn.Exec("UPDATE counter SET v = v + 1 WHERE id = 1").status();
        });
        if (!status.ok() && errors[t].empty()) errors[t] = status.ToString();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(SqlInt(Scalar(*db_, "SELECT v FROM counter")), 200);
  EXPECT_EQ(SqlInt(Scalar(**other, "SELECT COUNT(*) FROM log")), 200);
}

TEST_P(SqlDatabaseTest, CommittedDataOutlivesTheConnection) {
  ASSERT_OK(ScriptIn(*db_, "CREATE TABLE t (k BIGINT); INSERT INTO t VALUES (5);"));
  db_.reset();
  StatusOr<std::unique_ptr<SqlDatabase>> reopened = OpenAnother();
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(SqlInt(Scalar(**reopened, "SELECT k FROM t")), 5);
}

TEST_P(SqlDatabaseTest, NestedInTransactionFailsInsteadOfDeadlocking) {
  Status inner;
  Status outer = db_->InTransaction([&](SqlTransaction&) {
    inner = db_->InTransaction([](SqlTransaction&) { return OkStatus(); });
    return OkStatus();
  });
  EXPECT_TRUE(outer.ok()) << outer.ToString();
  EXPECT_EQ(inner.code(), StatusCode::kInternal) << inner.ToString();
}

TEST(SqlValueTest, TypedReads) {
  EXPECT_EQ(SqlInt(SqlValue(int64_t{7})), 7);
  EXPECT_EQ(SqlInt(SqlValue(3.0)), 3);        // engines disagree on integral numbers
  EXPECT_EQ(SqlInt(SqlValue(3.5), -1), -1);   // but a fraction is not an integer
  EXPECT_EQ(SqlInt(SqlValue(1e30), -1), -1);  // nor is a double beyond int64
  EXPECT_EQ(SqlInt(SqlValue(std::string("7")), -1), -1);
  EXPECT_EQ(SqlInt(SqlValue(), -1), -1);
  EXPECT_EQ(SqlDouble(SqlValue(2.5)), 2.5);
  EXPECT_EQ(SqlDouble(SqlValue(int64_t{2})), 2.0);
  EXPECT_EQ(SqlDouble(SqlValue(), -1), -1);
  EXPECT_EQ(SqlText(SqlValue(std::string("x"))), "x");
  EXPECT_EQ(SqlText(SqlValue(int64_t{1})), "");
  EXPECT_TRUE(SqlIsNull(SqlValue()));
  EXPECT_FALSE(SqlIsNull(SqlValue(std::string())));
}

// --- SQLite only -----------------------------------------------------------

TEST(SqlDatabaseSqliteTest, MissingDirectoryIsUnavailableNamingThePath) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/no/such/dir/store.db";
  StatusOr<std::unique_ptr<SqlDatabase>> db = OpenSqliteDatabase(path);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(db.status().message().find(path), std::string::npos) << db.status().ToString();
  std::filesystem::remove_all(dir);
}

TEST(SqlDatabaseSqliteTest, FileThatIsNotADatabaseIsUnavailable) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/store.db";
  {
    std::ofstream out(path);
    out << "this is not an SQLite database, just some text that is long enough "
           "to fill the header of one..........................................";
  }
  StatusOr<std::unique_ptr<SqlDatabase>> db = OpenSqliteDatabase(path);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(db.status().message().find(path), std::string::npos) << db.status().ToString();
  std::filesystem::remove_all(dir);
}

TEST(SqlDatabaseSqliteTest, OpensInWalModeWithForeignKeysFullSyncAndBusyTimeout) {
  const std::string dir = MakeTempDir();
  StatusOr<std::unique_ptr<SqlDatabase>> db = OpenSqliteDatabase(dir + "/store.db");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(SqlText(Scalar(**db, "PRAGMA journal_mode")), "wal");
  EXPECT_EQ(SqlInt(Scalar(**db, "PRAGMA foreign_keys")), 1);
  EXPECT_EQ(SqlInt(Scalar(**db, "PRAGMA synchronous")), 2);  // FULL
  EXPECT_EQ(SqlInt(Scalar(**db, "PRAGMA busy_timeout")), 5000);
  db->reset();
  std::filesystem::remove_all(dir);
}

TEST(SqlDatabaseSqliteTest, WriterWaitsForAnotherConnectionsTransaction) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/store.db";
  StatusOr<std::unique_ptr<SqlDatabase>> first = OpenSqliteDatabase(path);
  StatusOr<std::unique_ptr<SqlDatabase>> second = OpenSqliteDatabase(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_OK(ScriptIn(**first, "CREATE TABLE t (k BIGINT PRIMARY KEY)"));

  std::promise<void> holding;
  std::thread holder([&] {
    Status status = (*first)->InTransaction([&](SqlTransaction& txn) -> Status {
      RETURN_IF_ERROR(txn.Exec("INSERT INTO t VALUES (1)").status());
      holding.set_value();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
  });
  holding.get_future().wait();
  // The first connection holds the write lock for a while; this waits.
  StatusOr<int64_t> inserted = ExecIn(**second, "INSERT INTO t VALUES (2)");
  holder.join();
  EXPECT_TRUE(inserted.ok()) << inserted.status().ToString();
  EXPECT_EQ(SqlInt(Scalar(**second, "SELECT COUNT(*) FROM t")), 2);
  first->reset();
  second->reset();
  std::filesystem::remove_all(dir);
}

// --- PostgreSQL only -------------------------------------------------------

// A TCP port on 127.0.0.1 where nothing listens.
int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(SqlDatabasePostgresTest, BadDsnIsUnavailableQuicklyAndHidesThePassword) {
  const std::string port = std::to_string(UnusedPort());
  const std::vector<std::string> dsns = {
      "postgresql://mast:secretpw@127.0.0.1:" + port + "/mast",
      "host=127.0.0.1 port=" + port + " user=mast password=secretpw dbname=mast",
      "postgresql://mast@127.0.0.1:" + port + "/mast?password=secretpw",
      // Malformed: libpq quotes the whole URI in its message.
      "postgresql://mast:secretpw@[::1:" + port + "/mast",
  };
  for (const std::string& dsn : dsns) {
    const auto start = std::chrono::steady_clock::now();
    StatusOr<std::unique_ptr<SqlDatabase>> db = OpenPostgresDatabase(dsn);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(db.ok()) << dsn;
    EXPECT_EQ(db.status().code(), StatusCode::kUnavailable) << db.status().ToString();
    EXPECT_EQ(db.status().message().find("secretpw"), std::string::npos) << db.status().ToString();
    EXPECT_LT(elapsed, std::chrono::seconds(5)) << dsn;
  }
}

TEST(SqlDatabasePostgresTest, ReconnectsAfterTheConnectionIsLost) {
  const std::string dsn = FreshPostgresDsn();
  ASSERT_FALSE(dsn.empty());
  StatusOr<std::unique_ptr<SqlDatabase>> db = OpenPostgresDatabase(dsn);
  StatusOr<std::unique_ptr<SqlDatabase>> admin = OpenPostgresDatabase(dsn);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();

  // Killed while idle (as by a server restart): the next transaction
  // reconnects and succeeds.
  const int64_t pid = SqlInt(Scalar(**db, "SELECT pg_backend_pid()"));
  ASSERT_GT(pid, 0);
  EXPECT_EQ(SqlInt(Scalar(**admin, "SELECT pg_terminate_backend(CAST(? AS INTEGER), 5000)", {pid})),
            1);
  const int64_t new_pid = SqlInt(Scalar(**db, "SELECT pg_backend_pid()"));
  EXPECT_GT(new_pid, 0);
  EXPECT_NE(new_pid, pid);

  // Lost inside a transaction: that transaction fails with kUnavailable and
  // is not retried; the next one reconnects.
  int runs = 0;
  Status lost = (*db)->InTransaction([&](SqlTransaction& txn) -> Status {
    ++runs;
    return txn.Query("SELECT pg_terminate_backend(pg_backend_pid())").status();
  });
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(lost.code(), StatusCode::kUnavailable) << lost.ToString();
  EXPECT_EQ(SqlInt(Scalar(**db, "SELECT 1")), 1);
}

TEST(SqlDatabasePostgresTest, ServerTypesReadAsTheNearestValueType) {
  const std::string dsn = FreshPostgresDsn();
  ASSERT_FALSE(dsn.empty());
  StatusOr<std::unique_ptr<SqlDatabase>> db = OpenPostgresDatabase(dsn);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  StatusOr<std::vector<SqlRow>> rows =
      QueryIn(**db,
              "SELECT CAST(1 AS SMALLINT), CAST(2 AS INTEGER), CAST(3 AS REAL), "
              "CAST(? AS NUMERIC), SUM(x), CAST('2024-01-02' AS DATE), "
              "CAST('Infinity' AS DOUBLE PRECISION), true "
              "FROM (VALUES (CAST(5 AS BIGINT)), (6)) AS v (x)",
              {std::string("1.25")});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  const SqlRow& r = (*rows)[0];
  EXPECT_EQ(std::get<int64_t>(r[0]), 1);
  EXPECT_EQ(std::get<int64_t>(r[1]), 2);
  EXPECT_EQ(std::get<double>(r[2]), 3.0);
  EXPECT_EQ(std::get<double>(r[3]), 1.25);
  EXPECT_EQ(SqlInt(r[4]), 11);  // SUM(bigint) is NUMERIC
  EXPECT_EQ(std::get<std::string>(r[5]), "2024-01-02");
  EXPECT_EQ(std::get<double>(r[6]), std::numeric_limits<double>::infinity());
  EXPECT_EQ(std::get<int64_t>(r[7]), 1);
}

TEST(SqlDatabasePostgresTest, PlaceholdersSkipPostgresQuotingAndSpecialDoublesRoundTrip) {
  const std::string dsn = FreshPostgresDsn();
  ASSERT_FALSE(dsn.empty());
  StatusOr<std::unique_ptr<SqlDatabase>> db = OpenPostgresDatabase(dsn);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  const double inf = std::numeric_limits<double>::infinity();
  StatusOr<std::vector<SqlRow>> rows =
      QueryIn(**db, "SELECT E'it\\'s ?', $$ ? $$, $q$ '?' $q$, ?, ?, ?, ? /* nested /* ? */ ? */",
              {inf, -inf, std::numeric_limits<double>::quiet_NaN(), std::string("x")});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  const SqlRow& r = (*rows)[0];
  ASSERT_EQ(r.size(), 7u);
  EXPECT_EQ(std::get<std::string>(r[0]), "it's ?");
  EXPECT_EQ(std::get<std::string>(r[1]), " ? ");
  EXPECT_EQ(std::get<std::string>(r[2]), " '?' ");
  EXPECT_EQ(std::get<double>(r[3]), inf);
  EXPECT_EQ(std::get<double>(r[4]), -inf);
  EXPECT_TRUE(std::isnan(std::get<double>(r[5])));
  EXPECT_EQ(std::get<std::string>(r[6]), "x");
}

}  // namespace
}  // namespace mast
