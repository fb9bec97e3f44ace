// Dynamic batching end to end: one server serves the same model twice, with
// batching (`batched`) and without (`plain`); concurrent /predict and OIP
// requests to `batched` are merged into batches and answered exactly as
// `plain` answers them.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <regex>
#include <thread>

#include "e2e/e2e_util.h"
#include "e2e/http_client.h"

namespace mast_e2e {
namespace {

// The value of the first sample of `metric` whose labels contain `labels`.
double MetricValue(const std::string& text, const std::string& metric,
                   const std::string& labels) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(metric + "{", 0) == 0 && line.find(labels) != std::string::npos) {
      return std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return -1;
}

TEST(BatchingE2eTest, ConcurrentRequestsAreBatchedAndAnsweredAsUnbatched) {
  TempDir repo;
  AddModel(repo.path(), "plain", "logreg20_manifest");
  const fs::path dir = repo.path() / "batched" / "1";
  fs::create_directories(dir);
  fs::create_symlink(FixtureDir("logreg20_manifest") + "/model.onnx", dir / "model.onnx");
  std::ofstream(dir / "model.yaml")
      << "batching: {max_batch_size: 16, max_queue_delay_us: 3000}\n"
      << ReadFile(FixtureDir("logreg20_manifest") + "/model.yaml");
  std::string error;
  auto server = ServerProcess::Start(
      {"serve", "--port", "0", "--model-repository", repo.path().string(), "--io-threads", "4"},
      {}, &error);
  ASSERT_NE(server, nullptr) << error;
  const uint16_t port = server->port();
  const json::object expected = Expected("logreg20_manifest");
  const size_t rows = expected.at("inputs").as_array().size();

  // The unbatched answers, one row at a time.
  std::vector<std::string> want_predict(rows), want_infer(rows);
  {
    HttpClient client(port);
    for (size_t r = 0; r < rows; ++r) {
      HttpResult p = client.Post("/v1/models/plain/predict?proba=true", Str(NamedRow(expected, r)));
      ASSERT_EQ(p.status, 200) << p.Describe();
      json::object body = p.Json().as_object();
      body.erase("inference_time_ms");
      want_predict[r] = Str(body);
      HttpResult i = client.Post(
          "/v2/models/plain/infer",
          InferBody(json::array{Tensor("input", "FP32", {1, 20},
                                       expected.at("inputs").as_array()[r].as_array())}));
      ASSERT_EQ(i.status, 200) << i.Describe();
      json::object ibody = i.Json().as_object();
      ibody.erase("model_name");
      want_infer[r] = Str(ibody);
    }
  }

  std::atomic<int> sent{0}, mismatched{0}, failed{0};
  std::mutex mu;
  std::vector<std::string> examples;
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(port, 10s);
      for (int i = 0; i < 60; ++i) {
        const size_t r = static_cast<size_t>(t * 7 + i) % rows;
        std::string got, want;
        HttpResult res;
        if ((t + i) % 2 == 0) {
          res = client.Post("/v1/models/batched/predict?proba=true", Str(NamedRow(expected, r)));
          if (res.status == 200) {
            json::object body = res.Json().as_object();
            body.erase("inference_time_ms");
            got = Str(body);
          }
          want = want_predict[r];
        } else {
          res = client.Post(
              "/v2/models/batched/infer",
              InferBody(json::array{Tensor("input", "FP32", {1, 20},
                                           expected.at("inputs").as_array()[r].as_array())}));
          if (res.status == 200) {
            json::object body = res.Json().as_object();
            body.erase("model_name");
            got = Str(body);
          }
          want = want_infer[r];
        }
        ++sent;
        if (res.status != 200) {
          ++failed;
        } else if (got != want) {
          ++mismatched;
          std::lock_guard<std::mutex> lock(mu);
          if (examples.size() < 3) examples.push_back("got " + got + "\nwant " + want);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(mismatched.load(), 0) << (examples.empty() ? "" : examples[0]);

  HttpClient client(port);
  const std::string metrics = client.Get("/metrics").body;
  const double batches =
      MetricValue(metrics, "mast_batches_total", "model=\"batched\",version=\"1\"");
  const double batched_rows =
      MetricValue(metrics, "mast_batch_size_sum", "model=\"batched\",version=\"1\"");
  EXPECT_EQ(batched_rows, sent.load()) << metrics;
  EXPECT_GT(batches, 0) << metrics;
  EXPECT_LT(batches, sent.load() * 0.8) << "requests were not merged into batches";
  EXPECT_GT(MetricValue(metrics, "mast_queue_duration_seconds_count",
                        "model=\"batched\",version=\"1\""),
            0);
  // The unbatched model never went through the batcher.
  EXPECT_EQ(MetricValue(metrics, "mast_batches_total", "model=\"plain\""), -1);
  std::printf("[ batching ] %d requests in %.0f batches (%.1f rows per batch)\n", sent.load(),
              batches, sent.load() / batches);
  EXPECT_TRUE(ExitedCleanly(server->Stop())) << server->Log();
}

TEST(BatchingE2eTest, AFullQueueAnswers503WithRetryAfter) {
  TempDir repo;
  const fs::path dir = repo.path() / "tiny" / "1";
  fs::create_directories(dir);
  fs::create_symlink(FixtureDir("logreg20_manifest") + "/model.onnx", dir / "model.onnx");
  // Batches wait up to 2 s for a 1000th row; the queue holds 2 requests.
  std::ofstream(dir / "model.yaml")
      << "batching: {max_batch_size: 1000, max_queue_delay_us: 2000000, max_queue_size: 2}\n"
      << ReadFile(FixtureDir("logreg20_manifest") + "/model.yaml");
  std::string error;
  auto server = ServerProcess::Start(
      {"serve", "--port", "0", "--model-repository", repo.path().string()}, {}, &error);
  ASSERT_NE(server, nullptr) << error;
  const json::object expected = Expected("logreg20_manifest");
  const std::string body = Str(NamedRow(expected, 0));
  std::vector<std::thread> waiting;
  std::atomic<int> ok{0};
  for (int i = 0; i < 2; ++i) {
    waiting.emplace_back([&] {
      HttpClient c(server->port(), 20s);
      if (c.Post("/v1/models/tiny/predict", body).status == 200) ++ok;
    });
  }
  std::this_thread::sleep_for(500ms);
  HttpClient client(server->port());
  HttpResult full = client.Post("/v1/models/tiny/predict", body);
  EXPECT_EQ(full.status, 503) << full.Describe();
  EXPECT_EQ(full.Header("Retry-After"), "1");
  EXPECT_NE(full.body.find("max_queue_size"), std::string::npos) << full.body;
  EXPECT_EQ(client.Get("/health").status, 200);
  for (auto& t : waiting) t.join();  // answered when the delay ran out
  EXPECT_EQ(ok.load(), 2);
  EXPECT_TRUE(ExitedCleanly(server->Stop())) << server->Log();
}

}  // namespace
}  // namespace mast_e2e
