#include "models/serving_map.h"

#include <algorithm>
#include <cctype>

namespace mast {

namespace {
bool IsNumber(const std::string& s) {
  return !s.empty() && s.size() < 19 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}
}  // namespace

bool VersionLess(const std::string& a, const std::string& b) {
  const bool na = IsNumber(a), nb = IsNumber(b);
  if (na && nb) return std::stoll(a) < std::stoll(b);
  if (na != nb) return na;  // numbers sort before names
  return a < b;
}

ServingMap::ServingMap(std::map<std::string, std::vector<VersionState>> models)
    : models_(std::move(models)) {
  for (auto& [name, versions] : models_) {
    std::sort(versions.begin(), versions.end(),
              [](const VersionState& x, const VersionState& y) {
                return VersionLess(y.version, x.version);
              });
  }
}

StatusOr<std::shared_ptr<const ModelVersion>> ServingMap::Find(
    const std::string& name, const std::string& version) const {
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound("model '" + name + "' is not known");
  const auto& versions = it->second;
  if (version.empty()) {
    for (const auto& v : versions) {
      if (v.model && v.is_default) return v.model;
    }
    for (const auto& v : versions) {
      if (v.model) return v.model;
    }
    return Unavailable("model '" + name + "' has no version that loaded");
  }
  for (const auto& v : versions) {
    if (v.version == version) {
      if (v.model) return v.model;
      return Unavailable("model '" + name + "' version " + version +
                         " is not ready: " + v.status.message());
    }
  }
  return NotFound("model '" + name + "' has no version " + version);
}

const std::vector<VersionState>* ServingMap::Versions(const std::string& name) const {
  auto it = models_.find(name);
  return it == models_.end() ? nullptr : &it->second;
}

int ServingMap::loaded_count() const {
  int n = 0;
  for (const auto& [name, versions] : models_) {
    for (const auto& v : versions) n += v.model ? 1 : 0;
  }
  return n;
}

}  // namespace mast
