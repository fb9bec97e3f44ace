// JSON <-> tensor on the request path: what POST /predict and POST
// /v2/models/{m}/infer do to a body before the model runs, and to the
// outputs after. Bodies of 1 and 32 rows of the churn example's 20 features
// (examples/churn/sample.json); items are rows, bytes are body bytes.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include "api/tensor_json.h"
#include "bench/micro/fixtures.h"
#include "common/json_reader.h"
#include "common/json_writer.h"

namespace mast::bench {
namespace {

namespace json = boost::json;

// The 20-feature manifest of examples/churn (a float column per feature,
// no constraints and no transforms).
const FeatureMapper& ChurnMapper() {
  static const std::unique_ptr<FeatureMapper> mapper =
      MapperFor(LoadManifest("tests/fixtures/models/logreg20_manifest/model.yaml"));
  return *mapper;
}

void CountRows(benchmark::State& state, int64_t rows, size_t bytes) {
  state.SetItemsProcessed(state.iterations() * rows);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}

// json::parse of a /predict body alone.
void BM_PredictParse(benchmark::State& state) {
  const int64_t rows = state.range(0);
  const std::string body = BodyOfRows(ChurnRow(), rows);
  for (auto _ : state) {
    json::value v = json::parse(body);
    benchmark::DoNotOptimize(v);
  }
  CountRows(state, rows, body.size());
}
BENCHMARK(BM_PredictParse)->Arg(1)->Arg(32);

// FeatureMapper::Map of `body`, aborting if the churn body does not map.
void MapOrDie(const FeatureMapper& mapper, const json::value& body) {
  std::vector<Tensor> inputs;
  int64_t n = 0;
  std::vector<FieldError> errors;
  if (!mapper.Map(body, &inputs, &n, &errors)) Die("the churn body does not map");
  benchmark::DoNotOptimize(inputs.data());
}

// FeatureMapper::Map of a parsed body into the [rows, 20] FP32 tensor.
void BM_PredictMap(benchmark::State& state) {
  const int64_t rows = state.range(0);
  const std::string body = BodyOfRows(ChurnRow(), rows);
  const json::value parsed = json::parse(body);
  const FeatureMapper& mapper = ChurnMapper();
  for (auto _ : state) MapOrDie(mapper, parsed);
  CountRows(state, rows, body.size());
}
BENCHMARK(BM_PredictMap)->Arg(1)->Arg(32);

// Both, as the /predict handler runs them for bodies the fast path declines
// (arrays of rows; errors): body text to the model's input.
void BM_PredictParseAndMap(benchmark::State& state) {
  const int64_t rows = state.range(0);
  const std::string body = BodyOfRows(ChurnRow(), rows);
  const FeatureMapper& mapper = ChurnMapper();
  for (auto _ : state) {
    boost::system::error_code ec;
    MapOrDie(mapper, ParseJson(body, ec));
  }
  CountRows(state, rows, body.size());
}
BENCHMARK(BM_PredictParseAndMap)->Arg(1)->Arg(32);

// The /predict fast path for one flat object: text to the model's input
// without a JSON document (FeatureMapper::MapFlatObject).
void BM_PredictFastPath(benchmark::State& state) {
  const std::string body = BodyOfRows(ChurnRow(), 1);
  const FeatureMapper& mapper = ChurnMapper();
  for (auto _ : state) {
    std::vector<Tensor> inputs;
    if (!mapper.MapFlatObject(body, &inputs)) Die("the churn body takes the slow path");
    benchmark::DoNotOptimize(inputs.data());
  }
  CountRows(state, 1, body.size());
}
BENCHMARK(BM_PredictFastPath);

// An Open Inference Protocol request carrying the same rows as one FP32
// tensor [rows, 20].
std::string OipBody(int64_t rows) {
  json::array data;
  for (int64_t r = 0; r < rows; ++r) {
    for (const auto& kv : ChurnRow()) data.push_back(kv.value());
  }
  json::object input{{"name", "float_input"},
                     {"shape", json::array{rows, 20}},
                     {"datatype", "FP32"},
                     {"data", std::move(data)}};
  return json::serialize(json::object{{"inputs", json::array{std::move(input)}}});
}

// Body text to tensor through the OIP path: parse, then TensorFromJson
// (count check, allocation, element conversion).
void BM_OipParseToTensor(benchmark::State& state) {
  const int64_t rows = state.range(0);
  const std::string body = OipBody(rows);
  for (auto _ : state) {
    json::value parsed = json::parse(body);
    const json::object& in = parsed.at("inputs").at(0).as_object();
    auto tensor = TensorFromJson("float_input", DataType::kFp32, {rows, 20}, in.at("data"));
    if (!tensor.ok()) Die(tensor.status().message());
    benchmark::DoNotOptimize(tensor->bytes.data());
  }
  CountRows(state, rows, body.size());
}
BENCHMARK(BM_OipParseToTensor)->Arg(1)->Arg(32);

// FillTensorFromJson alone, into storage allocated once.
void BM_FillTensorFromJson(benchmark::State& state) {
  const int64_t rows = state.range(0);
  const json::value parsed = json::parse(OipBody(rows));
  const json::value& data = parsed.at("inputs").at(0).at("data");
  Tensor t = Tensor::Make("float_input", DataType::kFp32, {rows, 20});
  for (auto _ : state) {
    Status s = FillTensorFromJson(data, &t);
    if (!s.ok()) Die(s.message());
    benchmark::DoNotOptimize(t.bytes.data());
  }
  CountRows(state, rows, static_cast<size_t>(rows) * 20 * sizeof(float));
}
BENCHMARK(BM_FillTensorFromJson)->Arg(1)->Arg(32);

// What the churn classifier returns for `rows` rows: labels and
// probabilities with the float noise real outputs have.
std::vector<Tensor> ClassifierOutputs(int64_t rows) {
  Tensor label = Tensor::Make("label", DataType::kInt64, {rows});
  Tensor proba = Tensor::Make("probabilities", DataType::kFp32, {rows, 2});
  for (int64_t r = 0; r < rows; ++r) {
    const float p = 0.0137f + 0.0291f * static_cast<float>(r);
    label.data<int64_t>()[r] = p > 0.5f ? 1 : 0;
    proba.data<float>()[2 * r] = 1.0f - p;
    proba.data<float>()[2 * r + 1] = p;
  }
  return {std::move(label), std::move(proba)};
}

json::object PredictAnswer(const std::vector<Tensor>& outputs) {
  json::object answer;
  answer["prediction"] = RowsToJson(outputs[0]);
  answer["probabilities"] = RowsToJson(outputs[1]);
  answer["inference_time_ms"] = 0.0421;
  return answer;
}

// Outputs to the /predict?proba=true answer text: RowsToJson + ToJson.
void BM_PredictAnswer(benchmark::State& state) {
  const int64_t rows = state.range(0);
  const std::vector<Tensor> outputs = ClassifierOutputs(rows);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = ToJson(PredictAnswer(outputs));
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  CountRows(state, rows, bytes);
}
BENCHMARK(BM_PredictAnswer)->Arg(1)->Arg(32);

// Outputs to the OIP answer text: FlatToJson per output + ToJson.
void BM_OipAnswer(benchmark::State& state) {
  const int64_t rows = state.range(0);
  const std::vector<Tensor> outputs = ClassifierOutputs(rows);
  size_t bytes = 0;
  for (auto _ : state) {
    json::object answer{{"model_name", "churn"}, {"model_version", "1"}};
    json::array outs;
    for (const Tensor& t : outputs) {
      json::array shape;
      for (int64_t d : t.shape) shape.push_back(d);
      outs.push_back(json::object{{"name", t.name},
                                  {"datatype", DataTypeName(t.type)},
                                  {"shape", std::move(shape)},
                                  {"data", FlatToJson(t)}});
    }
    answer["outputs"] = std::move(outs);
    std::string text = ToJson(answer);
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  CountRows(state, rows, bytes);
}
BENCHMARK(BM_OipAnswer)->Arg(1)->Arg(32);

// mast's writer (shortest round-trip doubles, plain notation) against
// boost::json::serialize on the same answer value.
void BM_WriteAnswerToJson(benchmark::State& state) {
  const json::value answer = PredictAnswer(ClassifierOutputs(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = ToJson(answer);
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  CountRows(state, state.range(0), bytes);
}
BENCHMARK(BM_WriteAnswerToJson)->Arg(32);

void BM_WriteAnswerBoostSerialize(benchmark::State& state) {
  const json::value answer = PredictAnswer(ClassifierOutputs(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = json::serialize(answer);
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  CountRows(state, state.range(0), bytes);
}
BENCHMARK(BM_WriteAnswerBoostSerialize)->Arg(32);

}  // namespace
}  // namespace mast::bench
