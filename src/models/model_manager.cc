#include "models/model_manager.h"

#include <chrono>
#include <filesystem>

#include "common/logging.h"
#include "models/model_loader.h"

namespace mast {

namespace fs = std::filesystem;

StatusOr<std::vector<ModelSource>> ScanModelRepository(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return NotFound("model repository '" + dir + "' is not a directory");
  }
  std::vector<ModelSource> sources;
  std::vector<fs::path> models;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_directory() && e.path().filename().string()[0] != '.') {
      models.push_back(e.path());
    }
  }
  std::sort(models.begin(), models.end());
  auto source_in = [](const std::string& name, const std::string& version,
                      const fs::path& dir) {
    ModelSource s;
    s.name = name;
    s.version = version;
    std::error_code ec;
    for (const char* file : {"model.onnx", "model.json", "model.ubj"}) {
      if (fs::is_regular_file(dir / file, ec)) {
        s.artifact_path = (dir / file).string();
        break;
      }
    }
    s.manifest_path = (dir / "model.yaml").string();
    return s;
  };
  for (const auto& model_dir : models) {
    const std::string name = model_dir.filename().string();
    // A model file directly in the model's folder is its version 1.
    ModelSource flat = source_in(name, "1", model_dir);
    if (!flat.artifact_path.empty()) {
      sources.push_back(std::move(flat));
      continue;
    }
    for (const auto& v : fs::directory_iterator(model_dir, ec)) {
      if (!v.is_directory() || v.path().filename().string()[0] == '.') continue;
      sources.push_back(source_in(name, v.path().filename().string(), v.path()));
    }
  }
  return sources;
}

ModelSource SingleModelSource(const std::string& path, const std::string& name) {
  ModelSource s;
  s.name = name;
  s.version = "1";
  s.artifact_path = path;
  s.manifest_path = (fs::path(path).parent_path() / "model.yaml").string();
  return s;
}

ModelManager::ModelManager(BackendOptions backend_options, ServingMetrics* metrics)
    : unloader_(std::make_unique<WorkerPool>(1)),
      backend_options_(backend_options),
      metrics_(metrics) {
  map_.store(std::make_shared<const ServingMap>());
}

StatusOr<std::shared_ptr<const ModelVersion>> ModelManager::LoadOne(
    const ModelSource& source) {
  ModelFiles files;
  files.artifact_path = source.artifact_path;
  files.format = source.format;
  files.expected_digest = source.digest;
  if (source.manifest_text) {
    files.manifest_text = *source.manifest_text;
    files.manifest_origin = "manifest of model '" + source.name + "' version " + source.version;
  } else {
    ASSIGN_OR_RETURN(files.manifest_text, ReadManifestText(source.manifest_path));
    files.manifest_origin = source.manifest_path;
  }
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::unique_ptr<ModelVersion> model,
                   LoadModelVersion(source.name, source.version, files, backend_options_));
  model->load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  model->inference_seconds =
      metrics_->inference_seconds->WithLabels({source.name, source.version});
  if (model->features) {
    model->quality = std::make_unique<DataQuality>(source.name, source.version,
                                                   model->features->feature_names(),
                                                   metrics_->feature_rows,
                                                   metrics_->feature_issues);
  }
  // The last holder may be a request on an I/O thread: tear the engine down
  // on the unload thread instead.
  WorkerPool* unloader = unloader_.get();
  std::atomic<int64_t>* unloaded = &unloaded_;
  return std::shared_ptr<const ModelVersion>(
      model.release(), [unloader, unloaded](const ModelVersion* doomed) {
        unloader->Post([doomed, unloaded] {
          delete doomed;
          unloaded->fetch_add(1);
        });
      });
}

namespace {
std::string SourceKey(const ModelSource& s) {
  return s.name + "|" + s.version + "|" + s.artifact_path + "|" + s.digest + "|" + s.format +
         "|" + (s.manifest_text ? *s.manifest_text : s.manifest_path);
}
}  // namespace

std::vector<Status> ModelManager::Load(const std::vector<ModelSource>& sources) {
  std::lock_guard<std::mutex> lock(load_mu_);
  std::map<std::string, std::vector<VersionState>> models;
  std::map<std::string, std::shared_ptr<const ModelVersion>> next_loaded;
  std::vector<Status> results;
  for (const auto& source : sources) {
    const std::string key = SourceKey(source);
    if (auto it = loaded_.find(key); it != loaded_.end()) {
      VersionState kept;
      kept.version = source.version;
      kept.model = it->second;
      kept.is_default = source.is_default;
      next_loaded[key] = it->second;
      results.push_back(OkStatus());
      models[source.name].push_back(std::move(kept));
      continue;
    }
    auto loaded = LoadOne(source);
    VersionState state;
    state.version = source.version;
    state.is_default = source.is_default;
    const std::vector<std::string> labels{source.name, source.version};
    if (loaded.ok()) {
      const double seconds = (*loaded)->load_seconds;
      state.model = *loaded;
      next_loaded[key] = *loaded;
      metrics_->model_load_seconds->WithLabels(labels)->Set(seconds);
      metrics_->model_loads->WithLabels({source.name, source.version, "success"})
          ->Increment();
      metrics_->model_ready->WithLabels(labels)->Set(1);
      LogInfo("model loaded",
              {{"model", source.name},
               {"version", source.version},
               {"path", source.artifact_path},
               {"platform", (*loaded)->backend->platform()},
               {"load_ms", seconds * 1000.0}});
      if (!(*loaded)->features_status.ok()) {
        LogWarning("named features unavailable for /predict",
                   {{"model", source.name},
                    {"version", source.version},
                    {"reason", (*loaded)->features_status.message()}});
      }
    } else {
      state.status = loaded.status();
      metrics_->model_loads->WithLabels({source.name, source.version, "failure"})
          ->Increment();
      metrics_->model_ready->WithLabels(labels)->Set(0);
      LogError("model failed to load",
               {{"model", source.name},
                {"version", source.version},
                {"path", source.artifact_path},
                {"error", loaded.status().message()}});
    }
    results.push_back(state.status);
    models[source.name].push_back(std::move(state));
  }
  // A model none of whose new versions loaded keeps serving what it served:
  // a bad push must never take a working model down.
  auto previous = snapshot();
  for (auto& [name, versions] : models) {
    bool any_loaded = false;
    for (const auto& v : versions) any_loaded = any_loaded || v.model != nullptr;
    if (any_loaded) continue;
    const auto* old_versions = previous->Versions(name);
    if (old_versions == nullptr) continue;
    for (const auto& old : *old_versions) {
      if (!old.model) continue;
      bool listed = false;
      for (const auto& v : versions) listed = listed || v.version == old.version;
      if (listed) continue;
      versions.push_back(old);
      for (const auto& [key, model] : loaded_) {
        if (model == old.model) next_loaded[key] = model;
      }
      LogWarning("keeping the previous version serving",
                 {{"model", name}, {"version", old.version}});
    }
  }
  auto map = std::make_shared<const ServingMap>(std::move(models));
  metrics_->models_loaded->Set(map->loaded_count());
  map_.store(std::move(map), std::memory_order_release);
  // Versions dropped from the map unload when their last request finishes.
  for (const auto& [key, model] : loaded_) {
    if (!next_loaded.count(key)) {
      metrics_->model_ready->WithLabels({model->name, model->version})->Set(0);
      LogInfo("model version retired", {{"model", model->name}, {"version", model->version}});
    }
  }
  loaded_.swap(next_loaded);
  return results;
}

}  // namespace mast
