// ModelManifest: the optional `model.yaml` that travels beside a model
// artifact and says how named features map onto the model's inputs.
//
//   features:            # in input column order
//     - name: age
//       type: float      # float | int | bool | string
//     - name: plan
//       type: string
//
// Thread-safety: a plain value.
#ifndef MAST_MODELS_MODEL_MANIFEST_H_
#define MAST_MODELS_MODEL_MANIFEST_H_

#include <string>
#include <vector>

#include "common/status.h"

namespace mast {

enum class FeatureType { kFloat, kInt, kBool, kString };

std::string_view FeatureTypeName(FeatureType type);

struct FeatureSpec {
  std::string name;
  FeatureType type = FeatureType::kFloat;
};

struct ModelManifest {
  std::vector<FeatureSpec> features;
};

// Parses manifest text. Errors (kInvalidArgument) name the file (`origin`)
// and the offending entry.
StatusOr<ModelManifest> ParseModelManifest(const std::string& yaml_text,
                                           const std::string& origin);

// Reads `path`; a missing file is not an error (empty manifest).
StatusOr<ModelManifest> LoadModelManifest(const std::string& path);

}  // namespace mast

#endif  // MAST_MODELS_MODEL_MANIFEST_H_
