#include <atomic>
#include <chrono>

#include "monitor/metrics.h"
#include "scheduler/scheduler.h"

namespace mast {
namespace {

class InlineScheduler final : public Scheduler {
 public:
  Status Enqueue(InferenceRequest request, InferenceDone done) override {
    if (stopped_.load(std::memory_order_relaxed)) {
      return Unavailable("server is shutting down");
    }
    inflight_.fetch_add(1, std::memory_order_relaxed);
    double seconds = 0;
    auto outputs = RunInference(request, &seconds);
    inflight_.fetch_sub(1, std::memory_order_relaxed);
    done(std::move(outputs), seconds);
    return OkStatus();
  }
  int InflightCount() const override { return inflight_.load(); }
  void Stop() override { stopped_.store(true); }

 private:
  std::atomic<int> inflight_{0};
  std::atomic<bool> stopped_{false};
};

}  // namespace

StatusOr<std::vector<Tensor>> RunInference(const InferenceRequest& request, double* seconds) {
  const auto start = std::chrono::steady_clock::now();
  auto outputs = request.model->backend->Run(request.inputs, request.output_names);
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (request.model->inference_seconds != nullptr) {
    request.model->inference_seconds->Observe(*seconds);
  }
  return outputs;
}

std::unique_ptr<Scheduler> MakeInlineScheduler() {
  return std::make_unique<InlineScheduler>();
}

}  // namespace mast
