#include "store/migrations.h"

#include <string>
#include <vector>

#include "common/logging.h"

namespace mast {
namespace {

// Append only: never edit a released step; add a new one.
const std::vector<std::string>& Steps() {
  static const std::vector<std::string> kSteps = {
      // 1: the model registry.
      R"sql(
CREATE TABLE registry_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  epoch BIGINT NOT NULL
);
INSERT INTO registry_state (id, epoch) VALUES (1, 0);
CREATE TABLE registered_models (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  next_version BIGINT NOT NULL DEFAULT 1,
  created_by TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE model_tags (
  model_name TEXT NOT NULL REFERENCES registered_models (name) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_name, key)
);
CREATE TABLE blobs (
  digest TEXT PRIMARY KEY,
  size_bytes BIGINT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE model_versions (
  model_name TEXT NOT NULL REFERENCES registered_models (name),
  version BIGINT NOT NULL,
  digest TEXT NOT NULL REFERENCES blobs (digest),
  size_bytes BIGINT NOT NULL,
  format TEXT NOT NULL,
  signature TEXT NOT NULL DEFAULT '',
  manifest TEXT NOT NULL DEFAULT '',
  run_id TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  status_message TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (model_name, version)
);
CREATE TABLE version_tags (
  model_name TEXT NOT NULL,
  version BIGINT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_name, version, key),
  FOREIGN KEY (model_name, version) REFERENCES model_versions (model_name, version)
    ON DELETE CASCADE
);
CREATE TABLE aliases (
  model_name TEXT NOT NULL,
  alias TEXT NOT NULL,
  version BIGINT NOT NULL,
  updated_by TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL,
  PRIMARY KEY (model_name, alias),
  FOREIGN KEY (model_name, version) REFERENCES model_versions (model_name, version)
);
CREATE TABLE alias_history (
  seq BIGINT PRIMARY KEY,
  model_name TEXT NOT NULL,
  alias TEXT NOT NULL,
  from_version BIGINT,
  to_version BIGINT,
  actor TEXT NOT NULL DEFAULT '',
  at TEXT NOT NULL
);
CREATE INDEX model_versions_digest ON model_versions (digest);
)sql",
  };
  return kSteps;
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(Steps().size()); }

StatusOr<int> ApplyMigrations(SqlDatabase* db) {
  RETURN_IF_ERROR(db->InTransaction([](SqlTransaction& tx) {
    return tx.ExecScript(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  }));
  const auto& steps = Steps();
  int current = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const int number = static_cast<int>(i) + 1;
    bool applied_now = false;
    Status s = db->InTransaction([&](SqlTransaction& tx) -> Status {
      // Another replica may be migrating too: PostgreSQL's READ COMMITTED
      // would let both see the step as missing, so take the table's lock
      // (SQLite's BEGIN IMMEDIATE already serialises writers).
      if (db->dialect() == "postgresql") {
        RETURN_IF_ERROR(tx.ExecScript("LOCK TABLE schema_migrations IN EXCLUSIVE MODE"));
      }
      ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT version FROM schema_migrations WHERE version = ?",
                                           {int64_t{number}}));
      if (!rows.empty()) return OkStatus();
      RETURN_IF_ERROR(tx.ExecScript(steps[i]));
      RETURN_IF_ERROR(tx.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                              {int64_t{number}, NowRfc3339()})
                          .status());
      applied_now = true;
      return OkStatus();
    });
    if (!s.ok()) {
      return Status(s.code(), "migration " + std::to_string(number) + " failed: " + s.message());
    }
    if (applied_now) {
      LogInfo("schema migration applied", {{"version", number}, {"dialect", db->dialect()}});
    }
    current = number;
  }
  StatusOr<int> newest = 0;
  RETURN_IF_ERROR(db->InTransaction([&](SqlTransaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT MAX(version) FROM schema_migrations"));
    newest = static_cast<int>(SqlInt(rows.at(0).at(0)));
    return OkStatus();
  }));
  if (*newest > current) {
    return FailedPrecondition("the database schema is at version " + std::to_string(*newest) +
                              " but this mast knows only up to " + std::to_string(current) +
                              "; upgrade mast");
  }
  return current;
}

}  // namespace mast
