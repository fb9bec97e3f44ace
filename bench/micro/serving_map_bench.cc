// Serving-map lookup: what every request does first, ModelManager::snapshot()
// (an atomic shared_ptr load) then ServingMap::Find(name) (a map lookup and a
// shared_ptr copy that keeps the version alive), with 1 and 50 models served.
// Items are lookups.
#include <benchmark/benchmark.h>

#include <cstdio>

#include "bench/micro/fixtures.h"
#include "common/logging.h"
#include "models/model_manager.h"

namespace mast::bench {
namespace {

std::string ModelName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "model-%02d", i);
  return buf;
}

// The model a request names: the middle one of the map.
std::string Target(int models) { return ModelName(models / 2); }

// A map of `models` models with two versions each (the registry keeps the
// previous version while a rollout proceeds), version 2 the default. The
// versions hold no backend: Find never touches it.
std::shared_ptr<const ServingMap> BuiltMap(int models) {
  std::map<std::string, std::vector<VersionState>> m;
  for (int i = 0; i < models; ++i) {
    for (const char* v : {"1", "2"}) {
      auto version = std::make_shared<ModelVersion>();
      version->name = ModelName(i);
      version->version = v;
      m[ModelName(i)].push_back({v, std::move(version), OkStatus(), std::string(v) == "2"});
    }
  }
  return std::make_shared<const ServingMap>(std::move(m));
}

void BM_ServingMapFind(benchmark::State& state) {
  const int models = static_cast<int>(state.range(0));
  const std::shared_ptr<const ServingMap> map = BuiltMap(models);
  const std::string name = Target(models);
  for (auto _ : state) {
    auto found = map->Find(name);
    if (!found.ok()) Die(found.status().message());
    benchmark::DoNotOptimize(found->get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ServingMapFind)->Arg(1)->Arg(50);

// A ModelManager serving `models` copies of the churn model (the
// logreg20_manifest fixture, ONNX Runtime) under different names, loaded
// once and shared by all benchmarks and threads.
ModelManager& Manager(int models) {
  struct Loaded {
    MetricsRegistry registry;
    ServingMetrics metrics{&registry};
    ModelManager manager{BackendOptions{}, &metrics};
  };
  static std::map<int, std::unique_ptr<Loaded>> managers;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = managers[models];
  if (!slot) {
    InitLogging(LogLevel::kWarning);  // no line per load in the table
    slot = std::make_unique<Loaded>();
    std::vector<ModelSource> sources;
    const std::string path = SourcePath("tests/fixtures/models/logreg20_manifest/model.onnx");
    for (int i = 0; i < models; ++i) sources.push_back(SingleModelSource(path, ModelName(i)));
    for (const Status& s : slot->manager.Load(sources)) {
      if (!s.ok()) Die(s.message());
    }
  }
  return slot->manager;
}

// snapshot() + Find(name) on the real manager, as the API handlers do.
void BM_SnapshotFind(benchmark::State& state) {
  const int models = static_cast<int>(state.range(0));
  ModelManager& manager = Manager(models);
  const std::string name = Target(models);
  for (auto _ : state) {
    auto found = manager.snapshot()->Find(name);
    if (!found.ok()) Die(found.status().message());
    benchmark::DoNotOptimize(found->get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SnapshotFind)->Arg(1)->Arg(50);
BENCHMARK(BM_SnapshotFind)->Arg(50)->Threads(2)->UseRealTime();

// snapshot() alone: the atomic shared_ptr load and release.
void BM_Snapshot(benchmark::State& state) {
  ModelManager& manager = Manager(1);
  for (auto _ : state) {
    auto map = manager.snapshot();
    benchmark::DoNotOptimize(map.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Snapshot);
BENCHMARK(BM_Snapshot)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace mast::bench
