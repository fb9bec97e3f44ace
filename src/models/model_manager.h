// ModelManager: loads model versions from their sources and publishes the
// ServingMap the request path reads.
//
// Lifecycle (after TF Serving's manager): each version is loaded (backend,
// manifest, feature mapping) off the request threads; a version that fails
// keeps its error as data in the map, so one bad model never breaks the
// others; the new map replaces the old one atomically. In-flight requests keep
// the versions they hold alive until they finish.
//
// Thread-safety: snapshot() is lock-free for readers and safe from any
// thread; Load() calls are serialised by an internal mutex and may block
// for as long as the loads take, so never call Load() on an I/O thread.
#ifndef MAST_MODELS_MODEL_MANAGER_H_
#define MAST_MODELS_MODEL_MANAGER_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "models/serving_map.h"
#include "monitor/serving_metrics.h"

namespace mast {

// Where one version comes from.
struct ModelSource {
  std::string name;
  std::string version;
  std::string artifact_path;
  std::string manifest_path;  // may name a file that does not exist
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

  // Loads every source and publishes them (replacing the current map).
  // Returns one Status per source, in order. Logs each load with its
  // duration; failures are logged with the file and cause.
  std::vector<Status> Load(const std::vector<ModelSource>& sources);

  // The current map; never null.
  std::shared_ptr<const ServingMap> snapshot() const {
    return map_.load(std::memory_order_acquire);
  }

 private:
  StatusOr<std::shared_ptr<const ModelVersion>> LoadOne(const ModelSource& source);

  BackendOptions backend_options_;
  ServingMetrics* metrics_;
  std::mutex load_mu_;  // serialises Load()
  std::atomic<std::shared_ptr<const ServingMap>> map_;
};

}  // namespace mast

#endif  // MAST_MODELS_MODEL_MANAGER_H_
