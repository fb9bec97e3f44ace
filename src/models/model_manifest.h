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
//       pii: false           # personal data: true (= hash) | hash | drop;
//                            # never logged or stored raw
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

// What the prediction log stores for a personal-data field: the value
// (kNone), a keyed hash of it (kHash: rows of one person still join), or
// nothing (kDrop).
enum class PiiPolicy { kNone, kHash, kDrop };

std::string_view FeatureTypeName(FeatureType type);

// One step of a feature's transform pipeline (applied in order).
struct Transform {
  enum Kind {
    kImpute,       // a missing value becomes `value` (or `text`)
    kStandardize,  // (x - a) / b           a: mean, b: std
    kMinMax,       // (x - a) / (b - a)     a: min, b: max
    kLog1p,        // log(1 + x), x > -1
    kClip,         // clamp to [lo, hi] (either may be absent)
    kBucketize,    // index of the bucket: boundaries <= x counted
    kOrdinal,      // index in categories (unknown: error, or categories.size())
    kOneHot,       // one column per category (+ "other" column if unknown_other)
    kHash,         // one-hot of FNV-1a-32(utf-8 bytes) % buckets
  } kind;
  double a = 0;
  double b = 0;
  std::optional<double> lo, hi;
  std::optional<double> value;
  std::optional<std::string> text;
  std::vector<double> boundaries;
  std::vector<std::string> categories;
  bool unknown_other = false;
  int64_t buckets = 0;
};

std::string_view TransformName(Transform::Kind kind);

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
  PiiPolicy pii = PiiPolicy::kNone;
  std::string description;
  std::vector<Transform> transforms;

  bool required() const { return !default_number && !default_text && !Imputed(); }
  bool Imputed() const { return !transforms.empty() && transforms[0].kind == Transform::kImpute; }
  // Columns this feature fills in the model input (1 unless it ends in a
  // one-hot or hash encoding).
  int64_t Width() const;
  // True if the transforms turn a string into numbers.
  bool Encoded() const;
};

enum class UnknownFieldPolicy { kIgnore, kForbid };

// Dynamic batching of one model version (`batching:`; off unless present):
//   batching: {max_batch_size: 32, max_queue_delay_us: 500,
//              max_queue_size: 1024, timeout_us: 0, enabled: true}
// Concurrent requests are merged into batches of up to `max_batch_size`
// rows; a batch waits at most `max_queue_delay_us` for more rows; more than
// `max_queue_size` waiting requests are refused (503); a request waiting
// longer than `timeout_us` (0: no limit) is answered 503.
struct BatchingConfig {
  bool enabled = false;
  int64_t max_batch_size = 32;
  int64_t max_queue_delay_us = 500;
  int64_t max_queue_size = 1024;
  int64_t timeout_us = 0;
};

// Engine settings of one model version (`backend:`); unset fields keep the
// server's defaults:
//   backend: {intra_op_threads: 1, inter_op_threads: 1,
//             graph_optimization: all}   # disable | basic | extended | all
struct BackendConfig {
  std::optional<int> intra_op_threads;
  std::optional<int> inter_op_threads;
  std::optional<std::string> graph_optimization;
};

struct ModelManifest {
  std::vector<FeatureSpec> features;
  UnknownFieldPolicy unknown_fields = UnknownFieldPolicy::kIgnore;
  BatchingConfig batching;
  BackendConfig backend;
};

// Parses manifest text. Errors (kInvalidArgument) name the file (`origin`)
// and the offending entry.
StatusOr<ModelManifest> ParseModelManifest(const std::string& yaml_text,
                                           const std::string& origin);

// The text of the manifest at `path`; a missing file reads as empty (no
// manifest). Errors: kInvalidArgument if it exists but cannot be read.
StatusOr<std::string> ReadManifestText(const std::string& path);

// Reads `path`; a missing file is not an error (empty manifest).
StatusOr<ModelManifest> LoadModelManifest(const std::string& path);

}  // namespace mast

#endif  // MAST_MODELS_MODEL_MANIFEST_H_
