// ModelManifest: the optional `model.yaml` that travels beside a model
// artifact and says how named features map onto the model's inputs.
//
//   unknown_fields: ignore   # or forbid: a row with other fields is invalid
//   features:                # in input column order
//     - name: age
//       type: float          # float | int | bool | string (category)
//       min: 0               # allowed range (numbers), inclusive
//       max: 120
//       default: 40          # used when the field is missing (else required)
//       pii: false           # personal data: never logged or stored raw
//       description: customer age in years
//     - name: plan
//       type: string
//       categories: [basic, pro]   # allowed values
//
// Thread-safety: a plain value.
#ifndef MAST_MODELS_MODEL_MANIFEST_H_
#define MAST_MODELS_MODEL_MANIFEST_H_

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace mast {

enum class FeatureType { kFloat, kInt, kBool, kString };

std::string_view FeatureTypeName(FeatureType type);

struct FeatureSpec {
  std::string name;
  FeatureType type = FeatureType::kFloat;
  std::optional<double> min;
  std::optional<double> max;
  // Allowed values of a string feature; empty: any.
  std::vector<std::string> categories;
  // Used when the field is missing; a feature without one is required.
  // Numbers and bools are held as double, strings in `default_text`.
  std::optional<double> default_number;
  std::optional<std::string> default_text;
  bool pii = false;
  std::string description;

  bool required() const { return !default_number && !default_text; }
};

enum class UnknownFieldPolicy { kIgnore, kForbid };

struct ModelManifest {
  std::vector<FeatureSpec> features;
  UnknownFieldPolicy unknown_fields = UnknownFieldPolicy::kIgnore;
};

// Parses manifest text. Errors (kInvalidArgument) name the file (`origin`)
// and the offending entry.
StatusOr<ModelManifest> ParseModelManifest(const std::string& yaml_text,
                                           const std::string& origin);

// Reads `path`; a missing file is not an error (empty manifest).
StatusOr<ModelManifest> LoadModelManifest(const std::string& path);

}  // namespace mast

#endif  // MAST_MODELS_MODEL_MANIFEST_H_
