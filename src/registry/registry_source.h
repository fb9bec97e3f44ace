// RegistrySource: keeps the served models in step with the registry.
//
// The served set is the fixed sources (model files given on the command
// line) plus, for every registered model, the version its serving alias
// (default "production") points at -- which answers requests that name no
// version -- and the versions its version policy adds. The policy is the
// model tag `mast.version_policy`: "latest:N" (the N newest READY versions),
// "all" (every READY version) or "specific:1,4" (those versions); without it
// only the alias's version is served. A model can also be unloaded from this
// replica (Open Inference Protocol repository extension) until loaded again. The source polls the registry epoch
// (every `poll_interval`, and at once after Notify()) and, when it moved,
// hands the new set to the ModelManager, which loads new versions off the
// request threads, swaps the serving map and lets the old versions drain.
// Several replicas on one PostgreSQL see each other's changes through the
// same epoch.
//
// Thread-safety: Start/Stop from the owning thread; Notify() and
// SyncNow() from any thread. Owns its polling thread.
#ifndef MAST_REGISTRY_REGISTRY_SOURCE_H_
#define MAST_REGISTRY_REGISTRY_SOURCE_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "models/model_manager.h"
#include "registry/registry.h"

namespace mast {

struct RegistrySourceOptions {
  // The alias whose version each model serves.
  std::string serve_alias = "production";
  // How often the registry epoch is polled for changes by other replicas.
  std::chrono::milliseconds poll_interval{1000};
};

class RegistrySource {
 public:
  RegistrySource(Registry* registry, ModelManager* manager, std::vector<ModelSource> fixed,
                 RegistrySourceOptions options);
  ~RegistrySource();
  RegistrySource(const RegistrySource&) = delete;
  RegistrySource& operator=(const RegistrySource&) = delete;

  // Loads the current set once (blocking) and returns the per-source
  // statuses of the fixed sources; then polls on a thread of its own.
  std::vector<Status> Start();
  void Stop();
  // Asks for a check now (after a change made through this process).
  void Notify();
  // Checks the registry and applies changes, blocking; returns the epoch seen.
  StatusOr<int64_t> SyncNow();

  // Repository extension: stop serving `name` on this replica, or serve it
  // again (blocking until applied). Errors: kNotFound for an unknown model.
  Status UnloadModel(const std::string& name);
  Status LoadModel(const std::string& name);
  // Whether `name` was unloaded here.
  bool IsUnloaded(const std::string& name);

 private:
  void Loop();

  Registry* registry_;
  ModelManager* manager_;
  std::vector<ModelSource> fixed_;
  RegistrySourceOptions options_;
  // Registered versions to serve for `model` under its policy tag.
  StatusOr<std::vector<ModelSource>> SourcesFor(const RegisteredModel& model);

  std::mutex sync_mu_;                 // serialises SyncNow()
  int64_t applied_epoch_ = -1;         // GUARDED_BY(sync_mu_)
  std::set<std::string> unloaded_;     // GUARDED_BY(sync_mu_)
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;              // GUARDED_BY(mu_)
  bool notified_ = false;              // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace mast

#endif  // MAST_REGISTRY_REGISTRY_SOURCE_H_
