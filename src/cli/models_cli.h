// `mast models ...` and `mast gc`: the registry from the command line,
// through the server's REST API (see ApiClient).
//
//   mast models push NAME FILE [--manifest model.yaml] [--run-id ID]
//                    [--tag k=v]... [--alias A]... [--description D]
//   mast models list [--filter TEXT]
//   mast models show NAME [--version N]
//   mast models alias NAME ALIAS VERSION      (or --delete NAME ALIAS)
//   mast models delete NAME [--version N]
//   mast models import DIR [--alias production]
//   mast gc [--min-age SECONDS]
//
// Every command takes --server (env MAST_SERVER) and --json; the token comes
// from MAST_TOKEN. Exit codes: 0 ok, 1 failed (one line on stderr naming the
// cause), 2 usage error.
#ifndef MAST_CLI_MODELS_CLI_H_
#define MAST_CLI_MODELS_CLI_H_

#include <CLI/CLI.hpp>

namespace mast {

// Adds the commands to `app`. After app.parse(), RunRegistryCommands()
// runs the one that was chosen and returns its exit code, or -1 if none.
void AddRegistryCommands(CLI::App* app);
int RunRegistryCommands();

}  // namespace mast

#endif  // MAST_CLI_MODELS_CLI_H_
