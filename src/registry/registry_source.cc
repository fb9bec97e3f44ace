#include "registry/registry_source.h"

#include <optional>
#include <sstream>

#include "common/logging.h"
#include "common/thread_name.h"

namespace mast {

RegistrySource::RegistrySource(Registry* registry, ModelManager* manager,
                               std::vector<ModelSource> fixed, RegistrySourceOptions options)
    : registry_(registry), manager_(manager), fixed_(std::move(fixed)), options_(options) {}

RegistrySource::~RegistrySource() { Stop(); }

std::vector<Status> RegistrySource::Start() {
  std::vector<Status> fixed_status(fixed_.size());
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    // The fixed sources first, so their statuses can be reported.
    std::vector<Status> all = manager_->Load(fixed_);
    for (size_t i = 0; i < fixed_.size(); ++i) fixed_status[i] = all[i];
  }
  auto epoch = SyncNow();
  if (!epoch.ok()) {
    LogError("cannot read the registry", {{"error", epoch.status().message()}});
  }
  thread_ = std::thread([this] {
    SetThreadName("mast-registry");
    Loop();
  });
  return fixed_status;
}

void RegistrySource::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RegistrySource::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
  }
  cv_.notify_all();
}

namespace {

// Parses a `mast.version_policy` tag value; on error returns it as a status.
struct VersionPolicy {
  enum Kind { kAliasOnly, kLatest, kAll, kSpecific } kind = kAliasOnly;
  int64_t latest = 0;
  std::set<int64_t> specific;
};

StatusOr<VersionPolicy> ParsePolicy(const std::string& text) {
  VersionPolicy p;
  if (text.empty()) return p;
  if (text == "all") {
    p.kind = VersionPolicy::kAll;
    return p;
  }
  auto number = [](const std::string& s) -> std::optional<int64_t> {
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    int64_t v = std::stoll(s);
    return v > 0 ? std::optional<int64_t>(v) : std::nullopt;
  };
  if (text.rfind("latest:", 0) == 0) {
    auto n = number(text.substr(7));
    if (!n) return InvalidArgument("version policy '" + text + "': latest:N needs N >= 1");
    p.kind = VersionPolicy::kLatest;
    p.latest = *n;
    return p;
  }
  if (text.rfind("specific:", 0) == 0) {
    p.kind = VersionPolicy::kSpecific;
    std::stringstream list(text.substr(9));
    std::string item;
    while (std::getline(list, item, ',')) {
      auto n = number(item);
      if (!n) return InvalidArgument("version policy '" + text + "': '" + item + "' is no version");
      p.specific.insert(*n);
    }
    return p;
  }
  return InvalidArgument("version policy '" + text +
                         "' is not one of latest:N, all, specific:V1,V2");
}

}  // namespace

StatusOr<std::vector<ModelSource>> RegistrySource::SourcesFor(const RegisteredModel& model) {
  std::vector<ModelSource> out;
  auto tag = model.tags.find("mast.version_policy");
  auto policy = ParsePolicy(tag == model.tags.end() ? "" : tag->second);
  if (!policy.ok()) {
    LogWarning("ignoring the version policy", {{"model", model.name},
                                                {"error", policy.status().message()}});
    policy = VersionPolicy{};
  }
  int64_t default_version = 0;
  if (auto a = model.aliases.find(options_.serve_alias); a != model.aliases.end()) {
    default_version = a->second;
  }
  std::set<int64_t> wanted;
  if (default_version > 0) wanted.insert(default_version);
  if (policy->kind != VersionPolicy::kAliasOnly) {
    ASSIGN_OR_RETURN(auto versions, registry_->store()->ListVersions(model.name, 100000, 0));
    int64_t taken = 0;
    for (const auto& v : versions) {  // newest first
      if (v.status != VersionStatus::kReady) continue;
      const bool take = policy->kind == VersionPolicy::kAll ||
                        (policy->kind == VersionPolicy::kLatest && taken < policy->latest) ||
                        (policy->kind == VersionPolicy::kSpecific && policy->specific.count(v.version));
      if (take) {
        wanted.insert(v.version);
        ++taken;
      }
    }
  }
  for (int64_t number : wanted) {
    ASSIGN_OR_RETURN(ModelVersionRecord v, registry_->store()->GetVersion(model.name, number));
    auto source = registry_->SourceFor(v, model.name);
    if (!source.ok()) {
      LogError("registered version cannot be served",
               {{"model", model.name}, {"version", number}, {"error", source.status().message()}});
      continue;
    }
    source->is_default = number == default_version;
    out.push_back(std::move(source).value());
  }
  return out;
}

StatusOr<int64_t> RegistrySource::SyncNow() {
  std::lock_guard<std::mutex> lock(sync_mu_);
  ASSIGN_OR_RETURN(int64_t epoch, registry_->store()->Epoch());
  if (epoch == applied_epoch_) return epoch;
  std::vector<ModelSource> sources = fixed_;
  std::string after;
  for (;;) {
    ASSIGN_OR_RETURN(auto models, registry_->store()->ListModels("", 500, after));
    for (const auto& m : models) {
      if (unloaded_.count(m.name)) continue;
      ASSIGN_OR_RETURN(auto more, SourcesFor(m));
      for (auto& s : more) sources.push_back(std::move(s));
    }
    if (models.size() < 500) break;
    after = models.back().name;
  }
  manager_->Load(sources);
  applied_epoch_ = epoch;
  return epoch;
}

Status RegistrySource::UnloadModel(const std::string& name) {
  RETURN_IF_ERROR(registry_->store()->GetModel(name).status());
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    unloaded_.insert(name);
    applied_epoch_ = -1;  // force the next sync to apply
  }
  return SyncNow().status();
}

Status RegistrySource::LoadModel(const std::string& name) {
  RETURN_IF_ERROR(registry_->store()->GetModel(name).status());
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    unloaded_.erase(name);
    applied_epoch_ = -1;
  }
  return SyncNow().status();
}

bool RegistrySource::IsUnloaded(const std::string& name) {
  std::lock_guard<std::mutex> lock(sync_mu_);
  return unloaded_.count(name) > 0;
}

void RegistrySource::Loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, options_.poll_interval, [this] { return stopping_ || notified_; });
      if (stopping_) return;
      notified_ = false;
    }
    auto epoch = SyncNow();
    if (!epoch.ok()) {
      LogWarning("registry poll failed", {{"error", epoch.status().message()}});
    }
  }
}

}  // namespace mast
