#include "scheduler/batching_scheduler.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include "common/completion_batch.h"
#include "common/thread_name.h"

namespace mast {

namespace {

using Clock = std::chrono::steady_clock;

const std::vector<double>& BatchSizeBuckets() {
  static const std::vector<double> buckets{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
  return buckets;
}

const std::vector<double>& QueueBuckets() {
  static const std::vector<double> buckets{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                           0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                           0.5,     1,      2.5};
  return buckets;
}

// Rows of a request (its inputs' first dimension), or -1 if it has none to
// batch along.
int64_t RowsOf(const InferenceRequest& r) {
  if (r.inputs.empty()) return -1;
  for (const Tensor& t : r.inputs) {
    if (t.shape.empty() || t.shape[0] != r.inputs[0].shape[0]) return -1;
  }
  return r.inputs[0].shape[0];
}

const Tensor* FindByName(const std::vector<Tensor>& tensors, const std::string& name) {
  for (const Tensor& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// True if `b` can join a batch started by `a`: the same inputs, types and
// dimensions but the first.
bool Compatible(const InferenceRequest& a, const InferenceRequest& b) {
  if (a.inputs.size() != b.inputs.size()) return false;
  for (const Tensor& ta : a.inputs) {
    const Tensor* tb = FindByName(b.inputs, ta.name);
    if (!tb || tb->type != ta.type || tb->shape.size() != ta.shape.size() ||
        !std::equal(ta.shape.begin() + 1, ta.shape.end(), tb->shape.begin() + 1)) {
      return false;
    }
  }
  return true;
}

// The outputs `names` (all, in order, if empty) picked from `all`.
StatusOr<std::vector<Tensor>> Pick(std::vector<Tensor> all, const std::vector<std::string>& names) {
  if (names.empty()) return all;
  std::vector<Tensor> out;
  out.reserve(names.size());
  for (const std::string& n : names) {
    auto it = std::find_if(all.begin(), all.end(), [&](const Tensor& t) { return t.name == n; });
    if (it == all.end()) return InvalidArgument("the model has no output '" + n + "'");
    out.push_back(std::move(*it));
  }
  return out;
}

struct Pending {
  InferenceRequest request;
  InferenceDone done;
  int64_t rows = 0;
  Clock::time_point enqueued;
};

// The waiting requests of one model version.
struct Queue {
  std::shared_ptr<const ModelVersion> model;
  std::deque<Pending> items;
  int64_t rows = 0;
  Histogram* batch_size = nullptr;
  Histogram* queue_seconds = nullptr;
  Counter* batches = nullptr;
};

class BatchingScheduler final : public Scheduler {
 public:
  BatchingScheduler(const BatchingSchedulerOptions& options, MetricsRegistry* metrics)
      : batch_size_(metrics->AddHistogram("mast_batch_size",
                                          "Rows per batch run by the dynamic batcher.",
                                          {"model", "version"}, &BatchSizeBuckets())),
        queue_seconds_(metrics->AddHistogram(
            "mast_queue_duration_seconds",
            "Time a request waited in its model's batching queue, in seconds.",
            {"model", "version"}, &QueueBuckets())),
        batches_(metrics->AddCounter("mast_batches_total",
                                     "Batches run by the dynamic batcher.",
                                     {"model", "version"})) {
    for (int i = 0; i < std::max(1, options.executor_threads); ++i) {
      executors_.emplace_back([this, i] {
        SetThreadName("mast-batch-" + std::to_string(i));
        ExecutorLoop();
      });
    }
  }

  ~BatchingScheduler() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    stopped_.store(true);
    cv_.notify_all();
    for (auto& t : executors_) t.join();
  }

  Status Enqueue(InferenceRequest request, InferenceDone done) override {
    if (stopped_.load(std::memory_order_relaxed)) {
      return Unavailable("server is shutting down");
    }
    const BatchingConfig& config = request.model->manifest.batching;
    const int64_t rows = RowsOf(request);
    if (!config.enabled || rows < 0) {
      return inline_->Enqueue(std::move(request), std::move(done));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::unique_ptr<Queue>& q = queues_[request.model.get()];
      if (!q) {
        q = std::make_unique<Queue>();
        q->model = request.model;
        const std::vector<std::string> labels{request.model->name, request.model->version};
        q->batch_size = batch_size_->WithLabels(labels);
        q->queue_seconds = queue_seconds_->WithLabels(labels);
        q->batches = batches_->WithLabels(labels);
      }
      if (static_cast<int64_t>(q->items.size()) >= config.max_queue_size) {
        return Unavailable("model '" + request.model->name + "' version " +
                           request.model->version + " has " +
                           std::to_string(q->items.size()) +
                           " requests queued (max_queue_size); retry later");
      }
      q->rows += rows;
      q->items.push_back({std::move(request), std::move(done), rows, Clock::now()});
      inflight_.fetch_add(1, std::memory_order_relaxed);
    }
    cv_.notify_one();
    return OkStatus();
  }

  int InflightCount() const override { return inflight_.load() + inline_->InflightCount(); }
  bool BackgroundWork() const override { return inflight_.load(std::memory_order_relaxed) > 0; }

  void Stop() override {
    stopped_.store(true);
    inline_->Stop();
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;  // run what waits now, without the delay
    }
    cv_.notify_all();
  }

 private:
  // A batch taken from a queue, with what running it needs after the lock is
  // released (the queue may be gone by then).
  struct Batch {
    std::vector<Pending> items;
    int64_t rows = 0;
    Histogram* batch_size = nullptr;
    Histogram* queue_seconds = nullptr;
    Counter* batches = nullptr;
  };

  void ExecutorLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      Batch batch;
      Clock::time_point wake = Clock::time_point::max();
      if (!TakeReady(&batch, &wake)) {
        if (stopping_ && queues_.empty()) return;
        if (wake == Clock::time_point::max()) {
          cv_.wait(lock);
        } else {
          cv_.wait_until(lock, wake);
        }
        continue;
      }
      lock.unlock();
      Run(&batch);
      lock.lock();
    }
  }

  // Takes a batch from the next queue (after the last one served, so that a
  // busy model does not starve the others) that is full or whose oldest
  // request has waited long enough. Otherwise sets `wake` to the earliest
  // moment one will be. Called with mu_ held.
  bool TakeReady(Batch* batch, Clock::time_point* wake) {
    const auto now = Clock::now();
    auto start = queues_.upper_bound(last_served_);
    for (size_t n = 0; n < queues_.size(); ++n, ++start) {
      if (start == queues_.end()) start = queues_.begin();
      Queue& q = *start->second;
      if (q.items.empty()) continue;
      const BatchingConfig& config = q.model->manifest.batching;
      const auto due =
          q.items.front().enqueued + std::chrono::microseconds(config.max_queue_delay_us);
      if (q.rows < config.max_batch_size && now < due && !stopping_) {
        *wake = std::min(*wake, due);
        continue;
      }
      while (!q.items.empty()) {
        Pending& p = q.items.front();
        if (!batch->items.empty() && batch->rows + p.rows > config.max_batch_size) break;
        batch->rows += p.rows;
        q.rows -= p.rows;
        batch->items.push_back(std::move(p));
        q.items.pop_front();
      }
      batch->batch_size = q.batch_size;
      batch->queue_seconds = q.queue_seconds;
      batch->batches = q.batches;
      last_served_ = start->first;
      if (q.items.empty()) queues_.erase(start);
      return true;
    }
    return false;
  }

  void Finish(Pending* p, StatusOr<std::vector<Tensor>> outputs, double seconds) {
    p->done(std::move(outputs), seconds);
    inflight_.fetch_sub(1, std::memory_order_relaxed);
  }

  void RunAlone(Pending* p) {
    double seconds = 0;
    auto outputs = RunInference(p->request, &seconds);
    Finish(p, std::move(outputs), seconds);
  }

  void Run(Batch* batch) {
    // The callers' answers go back to their I/O threads together.
    CompletionBatch completions;
    const auto now = Clock::now();
    // Requests past their timeout are answered without running.
    std::vector<Pending*> live;
    for (Pending& p : batch->items) {
      const double waited = std::chrono::duration<double>(now - p.enqueued).count();
      batch->queue_seconds->Observe(waited);
      const int64_t timeout_us = p.request.model->manifest.batching.timeout_us;
      if (timeout_us > 0 && now - p.enqueued > std::chrono::microseconds(timeout_us)) {
        Finish(&p,
               Unavailable("waited " + std::to_string(static_cast<int64_t>(waited * 1000)) +
                           " ms in the batching queue, over the model's timeout_us"),
               0);
        continue;
      }
      live.push_back(&p);
    }
    // Those that fit the first request's shapes run together; the others
    // alone.
    std::vector<Pending*> together, alone;
    for (Pending* p : live) {
      (together.empty() || Compatible(together[0]->request, p->request) ? together : alone)
          .push_back(p);
    }
    if (together.size() > 1) {
      RunTogether(together, batch);
    } else if (!together.empty()) {
      batch->batch_size->Observe(static_cast<double>(together[0]->rows));
      batch->batches->Increment();
      RunAlone(together[0]);
    }
    for (Pending* p : alone) RunAlone(p);
  }

  void RunTogether(const std::vector<Pending*>& items, Batch* batch) {
    const InferenceRequest& first = items[0]->request;
    InferenceRequest merged;
    merged.model = first.model;
    int64_t rows = 0;
    for (const Pending* p : items) rows += p->rows;
    for (const Tensor& t : first.inputs) {
      std::vector<const Tensor*> parts;
      parts.reserve(items.size());
      for (const Pending* p : items) parts.push_back(FindByName(p->request.inputs, t.name));
      auto joined = ConcatRows(parts);
      if (!joined.ok()) {
        for (Pending* p : items) RunAlone(p);
        return;
      }
      merged.inputs.push_back(std::move(joined).value());
    }
    double seconds = 0;
    auto outputs = RunInference(merged, &seconds);
    batch->batch_size->Observe(static_cast<double>(rows));
    batch->batches->Increment();
    if (!outputs.ok()) {
      for (Pending* p : items) Finish(p, outputs.status(), seconds);
      return;
    }
    // Every output must have one row per input row to be split back.
    for (const Tensor& t : *outputs) {
      if (t.shape.empty() || t.shape[0] != rows) {
        for (Pending* p : items) RunAlone(p);
        return;
      }
    }
    int64_t offset = 0;
    for (Pending* p : items) {
      std::vector<Tensor> mine;
      mine.reserve(outputs->size());
      for (const Tensor& t : *outputs) mine.push_back(SliceRows(t, offset, p->rows));
      offset += p->rows;
      Finish(p, Pick(std::move(mine), p->request.output_names), seconds);
    }
  }

  // Models without batching run here, on the caller's thread.
  const std::unique_ptr<Scheduler> inline_ = MakeInlineScheduler();
  Family<Histogram>* batch_size_;
  Family<Histogram>* queue_seconds_;
  Family<Counter>* batches_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<const ModelVersion*, std::unique_ptr<Queue>> queues_;  // GUARDED_BY(mu_)
  const ModelVersion* last_served_ = nullptr;                     // GUARDED_BY(mu_)
  bool stopping_ = false;                                         // GUARDED_BY(mu_)
  std::atomic<bool> stopped_{false};
  std::atomic<int> inflight_{0};
  std::vector<std::thread> executors_;
};

}  // namespace

StatusOr<Tensor> ConcatRows(const std::vector<const Tensor*>& parts) {
  if (parts.empty() || parts[0] == nullptr) return InvalidArgument("nothing to concatenate");
  const Tensor& first = *parts[0];
  if (first.shape.empty()) return InvalidArgument("tensor '" + first.name + "' has no rows");
  Tensor out;
  out.name = first.name;
  out.type = first.type;
  out.shape = first.shape;
  out.shape[0] = 0;
  size_t bytes = 0, strings = 0;
  for (const Tensor* p : parts) {
    if (p == nullptr || p->type != first.type || p->shape.size() != first.shape.size() ||
        !std::equal(first.shape.begin() + 1, first.shape.end(), p->shape.begin() + 1)) {
      return InvalidArgument("tensor '" + first.name + "' differs between requests");
    }
    out.shape[0] += p->shape[0];
    bytes += p->bytes.size();
    strings += p->strings.size();
  }
  if (first.type == DataType::kBytes) {
    out.strings.reserve(strings);
    for (const Tensor* p : parts) {
      out.strings.insert(out.strings.end(), p->strings.begin(), p->strings.end());
    }
  } else {
    out.bytes.resize(bytes);
    size_t at = 0;
    for (const Tensor* p : parts) {
      if (!p->bytes.empty()) std::memcpy(out.bytes.data() + at, p->bytes.data(), p->bytes.size());
      at += p->bytes.size();
    }
  }
  return out;
}

Tensor SliceRows(const Tensor& t, int64_t begin, int64_t count) {
  Tensor out;
  out.name = t.name;
  out.type = t.type;
  out.shape = t.shape;
  out.shape[0] = count;
  const int64_t rows = t.shape[0];
  const int64_t per_row = rows > 0 ? t.size() / rows : 0;
  if (t.type == DataType::kBytes) {
    out.strings.assign(t.strings.begin() + begin * per_row,
                       t.strings.begin() + (begin + count) * per_row);
  } else {
    const size_t row_bytes = static_cast<size_t>(per_row) * DataTypeSize(t.type);
    out.bytes.assign(t.bytes.begin() + static_cast<ptrdiff_t>(begin * row_bytes),
                     t.bytes.begin() + static_cast<ptrdiff_t>((begin + count) * row_bytes));
  }
  return out;
}

std::unique_ptr<Scheduler> MakeBatchingScheduler(const BatchingSchedulerOptions& options,
                                                 MetricsRegistry* metrics) {
  return std::make_unique<BatchingScheduler>(options, metrics);
}

}  // namespace mast
