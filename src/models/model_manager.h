// ModelManager: loads model versions from their sources and publishes the
// ServingMap the request path reads.
//
// Lifecycle (after TF Serving's manager): each version is loaded (backend,
// manifest, feature mapping) off the request threads; a version that fails
// keeps its error as data in the map, so one bad model never breaks the
// others; the new map replaces the old one atomically. A version already
// loaded from the same source is kept, not reloaded. In-flight requests keep
// the versions they hold alive until they finish; the last release hands the
// version to the manager's unload thread, so engines are never torn down on
// an I/O thread.
//
// Thread-safety: snapshot() is lock-free for readers and safe from any
// thread; Load() calls are serialised by an internal mutex and may block
// for as long as the loads take, so never call Load() on an I/O thread.
#ifndef MAST_MODELS_MODEL_MANAGER_H_
#define MAST_MODELS_MODEL_MANAGER_H_

#include <atomic>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "common/worker_pool.h"
#include "models/serving_map.h"
#include "monitor/serving_metrics.h"

namespace mast {

// Where one version comes from.
struct ModelSource {
  std::string name;
  std::string version;
  std::string artifact_path;
  std::string manifest_path;  // may name a file that does not exist
  // Set by the registry: the manifest's text (instead of manifest_path), the
  // format (blobs have no extension) and the digest to verify before loading.
  std::optional<std::string> manifest_text;
  std::string format;
  std::string digest;
  // Serves requests that name no version (see VersionState::is_default).
  bool is_default = false;
};

// Lists DIR/<name>/<version>/model.{onnx,json,ubj} (+ model.yaml); a model
// file directly in DIR/<name>/ is that model's version "1". A version
// folder without a model file is listed with an empty artifact_path so that it
// is reported as failed. Errors: kNotFound if DIR is not a directory.
StatusOr<std::vector<ModelSource>> ScanModelRepository(const std::string& dir);

// The source for one model file served alone (MODEL_PATH): version "1",
// manifest `model.yaml` beside the file.
ModelSource SingleModelSource(const std::string& path, const std::string& name);

class ModelManager {
 public:
  ModelManager(BackendOptions backend_options, ServingMetrics* metrics);
  ModelManager(const ModelManager&) = delete;
  ModelManager& operator=(const ModelManager&) = delete;

  // Makes `sources` the served set: loads those not loaded yet, keeps those
  // that are, and publishes the new map (versions no longer listed are
  // unloaded once their last request finishes). Returns one Status per
  // source, in order. Logs each load with its duration; failures are logged
  // with the file and cause.
  std::vector<Status> Load(const std::vector<ModelSource>& sources);

  // Versions unloaded so far (for tests and metrics).
  int64_t unloaded_count() const { return unloaded_.load(); }

  // The current map; never null.
  std::shared_ptr<const ServingMap> snapshot() const {
    return map_.load(std::memory_order_acquire);
  }

 private:
  StatusOr<std::shared_ptr<const ModelVersion>> LoadOne(const ModelSource& source);

  // Declared first: destroyed last, after the map has released its versions.
  std::unique_ptr<WorkerPool> unloader_;
  std::atomic<int64_t> unloaded_{0};
  BackendOptions backend_options_;
  ServingMetrics* metrics_;
  std::mutex load_mu_;  // serialises Load()
  // Source identity ("name|version|path|digest") -> loaded version.
  std::map<std::string, std::shared_ptr<const ModelVersion>> loaded_;  // GUARDED_BY(load_mu_)
  std::atomic<std::shared_ptr<const ServingMap>> map_;
};

}  // namespace mast

#endif  // MAST_MODELS_MODEL_MANAGER_H_
