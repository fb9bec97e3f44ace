// Scheduler: decides when and where a model version runs a request's tensors.
//
// InlineScheduler (the default) runs the backend at once on the calling
// thread; a dynamic batcher (merging concurrent requests into one batch) plugs
// in behind the same interface.
//
// Contract: if Enqueue() returns OK the scheduler has taken ownership of the
// request and calls `done` exactly once, from some thread; if it returns an
// error (kUnavailable when overloaded or stopped) `done` is never called.
// Thread-safety: every method is safe from any thread.
#ifndef MAST_SCHEDULER_SCHEDULER_H_
#define MAST_SCHEDULER_SCHEDULER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backends/tensor.h"
#include "common/status.h"
#include "models/model_version.h"

namespace mast {

struct InferenceRequest {
  std::shared_ptr<const ModelVersion> model;
  std::vector<Tensor> inputs;
  std::vector<std::string> output_names;  // empty: all outputs
};

// `outputs` or the error, and the seconds spent in the backend.
using InferenceDone =
    std::function<void(StatusOr<std::vector<Tensor>> outputs, double seconds)>;

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual Status Enqueue(InferenceRequest request, InferenceDone done) = 0;
  // Requests accepted and not yet completed.
  virtual int InflightCount() const = 0;
  // Refuses new requests; those already accepted still complete.
  virtual void Stop() = 0;
};

std::unique_ptr<Scheduler> MakeInlineScheduler();

}  // namespace mast

#endif  // MAST_SCHEDULER_SCHEDULER_H_
