// `mast features apply`: a registered model version's feature spec applied
// offline to a file of rows, writing the exact values the server feeds the
// model for them (see FeatureApplier for the columns and number format).
//
//   mast features apply --model NAME[@ALIAS|@VERSION] INPUT [-o OUTPUT]
//                       [--format csv|jsonl] [--skip-invalid] [--server URL]
//
// --model names one version: NAME@ALIAS (an alias such as staging), NAME@N
// (version N), NAME@latest (the newest version) or NAME alone (the
// `production` alias). The server resolves it and gives the version's
// manifest and signature; the rows never leave this process.
//
// INPUT is CSV with a header line (.csv) or JSON Lines, one object per line
// as /predict takes it (.jsonl, .ndjson); `-` reads stdin and needs
// --format. OUTPUT (default `-`, stdout) is CSV: the column names, then one
// line per input row.
//
// Exit codes: 0 ok; 1 failed (one line on stderr naming the cause), or some
// rows are invalid: every problem is listed on stderr as
// `row R (line L), field 'F': <the server's 422 message>` and no OUTPUT file
// is written (stdout gets the valid rows), unless --skip-invalid (then the
// valid rows are written and the invalid ones counted); a CSV without a
// column for a required feature fails at its header; 2 usage error.
#ifndef MAST_CLI_FEATURES_CLI_H_
#define MAST_CLI_FEATURES_CLI_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace mast {

// Adds the commands to `app`. After app.parse(), RunFeatureCommands() runs
// the one that was chosen and returns its exit code, or -1 if none.
void AddFeatureCommands(CLI::App* app);
int RunFeatureCommands();

// A --model argument: a model name and either an alias or a version.
struct ModelRef {
  std::string name;
  std::string alias;    // "production" when none is given; empty with a version
  int64_t version = 0;  // > 0: this version number
};

// Splits at the last '@' (model names may contain '@'; aliases may not be
// numbers, so digits name a version). Errors: kInvalidArgument for an empty
// name or an empty alias/version, saying what is expected.
StatusOr<ModelRef> ParseModelRef(std::string_view text);

}  // namespace mast

#endif  // MAST_CLI_FEATURES_CLI_H_
