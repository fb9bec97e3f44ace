// The prediction log and the access log, both on every scored request:
// PredictionLog::Append (queueing on the response path), FormatRow (the JSON
// line the writer thread builds per row) and the access-log line Log()
// formats per request. Items are events, rows or lines.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include "bench/micro/fixtures.h"
#include "common/logging.h"
#include "predlog/prediction_log.h"

namespace mast::bench {
namespace {

namespace json = boost::json;

// The churn model as the prediction log sees it: its manifest decides
// which fields are logged; the first `pii_fields` are marked `pii: hash`.
std::shared_ptr<const ModelVersion> ChurnVersion(int pii_fields) {
  auto v = std::make_shared<ModelVersion>();
  v->name = "churn";
  v->version = "3";
  v->manifest = LoadManifest("tests/fixtures/models/logreg20_manifest/model.yaml");
  for (int i = 0; i < pii_fields; ++i) v->manifest.features[i].pii = PiiPolicy::kHash;
  return v;
}

// A prediction log in a fresh temporary directory, removed with it.
class TempLog {
 public:
  explicit TempLog(double sample_rate) {
    char dir[] = "/tmp/mast-microbench-XXXXXX";
    if (mkdtemp(dir) == nullptr) Die("mkdtemp failed");
    dir_ = dir;
    PredictionLogOptions options;
    options.dir = dir_;
    options.sample_rate = sample_rate;
    options.pii_key = "microbench-key";
    auto log = PredictionLog::Open(options, &registry_);
    if (!log.ok()) Die(log.status().message());
    log_ = std::move(log).value();
  }
  ~TempLog() {
    log_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PredictionLog* log() { return log_.get(); }

 private:
  std::string dir_;
  MetricsRegistry registry_;
  std::unique_ptr<PredictionLog> log_;
};

// A one-row /predict?proba=true event of the churn model.
PredictionEvent PredictEvent(std::shared_ptr<const ModelVersion> model) {
  PredictionEvent e;
  e.endpoint = PredictionEvent::kPredict;
  e.request_id = "0f8e5a4c2b9d41e7a3c6d2b1e0f9a8c7";
  e.time = std::chrono::system_clock::now();
  e.model = std::move(model);
  e.inputs = ChurnRow();
  e.outputs = json::object{{"prediction", json::array{0}},
                           {"probabilities", json::array{json::array{0.9137, 0.0863}}}};
  e.rows = 1;
  e.latency_ms = 0.183;
  return e;
}

// The line of one row: 20 plain fields, or 3 of them HMAC-hashed.
void BM_PredictionLogFormatRow(benchmark::State& state) {
  TempLog log(1.0);
  const PredictionEvent event = PredictEvent(ChurnVersion(static_cast<int>(state.range(0))));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string line = log.log()->FormatRow(event, 0);
    bytes = line.size();
    benchmark::DoNotOptimize(line.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}
BENCHMARK(BM_PredictionLogFormatRow)->ArgName("pii_fields")->Arg(0)->Arg(3);

// Append of one event (its JSON bodies are moved in on the real path, so
// they are left empty here). Sample rate 0: the writer thread takes and
// discards the queue, so nothing reaches the disk.
void BM_PredictionLogAppend(benchmark::State& state) {
  TempLog log(0.0);
  const std::shared_ptr<const ModelVersion> model = ChurnVersion(0);
  for (auto _ : state) {
    PredictionEvent e;
    e.request_id = "0f8e5a4c2b9d41e7a3c6d2b1e0f9a8c7";
    e.time = std::chrono::system_clock::now();
    e.model = model;
    e.rows = 1;
    e.bytes = 400;
    log.log()->Append(std::move(e));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PredictionLogAppend);

// stderr sent to /dev/null while it lives (the logger writes there).
class SilencedStderr {
 public:
  SilencedStderr() : saved_(dup(STDERR_FILENO)) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDERR_FILENO);
    close(null);
  }
  ~SilencedStderr() {
    FlushLogs();
    dup2(saved_, STDERR_FILENO);
    close(saved_);
  }

 private:
  int saved_;
};

// The access-log line of one request, built as the gateway builds it, at LOG_LEVEL=INFO (formatted, queued for the writer thread).
void BM_AccessLogLine(benchmark::State& state) {
  SilencedStderr silenced;
  InitLogging(LogLevel::kInfo);
  const std::string request_id = "0f8e5a4c2b9d41e7a3c6d2b1e0f9a8c7";
  const std::string route = "/v1/models/{model}/predict", path = "/v1/models/churn/predict";
  for (auto _ : state) {
    LogLine line(LogLevel::kInfo, "request");
    line.Add("request_id", request_id)
        .Add("method", "POST")
        .Add("route", route)
        .Add("path", path)
        .Add("status", 200)
        .Add("latency_ms", 0.4187)
        .Add("model", "churn")
        .Add("version", "3");
    line.Write();
  }
  InitLogging(LogLevel::kWarning);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AccessLogLine);

}  // namespace
}  // namespace mast::bench
