// BatchingScheduler: dynamic batching for model versions whose manifest asks
// for it (`batching:`; see BatchingConfig), inline execution for the rest.
//
// Requests of one model version wait in that version's queue. An executor
// thread takes a batch as soon as the queue holds `max_batch_size` rows, or
// when its oldest request has waited `max_queue_delay_us`: it concatenates
// the requests' input tensors along the first (batch) dimension, runs the
// backend once for all outputs, and splits every output back by each
// request's row count, so every caller gets exactly the tensors an unbatched
// run would give it (in the order it asked for). Requests that cannot share
// a batch (different non-batch dimensions, or a model whose outputs do not
// have one row per input row) run on their own.
//
// Limits: more than `max_queue_size` waiting requests of one version makes
// Enqueue() fail with kUnavailable (answered 503 with Retry-After); a request
// that waited longer than `timeout_us` is answered kUnavailable without
// running.
//
// Metrics: mast_batch_size{model,version} (rows per executed batch),
// mast_queue_duration_seconds{model,version} (time each request waited),
// mast_batches_total{model,version}.
//
// Thread-safety: Enqueue() from any thread. Executors are owned threads; the
// destructor (after Stop()) runs what is queued and joins them.
#ifndef MAST_SCHEDULER_BATCHING_SCHEDULER_H_
#define MAST_SCHEDULER_BATCHING_SCHEDULER_H_

#include <memory>

#include "monitor/metrics.h"
#include "scheduler/scheduler.h"

namespace mast {

struct BatchingSchedulerOptions {
  // Threads running batches (shared by all batched models).
  int executor_threads = 2;
};

std::unique_ptr<Scheduler> MakeBatchingScheduler(const BatchingSchedulerOptions& options,
                                                 MetricsRegistry* metrics);

// Concatenates `parts` (tensors of one name and type, equal in every
// dimension but the first) along the first dimension. Exposed for tests and
// benchmarks. Errors: kInvalidArgument if they do not fit together.
StatusOr<Tensor> ConcatRows(const std::vector<const Tensor*>& parts);
// Rows [begin, begin + count) of `t` (first dimension).
Tensor SliceRows(const Tensor& t, int64_t begin, int64_t count);

}  // namespace mast

#endif  // MAST_SCHEDULER_BATCHING_SCHEDULER_H_
