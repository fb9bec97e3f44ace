// ServingMap: an immutable snapshot of which model versions are loaded (or
// failed to load) and so can be served. The hot path reads it without locks:
// the ModelManager builds a new map and swaps it in whole.
//
// Thread-safety: immutable; share as std::shared_ptr<const ServingMap>.
#ifndef MAST_MODELS_SERVING_MAP_H_
#define MAST_MODELS_SERVING_MAP_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "models/model_version.h"

namespace mast {

// One version slot: loaded (model set, status OK) or failed (status says why).
struct VersionState {
  std::string version;
  std::shared_ptr<const ModelVersion> model;
  Status status;
  // Answers requests that name no version (the registry's serving alias).
  bool is_default = false;
};

class ServingMap {
 public:
  ServingMap() = default;
  // `models`: name -> versions in any order.
  explicit ServingMap(std::map<std::string, std::vector<VersionState>> models);

  // The requested version of `name`, or, with an empty `version`, the
  // default one (the serving alias's) if it is loaded, else the newest loaded
  // one (highest number). Errors: kNotFound naming the model or
  // version; kUnavailable if the version exists but failed to load.
  StatusOr<std::shared_ptr<const ModelVersion>> Find(
      const std::string& name, const std::string& version = "") const;

  // All versions of `name` (newest first), or null if unknown.
  const std::vector<VersionState>* Versions(const std::string& name) const;

  const std::map<std::string, std::vector<VersionState>>& models() const {
    return models_;
  }
  // Number of loaded versions across all models.
  int loaded_count() const;

 private:
  std::map<std::string, std::vector<VersionState>> models_;
};

// Orders version labels: numeric ones by value, then others by text.
bool VersionLess(const std::string& a, const std::string& b);

}  // namespace mast

#endif  // MAST_MODELS_SERVING_MAP_H_
