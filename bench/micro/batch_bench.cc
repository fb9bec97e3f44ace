// Batch assembly in the dynamic batcher: N waiting requests of one row of
// 20 FP32 features joined into one [N, 20] input (ConcatRows), and the
// model's outputs (labels [N] INT64, probabilities [N, 2] FP32) split back
// into one row per request (SliceRows). Items are rows, bytes are input
// bytes moved.
#include <benchmark/benchmark.h>

#include "bench/micro/fixtures.h"
#include "scheduler/batching_scheduler.h"

namespace mast::bench {
namespace {

// `requests` single-row inputs, as FeatureMapper::Map leaves them.
std::vector<Tensor> RequestInputs(int64_t requests) {
  std::vector<Tensor> out;
  for (int64_t r = 0; r < requests; ++r) {
    Tensor t = Tensor::Make("float_input", DataType::kFp32, {1, 20});
    for (int k = 0; k < 20; ++k) t.data<float>()[k] = 0.01f * static_cast<float>(r * 20 + k);
    out.push_back(std::move(t));
  }
  return out;
}

void BM_ConcatRows(benchmark::State& state) {
  const int64_t requests = state.range(0);
  const std::vector<Tensor> inputs = RequestInputs(requests);
  std::vector<const Tensor*> parts;
  for (const Tensor& t : inputs) parts.push_back(&t);
  for (auto _ : state) {
    auto joined = ConcatRows(parts);
    if (!joined.ok()) Die(joined.status().message());
    benchmark::DoNotOptimize(joined->bytes.data());
  }
  state.SetItemsProcessed(state.iterations() * requests);
  state.SetBytesProcessed(state.iterations() * requests * 20 * static_cast<int64_t>(sizeof(float)));
}
BENCHMARK(BM_ConcatRows)->Arg(8)->Arg(32)->Arg(128);

// The [N, 20] batch split back into N single rows.
void BM_SliceRows(benchmark::State& state) {
  const int64_t requests = state.range(0);
  const std::vector<Tensor> inputs = RequestInputs(requests);
  std::vector<const Tensor*> parts;
  for (const Tensor& t : inputs) parts.push_back(&t);
  const Tensor batch = ConcatRows(parts).value();
  for (auto _ : state) {
    for (int64_t r = 0; r < requests; ++r) {
      Tensor row = SliceRows(batch, r, 1);
      benchmark::DoNotOptimize(row.bytes.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * requests);
  state.SetBytesProcessed(state.iterations() * requests * 20 * static_cast<int64_t>(sizeof(float)));
}
BENCHMARK(BM_SliceRows)->Arg(8)->Arg(32)->Arg(128);

// One batch's bookkeeping around the model run, as the executor does it:
// join the inputs, then give each request its slice of both outputs.
void BM_BatchRoundTrip(benchmark::State& state) {
  const int64_t requests = state.range(0);
  const std::vector<Tensor> inputs = RequestInputs(requests);
  Tensor label = Tensor::Make("label", DataType::kInt64, {requests});
  Tensor proba = Tensor::Make("probabilities", DataType::kFp32, {requests, 2});
  const std::vector<Tensor> outputs = {label, proba};
  for (auto _ : state) {
    std::vector<const Tensor*> parts;
    parts.reserve(inputs.size());
    for (const Tensor& t : inputs) parts.push_back(&t);
    auto joined = ConcatRows(parts);
    if (!joined.ok()) Die(joined.status().message());
    benchmark::DoNotOptimize(joined->bytes.data());
    for (int64_t r = 0; r < requests; ++r) {
      std::vector<Tensor> mine;
      mine.reserve(outputs.size());
      for (const Tensor& t : outputs) mine.push_back(SliceRows(t, r, 1));
      benchmark::DoNotOptimize(mine.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * requests);
}
BENCHMARK(BM_BatchRoundTrip)->Arg(32);

}  // namespace
}  // namespace mast::bench
