// PostgresDatabase: the SqlDatabase implementation on one libpq connection to
// PostgreSQL, the store that several mast replicas share.
//
// How the shared SqlDatabase contract is met:
//   1. `?` placeholders are numbered $1..$n; a `?` inside a string literal
//      ('...', E'...', $tag$...$tag$), a quoted identifier or a comment is
//      left alone. (PostgreSQL's jsonb `?` operators therefore cannot be used.)
//   2. Parameters travel as text: integers are typed int8 and doubles float8
//      (shortest round-trip decimal), so `SELECT ?` reads back with its type as
//      in SQLite; text and NULL are left untyped for the server to infer, so a
//      string can fill a column of any type.
//   3. Result cells are converted by column type: int2/int4/int8 -> int64,
//      float4/float8/numeric -> double, bool -> int64 0/1, NULL -> monostate,
//      anything else -> its text.
//   4. Errors: SQLSTATE 23505 -> kAlreadyExists, 23503 -> kFailedPrecondition,
//      class 08, 57P01-57P03 (server shutting down), 40001/40P01 (serialization
//      failure, deadlock: retrying helps) or a broken connection ->
//      kUnavailable, anything else -> kInternal with the server's message.
//      Every message is scrubbed of the DSN's password (libpq quotes a
//      malformed URI whole).
//   5. A statement that fails marks its transaction as failed (PostgreSQL
//      aborts it anyway): following statements return FailedPrecondition and
//      InTransaction rolls back and returns the first error, even if the
//      function ignored it. SqliteDatabase does the same.
//   6. A connection found broken before BEGIN (PQstatus, or BEGIN failing
//      because the server restarted) is reset once and BEGIN retried; a
//      connection lost inside a transaction fails it with kUnavailable, and
//      the next transaction reconnects. The function is never re-run.
//   7. Exec returns PQcmdTuples for INSERT/UPDATE/DELETE (RETURNING included)
//      and 0 for everything else, SELECT included, as SQLite does.
// Transactions run at PostgreSQL's default READ COMMITTED isolation: unlike
// SQLite's single writer, two replicas may interleave, so read-modify-write
// needs `UPDATE ... SET n = n + 1` or `SELECT ... FOR UPDATE`.
//
// Thread-safety: one connection guarded by a mutex; InTransaction serialises
// callers. Ownership: the PostgresDatabase owns the PGconn and closes it in
// its destructor; PostgresTransaction borrows it for one transaction.
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <thread>

#include "common/logging.h"
#include "store/sql_database.h"

namespace mast {
namespace {

// Type OIDs from PostgreSQL's pg_type.dat (stable across versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// Default for the DSN's connect_timeout, in seconds, so that an unreachable
// host fails instead of hanging; a DSN that sets it wins.
constexpr const char* kDefaultConnectTimeout = "10";
// How much of a failing statement an error message quotes.
constexpr size_t kMaxQuotedSql = 160;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

std::string QuoteSql(std::string_view sql) {
  std::string s(sql.substr(0, kMaxQuotedSql));
  if (sql.size() > kMaxQuotedSql) s += "...";
  return s;
}

// libpq's messages end in a newline and may span lines; a Status is one line.
std::string OneLine(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\t' || c == '\r') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Every spelling of the DSN's password that an error message could contain:
// libpq's parsed value, and the raw text of `user:password@` in a URI and of
// `password=...` in a keyword string or URI query, also when the DSN is too
// malformed for libpq to parse (which is exactly when libpq quotes it).
std::vector<std::string> DsnSecrets(const std::string& dsn) {
  std::vector<std::string> secrets;
  auto add = [&secrets](std::string s) {
    if (!s.empty()) {
      secrets.push_back(PercentDecode(s));
      secrets.push_back(std::move(s));
    }
  };
  char* error = nullptr;
  if (PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error)) {
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (std::string_view(o->keyword) == "password" && o->val != nullptr) add(o->val);
    }
    PQconninfoFree(options);
  }
  PQfreemem(error);
  // URI user info, scanned as libpq does: up to the first '@' before any '/'.
  if (size_t scheme = dsn.find("://"); scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t end = dsn.find_first_of("@/", start);
    if (end != std::string::npos && dsn[end] == '@') {
      std::string_view userinfo(dsn.data() + start, end - start);
      if (size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
        add(std::string(userinfo.substr(colon + 1)));
      }
    }
  }
  // password=value (keyword form, or URI query parameter).
  for (size_t at = dsn.find("password"); at != std::string::npos;
       at = dsn.find("password", at + 1)) {
    size_t i = at + 8;
    while (i < dsn.size() && dsn[i] == ' ') ++i;
    if (i >= dsn.size() || dsn[i] != '=') continue;
    ++i;
    while (i < dsn.size() && dsn[i] == ' ') ++i;
    std::string value;
    if (i < dsn.size() && dsn[i] == '\'') {
      for (++i; i < dsn.size() && dsn[i] != '\''; ++i) {
        if (dsn[i] == '\\' && i + 1 < dsn.size()) ++i;
        value += dsn[i];
      }
    } else {
      while (i < dsn.size() && !std::isspace(static_cast<unsigned char>(dsn[i])) && dsn[i] != '&') {
        value += dsn[i++];
      }
    }
    add(std::move(value));
  }
  return secrets;
}

std::string Redact(std::string message, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    for (size_t at = message.find(secret); at != std::string::npos;
         at = message.find(secret, at + 3)) {
      message.replace(at, secret.size(), "***");
    }
  }
  return message;
}

bool IsIdentifierChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// Rewrites `?` placeholders to $1..$n (see the file comment, 1.); sets
// `*count` to n.
std::string NumberPlaceholders(std::string_view sql, size_t* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  size_t n = 0;
  size_t i = 0;
  // Copies sql[i, end) and moves i to end.
  auto copy_to = [&](size_t end) {
    end = std::min(end, sql.size());
    out.append(sql.substr(i, end - i));
    i = end;
  };
  while (i < sql.size()) {
    const char c = sql[i];
    const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    if (c == '\'') {
      // E'...' strings take backslash escapes; '' is a quote in both kinds.
      const bool escapes = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                           (i < 2 || !IsIdentifierChar(sql[i - 2]));
      size_t j = i + 1;
      while (j < sql.size()) {
        if (escapes && sql[j] == '\\') {
          j += 2;
        } else if (sql[j] == '\'') {
          if (j + 1 < sql.size() && sql[j + 1] == '\'') {
            j += 2;
          } else {
            break;
          }
        } else {
          ++j;
        }
      }
      copy_to(j + 1);
    } else if (c == '"') {
      copy_to(sql.find('"', i + 1) == std::string_view::npos ? sql.size()
                                                             : sql.find('"', i + 1) + 1);
    } else if (c == '-' && next == '-') {
      size_t eol = sql.find('\n', i);
      copy_to(eol == std::string_view::npos ? sql.size() : eol + 1);
    } else if (c == '/' && next == '*') {
      // Block comments nest in PostgreSQL.
      size_t j = i + 2;
      int depth = 1;
      while (j < sql.size() && depth > 0) {
        if (sql[j] == '/' && j + 1 < sql.size() && sql[j + 1] == '*') {
          ++depth;
          j += 2;
        } else if (sql[j] == '*' && j + 1 < sql.size() && sql[j + 1] == '/') {
          --depth;
          j += 2;
        } else {
          ++j;
        }
      }
      copy_to(j);
    } else if (c == '$' && (i == 0 || !IsIdentifierChar(sql[i - 1]))) {
      // $tag$ ... $tag$ (tag possibly empty); $1 is a parameter, not a tag.
      size_t j = i + 1;
      while (j < sql.size() && (std::isalpha(static_cast<unsigned char>(sql[j])) || sql[j] == '_' ||
                                (j > i + 1 && std::isdigit(static_cast<unsigned char>(sql[j]))))) {
        ++j;
      }
      if (j < sql.size() && sql[j] == '$') {
        std::string_view tag = sql.substr(i, j - i + 1);
        size_t close = sql.find(tag, j + 1);
        copy_to(close == std::string_view::npos ? sql.size() : close + tag.size());
      } else {
        copy_to(i + 1);
      }
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
      ++i;
    } else {
      out += c;
      ++i;
    }
  }
  *count = n;
  return out;
}

std::string DoubleToText(double d) {
  char buf[64];
  // Shortest text that reads back as the same double; locale-independent.
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, end);
}

StatusOr<SqlValue> CellValue(const PGresult* res, int row, int col) {
  if (PQgetisnull(res, row, col)) return SqlValue(std::monostate());
  const char* text = PQgetvalue(res, row, col);
  const int size = PQgetlength(res, row, col);
  const Oid type = PQftype(res, col);
  auto bad_cell = [&]() {
    return Internal("postgresql: cannot read '" + std::string(text, size) + "' of column " +
                    PQfname(res, col) + " (type " + std::to_string(type) + ")");
  };
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid: {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(text, text + size, v);
      if (ec != std::errc() || end != text + size) return bad_cell();
      return SqlValue(v);
    }
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid: {
      double v = 0;
      auto [end, ec] = std::from_chars(text, text + size, v);  // also Infinity, NaN
      if (ec == std::errc::result_out_of_range && end == text + size) {
        // A numeric beyond double's range (or below its smallest subnormal).
        const bool negative = size > 0 && text[0] == '-';
        const bool tiny = std::string_view(text, size).find("e-") != std::string_view::npos;
        v = tiny ? 0.0 : std::numeric_limits<double>::infinity();
        if (negative) v = -v;
      } else if (ec != std::errc() || end != text + size) {
        return bad_cell();
      }
      return SqlValue(v);
    }
    case kBoolOid:
      return SqlValue(int64_t{size > 0 && text[0] == 't' ? 1 : 0});
    default:
      return SqlValue(std::string(text, size));
  }
}

// Translates a failed command into a Status (see the file comment, 4.).
Status PostgresError(PGconn* conn, const PGresult* res, std::string_view sql,
                     const std::vector<std::string>& secrets) {
  if (PQstatus(conn) != CONNECTION_OK) {
    return Unavailable(
        Redact("postgresql: connection lost: " + OneLine(PQerrorMessage(conn)), secrets));
  }
  const char* sqlstate = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string state = sqlstate != nullptr ? sqlstate : "";
  std::string message = "postgresql: ";
  const char* primary = res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  if (primary != nullptr) {
    message += primary;
    if (const char* detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL)) {
      message += std::string(" (") + detail + ")";
    }
  } else {
    message += OneLine(res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  }
  if (!state.empty()) message += " [SQLSTATE " + state + "]";
  if (!sql.empty()) message += " (in: " + QuoteSql(sql) + ")";
  message = Redact(std::move(message), secrets);
  if (state == "23505") return Status(StatusCode::kAlreadyExists, std::move(message));
  if (state == "23503") return FailedPrecondition(std::move(message));
  if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03" ||
      state == "40001" || state == "40P01") {
    return Unavailable(std::move(message));
  }
  return Internal(std::move(message));
}

bool ResultOk(const PGresult* res) {
  if (res == nullptr) return false;
  switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
      return true;
    default:
      return false;
  }
}

class PostgresTransaction final : public FailFastTransaction {
 public:
  PostgresTransaction(PGconn* conn, const std::vector<std::string>& secrets)
      : conn_(conn), secrets_(secrets) {}
  PostgresTransaction(const PostgresTransaction&) = delete;
  PostgresTransaction& operator=(const PostgresTransaction&) = delete;

  StatusOr<std::vector<SqlRow>> Query(std::string_view sql,
                                      const std::vector<SqlValue>& params) override {
    Result res;
    RETURN_IF_ERROR(Record(Run(sql, params, &res)));
    std::vector<SqlRow> rows;
    const int nrows = PQntuples(res.get());
    const int ncols = PQnfields(res.get());
    rows.reserve(nrows);
    for (int r = 0; r < nrows; ++r) {
      SqlRow& row = rows.emplace_back();
      row.reserve(ncols);
      for (int c = 0; c < ncols; ++c) {
        StatusOr<SqlValue> v = CellValue(res.get(), r, c);
        if (!v.ok()) return Record(v.status());
        row.push_back(std::move(v).value());
      }
    }
    return rows;
  }

  StatusOr<int64_t> Exec(std::string_view sql, const std::vector<SqlValue>& params) override {
    Result res;
    RETURN_IF_ERROR(Record(Run(sql, params, &res)));
    if (std::string_view(PQcmdStatus(res.get())).rfind("SELECT", 0) == 0) return int64_t{0};
    const char* tuples = PQcmdTuples(res.get());
    int64_t changed = 0;
    std::from_chars(tuples, tuples + std::strlen(tuples), changed);  // "" (DDL) stays 0
    return changed;
  }

  Status ExecScript(std::string_view sql) override {
    RETURN_IF_ERROR(CheckNotFailed());
    Result res(PQexec(conn_, std::string(sql).c_str()));
    if (!ResultOk(res.get())) return Record(PostgresError(conn_, res.get(), sql, secrets_));
    return OkStatus();
  }

 private:
  Status Run(std::string_view sql, const std::vector<SqlValue>& params, Result* res) {
    RETURN_IF_ERROR(CheckNotFailed());
    size_t placeholders = 0;
    const std::string numbered = NumberPlaceholders(sql, &placeholders);
    if (placeholders != params.size()) {
      return InvalidArgument("postgresql: statement has " + std::to_string(placeholders) +
                             " placeholders but " + std::to_string(params.size()) +
                             " parameters were given (in: " + QuoteSql(sql) + ")");
    }
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<Oid> types(params.size(), 0);
    for (size_t i = 0; i < params.size(); ++i) {
      const SqlValue& v = params[i];
      if (const auto* n = std::get_if<int64_t>(&v)) {
        texts[i] = std::to_string(*n);
        types[i] = kInt8Oid;
      } else if (const auto* d = std::get_if<double>(&v)) {
        texts[i] = DoubleToText(*d);
        types[i] = kFloat8Oid;
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        texts[i] = *s;
      } else {
        continue;  // NULL: values[i] stays nullptr
      }
      values[i] = texts[i].c_str();
    }
    res->reset(PQexecParams(conn_, numbered.c_str(), static_cast<int>(params.size()), types.data(),
                            values.data(), /*paramLengths=*/nullptr,
                            /*paramFormats=*/nullptr, /*resultFormat=*/0));
    if (!ResultOk(res->get())) return PostgresError(conn_, res->get(), sql, secrets_);
    return OkStatus();
  }

  PGconn* const conn_;  // borrowed; used only while the owner's mutex is held
  const std::vector<std::string>& secrets_;
};

// Logs the WARNINGs that client_min_messages lets through; NOTICEs are not
// sent at all.
void LogNotice(void* /*arg*/, const char* message) {
  LogWarning("postgresql notice", {{"message", OneLine(message)}});
}

class PostgresDatabase final : public SerializedSqlDatabase {
 public:
  // Takes ownership of `conn`, a connection in any state.
  PostgresDatabase(PGconn* conn, std::vector<std::string> secrets)
      : conn_(conn), secrets_(std::move(secrets)) {}
  ~PostgresDatabase() override { PQfinish(conn_); }
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;

  std::string_view dialect() const override { return "postgresql"; }

  // Checks that the connection is up and prepares the session; also run
  // after every reconnect.
  Status SetUpSession() {
    if (PQstatus(conn_) != CONNECTION_OK) {
      return Unavailable(
          Redact("cannot connect to PostgreSQL: " + OneLine(PQerrorMessage(conn_)), secrets_));
    }
    PQsetNoticeProcessor(conn_, &LogNotice, nullptr);
    return Execute("SET client_min_messages TO WARNING");
  }

 private:
  Status RunTransaction(const std::function<Status(SqlTransaction&)>& fn) override {
    RETURN_IF_ERROR(Begin());
    PostgresTransaction txn(conn_, secrets_);
    Status status = fn(txn);
    if (status.ok()) status = txn.first_error();
    if (status.ok()) status = Commit();
    if (!status.ok()) Rollback();
    return status;
  }

  Status Begin() {
    bool reconnected = false;
    if (PQstatus(conn_) != CONNECTION_OK) {
      RETURN_IF_ERROR(Reconnect());
      reconnected = true;
    }
    Status status = Execute("BEGIN");
    // An idle connection whose server restarted looks fine until used.
    if (!status.ok() && !reconnected && PQstatus(conn_) != CONNECTION_OK) {
      RETURN_IF_ERROR(Reconnect());
      status = Execute("BEGIN");
    }
    return status;
  }

  Status Reconnect() {
    PQreset(conn_);
    Status status = SetUpSession();
    if (!status.ok()) {
      return Unavailable("PostgreSQL connection lost and reconnecting failed: " + status.message());
    }
    return OkStatus();
  }

  Status Commit() {
    Result res(PQexec(conn_, "COMMIT"));
    if (!ResultOk(res.get())) return PostgresError(conn_, res.get(), "COMMIT", secrets_);
    // COMMIT of an aborted transaction "succeeds" with the tag ROLLBACK.
    if (std::string_view(PQcmdStatus(res.get())) != "COMMIT") {
      return Internal("postgresql: the server rolled the transaction back at COMMIT");
    }
    return OkStatus();
  }

  void Rollback() {
    if (PQstatus(conn_) != CONNECTION_OK || PQtransactionStatus(conn_) == PQTRANS_IDLE) return;
    Status status = Execute("ROLLBACK");
    if (!status.ok()) LogError("postgresql rollback failed", {{"error", status.message()}});
  }

  Status Execute(const char* sql) {
    Result res(PQexec(conn_, sql));
    if (!ResultOk(res.get())) return PostgresError(conn_, res.get(), sql, secrets_);
    return OkStatus();
  }

  PGconn* const conn_;  // used under the base's transaction lock
  const std::vector<std::string> secrets_;  // spellings of the DSN's password
};

}  // namespace

StatusOr<std::unique_ptr<SqlDatabase>> OpenPostgresDatabase(const std::string& dsn) {
  // `dbname` is expanded as a connection string; the keywords before it are
  // defaults that the DSN overrides.
  const char* keywords[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {kDefaultConnectTimeout, "mast", dsn.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Unavailable("cannot connect to PostgreSQL: out of memory");
  auto db = std::make_unique<PostgresDatabase>(conn, DsnSecrets(dsn));  // owns conn
  RETURN_IF_ERROR(db->SetUpSession());
  return std::unique_ptr<SqlDatabase>(std::move(db));
}

}  // namespace mast
