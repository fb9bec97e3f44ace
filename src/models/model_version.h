// ModelVersion: one loaded, servable version of a model: its backend, how
// named features map onto it, and facts about its load.
//
// Thread-safety: immutable once built; shared by in-flight requests through
// std::shared_ptr<const ModelVersion>, so a version stays alive until the last
// request using it finishes.
#ifndef MAST_MODELS_MODEL_VERSION_H_
#define MAST_MODELS_MODEL_VERSION_H_

#include <memory>
#include <string>

#include "backends/backend.h"
#include "features/feature_mapper.h"
#include "models/model_manifest.h"
#include "monitor/data_quality.h"

namespace mast {

class Histogram;

struct ModelVersion {
  std::string name;
  std::string version;
  std::string artifact_path;
  std::unique_ptr<Backend> backend;
  ModelManifest manifest;
  // Null when named features cannot be mapped; `features_status` says why
  // (the model still serves tensors through the Open Inference Protocol).
  std::unique_ptr<FeatureMapper> features;
  Status features_status;
  double load_seconds = 0;
  // mast_inference_duration_seconds child for this version (never null once
  // the manager publishes the version).
  Histogram* inference_seconds = nullptr;
  // Data-quality counters of this version's incoming rows; null when named
  // features are unavailable.
  std::unique_ptr<DataQuality> quality;
};

}  // namespace mast

#endif  // MAST_MODELS_MODEL_VERSION_H_
