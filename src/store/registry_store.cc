#include "store/registry_store.h"

#include <cctype>

#include "common/logging.h"

namespace mast {

namespace {

StatusOr<int64_t> BumpEpoch(SqlTransaction& tx) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("UPDATE registry_state SET epoch = epoch + 1 WHERE id = 1 "
                            "RETURNING epoch"));
  if (rows.empty()) return Internal("registry_state row is missing");
  return SqlInt(rows[0][0]);
}

Status RequireModel(SqlTransaction& tx, const std::string& name) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT 1 FROM registered_models WHERE name = ?", {name}));
  if (rows.empty()) return NotFound("model '" + name + "' does not exist");
  return OkStatus();
}

StatusOr<Tags> ReadModelTags(SqlTransaction& tx, const std::string& name) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT key, value FROM model_tags WHERE model_name = ? ORDER BY key",
                            {name}));
  Tags tags;
  for (auto& r : rows) tags[SqlText(r[0])] = SqlText(r[1]);
  return tags;
}

constexpr const char* kModelColumns =
    "name, description, created_by, created_at, updated_at, next_version";

StatusOr<RegisteredModel> ModelFromRow(SqlTransaction& tx, const SqlRow& r) {
  RegisteredModel m;
  m.name = SqlText(r[0]);
  m.description = SqlText(r[1]);
  m.created_by = SqlText(r[2]);
  m.created_at = SqlText(r[3]);
  m.updated_at = SqlText(r[4]);
  ASSIGN_OR_RETURN(m.tags, ReadModelTags(tx, m.name));
  ASSIGN_OR_RETURN(auto aliases,
                   tx.Query("SELECT alias, version FROM aliases WHERE model_name = ?", {m.name}));
  for (auto& a : aliases) m.aliases[SqlText(a[0])] = SqlInt(a[1]);
  ASSIGN_OR_RETURN(auto latest,
                   tx.Query("SELECT MAX(version) FROM model_versions WHERE model_name = ?",
                            {m.name}));
  m.latest_version = latest.empty() ? 0 : SqlInt(latest[0][0]);
  return m;
}

constexpr const char* kVersionColumns =
    "model_name, version, digest, size_bytes, format, signature, manifest, run_id, "
    "description, status, status_message, created_by, created_at, updated_at";

VersionStatus ParseStatus(const std::string& s) {
  if (s == "READY") return VersionStatus::kReady;
  if (s == "FAILED") return VersionStatus::kFailed;
  return VersionStatus::kPending;
}

StatusOr<ModelVersionRecord> VersionFromRow(SqlTransaction& tx, const SqlRow& r) {
  ModelVersionRecord v;
  v.model_name = SqlText(r[0]);
  v.version = SqlInt(r[1]);
  v.digest = SqlText(r[2]);
  v.size_bytes = SqlInt(r[3]);
  v.format = SqlText(r[4]);
  v.signature = SqlText(r[5]);
  v.manifest = SqlText(r[6]);
  v.run_id = SqlText(r[7]);
  v.description = SqlText(r[8]);
  v.status = ParseStatus(SqlText(r[9]));
  v.status_message = SqlText(r[10]);
  v.created_by = SqlText(r[11]);
  v.created_at = SqlText(r[12]);
  v.updated_at = SqlText(r[13]);
  ASSIGN_OR_RETURN(auto tags, tx.Query("SELECT key, value FROM version_tags WHERE model_name = ? "
                                       "AND version = ? ORDER BY key",
                                       {v.model_name, v.version}));
  for (auto& t : tags) v.tags[SqlText(t[0])] = SqlText(t[1]);
  ASSIGN_OR_RETURN(auto aliases, tx.Query("SELECT alias FROM aliases WHERE model_name = ? AND "
                                          "version = ? ORDER BY alias",
                                          {v.model_name, v.version}));
  for (auto& a : aliases) v.aliases.push_back(SqlText(a[0]));
  return v;
}

StatusOr<ModelVersionRecord> ReadVersion(SqlTransaction& tx, const std::string& name,
                                         int64_t version) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(std::string("SELECT ") + kVersionColumns +
                                           " FROM model_versions WHERE model_name = ? AND "
                                           "version = ?",
                                       {name, version}));
  if (rows.empty()) {
    RETURN_IF_ERROR(RequireModel(tx, name));
    return NotFound("model '" + name + "' has no version " + std::to_string(version));
  }
  return VersionFromRow(tx, rows[0]);
}

}  // namespace

std::string_view VersionStatusName(VersionStatus s) {
  switch (s) {
    case VersionStatus::kPending: return "PENDING";
    case VersionStatus::kReady: return "READY";
    case VersionStatus::kFailed: return "FAILED";
  }
  return "PENDING";
}

Status ValidateAlias(std::string_view alias) {
  RETURN_IF_ERROR(ValidateName("alias", alias));
  if (alias == "latest" || alias.find_first_not_of("0123456789") == std::string_view::npos) {
    return InvalidArgument("alias '" + std::string(alias) +
                           "' is reserved (numbers and 'latest' name versions)");
  }
  return OkStatus();
}

Status ValidateName(std::string_view what, std::string_view name) {
  if (name.empty() || name.size() > 256) {
    return InvalidArgument(std::string(what) + " must be 1 to 256 characters");
  }
  if (name.find_first_not_of('.') == std::string_view::npos) {
    return InvalidArgument(std::string(what) + " '" + std::string(name) + "' is not allowed");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == '/') {
      return InvalidArgument(std::string(what) + " '" + std::string(name) +
                             "' contains '/' or a control character");
    }
  }
  return OkStatus();
}

StatusOr<RegisteredModel> RegistryStore::CreateModel(const std::string& name,
                                                     const std::string& description,
                                                     const Tags& tags, const std::string& actor) {
  RETURN_IF_ERROR(ValidateName("model name", name));
  for (const auto& [k, v] : tags) RETURN_IF_ERROR(ValidateName("tag key", k));
  StatusOr<RegisteredModel> out = Internal("unset");
  Status s = db_->InTransaction([&](SqlTransaction& tx) -> Status {
    const std::string now = NowRfc3339();
    auto inserted = tx.Exec(
        "INSERT INTO registered_models (name, description, created_by, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?)",
        {name, description, actor, now, now});
    if (!inserted.ok()) {
      if (inserted.status().code() == StatusCode::kAlreadyExists) {
        return AlreadyExists("model '" + name + "' already exists");
      }
      return inserted.status();
    }
    for (const auto& [k, v] : tags) {
      RETURN_IF_ERROR(tx.Exec("INSERT INTO model_tags (model_name, key, value) VALUES (?, ?, ?)",
                              {name, k, v})
                          .status());
    }
    RETURN_IF_ERROR(BumpEpoch(tx).status());
    ASSIGN_OR_RETURN(auto rows, tx.Query(std::string("SELECT ") + kModelColumns +
                                             " FROM registered_models WHERE name = ?",
                                         {name}));
    out = ModelFromRow(tx, rows.at(0));
    return out.status();
  });
  if (!s.ok()) return s;
  return out;
}

StatusOr<RegisteredModel> RegistryStore::GetModel(const std::string& name) {
  StatusOr<RegisteredModel> out = Internal("unset");
  RETURN_IF_ERROR(db_->InTransaction([&](SqlTransaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto rows, tx.Query(std::string("SELECT ") + kModelColumns +
                                             " FROM registered_models WHERE name = ?",
                                         {name}));
    if (rows.empty()) return NotFound("model '" + name + "' does not exist");
    out = ModelFromRow(tx, rows[0]);
    return out.status();
  }));
  return out;
}

StatusOr<std::vector<RegisteredModel>> RegistryStore::ListModels(const std::string& filter,
                                                                 int limit,
                                                                 const std::string& after_name) {
  std::vector<RegisteredModel> out;
  RETURN_IF_ERROR(db_->InTransaction([&](SqlTransaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto rows,
                     tx.Query(std::string("SELECT ") + kModelColumns +
                                  " FROM registered_models WHERE name > ? AND "
                                  "(? = '' OR name LIKE '%' || ? || '%') ORDER BY name LIMIT ?",
                              {after_name, filter, filter, int64_t{limit}}));
    for (const auto& r : rows) {
      ASSIGN_OR_RETURN(RegisteredModel m, ModelFromRow(tx, r));
      out.push_back(std::move(m));
    }
    return OkStatus();
  }));
  return out;
}

Status RegistryStore::UpdateModel(const std::string& name, const std::string& description) {
  return db_->InTransaction([&](SqlTransaction& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE registered_models SET description = ?, "
                                        "updated_at = ? WHERE name = ?",
                                        {description, NowRfc3339(), name}));
    if (n == 0) return NotFound("model '" + name + "' does not exist");
    return BumpEpoch(tx).status();
  });
}

Status RegistryStore::DeleteModel(const std::string& name) {
  return db_->InTransaction([&](SqlTransaction& tx) -> Status {
    RETURN_IF_ERROR(RequireModel(tx, name));
    ASSIGN_OR_RETURN(auto aliases, tx.Query("SELECT alias, version FROM aliases WHERE "
                                            "model_name = ? ORDER BY alias",
                                            {name}));
    if (!aliases.empty()) {
      std::string list;
      for (const auto& a : aliases) {
        list += (list.empty() ? "" : ", ") + SqlText(a[0]) + " -> " +
                std::to_string(SqlInt(a[1]));
      }
      return FailedPrecondition("model '" + name + "' still has aliases (" + list +
                                "); delete them first");
    }
    RETURN_IF_ERROR(tx.Exec("DELETE FROM version_tags WHERE model_name = ?", {name}).status());
    RETURN_IF_ERROR(tx.Exec("DELETE FROM model_versions WHERE model_name = ?", {name}).status());
    RETURN_IF_ERROR(tx.Exec("DELETE FROM model_tags WHERE model_name = ?", {name}).status());
    RETURN_IF_ERROR(tx.Exec("DELETE FROM registered_models WHERE name = ?", {name}).status());
    return BumpEpoch(tx).status();
  });
}

Status RegistryStore::SetModelTag(const std::string& name, const std::string& key,
                                  const std::string& value) {
  RETURN_IF_ERROR(ValidateName("tag key", key));
  return db_->InTransaction([&](SqlTransaction& tx) -> Status {
    RETURN_IF_ERROR(RequireModel(tx, name));
    RETURN_IF_ERROR(tx.Exec("INSERT INTO model_tags (model_name, key, value) VALUES (?, ?, ?) "
                            "ON CONFLICT (model_name, key) DO UPDATE SET value = excluded.value",
                            {name, key, value})
                        .status());
    return BumpEpoch(tx).status();
  });
}

Status RegistryStore::DeleteModelTag(const std::string& name, const std::string& key) {
  return db_->InTransaction([&](SqlTransaction& tx) -> Status {
    RETURN_IF_ERROR(RequireModel(tx, name));
    ASSIGN_OR_RETURN(int64_t n, tx.Exec("DELETE FROM model_tags WHERE model_name = ? AND key = ?",
                                        {name, key}));
    if (n == 0) return NotFound("model '" + name + "' has no tag '" + key + "'");
    return BumpEpoch(tx).status();
  });
}

StatusOr<ModelVersionRecord> RegistryStore::CreateVersion(const ModelVersionRecord& v) {
  for (const auto& [k, val] : v.tags) RETURN_IF_ERROR(ValidateName("tag key", k));
  StatusOr<ModelVersionRecord> out = Internal("unset");
  RETURN_IF_ERROR(db_->InTransaction([&](SqlTransaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto next, tx.Query("UPDATE registered_models SET next_version = "
                                         "next_version + 1, updated_at = ? WHERE name = ? "
                                         "RETURNING next_version - 1",
                                         {NowRfc3339(), v.model_name}));
    if (next.empty()) return NotFound("model '" + v.model_name + "' does not exist");
    const int64_t number = SqlInt(next[0][0]);
    const std::string now = NowRfc3339();
    RETURN_IF_ERROR(tx.Exec("INSERT INTO blobs (digest, size_bytes, created_at) VALUES (?, ?, ?) "
                            "ON CONFLICT (digest) DO NOTHING",
                            {v.digest, v.size_bytes, now})
                        .status());
    RETURN_IF_ERROR(
        tx.Exec("INSERT INTO model_versions (model_name, version, digest, size_bytes, format, "
                "signature, manifest, run_id, description, status, status_message, created_by, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'PENDING', '', ?, ?, ?)",
                {v.model_name, number, v.digest, v.size_bytes, v.format, v.signature, v.manifest,
                 v.run_id, v.description, v.created_by, now, now})
            .status());
    for (const auto& [k, val] : v.tags) {
      RETURN_IF_ERROR(tx.Exec("INSERT INTO version_tags (model_name, version, key, value) "
                              "VALUES (?, ?, ?, ?)",
                              {v.model_name, number, k, val})
                          .status());
    }
    RETURN_IF_ERROR(BumpEpoch(tx).status());
    out = ReadVersion(tx, v.model_name, number);
    return out.status();
  }));
  return out;
}

Status RegistryStore::SetVersionStatus(const std::string& name, int64_t version,
                                       VersionStatus status, const std::string& message,
                                       const std::string& signature) {
  return db_->InTransaction([&](SqlTransaction& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t n,
                     tx.Exec("UPDATE model_versions SET status = ?, status_message = ?, "
                             "signature = CASE WHEN ? = '' THEN signature ELSE ? END, "
                             "updated_at = ? WHERE model_name = ? AND version = ?",
                             {std::string(VersionStatusName(status)), message, signature,
                              signature, NowRfc3339(), name, version}));
    if (n == 0) return NotFound("model '" + name + "' has no version " + std::to_string(version));
    return BumpEpoch(tx).status();
  });
}

StatusOr<ModelVersionRecord> RegistryStore::GetVersion(const std::string& name, int64_t version) {
  StatusOr<ModelVersionRecord> out = Internal("unset");
  RETURN_IF_ERROR(db_->InTransaction([&](SqlTransaction& tx) -> Status {
    out = ReadVersion(tx, name, version);
    return out.status();
  }));
  return out;
}

StatusOr<std::vector<ModelVersionRecord>> RegistryStore::ListVersions(const std::string& name,
                                                                      int limit,
                                                                      int64_t before_version) {
  std::vector<ModelVersionRecord> out;
  RETURN_IF_ERROR(db_->InTransaction([&](SqlTransaction& tx) -> Status {
    if (!name.empty()) RETURN_IF_ERROR(RequireModel(tx, name));
    ASSIGN_OR_RETURN(auto rows,
                     tx.Query(std::string("SELECT ") + kVersionColumns +
                                  " FROM model_versions WHERE (? = '' OR model_name = ?) AND "
                                  "(? = 0 OR version < ?) ORDER BY model_name, version DESC "
                                  "LIMIT ?",
                              {name, name, before_version, before_version, int64_t{limit}}));
    for (const auto& r : rows) {
      ASSIGN_OR_RETURN(ModelVersionRecord v, VersionFromRow(tx, r));
      out.push_back(std::move(v));
    }
    return OkStatus();
  }));
  return out;
}

Status RegistryStore::UpdateVersion(const std::string& name, int64_t version,
                                    const std::string& description) {
  return db_->InTransaction([&](SqlTransaction& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE model_versions SET description = ?, "
                                        "updated_at = ? WHERE model_name = ? AND version = ?",
                                        {description, NowRfc3339(), name, version}));
    if (n == 0) return ReadVersion(tx, name, version).status();
    return BumpEpoch(tx).status();
  });
}

Status RegistryStore::DeleteVersion(const std::string& name, int64_t version) {
  return db_->InTransaction([&](SqlTransaction& tx) -> Status {
    ASSIGN_OR_RETURN(ModelVersionRecord v, ReadVersion(tx, name, version));
    if (!v.aliases.empty()) {
      std::string list;
      for (const auto& a : v.aliases) list += (list.empty() ? "" : ", ") + a;
      return FailedPrecondition("model '" + name + "' version " + std::to_string(version) +
                                " is in use by alias " + list + "; move the alias first");
    }
    RETURN_IF_ERROR(tx.Exec("DELETE FROM version_tags WHERE model_name = ? AND version = ?",
                            {name, version})
                        .status());
    RETURN_IF_ERROR(tx.Exec("DELETE FROM model_versions WHERE model_name = ? AND version = ?",
                            {name, version})
                        .status());
    return BumpEpoch(tx).status();
  });
}

Status RegistryStore::SetVersionTag(const std::string& name, int64_t version,
                                    const std::string& key, const std::string& value) {
  RETURN_IF_ERROR(ValidateName("tag key", key));
  return db_->InTransaction([&](SqlTransaction& tx) -> Status {
    RETURN_IF_ERROR(ReadVersion(tx, name, version).status());
    RETURN_IF_ERROR(tx.Exec("INSERT INTO version_tags (model_name, version, key, value) VALUES "
                            "(?, ?, ?, ?) ON CONFLICT (model_name, version, key) DO UPDATE SET "
                            "value = excluded.value",
                            {name, version, key, value})
                        .status());
    return BumpEpoch(tx).status();
  });
}

Status RegistryStore::DeleteVersionTag(const std::string& name, int64_t version,
                                       const std::string& key) {
  return db_->InTransaction([&](SqlTransaction& tx) -> Status {
    RETURN_IF_ERROR(ReadVersion(tx, name, version).status());
    ASSIGN_OR_RETURN(int64_t n, tx.Exec("DELETE FROM version_tags WHERE model_name = ? AND "
                                        "version = ? AND key = ?",
                                        {name, version, key}));
    if (n == 0) {
      return NotFound("model '" + name + "' version " + std::to_string(version) +
                      " has no tag '" + key + "'");
    }
    return BumpEpoch(tx).status();
  });
}

Status RegistryStore::SetAlias(const std::string& name, const std::string& alias,
                               int64_t version, const std::string& actor) {
  RETURN_IF_ERROR(ValidateAlias(alias));
  return db_->InTransaction([&](SqlTransaction& tx) -> Status {
    ASSIGN_OR_RETURN(ModelVersionRecord v, ReadVersion(tx, name, version));
    if (v.status != VersionStatus::kReady) {
      return FailedPrecondition("model '" + name + "' version " + std::to_string(version) +
                                " is " + std::string(VersionStatusName(v.status)) +
                                (v.status_message.empty() ? "" : " (" + v.status_message + ")") +
                                "; only a READY version can take an alias");
    }
    ASSIGN_OR_RETURN(auto old, tx.Query("SELECT version FROM aliases WHERE model_name = ? AND "
                                        "alias = ?",
                                        {name, alias}));
    const std::string now = NowRfc3339();
    if (old.empty()) {
      RETURN_IF_ERROR(tx.Exec("INSERT INTO aliases (model_name, alias, version, updated_by, "
                              "updated_at) VALUES (?, ?, ?, ?, ?)",
                              {name, alias, version, actor, now})
                          .status());
    } else {
      RETURN_IF_ERROR(tx.Exec("UPDATE aliases SET version = ?, updated_by = ?, updated_at = ? "
                              "WHERE model_name = ? AND alias = ?",
                              {version, actor, now, name, alias})
                          .status());
    }
    ASSIGN_OR_RETURN(int64_t seq, BumpEpoch(tx));
    SqlValue from = old.empty() ? SqlValue{} : SqlValue{SqlInt(old[0][0])};
    return tx.Exec("INSERT INTO alias_history (seq, model_name, alias, from_version, to_version, "
                   "actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   {seq, name, alias, from, version, actor, now})
        .status();
  });
}

Status RegistryStore::DeleteAlias(const std::string& name, const std::string& alias,
                                  const std::string& actor) {
  return db_->InTransaction([&](SqlTransaction& tx) -> Status {
    RETURN_IF_ERROR(RequireModel(tx, name));
    ASSIGN_OR_RETURN(auto old, tx.Query("SELECT version FROM aliases WHERE model_name = ? AND "
                                        "alias = ?",
                                        {name, alias}));
    if (old.empty()) return NotFound("model '" + name + "' has no alias '" + alias + "'");
    RETURN_IF_ERROR(
        tx.Exec("DELETE FROM aliases WHERE model_name = ? AND alias = ?", {name, alias}).status());
    ASSIGN_OR_RETURN(int64_t seq, BumpEpoch(tx));
    return tx.Exec("INSERT INTO alias_history (seq, model_name, alias, from_version, to_version, "
                   "actor, at) VALUES (?, ?, ?, ?, NULL, ?, ?)",
                   {seq, name, alias, SqlInt(old[0][0]), actor, NowRfc3339()})
        .status();
  });
}

StatusOr<ModelVersionRecord> RegistryStore::GetVersionByAlias(const std::string& name,
                                                              const std::string& alias) {
  StatusOr<ModelVersionRecord> out = Internal("unset");
  RETURN_IF_ERROR(db_->InTransaction([&](SqlTransaction& tx) -> Status {
    RETURN_IF_ERROR(RequireModel(tx, name));
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT version FROM aliases WHERE model_name = ? AND "
                                         "alias = ?",
                                         {name, alias}));
    if (rows.empty()) return NotFound("model '" + name + "' has no alias '" + alias + "'");
    out = ReadVersion(tx, name, SqlInt(rows[0][0]));
    return out.status();
  }));
  return out;
}

StatusOr<std::vector<AliasChange>> RegistryStore::AliasHistory(const std::string& name) {
  std::vector<AliasChange> out;
  RETURN_IF_ERROR(db_->InTransaction([&](SqlTransaction& tx) -> Status {
    RETURN_IF_ERROR(RequireModel(tx, name));
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT seq, alias, from_version, to_version, actor, at "
                                         "FROM alias_history WHERE model_name = ? ORDER BY seq",
                                         {name}));
    for (const auto& r : rows) {
      AliasChange c;
      c.seq = SqlInt(r[0]);
      c.model_name = name;
      c.alias = SqlText(r[1]);
      if (!SqlIsNull(r[2])) c.from_version = SqlInt(r[2]);
      if (!SqlIsNull(r[3])) c.to_version = SqlInt(r[3]);
      c.actor = SqlText(r[4]);
      c.at = SqlText(r[5]);
      out.push_back(std::move(c));
    }
    return OkStatus();
  }));
  return out;
}

StatusOr<std::vector<ModelVersionRecord>> RegistryStore::VersionsWithAlias(
    const std::string& alias) {
  std::vector<ModelVersionRecord> out;
  RETURN_IF_ERROR(db_->InTransaction([&](SqlTransaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT model_name, version FROM aliases WHERE alias = ? "
                                         "ORDER BY model_name",
                                         {alias}));
    for (const auto& r : rows) {
      ASSIGN_OR_RETURN(ModelVersionRecord v, ReadVersion(tx, SqlText(r[0]), SqlInt(r[1])));
      out.push_back(std::move(v));
    }
    return OkStatus();
  }));
  return out;
}

StatusOr<int64_t> RegistryStore::FailStalePending(const std::string& created_before) {
  int64_t n = 0;
  RETURN_IF_ERROR(db_->InTransaction([&](SqlTransaction& tx) -> Status {
    ASSIGN_OR_RETURN(n, tx.Exec("UPDATE model_versions SET status = 'FAILED', status_message = "
                                "'the test load was interrupted (the server stopped during the "
                                "push); push the file again', updated_at = ? WHERE status = "
                                "'PENDING' AND created_at < ?",
                                {NowRfc3339(), created_before}));
    if (n > 0) return BumpEpoch(tx).status();
    return OkStatus();
  }));
  return n;
}

StatusOr<int64_t> RegistryStore::Epoch() {
  int64_t epoch = 0;
  RETURN_IF_ERROR(db_->InTransaction([&](SqlTransaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT epoch FROM registry_state WHERE id = 1"));
    if (rows.empty()) return Internal("registry_state row is missing");
    epoch = SqlInt(rows[0][0]);
    return OkStatus();
  }));
  return epoch;
}

StatusOr<std::set<std::string>> RegistryStore::ReferencedDigests() {
  std::set<std::string> out;
  RETURN_IF_ERROR(db_->InTransaction([&](SqlTransaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT DISTINCT digest FROM model_versions"));
    for (const auto& r : rows) out.insert(SqlText(r[0]));
    return OkStatus();
  }));
  return out;
}

}  // namespace mast
