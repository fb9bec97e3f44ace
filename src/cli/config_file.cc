#include "cli/config_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

namespace mast {
namespace {

// "<path>: line N: <message>" (yaml-cpp counts lines from 0).
Status Refuse(const std::string& path, const YAML::Mark& mark, const std::string& message) {
  std::string where = path;
  if (!mark.is_null()) where += ": line " + std::to_string(mark.line + 1);
  return InvalidArgument(where + ": " + message);
}

}  // namespace

Status ApplyConfigFile(CLI::App* cmd, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return InvalidArgument(path + ": cannot read the configuration file");
  } catch (const YAML::Exception& e) {
    return Refuse(path, e.mark, "not valid YAML: " + e.msg);
  }
  if (root.IsNull()) return OkStatus();  // an empty file sets nothing
  if (!root.IsMap()) {
    return Refuse(path, root.Mark(),
                  "the configuration must be a mapping of settings (e.g. 'port: 8000')");
  }
  for (const auto& entry : root) {
    const YAML::Node& key = entry.first;
    const YAML::Node& value = entry.second;
    if (!key.IsScalar()) return Refuse(path, key.Mark(), "a setting's name must be a string");
    std::string name = key.Scalar();
    std::replace(name.begin(), name.end(), '_', '-');
    CLI::Option* option = nullptr;
    if (name != "config" && name != "help" && name != "print-config") {
      option = cmd->get_option_no_throw("--" + name);
    }
    if (option == nullptr) {
      std::string hint = " (settings are the flags of 'mast " + cmd->get_name() +
                         "' without the leading '--', e.g. 'port')";
      if (name == "admin-token" || name == "pii-key") {
        hint = " (secrets come from the environment only: MAST_ADMIN_TOKEN, MAST_PII_KEY)";
      }
      return Refuse(path, key.Mark(), "unknown setting '" + key.Scalar() + "'" + hint);
    }
    if (!value.IsScalar()) {
      return Refuse(path, value.Mark(),
                    "setting '" + key.Scalar() + "' must be a single value, not a list, a "
                    "mapping or nothing");
    }
    // The command line and the environment take precedence.
    if (option->count() > 0) continue;
    option->add_result(value.Scalar());
    try {
      option->run_callback();
    } catch (const CLI::Error& e) {
      return Refuse(path, value.Mark(), "setting '" + key.Scalar() + "': " + e.what());
    }
  }
  return OkStatus();
}

}  // namespace mast
