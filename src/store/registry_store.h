// RegistryStore: the model registry's records (registered models, versions,
// tags, aliases and their history) on a SqlDatabase, so the same code runs on
// SQLite and PostgreSQL.
//
// Every mutation is one transaction that also advances the registry epoch
// (registry_state.epoch); replicas poll Epoch() to notice changes made by any
// process. Version numbers are allocated per model from
// registered_models.next_version inside the creating transaction, so
// concurrent pushes get distinct numbers.
//
// Invariants the store keeps (and the tests check):
//   1. a version row always names a blob row (the file is written before);
//   2. an alias always points at an existing, READY version;
//   3. a version an alias uses cannot be deleted (kFailedPrecondition).
//
// Thread-safety: safe from any thread (the SqlDatabase serialises).
// Ownership: borrows the SqlDatabase, which must outlive it.
#ifndef MAST_STORE_REGISTRY_STORE_H_
#define MAST_STORE_REGISTRY_STORE_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/sql_database.h"

namespace mast {

enum class VersionStatus { kPending, kReady, kFailed };
std::string_view VersionStatusName(VersionStatus s);  // "PENDING", "READY", "FAILED"

using Tags = std::map<std::string, std::string>;

struct RegisteredModel {
  std::string name;
  std::string description;
  Tags tags;
  std::map<std::string, int64_t> aliases;  // alias -> version
  int64_t latest_version = 0;              // 0 if none
  std::string created_by;
  std::string created_at;  // RFC 3339 UTC
  std::string updated_at;
};

struct ModelVersionRecord {
  std::string model_name;
  int64_t version = 0;
  std::string digest;  // "sha256:..."
  int64_t size_bytes = 0;
  std::string format;     // "onnx", "xgboost-json", "xgboost-ubj"
  std::string signature;  // JSON text: {"inputs": [...], "outputs": [...]}
  std::string manifest;   // model.yaml text, may be empty
  std::string run_id;
  std::string description;
  VersionStatus status = VersionStatus::kPending;
  std::string status_message;
  Tags tags;
  std::vector<std::string> aliases;
  std::string created_by;
  std::string created_at;
  std::string updated_at;
};

struct AliasChange {
  int64_t seq = 0;
  std::string model_name;
  std::string alias;
  std::optional<int64_t> from_version;
  std::optional<int64_t> to_version;
  std::string actor;
  std::string at;
};

class RegistryStore {
 public:
  explicit RegistryStore(SqlDatabase* db) : db_(db) {}
  RegistryStore(const RegistryStore&) = delete;
  RegistryStore& operator=(const RegistryStore&) = delete;

  // Errors: kAlreadyExists.
  StatusOr<RegisteredModel> CreateModel(const std::string& name, const std::string& description,
                                        const Tags& tags, const std::string& actor);
  // Errors: kNotFound.
  StatusOr<RegisteredModel> GetModel(const std::string& name);
  // Models whose name contains `filter` (empty: all), ordered by name, at
  // most `limit`, starting after `after_name`.
  StatusOr<std::vector<RegisteredModel>> ListModels(const std::string& filter, int limit,
                                                    const std::string& after_name);
  Status UpdateModel(const std::string& name, const std::string& description);
  // Deletes the model with all its versions and tags. Refused with
  // kFailedPrecondition while any alias exists.
  Status DeleteModel(const std::string& name);
  Status SetModelTag(const std::string& name, const std::string& key, const std::string& value);
  Status DeleteModelTag(const std::string& name, const std::string& key);

  // Records a new PENDING version of an existing model (kNotFound otherwise)
  // for a blob already written; returns it with its number.
  StatusOr<ModelVersionRecord> CreateVersion(const ModelVersionRecord& version);
  // Sets READY (with the signature read from the artifact) or FAILED.
  Status SetVersionStatus(const std::string& name, int64_t version, VersionStatus status,
                          const std::string& message, const std::string& signature);
  StatusOr<ModelVersionRecord> GetVersion(const std::string& name, int64_t version);
  // Versions of `name` (all models if empty), newest first, at most `limit`,
  // with numbers below `before_version` (0: no bound).
  StatusOr<std::vector<ModelVersionRecord>> ListVersions(const std::string& name, int limit,
                                                         int64_t before_version);
  Status UpdateVersion(const std::string& name, int64_t version, const std::string& description);
  // Refused with kFailedPrecondition (naming the aliases) while aliased.
  Status DeleteVersion(const std::string& name, int64_t version);
  Status SetVersionTag(const std::string& name, int64_t version, const std::string& key,
                       const std::string& value);
  Status DeleteVersionTag(const std::string& name, int64_t version, const std::string& key);

  // Points `alias` at `version` (which must be READY), recording the move.
  Status SetAlias(const std::string& name, const std::string& alias, int64_t version,
                  const std::string& actor);
  Status DeleteAlias(const std::string& name, const std::string& alias, const std::string& actor);
  StatusOr<ModelVersionRecord> GetVersionByAlias(const std::string& name,
                                                 const std::string& alias);
  StatusOr<std::vector<AliasChange>> AliasHistory(const std::string& name);
  // Every version that some model's `alias` points at.
  StatusOr<std::vector<ModelVersionRecord>> VersionsWithAlias(const std::string& alias);

  // Marks FAILED the PENDING versions created before `created_before` (RFC
  // 3339): their test-load was cut short by a crash. Returns how many.
  StatusOr<int64_t> FailStalePending(const std::string& created_before);

  // Advances on every change.
  StatusOr<int64_t> Epoch();
  // Digests some version references (for garbage collection of blobs).
  StatusOr<std::set<std::string>> ReferencedDigests();

 private:
  SqlDatabase* db_;
};

// Checks an alias: a valid name that is not reserved (numbers and "latest"
// name versions). Errors: kInvalidArgument.
Status ValidateAlias(std::string_view alias);

// Checks a model, alias or tag name: 1-256 characters, no '/', no control
// characters, not only dots. Errors: kInvalidArgument naming `what`.
Status ValidateName(std::string_view what, std::string_view name);

}  // namespace mast

#endif  // MAST_STORE_REGISTRY_STORE_H_
