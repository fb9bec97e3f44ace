#include "models/model_manifest.h"

#include <yaml-cpp/yaml.h>

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
    if (f["pii"]) {
      try {
        spec.pii = f["pii"].as<bool>();
      } catch (const YAML::Exception&) {
        return InvalidArgument(where + " ('" + spec.name + "'): 'pii' must be true or false");
      }
    }
    if (f["description"]) spec.description = f["description"].as<std::string>();
    manifest.features.push_back(std::move(spec));
  }
  return manifest;
}

StatusOr<ModelManifest> LoadModelManifest(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return ModelManifest{};
  std::ifstream in(path);
  if (!in) return InvalidArgument("cannot read manifest '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  return ParseModelManifest(text.str(), path);
}

}  // namespace mast
