#include "registry/registry_source.h"

#include "common/logging.h"

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
  thread_ = std::thread([this] { Loop(); });
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

StatusOr<int64_t> RegistrySource::SyncNow() {
  std::lock_guard<std::mutex> lock(sync_mu_);
  ASSIGN_OR_RETURN(int64_t epoch, registry_->store()->Epoch());
  if (epoch == applied_epoch_) return epoch;
  ASSIGN_OR_RETURN(auto versions, registry_->store()->VersionsWithAlias(options_.serve_alias));
  std::vector<ModelSource> sources = fixed_;
  for (const auto& v : versions) {
    auto source = registry_->SourceFor(v, v.model_name);
    if (!source.ok()) {
      LogError("registered version cannot be served",
               {{"model", v.model_name}, {"version", v.version},
                {"error", source.status().message()}});
      continue;
    }
    sources.push_back(std::move(source).value());
  }
  manager_->Load(sources);
  applied_epoch_ = epoch;
  return epoch;
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
