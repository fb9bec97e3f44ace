// What every `mast <noun> <verb>` client command shares: the --server option,
// the client built from it and MAST_TOKEN, and the one-line failure.
//
// Thread-safety: plain functions; MAST_TOKEN is read when a client is made.
#ifndef MAST_CLI_CLI_COMMON_H_
#define MAST_CLI_CLI_COMMON_H_

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <string>

#include "cli/api_client.h"
#include "common/status.h"

namespace mast {

// Adds `--server URL` (env MAST_SERVER) to `cmd`, stored in `server`.
inline void AddServerOption(CLI::App* cmd, std::string* server) {
  cmd->add_option("--server", *server, "mast server URL")
      ->envname("MAST_SERVER")
      ->capture_default_str();
}

// The bearer token from MAST_TOKEN, or empty.
inline std::string TokenFromEnvironment() {
  const char* token = std::getenv("MAST_TOKEN");
  return token ? token : "";
}

// A client of `server` with the token from MAST_TOKEN.
inline StatusOr<ApiClient> ClientFor(const std::string& server) {
  return ApiClient::Create(server, TokenFromEnvironment());
}

// Prints "mast: <message>" on stderr and returns exit code 1.
inline int Fail(const Status& s) {
  std::cerr << "mast: " << s.message() << "\n";
  return 1;
}

}  // namespace mast

#endif  // MAST_CLI_CLI_COMMON_H_
