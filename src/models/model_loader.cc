#include "models/model_loader.h"

#include "common/digest.h"

namespace mast {

StatusOr<std::unique_ptr<ModelVersion>> LoadModelVersion(const std::string& name,
                                                         const std::string& version,
                                                         const ModelFiles& files,
                                                         const BackendOptions& options) {
  if (files.artifact_path.empty()) {
    return NotFound("no model file (model.onnx, model.json or model.ubj) for model '" + name +
                    "' version " + version);
  }
  if (!files.expected_digest.empty()) {
    ASSIGN_OR_RETURN(std::string actual, Sha256DigestOfFile(files.artifact_path));
    if (actual != files.expected_digest) {
      return FailedPrecondition("artifact '" + files.artifact_path + "' hashes to " + actual +
                                " but the registry recorded " + files.expected_digest +
                                "; refusing to load a changed file");
    }
  }
  auto model = std::make_unique<ModelVersion>();
  model->name = name;
  model->version = version;
  model->artifact_path = files.artifact_path;
  ASSIGN_OR_RETURN(model->manifest, ParseModelManifest(files.manifest_text, files.manifest_origin));
  // The manifest's engine settings override the server's.
  BackendOptions engine = options;
  const BackendConfig& wanted = model->manifest.backend;
  if (wanted.intra_op_threads) engine.intra_op_threads = *wanted.intra_op_threads;
  if (wanted.inter_op_threads) engine.inter_op_threads = *wanted.inter_op_threads;
  if (wanted.graph_optimization) engine.graph_optimization = *wanted.graph_optimization;
  ASSIGN_OR_RETURN(model->backend, LoadBackend(files.artifact_path, engine, files.format));
  auto mapper = FeatureMapper::Create(model->backend->signature(), model->manifest);
  if (mapper.ok()) {
    model->features = std::move(mapper).value();
  } else if (mapper.status().code() == StatusCode::kUnprocessable) {
    // Nothing declares feature names: OIP tensors still work.
    model->features_status = mapper.status();
  } else {
    return InvalidArgument(files.manifest_origin + ": " + mapper.status().message());
  }
  return model;
}

}  // namespace mast
