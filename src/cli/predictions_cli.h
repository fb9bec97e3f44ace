// `mast predictions export`: the prediction log as a file for retraining,
// through GET /api/v1/predictions.
//
//   mast predictions export [--model M] [--version V] [--since T] [--until T]
//                           [--limit N] [--format csv|jsonl] [-o FILE]
//
// JSONL keeps the log's lines as they are. CSV has one column per field:
// request_id, time, model, version, endpoint, row, latency_ms, then
// input.<field> and output.<name> (an output holding a list, e.g.
// probabilities, becomes output.<name>.0, .1, ...). The file appears only
// when the export is complete (written beside it, then renamed). Exit codes:
// 0 ok, 1 failed (one line on stderr), 2 usage error.
#ifndef MAST_CLI_PREDICTIONS_CLI_H_
#define MAST_CLI_PREDICTIONS_CLI_H_

#include <CLI/CLI.hpp>

namespace mast {

// Adds the commands to `app`. After app.parse(), RunPredictionCommands()
// runs the one that was chosen and returns its exit code, or -1 if none.
void AddPredictionCommands(CLI::App* app);
int RunPredictionCommands();

}  // namespace mast

#endif  // MAST_CLI_PREDICTIONS_CLI_H_
