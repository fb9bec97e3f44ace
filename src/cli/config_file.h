// Settings for a command from a YAML file (`mast serve --config mast.yaml`,
// or MAST_CONFIG): a mapping whose keys are the command's flags without the
// leading dashes (`max-upload-bytes` or `max_upload_bytes`) and whose values
// are single scalars:
//
//   port: 8000
//   model-repository: /models
//   max_upload_bytes: 4294967296
//
// A flag on the command line wins over the environment variable of the same
// setting, which wins over the file, which wins over the default. Values go
// through the same checks as the flags. Secrets (MAST_ADMIN_TOKEN,
// MAST_PII_KEY) are not settings: they come from the environment only.
//
// Thread-safety: call from one thread, after the command line was parsed.
#ifndef MAST_CLI_CONFIG_FILE_H_
#define MAST_CLI_CONFIG_FILE_H_

#include <CLI/CLI.hpp>
#include <string>

#include "common/status.h"

namespace mast {

// Applies the settings in the YAML file at `path` to the options of `cmd`
// that neither the command line nor the environment set. Errors:
// kInvalidArgument naming the file, the line and the setting (unreadable or
// malformed YAML, not a mapping, an unknown setting, a value that is not a
// single scalar or that the option's checks refuse).
Status ApplyConfigFile(CLI::App* cmd, const std::string& path);

}  // namespace mast

#endif  // MAST_CLI_CONFIG_FILE_H_
