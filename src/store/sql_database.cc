// Typed reads of SqlValue cells, shared by both SqlDatabase implementations
// and their callers.
//
// The two engines do not always agree on whether a number is an integer or a
// double (SQLite's NUMERIC affinity stores 3.0 as the integer 3; PostgreSQL's
// SUM(bigint) is NUMERIC, read as a double), so the numeric reads convert
// between the two numeric alternatives when no precision is lost; text and
// NULL never convert to numbers.
//
// Thread-safety: pure functions.
#include "store/sql_database.h"

#include <cmath>

namespace mast {

int64_t SqlInt(const SqlValue& v, int64_t fallback) {
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) {
    // Integral doubles in int64's range only; 2^63 itself is out of range.
    if (std::isfinite(*d) && std::trunc(*d) == *d && *d >= -9223372036854775808.0 &&
        *d < 9223372036854775808.0) {
      return static_cast<int64_t>(*d);
    }
  }
  return fallback;
}

double SqlDouble(const SqlValue& v, double fallback) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return fallback;
}

std::string SqlText(const SqlValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return std::string();
}

bool SqlIsNull(const SqlValue& v) { return std::holds_alternative<std::monostate>(v); }

Status SerializedSqlDatabase::InTransaction(
    const std::function<Status(SqlTransaction&)>& fn) {
  if (owner_.load() == std::this_thread::get_id()) {
    return Internal("InTransaction called from inside a transaction function");
  }
  std::lock_guard<std::mutex> lock(mu_);
  owner_.store(std::this_thread::get_id());
  Status status = RunTransaction(fn);
  owner_.store(std::thread::id());
  return status;
}

}  // namespace mast
