// `mast perf` against a real `mast serve`, as a user runs it: both
// protocols, every level reported with consistent numbers that the server's
// own request counter confirms, errors counted, and the failure exits.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>

#include "e2e/e2e_util.h"
#include "e2e/http_client.h"

namespace mast_e2e {
namespace {

using PerfRun = CliRun;

class PerfCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    suite_ = new SuiteServer();
    suite_->repo = std::make_unique<TempDir>();
    AddModel(suite_->repo->path(), "churn", "logreg20_manifest");
    AddModel(suite_->repo->path(), "shapes", "onehot_linear");
    suite_->server = ServerProcess::Start(
        {"serve", "--port", "0", "--model-repository", suite_->repo->str(), "--io-threads", "2"},
        {}, &suite_->error);
  }
  static void TearDownTestSuite() {
    suite_->Stop();
    delete suite_;
    suite_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(suite_->server, nullptr) << suite_->error; }

  static uint16_t port() { return suite_->server->port(); }
  static std::string Url() { return "http://127.0.0.1:" + std::to_string(port()); }

  // Writes `content` to a file in the test's directory and returns its path.
  std::string WriteInput(const std::string& name, const std::string& content) {
    const std::string path = (dir_.path() / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // Runs `mast perf <args>` with stdout and stderr apart.
  PerfRun Perf(const std::string& args) {
    return RunShell("env -u MAST_SERVER -u MAST_TOKEN " + kBinary + " perf " + args,
                    (dir_.path() / "stderr.txt").string());
  }

  // The server's mast_requests_total answered 200 for `model`, summed over
  // routes and versions.
  static int64_t RequestsOk(const std::string& model) {
    HttpClient client(port());
    HttpResult metrics = client.Get("/metrics");
    EXPECT_EQ(metrics.status, 200) << metrics.Describe();
    // Labels hold braces themselves (route="/v1/models/{model}/predict").
    const std::regex line("\nmast_requests_total\\{(.*)\\} ([0-9]+)");
    int64_t total = 0;
    for (std::sregex_iterator it(metrics.body.begin(), metrics.body.end(), line), end; it != end;
         ++it) {
      const std::string labels = (*it)[1];
      if (labels.find("model=\"" + model + "\"") != std::string::npos &&
          labels.find("code=\"200\"") != std::string::npos) {
        total += std::stoll((*it)[2]);
      }
    }
    return total;
  }

  // Checks the --json document of a successful run at levels 1 and 4 for
  // `duration` seconds each and returns the requests it reports.
  static int64_t CheckReport(const PerfRun& run, const std::string& protocol, double duration) {
    EXPECT_EQ(run.exit_code, 0) << run.err << run.out;
    boost::system::error_code ec;
    json::value doc = json::parse(run.out, ec);
    EXPECT_FALSE(ec) << "not JSON: " << run.out << "\nstderr: " << run.err;
    if (ec || !doc.is_object()) return 0;
    EXPECT_EQ(doc.at("protocol").as_string(), protocol);
    const json::array& levels = doc.at("levels").as_array();
    EXPECT_EQ(levels.size(), 2u) << run.out;
    int64_t requests = 0;
    for (size_t i = 0; i < levels.size(); ++i) {
      const json::object& l = levels[i].as_object();
      SCOPED_TRACE("level " + std::to_string(i) + ": " + Str(l));
      EXPECT_EQ(l.at("concurrency").as_int64(), i == 0 ? 1 : 4);
      const int64_t n = l.at("requests").as_int64();
      EXPECT_GT(n, 0);
      EXPECT_EQ(l.at("ok").as_int64(), n);
      EXPECT_EQ(l.at("errors").as_int64(), 0);
      EXPECT_EQ(l.at("error_counts").at("timeout").as_int64(), 0);
      EXPECT_EQ(l.at("error_counts").at("http").as_object().size(), 0u);
      const auto& lat = l.at("latency_seconds").as_object();
      const double p50 = lat.at("p50").to_number<double>();
      const double p90 = lat.at("p90").to_number<double>();
      const double p99 = lat.at("p99").to_number<double>();
      const double max = lat.at("max").to_number<double>();
      EXPECT_GT(p50, 0);
      EXPECT_LE(lat.at("min").to_number<double>(), p50);
      EXPECT_LE(p50, p90);
      EXPECT_LE(p90, p99);
      EXPECT_LE(p99, max);
      EXPECT_DOUBLE_EQ(l.at("duration_seconds").to_number<double>(), duration);
      const double throughput = l.at("throughput_per_second").to_number<double>();
      EXPECT_NEAR(throughput, n / duration, 0.01 * n / duration + 1);
      requests += n;
    }
    return requests;
  }

  static SuiteServer* suite_;
  TempDir dir_;
};

SuiteServer* PerfCliTest::suite_ = nullptr;

TEST_F(PerfCliTest, ClassicReportsEveryLevelAndTheServerCountedThem) {
  const std::string input = WriteInput("row.json", Str(NamedRow(Expected("logreg20_manifest"), 0)));
  const int64_t before = RequestsOk("churn");
  PerfRun run = Perf("--url " + Url() + " --model churn --input " + input +
                     " --concurrency 1,4 --duration 1s --json");
  const int64_t reported = CheckReport(run, "classic", 1.0);
  json::value doc = json::parse(run.out);
  EXPECT_EQ(doc.at("target").as_string(), "/v1/models/churn/predict");
  EXPECT_EQ(doc.at("rows_per_request").as_int64(), 1);
  // Every request perf counted reached the server (plus the uncounted tails).
  EXPECT_GE(RequestsOk("churn") - before, reported);
}

TEST_F(PerfCliTest, OipReportsEveryLevelAndTheServerCountedThem) {
  const auto expected = Expected("logreg20_manifest");
  json::array row0;
  for (const auto& v : expected.at("inputs").at(0).as_array()) row0.push_back(v);
  const std::string input =
      WriteInput("infer.json", InferBody({Tensor("input", "FP32", {1, 20}, std::move(row0))}));
  const int64_t before = RequestsOk("churn");
  // The protocol is detected from the file ("inputs").
  PerfRun run = Perf("--url " + Url() + " --model churn --input " + input +
                     " --concurrency 1,4 --duration 1s --json --threads 2");
  const int64_t reported = CheckReport(run, "oip", 1.0);
  EXPECT_EQ(json::parse(run.out).at("target").as_string(), "/v2/models/churn/infer");
  EXPECT_GE(RequestsOk("churn") - before, reported);
}

TEST_F(PerfCliTest, NamedFeaturesAreSentAsOipTensorsWhenEachFeatureIsAnInput) {
  const json::array rows = NamedRows(Expected("onehot_linear"));
  const std::string input =
      WriteInput("rows.json", Str(json::array{rows.at(0), rows.at(1), rows.at(2)}));
  PerfRun run = Perf("--url " + Url() + " --model shapes --protocol oip --input " + input +
                     " --concurrency 1,4 --duration 500ms --json");
  CheckReport(run, "oip", 0.5);
  json::value doc = json::parse(run.out);
  EXPECT_TRUE(doc.at("converted_to_oip").as_bool());
  EXPECT_EQ(doc.at("rows_per_request").as_int64(), 3);

  // The classic model takes its features as the columns of one tensor: the
  // order is not in OIP metadata, so perf refuses to guess.
  const std::string churn_row =
      WriteInput("churn.json", Str(NamedRow(Expected("logreg20_manifest"), 0)));
  PerfRun refused = Perf("--url " + Url() + " --model churn --protocol oip --input " + churn_row +
                         " --duration 200ms");
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("OIP request body"), std::string::npos) << refused.err;
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
}

TEST_F(PerfCliTest, ErrorAnswersAreCountedAndNoSuccessExitsOne) {
  const std::string input = WriteInput("bad.json", R"({"age": "old"})");
  const int64_t before = RequestsOk("churn");
  PerfRun run = Perf("--url " + Url() + " --model churn --input " + input +
                     " --concurrency 1,4 --duration 500ms --json");
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  // The level is still reported; the next one is skipped.
  json::value doc = json::parse(run.out);
  const json::array& levels = doc.at("levels").as_array();
  ASSERT_EQ(levels.size(), 1u) << run.out;
  const json::object& l = levels[0].as_object();
  EXPECT_EQ(l.at("ok").as_int64(), 0);
  const int64_t rejected = l.at("error_counts").at("http").at("422").as_int64();
  EXPECT_GT(rejected, 0);
  EXPECT_EQ(l.at("errors").as_int64(), rejected);
  EXPECT_EQ(l.at("requests").as_int64(), rejected);
  EXPECT_EQ(l.at("throughput_per_second").to_number<double>(), 0);
  EXPECT_NE(Str(l.at("first_error")).find("HTTP 422"), std::string::npos);
  EXPECT_EQ(RequestsOk("churn"), before);
  // One line on stderr naming the cause.
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
  EXPECT_NE(run.err.find("no request succeeded at concurrency 1"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("http 422"), std::string::npos) << run.err;
}

TEST_F(PerfCliTest, HumanTableHasOneLinePerLevel) {
  const std::string input = WriteInput("row.json", Str(NamedRow(Expected("logreg20_manifest"), 1)));
  PerfRun run = Perf("--url " + Url() + " --model churn --input " + input +
                     " --concurrency 2,1 --duration 300ms");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.err, "");  // no progress when stderr is not a terminal
  std::istringstream lines(run.out);
  std::string title, header, first, second, extra;
  std::getline(lines, title);
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_FALSE(std::getline(lines, extra)) << run.out;
  EXPECT_NE(title.find("POST " + Url() + "/v1/models/churn/predict (classic, 1 row per request)"),
            std::string::npos)
      << title;
  EXPECT_EQ(header.rfind("CONCURRENCY", 0), 0u) << header;
  EXPECT_NE(header.find("P99_MS"), std::string::npos) << header;
  EXPECT_TRUE(std::regex_match(first, std::regex(R"( +2 +[0-9.]+( +[0-9]+\.[0-9]{3}){4}  0)")))
      << first;
  EXPECT_TRUE(std::regex_match(second, std::regex(R"( +1 +[0-9.]+( +[0-9]+\.[0-9]{3}){4}  0)")))
      << second;
}

TEST_F(PerfCliTest, UsageErrorsExitTwoAndNameTheValue) {
  const std::string input = WriteInput("row.json", "{}");
  PerfRun bad_level = Perf("--url " + Url() + " --input " + input + " --concurrency 1,8,x");
  EXPECT_EQ(bad_level.exit_code, 2);
  EXPECT_NE(bad_level.err.find("--concurrency: 'x'"), std::string::npos) << bad_level.err;

  PerfRun bad_duration = Perf("--url " + Url() + " --input " + input + " --duration 10y");
  EXPECT_EQ(bad_duration.exit_code, 2);
  EXPECT_NE(bad_duration.err.find("'10y'"), std::string::npos) << bad_duration.err;

  PerfRun bad_protocol = Perf("--url " + Url() + " --input " + input + " --protocol grpc");
  EXPECT_EQ(bad_protocol.exit_code, 2);

  PerfRun no_model = Perf("--url " + Url() + " --input " + input + " --protocol oip");
  EXPECT_EQ(no_model.exit_code, 2);
  EXPECT_NE(no_model.err.find("--model"), std::string::npos) << no_model.err;

  PerfRun no_input = Perf("--url " + Url());
  EXPECT_EQ(no_input.exit_code, 2);

  PerfRun bad_url = Perf("--url https://127.0.0.1:1 --input " + input);
  EXPECT_EQ(bad_url.exit_code, 2);
  EXPECT_NE(bad_url.err.find("https"), std::string::npos) << bad_url.err;
}

TEST_F(PerfCliTest, UnreachableServerOrMissingInputExitsOne) {
  const std::string input = WriteInput("row.json", "{}");
  PerfRun down = Perf("--url http://127.0.0.1:1 --input " + input + " --duration 200ms");
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_EQ(down.out, "");
  EXPECT_EQ(down.err, "mast: cannot connect to 127.0.0.1:1: Connection refused\n");

  PerfRun missing = Perf("--url " + Url() + " --input /nonexistent/row.json");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent/row.json"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace mast_e2e
