// Scheduler: decides when and where a model version runs a request's tensors.
//
// InlineScheduler runs the backend at once on the calling thread;
// BatchingScheduler (batching_scheduler.h, what `mast serve` uses) merges
// concurrent requests of models that ask for dynamic batching and runs the
// others inline.
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
  // True while requests wait for or run on the scheduler's own threads
  // (batches): they need the cores, so idle I/O threads should sleep rather
  // than poll.
  virtual bool BackgroundWork() const { return false; }
};

std::unique_ptr<Scheduler> MakeInlineScheduler();

// Runs `request` on its model's backend now, on this thread; records the
// backend time in the version's inference histogram and in `*seconds`.
StatusOr<std::vector<Tensor>> RunInference(const InferenceRequest& request, double* seconds);

}  // namespace mast

#endif  // MAST_SCHEDULER_SCHEDULER_H_
