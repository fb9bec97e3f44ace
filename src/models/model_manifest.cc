#include "models/model_manifest.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace mast {

std::string_view FeatureTypeName(FeatureType type) {
  switch (type) {
    case FeatureType::kFloat: return "float";
    case FeatureType::kInt: return "int";
    case FeatureType::kBool: return "bool";
    case FeatureType::kString: return "string";
  }
  return "float";
}

std::string_view TransformName(Transform::Kind kind) {
  switch (kind) {
    case Transform::kImpute: return "impute";
    case Transform::kStandardize: return "standardize";
    case Transform::kMinMax: return "min_max";
    case Transform::kLog1p: return "log1p";
    case Transform::kClip: return "clip";
    case Transform::kBucketize: return "bucketize";
    case Transform::kOrdinal: return "ordinal";
    case Transform::kOneHot: return "one_hot";
    case Transform::kHash: return "hash";
  }
  return "?";
}

int64_t FeatureSpec::Width() const {
  if (transforms.empty()) return 1;
  const Transform& last = transforms.back();
  if (last.kind == Transform::kOneHot) {
    return static_cast<int64_t>(last.categories.size()) + (last.unknown_other ? 1 : 0);
  }
  if (last.kind == Transform::kHash) return last.buckets;
  return 1;
}

bool FeatureSpec::Encoded() const {
  for (const auto& t : transforms) {
    if (t.kind == Transform::kOrdinal || t.kind == Transform::kOneHot ||
        t.kind == Transform::kHash) {
      return true;
    }
  }
  return false;
}

namespace {

// Parses `transforms:` of feature `spec` (whose type is set). `where` names
// the feature in errors.
Status ParseTransforms(const YAML::Node& list, const std::string& where, FeatureSpec* spec) {
  if (!list.IsSequence()) return InvalidArgument(where + ": 'transforms' must be a list");
  bool text = spec->type == FeatureType::kString;  // is the value still a string?
  bool vector = false;                              // has an encoder made columns?
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    const std::string at = where + " transforms[" + std::to_string(i) + "]";
    if (!item.IsMap() || item.size() != 1) {
      return InvalidArgument(at + " must be a mapping with one key, e.g. {log1p: {}}");
    }
    const std::string name = item.begin()->first.as<std::string>();
    const YAML::Node p = item.begin()->second;
    auto num = [&](const char* key, bool needed) -> StatusOr<std::optional<double>> {
      if (!p || !p.IsMap() || !p[key]) {
        if (needed) return InvalidArgument(at + " (" + name + ") needs '" + key + "'");
        return std::optional<double>();
      }
      try {
        return std::optional<double>(p[key].as<double>());
      } catch (const YAML::Exception&) {
        return InvalidArgument(at + " (" + name + "): '" + key + "' must be a number");
      }
    };
    auto categories = [&](Transform* t) -> Status {
      if (!p || !p.IsMap() || !p["categories"] || !p["categories"].IsSequence() ||
          p["categories"].size() == 0) {
        return InvalidArgument(at + " (" + name + ") needs a non-empty 'categories' list");
      }
      for (const auto& c : p["categories"]) t->categories.push_back(c.as<std::string>());
      const std::string unknown = p["unknown"] ? p["unknown"].as<std::string>() : "error";
      if (unknown != "error" && unknown != "other") {
        return InvalidArgument(at + " (" + name + "): 'unknown' must be error or other");
      }
      t->unknown_other = unknown == "other";
      return OkStatus();
    };
    if (vector) {
      return InvalidArgument(at + " (" + name + ") comes after an encoding into columns, "
                             "which must be the last transform");
    }
    Transform t{};
    if (name == "impute") {
      if (i != 0) return InvalidArgument(at + ": impute must be the first transform");
      t.kind = Transform::kImpute;
      if (!p || !p.IsMap() || !p["value"]) return InvalidArgument(at + " (impute) needs 'value'");
      if (text) {
        t.text = p["value"].as<std::string>();
      } else {
        ASSIGN_OR_RETURN(t.value, num("value", true));
      }
    } else if (name == "standardize" || name == "min_max" || name == "log1p" ||
               name == "clip" || name == "bucketize") {
      if (text) {
        return InvalidArgument(at + " (" + name + ") needs a number; the feature is a string "
                               "(encode it first with ordinal)");
      }
      if (name == "standardize") {
        t.kind = Transform::kStandardize;
        ASSIGN_OR_RETURN(auto mean, num("mean", true));
        ASSIGN_OR_RETURN(auto std, num("std", true));
        t.a = *mean;
        t.b = *std;
        if (t.b <= 0) return InvalidArgument(at + " (standardize): 'std' must be > 0");
      } else if (name == "min_max") {
        t.kind = Transform::kMinMax;
        ASSIGN_OR_RETURN(auto lo, num("min", true));
        ASSIGN_OR_RETURN(auto hi, num("max", true));
        t.a = *lo;
        t.b = *hi;
        if (t.b <= t.a) return InvalidArgument(at + " (min_max): 'max' must be > 'min'");
      } else if (name == "log1p") {
        t.kind = Transform::kLog1p;
      } else if (name == "clip") {
        t.kind = Transform::kClip;
        ASSIGN_OR_RETURN(t.lo, num("min", false));
        ASSIGN_OR_RETURN(t.hi, num("max", false));
        if (!t.lo && !t.hi) return InvalidArgument(at + " (clip) needs 'min' or 'max'");
        if (t.lo && t.hi && *t.lo > *t.hi) return InvalidArgument(at + " (clip): min > max");
      } else {
        t.kind = Transform::kBucketize;
        if (!p || !p.IsMap() || !p["boundaries"] || !p["boundaries"].IsSequence()) {
          return InvalidArgument(at + " (bucketize) needs a 'boundaries' list");
        }
        for (const auto& b : p["boundaries"]) t.boundaries.push_back(b.as<double>());
        if (!std::is_sorted(t.boundaries.begin(), t.boundaries.end())) {
          return InvalidArgument(at + " (bucketize): boundaries must be ascending");
        }
      }
    } else if (name == "ordinal" || name == "one_hot" || name == "hash") {
      if (!text) {
        return InvalidArgument(at + " (" + name + ") encodes strings; the feature is a number");
      }
      if (name == "hash") {
        t.kind = Transform::kHash;
        ASSIGN_OR_RETURN(auto n, num("buckets", true));
        if (*n < 1 || *n > 1e6 || std::floor(*n) != *n) {
          return InvalidArgument(at + " (hash): 'buckets' must be an integer from 1 to 1000000");
        }
        t.buckets = static_cast<int64_t>(*n);
        vector = true;
      } else {
        t.kind = name == "ordinal" ? Transform::kOrdinal : Transform::kOneHot;
        RETURN_IF_ERROR(categories(&t));
        vector = t.kind == Transform::kOneHot;
      }
      text = false;
    } else {
      return InvalidArgument(at + ": unknown transform '" + name +
                             "' (impute, standardize, min_max, log1p, clip, bucketize, "
                             "ordinal, one_hot, hash)");
    }
    spec->transforms.push_back(std::move(t));
  }
  if (text && !spec->transforms.empty()) {
    return InvalidArgument(where + ": a string feature's transforms must encode it "
                           "(ordinal, one_hot or hash)");
  }
  return OkStatus();
}

}  // namespace

namespace {

// An integer in [lo, hi] at `node[key]`, if present.
StatusOr<std::optional<int64_t>> BoundedInt(const YAML::Node& node, const char* key, int64_t lo,
                                            int64_t hi, const std::string& where) {
  const YAML::Node v = node[key];
  if (!v) return std::optional<int64_t>();
  int64_t n = 0;
  try {
    n = v.as<int64_t>();
  } catch (const YAML::Exception&) {
    return InvalidArgument(where + ": '" + key + "' must be an integer");
  }
  if (n < lo || n > hi) {
    return InvalidArgument(where + ": '" + key + "' must be between " + std::to_string(lo) +
                           " and " + std::to_string(hi) + ", not " + std::to_string(n));
  }
  return std::optional<int64_t>(n);
}

Status CheckKeys(const YAML::Node& node, const std::set<std::string>& allowed,
                 const std::string& where) {
  if (!node.IsMap()) return InvalidArgument(where + " must be a mapping");
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (!allowed.count(key)) return InvalidArgument(where + ": unknown key '" + key + "'");
  }
  return OkStatus();
}

Status ParseBatching(const YAML::Node& b, const std::string& origin, BatchingConfig* out) {
  const std::string where = origin + ": batching";
  RETURN_IF_ERROR(CheckKeys(b, {"enabled", "max_batch_size", "max_queue_delay_us",
                                "max_queue_size", "timeout_us"},
                            where));
  out->enabled = true;
  if (const YAML::Node e = b["enabled"]) {
    try {
      out->enabled = e.as<bool>();
    } catch (const YAML::Exception&) {
      return InvalidArgument(where + ": 'enabled' must be true or false");
    }
  }
  ASSIGN_OR_RETURN(auto size, BoundedInt(b, "max_batch_size", 1, 1 << 20, where));
  ASSIGN_OR_RETURN(auto delay, BoundedInt(b, "max_queue_delay_us", 0, 10'000'000, where));
  ASSIGN_OR_RETURN(auto queue, BoundedInt(b, "max_queue_size", 1, 1 << 24, where));
  ASSIGN_OR_RETURN(auto timeout, BoundedInt(b, "timeout_us", 0, 3'600'000'000, where));
  if (size) out->max_batch_size = *size;
  if (delay) out->max_queue_delay_us = *delay;
  if (queue) out->max_queue_size = *queue;
  if (timeout) out->timeout_us = *timeout;
  return OkStatus();
}

Status ParseBackend(const YAML::Node& b, const std::string& origin, BackendConfig* out) {
  const std::string where = origin + ": backend";
  RETURN_IF_ERROR(
      CheckKeys(b, {"intra_op_threads", "inter_op_threads", "graph_optimization"}, where));
  ASSIGN_OR_RETURN(auto intra, BoundedInt(b, "intra_op_threads", 1, 256, where));
  ASSIGN_OR_RETURN(auto inter, BoundedInt(b, "inter_op_threads", 1, 256, where));
  if (intra) out->intra_op_threads = static_cast<int>(*intra);
  if (inter) out->inter_op_threads = static_cast<int>(*inter);
  if (const YAML::Node g = b["graph_optimization"]) {
    const std::string level = g.IsScalar() ? g.Scalar() : "";
    if (level != "disable" && level != "basic" && level != "extended" && level != "all") {
      return InvalidArgument(where +
                             ": 'graph_optimization' must be disable, basic, extended or all");
    }
    out->graph_optimization = level;
  }
  return OkStatus();
}

}  // namespace

StatusOr<ModelManifest> ParseModelManifest(const std::string& yaml_text,
                                           const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(origin + ": invalid YAML: " + e.what());
  }
  ModelManifest manifest;
  if (!root || root.IsNull()) return manifest;
  if (!root.IsMap()) return InvalidArgument(origin + ": expected a mapping at the top");
  if (const YAML::Node u = root["unknown_fields"]) {
    const std::string policy = u.as<std::string>();
    if (policy == "ignore") {
      manifest.unknown_fields = UnknownFieldPolicy::kIgnore;
    } else if (policy == "forbid") {
      manifest.unknown_fields = UnknownFieldPolicy::kForbid;
    } else {
      return InvalidArgument(origin + ": unknown_fields must be 'ignore' or 'forbid', not '" +
                             policy + "'");
    }
  }
  if (const YAML::Node b = root["batching"]) {
    RETURN_IF_ERROR(ParseBatching(b, origin, &manifest.batching));
  }
  if (const YAML::Node b = root["backend"]) {
    RETURN_IF_ERROR(ParseBackend(b, origin, &manifest.backend));
  }
  YAML::Node features = root["features"];
  if (!features) return manifest;
  if (!features.IsSequence()) {
    return InvalidArgument(origin + ": 'features' must be a list");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < features.size(); ++i) {
    const YAML::Node f = features[i];
    const std::string where = origin + ": features[" + std::to_string(i) + "]";
    if (!f.IsMap() || !f["name"] || !f["name"].IsScalar()) {
      return InvalidArgument(where + " needs a 'name'");
    }
    FeatureSpec spec;
    spec.name = f["name"].as<std::string>();
    if (spec.name.empty()) return InvalidArgument(where + " has an empty name");
    if (!seen.insert(spec.name).second) {
      return InvalidArgument(where + ": duplicate feature '" + spec.name + "'");
    }
    std::string type = f["type"] ? f["type"].as<std::string>() : "float";
    if (type == "float" || type == "double" || type == "number") {
      spec.type = FeatureType::kFloat;
    } else if (type == "int" || type == "integer") {
      spec.type = FeatureType::kInt;
    } else if (type == "bool" || type == "boolean") {
      spec.type = FeatureType::kBool;
    } else if (type == "string" || type == "category") {
      spec.type = FeatureType::kString;
    } else {
      return InvalidArgument(where + " ('" + spec.name + "') has unknown type '" +
                             type + "' (use float, int, bool or string)");
    }
    auto number = [&](const char* key) -> StatusOr<std::optional<double>> {
      if (!f[key]) return std::optional<double>();
      try {
        return std::optional<double>(f[key].as<double>());
      } catch (const YAML::Exception&) {
        return InvalidArgument(where + " ('" + spec.name + "'): '" + key + "' must be a number");
      }
    };
    ASSIGN_OR_RETURN(spec.min, number("min"));
    ASSIGN_OR_RETURN(spec.max, number("max"));
    if ((spec.min || spec.max) &&
        (spec.type == FeatureType::kString || spec.type == FeatureType::kBool)) {
      return InvalidArgument(where + " ('" + spec.name + "'): min/max apply to numbers only");
    }
    if (spec.min && spec.max && *spec.min > *spec.max) {
      return InvalidArgument(where + " ('" + spec.name + "'): min is greater than max");
    }
    if (const YAML::Node c = f["categories"]) {
      if (!c.IsSequence() || spec.type != FeatureType::kString) {
        return InvalidArgument(where + " ('" + spec.name +
                               "'): 'categories' must be a list, on a string feature");
      }
      for (const auto& v : c) spec.categories.push_back(v.as<std::string>());
    }
    if (const YAML::Node d = f["default"]) {
      try {
        if (spec.type == FeatureType::kString) {
          spec.default_text = d.as<std::string>();
        } else if (spec.type == FeatureType::kBool) {
          spec.default_number = d.as<bool>() ? 1.0 : 0.0;
        } else {
          spec.default_number = d.as<double>();
        }
      } catch (const YAML::Exception&) {
        return InvalidArgument(where + " ('" + spec.name + "'): 'default' is not a " +
                               std::string(FeatureTypeName(spec.type)));
      }
    }
    if (const YAML::Node p = f["pii"]) {
      const std::string text = p.IsScalar() ? p.Scalar() : "";
      if (text == "true" || text == "hash") {
        spec.pii = PiiPolicy::kHash;
      } else if (text == "drop") {
        spec.pii = PiiPolicy::kDrop;
      } else if (text != "false") {
        return InvalidArgument(where + " ('" + spec.name +
                               "'): 'pii' must be true, false, hash or drop");
      }
    }
    if (f["description"]) spec.description = f["description"].as<std::string>();
    if (const YAML::Node t = f["transforms"]) {
      RETURN_IF_ERROR(ParseTransforms(t, where + " ('" + spec.name + "')", &spec));
    }
    manifest.features.push_back(std::move(spec));
  }
  return manifest;
}

StatusOr<std::string> ReadManifestText(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::string();
  std::ifstream in(path);
  if (!in) return InvalidArgument("cannot read manifest '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

StatusOr<ModelManifest> LoadModelManifest(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadManifestText(path));
  return ParseModelManifest(text, path);
}

}  // namespace mast
