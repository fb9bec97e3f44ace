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
