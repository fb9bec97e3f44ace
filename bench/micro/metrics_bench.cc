// Metrics updates on the request path (Counter::Increment,
// Histogram::Observe), the label lookup that finds a child
// (Family::WithLabels, 4 labels), and a /metrics scrape
// (MetricsRegistry::Render) of a server with 3 models in use. Items are
// updates, lookups or rendered lines.
#include <benchmark/benchmark.h>

#include <algorithm>

#include "monitor/metrics.h"
#include "monitor/serving_metrics.h"

namespace mast::bench {
namespace {

// One counter shared by all benchmark threads (every request of one route,
// model and code lands on the same child).
void BM_CounterIncrement(benchmark::State& state) {
  static Counter counter;
  for (auto _ : state) counter.Increment();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterIncrement)->Threads(1);
BENCHMARK(BM_CounterIncrement)->Threads(2)->UseRealTime();

// Two children of one family, one per thread (two routes answered on two
// I/O threads): no value is shared, but the children are separate small
// heap objects and may share a cache line.
void BM_CounterIncrementSiblings(benchmark::State& state) {
  static MetricsRegistry registry;
  static Family<Counter>* family =
      registry.AddCounter("mast_bench_total", "bench", {"route", "model", "version", "code"});
  static Counter* const children[2] = {
      family->WithLabels({"/predict", "churn", "1", "200"}),
      family->WithLabels({"/v2/models/{model}/infer", "churn", "1", "200"})};
  Counter* mine = children[state.thread_index() % 2];
  for (auto _ : state) mine->Increment();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterIncrementSiblings)->Threads(2)->UseRealTime();

// The same with each thread's counter on a cache line of its own: what the
// siblings would cost if they never shared one.
void BM_CounterIncrementPadded(benchmark::State& state) {
  struct alignas(64) Padded {
    Counter counter;
  };
  static Padded padded[2];
  Counter* mine = &padded[state.thread_index() % 2].counter;
  for (auto _ : state) mine->Increment();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterIncrementPadded)->Threads(2)->UseRealTime();

// A request latency of 1.2 ms: 6 bucket bounds passed.
void BM_HistogramObserve(benchmark::State& state) {
  static Histogram histogram(&LatencyBuckets());
  for (auto _ : state) histogram.Observe(0.0012);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramObserve)->Threads(1);
BENCHMARK(BM_HistogramObserve)->Threads(2)->UseRealTime();

struct RouteUse {
  const char* route;
  bool per_model;
};
constexpr RouteUse kRoutes[] = {{"/predict", true},
                                {"/v1/models/{model}/predict", true},
                                {"/v2/models/{model}/infer", true},
                                {"/health", false},
                                {"/metrics", false},
                                {"/v2/health/ready", false}};
constexpr const char* kModels[] = {"churn", "fraud", "ltv"};
constexpr const char* kCodes[] = {"200", "422", "503"};

// The serving families of a server that has answered every route: 3
// models at version 1, 3 status codes on the model routes, one on the
// others, and data-quality issues on 5 fields of each model.
void FillServingMetrics(ServingMetrics* m) {
  for (const RouteUse& r : kRoutes) {
    if (!r.per_model) {
      m->requests->WithLabels({r.route, "", "", "200"})->Increment(1234);
      m->request_seconds->WithLabels({r.route, "", ""})->Observe(0.00011);
      continue;
    }
    for (const char* model : kModels) {
      for (const char* code : kCodes)
        m->requests->WithLabels({r.route, model, "1", code})->Increment(98765);
      m->request_seconds->WithLabels({r.route, model, "1"})->Observe(0.00093);
    }
  }
  for (const char* model : kModels) {
    m->inference_seconds->WithLabels({model, "1"})->Observe(0.00021);
    m->model_load_seconds->WithLabels({model, "1"})->Set(0.0873);
    m->model_loads->WithLabels({model, "1", "success"})->Increment();
    m->model_ready->WithLabels({model, "1"})->Set(1);
    m->feature_rows->WithLabels({model, "1"})->Increment(3141592);
    for (const char* field : {"age", "tenure_months", "plan", "city", "income"}) {
      for (const char* kind : {"missing", "out_of_range"}) {
        m->feature_issues->WithLabels({model, "1", field, kind})->Increment(17);
      }
    }
  }
  m->models_loaded->Set(3);
}

// WithLabels with 4 label values, found among the ~30 children of
// mast_requests_total (the vector of values built per call, as callers do).
void BM_FamilyWithLabels(benchmark::State& state) {
  static MetricsRegistry registry;
  static ServingMetrics metrics(&registry);
  static const bool filled = (FillServingMetrics(&metrics), true);
  (void)filled;
  const std::string route = "/v1/models/{model}/predict", model = "fraud", version = "1";
  const int status = 200;
  for (auto _ : state) {
    Counter* c = metrics.requests->WithLabels({route, model, version, std::to_string(status)});
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FamilyWithLabels)->Threads(1);
BENCHMARK(BM_FamilyWithLabels)->Threads(2)->UseRealTime();

// A /metrics scrape of that server (without the process_* collector, which
// reads /proc).
void BM_RegistryRender(benchmark::State& state) {
  MetricsRegistry registry;
  ServingMetrics metrics(&registry);
  FillServingMetrics(&metrics);
  const std::string once = registry.Render();
  const size_t bytes = once.size();
  const size_t lines = static_cast<size_t>(std::count(once.begin(), once.end(), '\n'));
  for (auto _ : state) {
    std::string text = registry.Render();
    benchmark::DoNotOptimize(text.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(lines));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
  state.counters["lines"] = static_cast<double>(lines);
}
BENCHMARK(BM_RegistryRender);

}  // namespace
}  // namespace mast::bench
