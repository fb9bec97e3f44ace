// The model run on the request path: Backend::Run of the churn example
// (examples/churn/model.onnx, a 20-feature logistic regression exported from
// scikit-learn), for batches of 1 and 32 rows, asking for the label only (as
// POST /predict does) and for every output. Items are rows.
#include <benchmark/benchmark.h>

#include "backends/onnx_backend.h"
#include "bench/micro/fixtures.h"

namespace mast::bench {
namespace {

const Backend& ChurnBackend() {
  static const std::unique_ptr<Backend> backend = [] {
    auto loaded = LoadOnnxBackend(SourcePath("examples/churn/model.onnx"), BackendOptions{});
    if (!loaded.ok()) Die(loaded.status().message());
    return std::move(loaded).value();
  }();
  return *backend;
}

std::vector<Tensor> ChurnInput(int64_t rows) {
  const TensorSpec& spec = ChurnBackend().signature().inputs.at(0);
  Tensor t = Tensor::Make(spec.name, DataType::kFp32, {rows, 20});
  float* data = reinterpret_cast<float*>(t.bytes.data());
  for (int64_t i = 0; i < rows * 20; ++i) data[i] = 0.01f * static_cast<float>(i % 97);
  std::vector<Tensor> inputs;
  inputs.push_back(std::move(t));
  return inputs;
}

void RunBackend(benchmark::State& state, bool label_only) {
  const Backend& backend = ChurnBackend();
  const int64_t rows = state.range(0);
  const std::vector<Tensor> inputs = ChurnInput(rows);
  std::vector<std::string> outputs;
  if (label_only) outputs.push_back(backend.signature().outputs.at(0).name);
  for (auto _ : state) {
    auto result = backend.Run(inputs, outputs);
    if (!result.ok()) Die(result.status().message());
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations() * rows);
}

void BM_OnnxRunLabel(benchmark::State& state) { RunBackend(state, /*label_only=*/true); }
BENCHMARK(BM_OnnxRunLabel)->Arg(1)->Arg(32);

void BM_OnnxRunAllOutputs(benchmark::State& state) { RunBackend(state, /*label_only=*/false); }
BENCHMARK(BM_OnnxRunAllOutputs)->Arg(1)->Arg(32);

}  // namespace
}  // namespace mast::bench
