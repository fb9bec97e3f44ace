// `mast perf`: a load tool for sizing a deployment (in the spirit of
// Triton's perf_analyzer and wrk), against mast or any server that speaks
// the classic /predict API or the Open Inference Protocol.
//
//   mast perf --input FILE [--url URL] [--model M] [--model-version V]
//             [--protocol classic|oip] [--concurrency 1,8,32]
//             [--duration 10s] [--warmup 0s] [--timeout 30s] [--threads 1]
//             [-H 'Name: value']... [--json]
//
// For each concurrency level in turn, keeps that many keep-alive connections
// each with one request in flight for --duration (after --warmup, not
// counted) and reports throughput (successful requests per second),
// latency percentiles of the successful requests (p50, p90, p99, max) and
// errors by kind. What is sent: see PerfWorkload; how it is measured: see
// LoadGenerator.
//
// Output: a table on stdout, one line per level as it finishes (progress on
// stderr when it is a terminal), or with --json one JSON document at the
// end (latencies in seconds). Exit codes: 0 it ran; 1 the server is
// unreachable, the input does not fit, or not one request succeeded at some
// level (the levels after it are skipped; the ones measured are still
// printed), with one line on stderr naming the cause; 2 usage error.
#ifndef MAST_CLI_PERF_CLI_H_
#define MAST_CLI_PERF_CLI_H_

#include <CLI/CLI.hpp>
#include <chrono>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace mast {

// Adds the command to `app`. After app.parse(), RunPerfCommands() runs it if
// it was chosen and returns its exit code, or -1 if it was not.
void AddPerfCommands(CLI::App* app);
int RunPerfCommands();

// "10s", "500ms", "2m", "1.5h", "250us", or a bare number of seconds.
// Errors: kInvalidArgument naming the text for anything else, a negative
// value or more than a week.
StatusOr<std::chrono::nanoseconds> ParseDuration(std::string_view text);

// "1,8,32": positive whole numbers up to 100000, separated by commas.
// Errors: kInvalidArgument naming the first bad value.
StatusOr<std::vector<int>> ParseConcurrencyList(std::string_view text);

}  // namespace mast

#endif  // MAST_CLI_PERF_CLI_H_
