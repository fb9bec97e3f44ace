// PerfWorkload: the request `mast perf` repeats, built from the user's input
// file and the chosen protocol.
//
//   classic: POST /predict, or /v1/models/{model}/predict with --model; the
//            body is the input file as is: one object of named features or
//            a non-empty array of them (several rows per request).
//   oip:     POST /v2/models/{model}[/versions/{version}]/infer; the body is
//            either the input file as is, when it is an Open Inference
//            Protocol request (a JSON object with an "inputs" array), or a
//            classic body converted to one (see OipBodyFromNamedRows).
//
// With no protocol given, a file with "inputs" is OIP, anything else classic.
//
// Thread-safety: pure functions.
#ifndef MAST_CLI_PERF_WORKLOAD_H_
#define MAST_CLI_PERF_WORKLOAD_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "common/status.h"

namespace mast {

enum class PerfProtocol { kAuto, kClassic, kOip };

// "classic" / "oip" / "auto".
const char* PerfProtocolName(PerfProtocol p);

struct WorkloadSpec {
  // kAuto: detected from the input (see above).
  PerfProtocol protocol = PerfProtocol::kAuto;
  // Model name; required for OIP, optional for classic (/predict without).
  std::string model;
  // OIP only: a version path segment; empty for the server's choice.
  std::string model_version;
};

struct Workload {
  PerfProtocol protocol = PerfProtocol::kClassic;  // never kAuto
  std::string target;                              // e.g. /v2/models/churn/infer
  std::string body;                                // exact bytes to send
  int64_t rows_per_request = 1;
  // The body is an OIP request converted from named features.
  bool converted = false;
};

// Whether `input` is an OIP request body: an object with an "inputs" array.
bool IsOipRequest(const boost::json::value& input);

// Builds the OIP request that carries the rows of a classic body (one object
// or an array of objects) to a model whose metadata (GET /v2/models/{model})
// is `metadata`, when that can be done without guessing: every model input
// must be named after a feature, with shape [-1] or [-1, 1], and every
// feature must be a model input; input i then holds feature i's value of
// each row (shape [rows] or [rows, 1], the model's datatype). A model that
// takes all features as the columns of one tensor cannot be served this
// way: OIP metadata does not say which feature is which column (mast's
// manifest may even transform them), so that is an error explaining how to
// write an OIP body instead.
//
// Errors: kInvalidArgument naming the row, feature or input that does not fit.
StatusOr<std::string> OipBodyFromNamedRows(const boost::json::value& rows,
                                           const boost::json::value& metadata,
                                           const std::string& model);

// Builds the workload from the text of the input file. `fetch_metadata` is
// called only to convert a classic body for OIP, and returns the model's
// metadata or the error fetching it.
//
// Errors: kInvalidArgument if the input is not JSON or does not fit the
// protocol, or OIP is asked for without a model; the fetch's errors.
StatusOr<Workload> BuildWorkload(
    std::string_view input_text, const WorkloadSpec& spec,
    const std::function<StatusOr<boost::json::value>()>& fetch_metadata);

}  // namespace mast

#endif  // MAST_CLI_PERF_WORKLOAD_H_
