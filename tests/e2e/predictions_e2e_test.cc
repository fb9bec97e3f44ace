// The prediction log end to end: rows of /predict and OIP infer are logged
// with PII hashed or dropped, read back through GET /api/v1/predictions
// (streamed), exported by `mast predictions export`, and survive kill -9.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "e2e/e2e_util.h"
#include "e2e/http_client.h"

namespace mast_e2e {
namespace {

// Distinctive raw values of the PII fields: they must never reach a file.
constexpr const char* kPiiNumber = "4242.4242";       // age: pii: true (hash)
constexpr const char* kDroppedNumber = "3131.3131";   // tenure_months: pii: drop
constexpr const char* kPiiText = "ana.secret@example.com";

// The 20-feature manifest with `age` hashed and `tenure_months` dropped.
std::string PiiManifest() {
  std::string m = ReadFile(FixtureDir("logreg20_manifest") + "/model.yaml");
  auto mark = [&](const std::string& from, const std::string& to) {
    const size_t at = m.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) m.replace(at, from.size(), to);
  };
  mark("{name: age, type: float}", "{name: age, type: float, pii: true}");
  mark("{name: tenure_months, type: float}", "{name: tenure_months, type: float, pii: drop}");
  return m;
}

// Row `r` of the fixture as named features, with the PII values set.
json::object Row(size_t r) {
  json::object row = NamedRow(Expected("logreg20_manifest"), r);
  row["age"] = json::parse(kPiiNumber);
  row["tenure_months"] = json::parse(kDroppedNumber);
  return row;
}

std::vector<json::object> Lines(const std::string& body) {
  std::vector<json::object> out;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    EXPECT_FALSE(ec) << "not JSON: " << line;
    if (!ec) out.push_back(v.as_object());
  }
  return out;
}

// Every regular file under `dir`, concatenated.
std::string AllFiles(const fs::path& dir) {
  std::string all;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) all += ReadFile(e.path().string());
  }
  return all;
}

class PredictionLogE2eTest : public ::testing::Test {
 protected:
  void StartServer(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"serve", "--port", "0", "--data-dir", data_.path().string(),
                                  "--registry-poll", "0.2"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string error;
    server_ = ServerProcess::Start(args, {{"MAST_ADMIN_TOKEN", "tok"}}, &error);
    ASSERT_NE(server_, nullptr) << error;
    env_ = "MAST_SERVER=http://127.0.0.1:" + std::to_string(server_->port()) + " MAST_TOKEN=tok";
  }

  void PushChurn() {
    const fs::path manifest = files_.path() / "model.yaml";
    std::ofstream(manifest) << PiiManifest();
    auto r = RunCli("models push churn " + FixtureDir("logreg20_manifest") +
                        "/model.onnx --manifest " + manifest.string() + " --alias production",
                    env_);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    HttpClient client(server_->port());
    for (int i = 0; i < 200; ++i) {
      if (client.Post("/v1/models/churn/predict", Str(Row(0))).status == 200) return;
      std::this_thread::sleep_for(25ms);
    }
    FAIL() << "churn was not served after the push\n" << server_->Log();
  }

  HttpResult Predictions(const std::string& query, bool with_token = true) {
    HttpClient client(server_->port());
    Headers h;
    if (with_token) h.emplace_back("Authorization", "Bearer tok");
    return client.Get("/api/v1/predictions" + query, h);
  }

  TempDir data_;
  TempDir files_;
  std::unique_ptr<ServerProcess> server_;
  std::string env_;
};

TEST_F(PredictionLogE2eTest, RowsAreLoggedWithPiiRedactedAndStreamedBack) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_NO_FATAL_FAILURE(PushChurn());  // its check request is logged too: id unknown
  HttpClient client(server_->port());
  const json::object expected = Expected("logreg20_manifest");

  std::map<std::string, json::value> predictions;  // request id -> prediction
  for (int i = 0; i < 3; ++i) {
    const std::string id = "single-" + std::to_string(i);
    HttpResult r = client.Post("/v1/models/churn/predict", Str(Row(i)), {{"X-Request-Id", id}});
    ASSERT_EQ(r.status, 200) << r.Describe();
    predictions[id] = r.Json().at("prediction");
  }
  HttpResult batch = client.Post("/predict?proba=true", Str(json::array{Row(3), Row(4)}),
                                 {{"X-Request-Id", "batch-1"}});
  ASSERT_EQ(batch.status, 200) << batch.Describe();
  json::array oip_rows = json::array{expected.at("inputs").as_array()[5],
                                     expected.at("inputs").as_array()[6]};
  oip_rows[0].as_array()[0] = json::parse(kPiiNumber);
  HttpResult infer = client.Post(
      "/v2/models/churn/infer", InferBody(json::array{Tensor("input", "FP32", {2, 20}, oip_rows)}),
      {{"X-Request-Id", "oip-1"}});
  ASSERT_EQ(infer.status, 200) << infer.Describe();
  // Invalid: not logged as a prediction, and the PII text is not logged at all.
  json::object bad = Row(7);
  bad["age"] = kPiiText;
  ASSERT_EQ(client.Post("/v1/models/churn/predict", Str(bad), {{"X-Request-Id", "bad-1"}}).status,
            422);

  HttpResult all = Predictions("?model=churn");
  ASSERT_EQ(all.status, 200) << all.Describe();
  EXPECT_EQ(all.Header("Content-Type"), "application/x-ndjson");
  EXPECT_EQ(all.Header("Transfer-Encoding"), "chunked");
  std::map<std::string, std::vector<json::object>> by_id;
  for (auto& line : Lines(all.body)) {
    by_id[std::string(line.at("request_id").as_string())].push_back(line);
  }
  EXPECT_FALSE(by_id.count("bad-1"));
  for (int i = 0; i < 3; ++i) {
    const std::string id = "single-" + std::to_string(i);
    ASSERT_EQ(by_id[id].size(), 1u) << all.body;
    const json::object& line = by_id[id][0];
    EXPECT_EQ(line.at("model"), "churn");
    EXPECT_EQ(line.at("version"), "1");
    EXPECT_EQ(line.at("endpoint"), "predict");
    const json::object& in = line.at("inputs").as_object();
    EXPECT_EQ(in.at("age").as_string().find("hmac-sha256:"), 0u) << line;
    EXPECT_FALSE(in.contains("tenure_months")) << line;
    EXPECT_TRUE(JsonNear(in.at("monthly_charges"), Row(i).at("monthly_charges"), 0)) << line;
    EXPECT_EQ(in.size(), 19u);
    EXPECT_EQ(json::array{line.at("outputs").at("prediction")}, predictions[id].as_array());
    EXPECT_GT(line.at("latency_ms").to_number<double>(), 0);
  }
  // Same value, same key: the hash joins rows of one person.
  EXPECT_EQ(by_id["single-0"][0].at("inputs").at("age"),
            by_id["single-1"][0].at("inputs").at("age"));
  ASSERT_EQ(by_id["batch-1"].size(), 2u);
  EXPECT_EQ(by_id["batch-1"][1].at("row"), 1);
  EXPECT_EQ(by_id["batch-1"][1].at("outputs").at("probabilities"),
            batch.Json().at("probabilities").as_array()[1]);
  ASSERT_EQ(by_id["oip-1"].size(), 2u);
  EXPECT_EQ(by_id["oip-1"][0].at("endpoint"), "infer");
  // The OIP input matrix holds PII columns: dropped (the strictest policy).
  EXPECT_TRUE(by_id["oip-1"][0].at("inputs").as_object().empty()) << by_id["oip-1"][0];
  EXPECT_TRUE(by_id["oip-1"][0].at("outputs").as_object().contains("label"));

  // Filters.
  EXPECT_EQ(Lines(Predictions("?model=churn&limit=2").body).size(), 2u);
  EXPECT_TRUE(Lines(Predictions("?model=other").body).empty());
  EXPECT_TRUE(Lines(Predictions("?model=churn&since=2199-01-01T00:00:00Z").body).empty());
  EXPECT_TRUE(Lines(Predictions("?until=2000-01-01T00:00:00Z").body).empty());
  EXPECT_EQ(Lines(Predictions("?since=2000-01-01T00:00:00Z&until=2199-01-01T00:00:00Z").body)
                .size(),
            Lines(all.body).size());
  HttpResult bad_since = Predictions("?since=yesterday");
  EXPECT_EQ(bad_since.status, 400);
  EXPECT_NE(bad_since.body.find("since"), std::string::npos) << bad_since.body;
  EXPECT_EQ(Predictions("?limit=-1").status, 400);
  EXPECT_EQ(Predictions("?until=9999-01-01T00:00:00Z").status, 400);
  EXPECT_EQ(Predictions("", /*with_token=*/false).status, 401);

  // The raw PII values are nowhere on disk or in the server's log.
  auto status = server_->Stop();
  EXPECT_TRUE(ExitedCleanly(status)) << server_->Log();
  const std::string disk = AllFiles(data_.path());
  const std::string log = server_->Log();
  for (const char* raw : {kPiiNumber, kDroppedNumber, kPiiText}) {
    EXPECT_EQ(disk.find(raw), std::string::npos) << raw << " is in the data directory";
    EXPECT_EQ(log.find(raw), std::string::npos) << raw << " is in the server log";
  }
  EXPECT_NE(disk.find("hmac-sha256:"), std::string::npos);  // the log was on disk
}

TEST_F(PredictionLogE2eTest, ExportWritesCsvAndJsonl) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_NO_FATAL_FAILURE(PushChurn());
  HttpClient client(server_->port());
  ASSERT_EQ(client.Post("/predict?proba=true", Str(json::array{Row(0), Row(1), Row(2)})).status,
            200);
  const std::string csv = (files_.path() / "rows.csv").string();
  auto r = RunCli("predictions export --model churn -o " + csv, env_);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::istringstream in(ReadFile(csv));
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header.rfind("request_id,time,model,version,endpoint,row,latency_ms,input.", 0), 0u)
      << header;
  EXPECT_NE(header.find("input.monthly_charges"), std::string::npos) << header;
  EXPECT_NE(header.find("output.probabilities.1"), std::string::npos) << header;
  EXPECT_EQ(header.find("input.tenure_months"), std::string::npos) << header;
  int rows = 0;
  for (std::string line; std::getline(in, line);) ++rows;
  EXPECT_EQ(rows, 4);  // the push check's row and the three
  EXPECT_FALSE(fs::exists(csv + ".part"));

  const std::string jsonl = (files_.path() / "rows.jsonl").string();
  r = RunCli("predictions export --model churn --limit 2 --json -o " + jsonl, env_);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\"rows\":2"), std::string::npos) << r.out;
  EXPECT_EQ(Lines(ReadFile(jsonl)).size(), 2u);

  r = RunCli("predictions export --since yesterday -o " + jsonl, env_);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("--since"), std::string::npos) << r.out;
  r = RunCli("predictions export -o " + jsonl, "MAST_SERVER=http://127.0.0.1:" +
                                                   std::to_string(server_->port()));
  EXPECT_EQ(r.exit_code, 1) << r.out;  // no token
  EXPECT_EQ(Lines(ReadFile(jsonl)).size(), 2u) << "a failed export must not touch the file";
}

TEST_F(PredictionLogE2eTest, SurvivesKillNineLosingAtMostTheUnflushedTail) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_NO_FATAL_FAILURE(PushChurn());
  const uint16_t port = server_->port();
  {
    HttpClient client(port);
    for (int i = 0; i < 50; ++i) {
      ASSERT_EQ(client.Post("/predict", Str(Row(i % 8)), {{"X-Request-Id", "before-" +
                                                                              std::to_string(i)}})
                    .status,
                200);
    }
  }
  // Load from four connections, then kill -9 in the middle of it.
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::pair<std::string, Clock::time_point>> answered;  // GUARDED_BY(mu)
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(port, 2s);
      for (int i = 0; !stop.load(); ++i) {
        const std::string id = "during-" + std::to_string(t) + "-" + std::to_string(i);
        HttpResult r = client.Post("/predict", Str(Row(i % 8)), {{"X-Request-Id", id}});
        if (r.status != 200) break;
        std::lock_guard<std::mutex> lock(mu);
        answered.emplace_back(id, Clock::now());
      }
    });
  }
  std::this_thread::sleep_for(3s);
  const auto killed_at = Clock::now();
  ASSERT_TRUE(server_->Signal(SIGKILL));
  server_->WaitExit(5s);
  stop.store(true);
  for (auto& t : threads) t.join();
  ASSERT_GT(answered.size(), 100u);

  // Every complete line of every segment is valid JSON; at most the last
  // line of a segment is cut short.
  int segments = 0;
  for (const auto& e : fs::directory_iterator(data_.path() / "predictions")) {
    ++segments;
    const std::string text = ReadFile(e.path().string());
    std::istringstream in(text);
    std::string line;
    size_t consumed = 0;
    while (std::getline(in, line)) {
      consumed += line.size() + 1;
      if (consumed > text.size()) break;  // the unterminated tail
      boost::system::error_code ec;
      json::parse(line, ec);
      EXPECT_FALSE(ec) << e.path() << ": " << line;
    }
  }
  EXPECT_GE(segments, 1);

  ASSERT_NO_FATAL_FAILURE(StartServer());
  HttpResult all = Predictions("?model=churn");
  ASSERT_EQ(all.status, 200) << all.Describe();
  std::multiset<std::string> ids;
  for (const auto& line : Lines(all.body)) ids.insert(std::string(line.at("request_id").as_string()));
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(ids.count("before-" + std::to_string(i)), 1u) << i;
  }
  // Rows answered well before the kill were written; later ones may be lost
  // (the unflushed tail), never duplicated.
  int64_t lost_early = 0, lost_tail = 0;
  for (const auto& [id, when] : answered) {
    EXPECT_LE(ids.count(id), 1u) << id;
    if (ids.count(id) == 0) ++(when < killed_at - 1s ? lost_early : lost_tail);
  }
  EXPECT_EQ(lost_early, 0) << "rows answered more than 1 s before kill -9 were lost";
  std::printf("[ kill -9 ] %zu rows answered under load; %lld lost in the last second\n",
              answered.size(), static_cast<long long>(lost_tail));
}

}  // namespace
}  // namespace mast_e2e
