// LoadModelVersion: builds a servable ModelVersion from an artifact file, its
// format and its manifest text: the backend, the manifest and the feature
// mapping. Used by the model manager (repository folders and the registry)
// and by the registry's test-load of a pushed version.
//
// Thread-safety: a pure function; it blocks while the engine loads.
#ifndef MAST_MODELS_MODEL_LOADER_H_
#define MAST_MODELS_MODEL_LOADER_H_

#include <memory>
#include <string>

#include "backends/backend.h"
#include "models/model_version.h"

namespace mast {

struct ModelFiles {
  std::string artifact_path;
  std::string format;            // empty: by the artifact's extension
  std::string manifest_text;     // model.yaml content (may be empty)
  std::string manifest_origin;   // names the manifest in error messages
  std::string expected_digest;   // if set, checked against the file first
};

// Errors: the digest check (kFailedPrecondition), the engine's load error
// (kInvalidArgument naming the file), an invalid manifest or one that does
// not fit the model's inputs (kInvalidArgument naming the manifest).
StatusOr<std::unique_ptr<ModelVersion>> LoadModelVersion(const std::string& name,
                                                         const std::string& version,
                                                         const ModelFiles& files,
                                                         const BackendOptions& options);

}  // namespace mast

#endif  // MAST_MODELS_MODEL_LOADER_H_
