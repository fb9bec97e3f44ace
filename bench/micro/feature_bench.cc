// Feature transforms: FeatureMapper::Map with a manifest whose features are
// transformed (impute, standardize, min_max, clip, log1p, bucketize, one_hot,
// ordinal, hash) into the model's 20 FP32 columns. Items are rows.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include "bench/micro/fixtures.h"

namespace mast::bench {
namespace {

namespace json = boost::json;

// `rows` rows taken in turn from the 40 rows of tests/fixtures/transforms
// (one has a missing income, which the imputer fills).
json::value FixtureRows(int64_t rows) {
  static const json::array all =
      json::parse(ReadSource("tests/fixtures/transforms/rows.json")).as_array();
  if (rows == 1) return all[0];
  json::array out;
  for (int64_t r = 0; r < rows; ++r) out.push_back(all[static_cast<size_t>(r) % all.size()]);
  return out;
}

void MapRows(benchmark::State& state, const FeatureMapper& mapper, const json::value& rows,
             int64_t count) {
  for (auto _ : state) {
    std::vector<Tensor> inputs;
    int64_t n = 0;
    std::vector<FieldError> errors;
    if (!mapper.Map(rows, &inputs, &n, &errors)) {
      Die("rows do not map: " + (errors.empty() ? std::string() : errors[0].msg));
    }
    benchmark::DoNotOptimize(inputs.data());
  }
  state.SetItemsProcessed(state.iterations() * count);
}

// The fixture manifest (tests/fixtures/transforms/model.yaml): 8 features,
// every transform kind, 20 columns.
void BM_FeatureTransforms(benchmark::State& state) {
  static const std::unique_ptr<FeatureMapper> mapper =
      MapperFor(LoadManifest("tests/fixtures/transforms/model.yaml"));
  const int64_t rows = state.range(0);
  MapRows(state, *mapper, FixtureRows(rows), rows);
}
BENCHMARK(BM_FeatureTransforms)->Arg(1)->Arg(32)->Arg(256);

// One transform kind at a time, each manifest filling the same 20 columns,
// 32 rows per body: what each kind costs next to plain float columns.
struct KindCase {
  std::string yaml;  // the manifest
  json::object row;  // one valid row for it
};

KindCase NumericCase(const std::string& transform) {
  KindCase c;
  c.yaml = "features:\n";
  for (int i = 0; i < 20; ++i) {
    const std::string name = "f" + std::to_string(i);
    c.yaml += "  - {name: " + name + ", type: float";
    if (!transform.empty()) c.yaml += ", transforms: [" + transform + "]";
    c.yaml += "}\n";
    c.row[name] = 3.25 + 1.5 * i;
  }
  return c;
}

// String features: `features` of them, `width` columns each.
KindCase StringCase(const std::string& transform, int features, int width) {
  KindCase c;
  c.yaml = "features:\n";
  for (int i = 0; i < features; ++i) {
    const std::string name = "s" + std::to_string(i);
    std::string t = transform;
    const std::string cats = "[c0, c1, c2, c3, c4, c5, c6, c7, c8, c9]";
    if (t == "one_hot") t = "{one_hot: {categories: " + cats + "}}";
    if (t == "ordinal") t = "{ordinal: {categories: " + cats + "}}";
    if (t == "hash") t = "{hash: {buckets: " + std::to_string(width) + "}}";
    c.yaml += "  - {name: " + name + ", type: string, transforms: [" + t + "]}\n";
    c.row[name] = "c" + std::to_string((i * 7) % 10);
  }
  return c;
}

void BM_FeatureKind(benchmark::State& state, KindCase c) {
  auto manifest = ParseModelManifest(c.yaml, "bench");
  if (!manifest.ok()) Die(manifest.status().message());
  const std::unique_ptr<FeatureMapper> mapper = MapperFor(*manifest);
  constexpr int64_t kRows = 32;
  json::array rows;
  for (int64_t r = 0; r < kRows; ++r) rows.push_back(c.row);
  MapRows(state, *mapper, rows, kRows);
}
BENCHMARK_CAPTURE(BM_FeatureKind, float_x20, NumericCase(""));
BENCHMARK_CAPTURE(BM_FeatureKind, standardize_x20,
                  NumericCase("{standardize: {mean: 10, std: 4.5}}"));
BENCHMARK_CAPTURE(BM_FeatureKind, min_max_x20, NumericCase("{min_max: {min: 0, max: 40}}"));
BENCHMARK_CAPTURE(BM_FeatureKind, clip_log1p_x20,
                  NumericCase("{clip: {min: 0, max: 30}}, {log1p: {}}"));
BENCHMARK_CAPTURE(BM_FeatureKind, bucketize_x20,
                  NumericCase("{bucketize: {boundaries: [5, 10, 15, 20, 25, 30]}}"));
BENCHMARK_CAPTURE(BM_FeatureKind, impute_x20, NumericCase("{impute: {strategy: mean, value: 7}}"));
BENCHMARK_CAPTURE(BM_FeatureKind, ordinal_x20, StringCase("ordinal", 20, 1));
BENCHMARK_CAPTURE(BM_FeatureKind, one_hot_2x10, StringCase("one_hot", 2, 10));
BENCHMARK_CAPTURE(BM_FeatureKind, hash_2x10, StringCase("hash", 2, 10));

}  // namespace
}  // namespace mast::bench
