// End-to-end tests: start the real `mast` binary (MAST_BINARY) on a free
// loopback port, talk HTTP to it, and stop it with SIGTERM.
//
// Every server writes its JSON log lines (stderr) to a temporary file; the
// tests find the port in the "listening" line and read access-log lines from
// the same file. Model repositories are built per suite in temporary folders
// from symlinks to tests/fixtures/models/<name>/model.*.
//
// One fixture class per server configuration. Suites whose tests only read
// share one server (started in SetUpTestSuite); shutdown and start-up tests
// start their own.
#include <ostream>  // before any Boost header (Boost 1.81 + GCC 12)

#include "e2e_util.h"

#include <gtest/gtest.h>

#include <set>

namespace mast_e2e {
namespace {

// ===========================================================================
// 1, 5, 8. Classic API: MODEL_PATH=<logreg20_manifest>/model.onnx, LOG_LEVEL=INFO

class ClassicApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_ = new SuiteServer();
    s_->server = ServerProcess::Start(
        {"serve", "--port", "0"},
        {{"MODEL_PATH", FixtureDir("logreg20_manifest") + "/model.onnx"}, {"LOG_LEVEL", "INFO"}},
        &s_->error);
  }
  static void TearDownTestSuite() {
    s_->Stop();
    delete s_;
    s_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(s_->server, nullptr) << s_->error; }

  static uint16_t port() { return s_->server->port(); }
  static ServerProcess& server() { return *s_->server; }

  static SuiteServer* s_;
  const json::object expected_ = Expected("logreg20_manifest");
};
SuiteServer* ClassicApiTest::s_ = nullptr;

TEST_F(ClassicApiTest, HealthReportsLoadedModel) {
  HttpClient client(port());
  HttpResult r = client.Get("/health");
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_EQ(r.Json(), json::parse(R"({"status":"healthy","model_loaded":true})")) << r.body;
}

TEST_F(ClassicApiTest, PredictOneRowReturnsLabelAndTiming) {
  HttpClient client(port());
  HttpResult r = client.Post("/predict", json::serialize(NamedRow(expected_, 0)));
  ASSERT_EQ(r.status, 200) << r.Describe();
  json::value body = r.Json();
  ASSERT_TRUE(body.is_object()) << r.body;
  json::array want{expected_.at("label").as_array().at(0)};
  EXPECT_TRUE(JsonNear(body.at("prediction"), want, 0)) << r.body;
  ASSERT_TRUE(body.as_object().contains("inference_time_ms")) << r.body;
  EXPECT_TRUE(body.at("inference_time_ms").is_number()) << r.body;
  EXPECT_GE(body.at("inference_time_ms").to_number<double>(), 0.0);
  EXPECT_FALSE(body.as_object().contains("probabilities")) << "not asked for: " << r.body;
}

TEST_F(ClassicApiTest, PredictAllRowsMatchesExpectedLabels) {
  HttpClient client(port());
  HttpResult r = client.Post("/predict", json::serialize(NamedRows(expected_)));
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_TRUE(JsonNear(r.Json().at("prediction"), expected_.at("label"), 0)) << r.body;
}

TEST_F(ClassicApiTest, PredictWithProbaMatchesExpectedProbabilities) {
  HttpClient client(port());
  HttpResult r = client.Post("/predict?proba=true", json::serialize(NamedRows(expected_)));
  ASSERT_EQ(r.status, 200) << r.Describe();
  const double tolerance = expected_.at("tolerance").to_number<double>();
  json::value body = r.Json();
  EXPECT_TRUE(JsonNear(body.at("prediction"), expected_.at("label"), 0)) << r.body;
  ASSERT_TRUE(body.as_object().contains("probabilities")) << r.body;
  EXPECT_TRUE(JsonNear(body.at("probabilities"), expected_.at("probabilities"), tolerance));
}

TEST_F(ClassicApiTest, ClientRequestIdIsEchoed) {
  HttpClient client(port());
  const std::string id = "e2e-echo-" + RandomHex(8);
  HttpResult r = client.Post("/predict", json::serialize(NamedRow(expected_, 1)),
                             {{"X-Request-Id", id}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.Header("X-Request-Id"), id);
  // Also on errors.
  HttpResult e = client.Get("/no-such-route", {{"X-Request-Id", id + "-404"}});
  ASSERT_EQ(e.status, 404) << e.Describe();
  EXPECT_EQ(e.Header("X-Request-Id"), id + "-404");
}

TEST_F(ClassicApiTest, RequestIdIsGeneratedWhenAbsent) {
  HttpClient client(port());
  HttpResult a = client.Get("/health");
  HttpResult b = client.Post("/predict", json::serialize(NamedRow(expected_, 2)));
  ASSERT_EQ(a.status, 200) << a.Describe();
  ASSERT_EQ(b.status, 200) << b.Describe();
  EXPECT_FALSE(a.Header("X-Request-Id").empty());
  EXPECT_FALSE(b.Header("X-Request-Id").empty());
  EXPECT_NE(a.Header("X-Request-Id"), b.Header("X-Request-Id"));
}

TEST_F(ClassicApiTest, AccessLogLineCarriesRequestContext) {
  HttpClient client(port());
  const std::string id = "e2e-log-" + RandomHex(12);
  HttpResult r = client.Post("/predict", json::serialize(NamedRow(expected_, 3)),
                             {{"X-Request-Id", id}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  auto line = server().FindLogLine(
      [&](const json::object& o) { return StringField(o, "request_id") == id; });
  ASSERT_TRUE(line.has_value()) << "no log line with request_id " << id << "; log:\n"
                                << server().Log();
  const json::object& l = *line;
  EXPECT_EQ(StringField(l, "msg"), "request") << json::serialize(l);
  EXPECT_EQ(StringField(l, "level"), "info") << json::serialize(l);
  EXPECT_FALSE(StringField(l, "ts").empty()) << json::serialize(l);
  EXPECT_EQ(StringField(l, "route"), "/predict") << json::serialize(l);
  EXPECT_EQ(StringField(l, "method"), "POST") << json::serialize(l);
  // MODEL_PATH=.../logreg20_manifest/model.onnx is named after its folder.
  EXPECT_EQ(StringField(l, "model"), "logreg20_manifest") << json::serialize(l);
  EXPECT_EQ(StringField(l, "version"), "1") << json::serialize(l);
  ASSERT_TRUE(l.contains("status") && l.at("status").is_number()) << json::serialize(l);
  EXPECT_EQ(l.at("status").to_number<int64_t>(), 200);
  ASSERT_TRUE(l.contains("latency_ms") && l.at("latency_ms").is_number()) << json::serialize(l);
  EXPECT_GE(l.at("latency_ms").to_number<double>(), 0.0);
}

TEST_F(ClassicApiTest, KeepAliveConnectionIsReused) {
  HttpClient client(port());
  for (int i = 0; i < 5; ++i) {
    HttpResult r = client.Post("/predict", json::serialize(NamedRow(expected_, i)));
    ASSERT_EQ(r.status, 200) << r.Describe();
    EXPECT_TRUE(r.keep_alive);
    EXPECT_EQ(r.reused_connection, i > 0);
  }
  EXPECT_EQ(client.connections_opened(), 1);
}

// 5. Metrics and API description.
TEST_F(ClassicApiTest, MetricsExposeServingAndProcessSeries) {
  HttpClient client(port());
  ASSERT_EQ(client.Post("/predict", json::serialize(NamedRow(expected_, 0))).status, 200);
  HttpResult r = client.Get("/metrics");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_NE(r.Header("Content-Type").find("text/plain"), std::string::npos)
      << r.Header("Content-Type");
  for (const char* name :
       {"mast_requests_total{", "mast_request_duration_seconds_bucket{",
        "mast_inference_duration_seconds_bucket{", "mast_model_load_duration_seconds{",
        "mast_models_loaded ", "process_cpu_seconds_total ", "process_resident_memory_bytes ",
        "process_open_fds ", "process_start_time_seconds ", "mast_log_lines_dropped_total 0\n",
        "mast_log_writer_fell_behind_total 0\n"}) {
    EXPECT_NE(r.body.find(std::string("\n") + name), std::string::npos)
        << "missing " << name << " in:\n" << r.body;
  }
  // The predict above is counted with its model, version and status code.
  std::smatch m;
  const std::regex counted(
      R"(\nmast_requests_total\{[^}]*model="logreg20_manifest"[^}]*\} ([0-9.e+]+))");
  ASSERT_TRUE(std::regex_search(r.body, m, counted)) << r.body;
  const std::regex labels(
      R"(\nmast_requests_total\{route="/predict",model="logreg20_manifest",version="1",code="200"\} ([0-9.e+]+)\n)");
  ASSERT_TRUE(std::regex_search(r.body, m, labels)) << r.body;
  EXPECT_GE(std::stod(m[1]), 1.0);
  const std::regex inference(
      R"(\nmast_inference_duration_seconds_count\{model="logreg20_manifest",version="1"\} ([0-9]+)\n)");
  ASSERT_TRUE(std::regex_search(r.body, m, inference)) << r.body;
  EXPECT_GE(std::stoll(m[1]), 1);
  const std::regex loaded(R"(\nmast_models_loaded ([0-9.e+]+)\n)");
  ASSERT_TRUE(std::regex_search(r.body, m, loaded)) << r.body;
  EXPECT_EQ(std::stod(m[1]), 1.0);
}

TEST_F(ClassicApiTest, MetricsPassPromtoolCheck) {
  HttpClient client(port());
  ASSERT_EQ(client.Post("/predict", json::serialize(NamedRow(expected_, 0))).status, 200);
  ASSERT_EQ(client.Get("/no-such-route").status, 404);
  HttpResult r = client.Get("/metrics");
  ASSERT_EQ(r.status, 200) << r.Describe();
  TempDir dir;
  const std::string file = (dir.path() / "metrics.txt").string();
  std::ofstream(file) << r.body;
  const std::string command = "/usr/bin/promtool check metrics < '" + file + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) output.append(buf, n);
  const int status = ::pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status)) << output;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "promtool check metrics:\n" << output << "\nbody:\n"
                                    << r.body;
}

TEST_F(ClassicApiTest, OpenApiDocumentDescribesRoutes) {
  HttpClient client(port());
  HttpResult r = client.Get("/openapi.json");
  ASSERT_EQ(r.status, 200) << r.Describe();
  std::string error;
  json::value doc = r.Json(&error);
  ASSERT_TRUE(doc.is_object()) << "not JSON (" << error << "): " << r.body;
  ASSERT_TRUE(doc.as_object().contains("openapi"));
  EXPECT_TRUE(doc.at("openapi").is_string());
  EXPECT_EQ(std::string(doc.at("openapi").as_string()).rfind("3.", 0), 0u) << Str(doc.at("openapi"));
  ASSERT_TRUE(doc.as_object().contains("paths") && doc.at("paths").is_object()) << r.body;
  const json::object& paths = doc.at("paths").as_object();
  for (const char* p : {"/predict", "/v2/models/{model}/infer", "/metrics", "/health"}) {
    EXPECT_TRUE(paths.contains(p)) << "missing path " << p;
  }
  ASSERT_TRUE(paths.contains("/predict"));
  EXPECT_TRUE(paths.at("/predict").as_object().contains("post"));
  // Each family of routes documents the error shape it answers with.
  auto error_fields = [&](const char* path, const char* method) {
    std::set<std::string> fields;
    const json::value& props = paths.at(path).at(method).at("responses").at("4XX").at("content")
                                   .at("application/json").at("schema").at("properties");
    for (const auto& kv : props.as_object()) fields.insert(std::string(kv.key()));
    return fields;
  };
  EXPECT_EQ(error_fields("/predict", "post"), std::set<std::string>{"detail"});
  EXPECT_EQ(error_fields("/v2/models/{model}/infer", "post"), std::set<std::string>{"error"});
  EXPECT_EQ(error_fields("/metrics", "get"), std::set<std::string>{"error"});
}

TEST_F(ClassicApiTest, DataQualityCountsInvalidRowsPerField) {
  HttpClient client(port());
  auto before = client.Get("/api/v1/models/logreg20_manifest/quality");
  ASSERT_EQ(before.status, 200) << before.Describe();
  auto count = [](const HttpResult& r, const char* field, const char* kind) {
    return r.Json().at("versions").at(0).at("fields").at(field).at(kind).as_int64();
  };
  const int64_t missing_before = count(before, "age", "missing");
  const int64_t rows_before = before.Json().at("versions").at(0).at("rows_seen").as_int64();
  auto bad = client.Post("/predict", R"([{"tenure_months": 1}, {"age": "old"}])");
  ASSERT_EQ(bad.status, 422) << bad.Describe();
  auto after = client.Get("/api/v1/models/logreg20_manifest/quality");
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(count(after, "age", "missing"), missing_before + 1);
  EXPECT_GE(count(after, "age", "type_error"), 1);
  EXPECT_EQ(after.Json().at("versions").at(0).at("rows_seen").as_int64(), rows_before + 2);
  auto metrics = client.Get("/metrics");
  EXPECT_NE(metrics.body.find("mast_feature_issues_total{model=\"logreg20_manifest\",version="
                              "\"1\",field=\"age\",kind=\"missing\"}"),
            std::string::npos);
  EXPECT_EQ(client.Get("/api/v1/models/nobody/quality").status, 404);
}

TEST_F(ClassicApiTest, DocsPageIsHtml) {
  HttpClient client(port());
  HttpResult r = client.Get("/docs");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.Header("Content-Type").rfind("text/html", 0), 0u) << r.Header("Content-Type");
  EXPECT_NE(r.body.find("<html"), std::string::npos);
  EXPECT_NE(r.body.find("/predict"), std::string::npos);
}

// 8. Bind address.
TEST_F(ClassicApiTest, ListensOnLoopbackByDefault) {
  const json::object& line = server().listening_line();
  EXPECT_EQ(StringField(line, "host"), "127.0.0.1") << json::serialize(line);
  // The socket itself is bound to 127.0.0.1 (0100007F in /proc/net/tcp).
  char port_hex[8];
  std::snprintf(port_hex, sizeof(port_hex), "%04X", port());
  std::vector<std::string> listening;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::istringstream in(ReadFile(table));
    std::string line_text;
    std::getline(in, line_text);  // header
    while (std::getline(in, line_text)) {
      std::istringstream fields(line_text);
      std::string sl, local, remote, state;
      fields >> sl >> local >> remote >> state;
      const size_t colon = local.rfind(':');
      if (colon == std::string::npos || local.substr(colon + 1) != port_hex) continue;
      if (state == "0A") listening.push_back(local.substr(0, colon));
    }
  }
  ASSERT_EQ(listening.size(), 1u) << "listening sockets on port " << port();
  EXPECT_EQ(listening[0], "0100007F");
}

// ===========================================================================
// 2. Repository mode: several models, one that fails to load, some that
// cannot take named features.

class RepositoryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_ = new SuiteServer();
    s_->repo = std::make_unique<TempDir>();
    for (const char* m : {"logreg20", "iris_forest", "xgb_binary", "xgb_multi_ubj",
                          "xgb_regressor", "onehot_linear", "all_types", "corrupt", "slow"}) {
      AddModel(s_->repo->path(), m, m);
    }
    s_->server = ServerProcess::Start(
        {"serve", "--model-repository", s_->repo->str(), "--port", "0"}, {}, &s_->error);
  }
  static void TearDownTestSuite() {
    s_->Stop();
    delete s_;
    s_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(s_->server, nullptr) << s_->error; }
  static uint16_t port() { return s_->server->port(); }
  static SuiteServer* s_;
};
SuiteServer* RepositoryTest::s_ = nullptr;

TEST_F(RepositoryTest, NamedFeaturePredictMatchesExpectedForEveryModel) {
  HttpClient client(port());
  for (const char* m : {"logreg20", "iris_forest", "xgb_binary", "xgb_multi_ubj",
                        "xgb_regressor", "onehot_linear"}) {
    SCOPED_TRACE(m);
    const json::object expected = Expected(m);
    const double tolerance = expected.at("tolerance").to_number<double>();
    const bool classifier = expected.contains("label");
    const std::string target =
        std::string("/v1/models/") + m + "/predict" + (classifier ? "?proba=true" : "");
    // Every row at once.
    HttpResult r = client.Post(target, json::serialize(NamedRows(expected)));
    ASSERT_EQ(r.status, 200) << r.Describe();
    json::value body = r.Json();
    ASSERT_TRUE(body.is_object()) << r.body;
    if (classifier) {
      EXPECT_TRUE(JsonNear(body.at("prediction"), expected.at("label"), 0));
      ASSERT_TRUE(body.as_object().contains("probabilities")) << r.body;
      EXPECT_TRUE(JsonNear(body.at("probabilities"), expected.at("probabilities"), tolerance));
    } else {
      EXPECT_TRUE(JsonNear(body.at("prediction"), expected.at("prediction"), tolerance));
    }
    // And one row alone (the last, e.g. onehot_linear's unknown colour).
    const size_t last = expected.at("inputs").as_array().size() - 1;
    HttpResult one = client.Post(std::string("/v1/models/") + m + "/predict",
                                 json::serialize(NamedRow(expected, last)));
    ASSERT_EQ(one.status, 200) << one.Describe();
    const json::value& want =
        expected.at(classifier ? "label" : "prediction").as_array().at(last);
    EXPECT_TRUE(JsonNear(one.Json().at("prediction"), json::array{want}, tolerance)) << one.body;
  }
}

TEST_F(RepositoryTest, ModelWithoutFeatureNamesExplainsHowToDeclareThem) {
  HttpClient client(port());
  // slow: one [N,20] input and no names anywhere.
  const json::object row = NamedRow(Expected("slow"), 0);
  HttpResult r = client.Post("/v1/models/slow/predict", json::serialize(row));
  ASSERT_EQ(r.status, 422) << r.Describe();
  const std::string detail = StringField(r.Json(), "detail");
  EXPECT_NE(detail.find("model.yaml"), std::string::npos) << r.body;
  EXPECT_NE(detail.find("features"), std::string::npos) << r.body;
  EXPECT_NE(detail.find("/v2/models/"), std::string::npos) << r.body;
  // all_types has six [N,2] inputs: no column-per-feature mapping either.
  HttpResult t = client.Post("/v1/models/all_types/predict", R"({"x_fp32": 1})");
  ASSERT_EQ(t.status, 422) << t.Describe();
  EXPECT_NE(StringField(t.Json(), "detail").find("model.yaml"), std::string::npos) << t.body;
  // The same model still serves tensors.
  HttpResult v2 = client.Post(
      "/v2/models/slow/infer",
      InferBody(json::array{Tensor("input", "FP32", {1, 20}, FlatInputs(Expected("slow")))}));
  ASSERT_EQ(v2.status, 200) << v2.Describe();
  const json::value v2_json = v2.Json();
  const json::object* out = FindOutput(v2_json, "variable");
  ASSERT_NE(out, nullptr) << v2.body;
  EXPECT_TRUE(JsonNear(out->at("data"), Expected("slow").at("prediction"),
                       Expected("slow").at("tolerance").to_number<double>()));
}

TEST_F(RepositoryTest, CorruptModelIsNotReadyWhileOthersServe) {
  HttpClient client(port());
  HttpResult ready = client.Get("/v2/models/corrupt/ready");
  ASSERT_TRUE(ready.ok()) << ready.Describe();
  EXPECT_EQ(ready.status, 503) << ready.Describe();
  ASSERT_TRUE(ready.Json().is_object()) << ready.body;
  EXPECT_EQ(ready.Json().at("ready"), json::value(false)) << ready.body;

  HttpResult list = client.Get("/v1/models");
  ASSERT_EQ(list.status, 200) << list.Describe();
  std::map<std::string, json::object> versions;
  const json::value list_json = list.Json();
  for (const auto& m : list_json.at("models").as_array()) {
    versions[std::string(m.at("name").as_string())] =
        m.at("versions").as_array().at(0).as_object();
  }
  ASSERT_EQ(versions.size(), 9u) << list.body;
  ASSERT_TRUE(versions.count("corrupt")) << list.body;
  EXPECT_EQ(versions["corrupt"].at("ready"), json::value(false));
  const std::string error = StringField(versions["corrupt"], "error");
  EXPECT_NE(error.find("corrupt/1/model.onnx"), std::string::npos)
      << "the error should name the file: " << error;
  for (const auto& [name, v] : versions) {
    if (name != "corrupt") {
      EXPECT_EQ(v.at("ready"), json::value(true)) << name;
    }
  }
  EXPECT_EQ(versions["logreg20"].at("features").as_array().size(), 20u);

  EXPECT_EQ(client.Get("/v2/models/logreg20/ready").status, 200);
  EXPECT_EQ(client.Get("/v2/health/ready").status, 200);
  EXPECT_EQ(client.Get("/health").status, 200);
  HttpResult predict = client.Post("/v1/models/corrupt/predict", "{}");
  EXPECT_EQ(predict.status, 503) << predict.Describe();
  EXPECT_FALSE(StringField(predict.Json(), "detail").empty()) << predict.body;
}

// Found while writing these tests: the OIP routes answer 400 for a model
// that exists but failed to load (oip_api.cc Resolve()), while the classic
// API and /ready answer 503; 400 means "malformed request".
TEST_F(RepositoryTest, OipInferOnModelThatFailedToLoadIs503) {
  HttpClient client(port());
  HttpResult r = client.Post(
      "/v2/models/corrupt/infer",
      InferBody(json::array{Tensor("input", "FP32", {1, 1}, json::array{1.0})}));
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_FALSE(StringField(r.Json(), "error").empty()) << r.body;
  EXPECT_EQ(r.status, 503) << "a model that failed to load is unavailable, not a bad request: "
                           << r.Describe();
}

TEST_F(RepositoryTest, PredictWithoutDefaultModelIsAmbiguous) {
  HttpClient client(port());
  HttpResult r = client.Post("/predict", json::serialize(NamedRow(Expected("logreg20"), 0)));
  ASSERT_EQ(r.status, 404) << r.Describe();
  const std::string detail = StringField(r.Json(), "detail");
  EXPECT_NE(detail.find("several models"), std::string::npos) << r.body;
  EXPECT_NE(detail.find("--default-model"), std::string::npos) << r.body;
}

TEST_F(RepositoryTest, UnknownModelIs404) {
  HttpClient client(port());
  HttpResult r = client.Post("/v1/models/no_such_model/predict", "{}");
  ASSERT_EQ(r.status, 404) << r.Describe();
  EXPECT_NE(StringField(r.Json(), "detail").find("no_such_model"), std::string::npos) << r.body;
}

// ===========================================================================
// 3. Open Inference Protocol. Repository: logreg20, all_types, and
// iris_forest in versions 1 and 2.

class OipTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_ = new SuiteServer();
    s_->repo = std::make_unique<TempDir>();
    AddModel(s_->repo->path(), "logreg20", "logreg20");
    AddModel(s_->repo->path(), "all_types", "all_types");
    AddModel(s_->repo->path(), "iris_forest", "iris_forest", "1");
    AddModel(s_->repo->path(), "iris_forest", "iris_forest", "2");
    s_->server = ServerProcess::Start(
        {"serve", "--model-repository", s_->repo->str(), "--port", "0"}, {}, &s_->error);
  }
  static void TearDownTestSuite() {
    s_->Stop();
    delete s_;
    s_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(s_->server, nullptr) << s_->error; }
  static uint16_t port() { return s_->server->port(); }

  // Posts `body` to `target` and checks an OIP error: `status` and a JSON
  // body {"error": "<string containing `mentions`>"}.
  void ExpectError(const std::string& target, const std::string& body, int status,
                   const std::string& mentions) {
    HttpClient client(port());
    HttpResult r = client.Post(target, body);
    ASSERT_TRUE(r.ok()) << r.Describe();
    EXPECT_EQ(r.status, status) << r.Describe();
    EXPECT_EQ(r.Header("Content-Type"), "application/json");
    std::string error;
    json::value v = r.Json(&error);
    ASSERT_TRUE(v.is_object()) << "not JSON (" << error << "): " << r.body;
    ASSERT_TRUE(v.as_object().contains("error") && v.at("error").is_string()) << r.body;
    EXPECT_NE(StringField(v, "error").find(mentions), std::string::npos)
        << "error should mention '" << mentions << "': " << r.body;
  }

  std::string LogregBody(json::array shape, json::value data, const char* type = "FP32") {
    return InferBody(json::array{Tensor("input", type, std::move(shape), std::move(data))});
  }

  static SuiteServer* s_;
  const json::object logreg_ = Expected("logreg20");
};
SuiteServer* OipTest::s_ = nullptr;

TEST_F(OipTest, ServerMetadata) {
  HttpClient client(port());
  HttpResult r = client.Get("/v2");
  ASSERT_EQ(r.status, 200) << r.Describe();
  json::value v = r.Json();
  EXPECT_EQ(StringField(v, "name"), "mast") << r.body;
  EXPECT_FALSE(StringField(v, "version").empty()) << r.body;
  ASSERT_TRUE(v.as_object().contains("extensions")) << r.body;
  EXPECT_TRUE(v.at("extensions").is_array()) << r.body;
}

TEST_F(OipTest, ServerLiveAndReady) {
  HttpClient client(port());
  HttpResult live = client.Get("/v2/health/live");
  ASSERT_EQ(live.status, 200) << live.Describe();
  EXPECT_EQ(live.Json(), json::parse(R"({"live":true})"));
  HttpResult ready = client.Get("/v2/health/ready");
  ASSERT_EQ(ready.status, 200) << ready.Describe();
  EXPECT_EQ(ready.Json(), json::parse(R"({"ready":true})"));
}

TEST_F(OipTest, ModelMetadataDescribesTensors) {
  HttpClient client(port());
  const json::value inputs = json::parse(R"([{"name":"input","datatype":"FP32","shape":[-1,20]}])");
  const json::value outputs = json::parse(
      R"([{"name":"label","datatype":"INT64","shape":[-1]},)"
      R"({"name":"probabilities","datatype":"FP32","shape":[-1,2]}])");
  for (const char* target : {"/v2/models/logreg20", "/v2/models/logreg20/versions/1"}) {
    SCOPED_TRACE(target);
    HttpResult r = client.Get(target);
    ASSERT_EQ(r.status, 200) << r.Describe();
    json::value v = r.Json();
    EXPECT_EQ(StringField(v, "name"), "logreg20") << r.body;
    EXPECT_EQ(StringField(v, "platform"), "onnxruntime") << r.body;
    EXPECT_EQ(v.at("versions"), json::parse(R"(["1"])")) << r.body;
    EXPECT_EQ(v.at("inputs"), inputs) << r.body;
    EXPECT_EQ(v.at("outputs"), outputs) << r.body;
  }
  // A model with two versions lists both.
  HttpResult iris = client.Get("/v2/models/iris_forest");
  ASSERT_EQ(iris.status, 200) << iris.Describe();
  const json::value iris_json = iris.Json();
  const auto& versions = iris_json.at("versions").as_array();
  EXPECT_EQ(versions.size(), 2u) << iris.body;
  EXPECT_NE(std::find(versions.begin(), versions.end(), json::value("1")), versions.end());
  EXPECT_NE(std::find(versions.begin(), versions.end(), json::value("2")), versions.end());
}

TEST_F(OipTest, ModelReady) {
  HttpClient client(port());
  for (const char* target : {"/v2/models/logreg20/ready", "/v2/models/logreg20/versions/1/ready",
                             "/v2/models/iris_forest/versions/2/ready"}) {
    HttpResult r = client.Get(target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.Describe();
    EXPECT_EQ(r.Json().at("ready"), json::value(true)) << target << ": " << r.body;
  }
  EXPECT_EQ(client.Get("/v2/models/logreg20/versions/9/ready").status, 404);
  EXPECT_EQ(client.Get("/v2/models/no_such_model/ready").status, 404);
}

TEST_F(OipTest, InferFlatDataMatchesExpected) {
  HttpClient client(port());
  const int64_t rows = static_cast<int64_t>(logreg_.at("inputs").as_array().size());
  HttpResult r = client.Post("/v2/models/logreg20/infer",
                             LogregBody({rows, 20}, FlatInputs(logreg_)));
  ASSERT_EQ(r.status, 200) << r.Describe();
  json::value v = r.Json();
  EXPECT_EQ(StringField(v, "model_name"), "logreg20") << r.body;
  EXPECT_EQ(StringField(v, "model_version"), "1") << r.body;
  EXPECT_FALSE(v.as_object().contains("id")) << "no id was sent: " << r.body;
  const json::object* label = FindOutput(v, "label");
  const json::object* proba = FindOutput(v, "probabilities");
  ASSERT_NE(label, nullptr) << r.body;
  ASSERT_NE(proba, nullptr) << r.body;
  EXPECT_EQ(StringField(*label, "datatype"), "INT64");
  EXPECT_EQ(label->at("shape"), (json::array{rows}));
  EXPECT_TRUE(JsonNear(label->at("data"), logreg_.at("label"), 0));
  EXPECT_EQ(StringField(*proba, "datatype"), "FP32");
  EXPECT_EQ(proba->at("shape"), (json::array{rows, 2}));
  EXPECT_TRUE(JsonNear(proba->at("data"), Flatten(logreg_.at("probabilities").as_array()),
                       logreg_.at("tolerance").to_number<double>()));
}

TEST_F(OipTest, InferNestedDataMatchesExpected) {
  HttpClient client(port());
  const json::array& inputs = logreg_.at("inputs").as_array();
  json::array nested{inputs.at(0), inputs.at(1), inputs.at(2)};
  HttpResult r = client.Post("/v2/models/logreg20/infer", LogregBody({3, 20}, nested));
  ASSERT_EQ(r.status, 200) << r.Describe();
  const json::value v = r.Json();
  const json::object* label = FindOutput(v, "label");
  ASSERT_NE(label, nullptr) << r.body;
  const auto& labels = logreg_.at("label").as_array();
  EXPECT_TRUE(JsonNear(label->at("data"), json::array{labels[0], labels[1], labels[2]}, 0));
}

// The infer handler reads the common form of a request straight from its
// text (api/oip_plain_request.h). The same request with a member that form
// does not take ("parameters") goes through the JSON document instead:
// both must answer byte for byte alike, errors included.
TEST_F(OipTest, PlainAndDocumentRequestsAnswerAlike) {
  const json::array& rows = logreg_.at("inputs").as_array();
  std::vector<std::string> bodies;
  for (size_t i = 0; i < rows.size(); ++i) {
    bodies.push_back(LogregBody({1, 20}, rows[i]));
    bodies.push_back(InferBody(json::array{Tensor("input", "FP32", {1, 20}, rows[i])},
                               std::nullopt, "id-" + std::to_string(i)));
  }
  bodies.push_back(LogregBody({static_cast<int64_t>(rows.size()), 20}, FlatInputs(logreg_)));
  // Numbers written as integers, with exponents, negative zero; odd spacing.
  bodies.push_back(
      "{ \"inputs\" : [ { \"data\" : [1, -0, 2e0, 3E-1, -4.5e+1, 0.000123, 7, 8, 9, 10, 11, 12, "
      "13, 14, 15, 16, 17, 18, 19, 20] ,\n \"datatype\" : \"FP32\", \"shape\" : [1,20], "
      "\"name\" : \"input\" } ] , \"id\" : \"spaced\" }");
  // Errors: too few values, the wrong datatype, a wrong dimension, 1e400.
  json::array short_row = rows[0].as_array();
  short_row.pop_back();
  bodies.push_back(LogregBody({1, 20}, short_row));
  bodies.push_back(LogregBody({1, 20}, rows[0], "FP64"));
  bodies.push_back(LogregBody({1, 19}, rows[0]));
  bodies.push_back(R"({"inputs":[{"name":"input","shape":[1,1],"datatype":"FP32","data":[1e400]}]})");
  HttpClient client(port());
  for (const std::string& body : bodies) {
    ASSERT_EQ(body.back(), '}');
    const std::string document = body.substr(0, body.size() - 1) + ",\"parameters\":{}}";
    HttpResult plain = client.Post("/v2/models/logreg20/infer", body);
    HttpResult parsed = client.Post("/v2/models/logreg20/infer", document);
    ASSERT_TRUE(plain.ok() && parsed.ok()) << plain.Describe() << parsed.Describe();
    EXPECT_EQ(plain.status, parsed.status) << body;
    EXPECT_EQ(plain.body, parsed.body) << body;
  }
}

TEST_F(OipTest, InferEchoesId) {
  HttpClient client(port());
  HttpResult r = client.Post(
      "/v2/models/logreg20/infer",
      InferBody(json::array{Tensor("input", "FP32", {1, 20},
                                   logreg_.at("inputs").as_array().at(0))},
                std::nullopt, std::string("req-42")));
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(StringField(r.Json(), "id"), "req-42") << r.body;
}

TEST_F(OipTest, InferReturnsOnlyRequestedOutputs) {
  HttpClient client(port());
  HttpResult r = client.Post(
      "/v2/models/logreg20/infer",
      InferBody(json::array{Tensor("input", "FP32", {1, 20},
                                   logreg_.at("inputs").as_array().at(0))},
                json::array{json::object{{"name", "probabilities"}}}));
  ASSERT_EQ(r.status, 200) << r.Describe();
  const json::value v = r.Json();
  const auto& outputs = v.at("outputs").as_array();
  ASSERT_EQ(outputs.size(), 1u) << r.body;
  EXPECT_EQ(StringField(outputs[0], "name"), "probabilities");
  EXPECT_TRUE(JsonNear(outputs[0].at("data"), logreg_.at("probabilities").as_array().at(0),
                       logreg_.at("tolerance").to_number<double>()));
}

TEST_F(OipTest, AllDatatypesRoundTripThroughIdentityModel) {
  const json::object expected = Expected("all_types");
  const json::object& in = expected.at("example_inputs").as_object();
  const json::object& out = expected.at("example_outputs").as_object();
  const std::map<std::string, std::string> types = {
      {"fp32", "FP32"}, {"fp64", "FP64"}, {"int32", "INT32"},
      {"int64", "INT64"}, {"bool", "BOOL"}, {"bytes", "BYTES"}};
  json::array inputs;
  for (const auto& [suffix, type] : types) {
    inputs.push_back(Tensor("x_" + suffix, type, {1, 2}, in.at("x_" + suffix)));
  }
  HttpClient client(port());
  HttpResult r = client.Post("/v2/models/all_types/infer", InferBody(std::move(inputs)));
  ASSERT_EQ(r.status, 200) << r.Describe();
  json::value v = r.Json();
  ASSERT_EQ(v.at("outputs").as_array().size(), 6u) << r.body;
  for (const auto& [suffix, type] : types) {
    SCOPED_TRACE(type);
    const json::object* o = FindOutput(v, "y_" + suffix);
    ASSERT_NE(o, nullptr) << r.body;
    EXPECT_EQ(StringField(*o, "datatype"), type);
    EXPECT_EQ(o->at("shape"), (json::array{1, 2}));
    // Exact: identity must not change a value.
    EXPECT_TRUE(JsonNear(o->at("data"), Flatten(out.at("y_" + suffix).as_array()), 0))
        << r.body;
  }
}

TEST_F(OipTest, UnknownModelIs404) {
  ExpectError("/v2/models/no_such_model/infer", LogregBody({1, 20}, FlatInputs(logreg_)), 404,
              "no_such_model");
  HttpClient client(port());
  HttpResult r = client.Get("/v2/models/no_such_model");
  EXPECT_EQ(r.status, 404) << r.Describe();
  EXPECT_FALSE(StringField(r.Json(), "error").empty()) << r.body;
}

TEST_F(OipTest, UnknownVersionIs404) {
  const json::array row = logreg_.at("inputs").as_array().at(0).as_array();
  ExpectError("/v2/models/logreg20/versions/7/infer", LogregBody({1, 20}, row), 404, "7");
  HttpClient client(port());
  HttpResult r = client.Get("/v2/models/logreg20/versions/7");
  EXPECT_EQ(r.status, 404) << r.Describe();
  EXPECT_FALSE(StringField(r.Json(), "error").empty()) << r.body;
}

TEST_F(OipTest, ElementCountNotMatchingShapeIs400) {
  json::array row = logreg_.at("inputs").as_array().at(0).as_array();
  row.pop_back();  // 19 values for [1, 20]
  ExpectError("/v2/models/logreg20/infer", LogregBody({1, 20}, row), 400, "19");
}

TEST_F(OipTest, WrongDatatypeIs400) {
  const json::array row = logreg_.at("inputs").as_array().at(0).as_array();
  ExpectError("/v2/models/logreg20/infer", LogregBody({1, 20}, row, "FP64"), 400, "FP64");
  ExpectError("/v2/models/logreg20/infer", LogregBody({1, 20}, row, "FLOAT"), 400, "FLOAT");
}

TEST_F(OipTest, MissingInputIs400) {
  ExpectError("/v2/models/all_types/infer",
              InferBody(json::array{Tensor("x_fp32", "FP32", {1, 2}, json::array{1.0, 2.0})}),
              400, "missing input");
  ExpectError("/v2/models/logreg20/infer", InferBody(json::array{}), 400, "input");
}

TEST_F(OipTest, UnknownInputIs400) {
  const json::array row = logreg_.at("inputs").as_array().at(0).as_array();
  ExpectError("/v2/models/logreg20/infer",
              InferBody(json::array{Tensor("input", "FP32", {1, 20}, row),
                                    Tensor("bogus", "FP32", {1, 20}, row)}),
              400, "bogus");
}

TEST_F(OipTest, UnknownOutputIs400) {
  const json::array row = logreg_.at("inputs").as_array().at(0).as_array();
  ExpectError("/v2/models/logreg20/infer",
              InferBody(json::array{Tensor("input", "FP32", {1, 20}, row)},
                        json::array{json::object{{"name", "nonexistent_output"}}}),
              400, "nonexistent_output");
}

TEST_F(OipTest, MalformedJsonIs400) {
  ExpectError("/v2/models/logreg20/infer", R"({"inputs": [{"name": "input", )", 400, "JSON");
  ExpectError("/v2/models/logreg20/infer", "[1, 2, 3]", 400, "object");
}

TEST_F(OipTest, ShapeRankMismatchIs400) {
  const json::array row = logreg_.at("inputs").as_array().at(0).as_array();
  ExpectError("/v2/models/logreg20/infer", LogregBody({20}, row), 400, "rank");
  ExpectError("/v2/models/logreg20/infer", LogregBody({1, 1, 20}, row), 400, "rank");
  // Right rank, wrong fixed dimension.
  ExpectError("/v2/models/logreg20/infer", LogregBody({2, 10}, row), 400, "dimension");
}

TEST_F(OipTest, BoolDataGivenAsNumbersIs400) {
  const json::object expected = Expected("all_types");
  const json::object& in = expected.at("example_inputs").as_object();
  json::array inputs;
  for (const auto& [suffix, type] : std::map<std::string, std::string>{
           {"fp32", "FP32"}, {"fp64", "FP64"}, {"int32", "INT32"}, {"int64", "INT64"},
           {"bytes", "BYTES"}}) {
    inputs.push_back(Tensor("x_" + suffix, type, {1, 2}, in.at("x_" + suffix)));
  }
  inputs.push_back(Tensor("x_bool", "BOOL", {1, 2}, json::array{1, 0}));
  ExpectError("/v2/models/all_types/infer", InferBody(std::move(inputs)), 400, "x_bool");
}

// ===========================================================================
// 4. Bad input on the classic API (MODEL_PATH=logreg20_manifest,
// --max-body-bytes 1024).

class BadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_ = new SuiteServer();
    s_->server = ServerProcess::Start(
        {"serve", "--port", "0", "--max-body-bytes", "1024"},
        {{"MODEL_PATH", FixtureDir("logreg20_manifest") + "/model.onnx"}}, &s_->error);
  }
  static void TearDownTestSuite() {
    s_->Stop();
    delete s_;
    s_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(s_->server, nullptr) << s_->error; }
  static uint16_t port() { return s_->server->port(); }

  // A valid row of the 20 named features, with short values so that two
  // rows stay under the 1024-byte body limit.
  json::object CompactRow() const {
    json::object row;
    for (const auto& n : expected_.at("feature_names").as_array()) row[n.as_string()] = 1;
    return row;
  }

  // The detail[] entry whose loc equals `loc`, or null.
  static const json::object* DetailAt(const json::value& body, const json::array& loc) {
    const json::object* o = body.if_object();
    if (!o || !o->contains("detail") || !o->at("detail").is_array()) return nullptr;
    for (const auto& d : o->at("detail").as_array()) {
      if (d.is_object() && d.as_object().contains("loc") && d.at("loc") == loc) {
        return &d.as_object();
      }
    }
    return nullptr;
  }
  static const json::object* DetailAt(json::value&& body, const json::array& loc) = delete;

  static SuiteServer* s_;
  const json::object expected_ = Expected("logreg20_manifest");
};
SuiteServer* BadInputTest::s_ = nullptr;

TEST_F(BadInputTest, MalformedJsonIs400WithDetail) {
  HttpClient client(port());
  HttpResult r = client.Post("/predict", R"({"age": 1.0, )");
  ASSERT_EQ(r.status, 400) << r.Describe();
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  const std::string detail = StringField(r.Json(), "detail");
  EXPECT_NE(detail.find("JSON"), std::string::npos) << r.body;
}

TEST_F(BadInputTest, MissingFeatureIs422WithLocation) {
  HttpClient client(port());
  json::object row = CompactRow();
  row.erase("age");
  HttpResult r = client.Post("/predict", json::serialize(row));
  ASSERT_EQ(r.status, 422) << r.Describe();
  json::value body = r.Json();
  ASSERT_TRUE(body.at("detail").is_array()) << r.body;
  EXPECT_EQ(body.at("detail").as_array().size(), 1u) << r.body;
  const json::object* d = DetailAt(body, json::array{"body", "age"});
  ASSERT_NE(d, nullptr) << r.body;
  EXPECT_EQ(StringField(*d, "type"), "value_error.missing");
  EXPECT_FALSE(StringField(*d, "msg").empty());
}

TEST_F(BadInputTest, MissingFeatureInArrayBodyNamesTheRow) {
  HttpClient client(port());
  json::object second = CompactRow();
  second.erase("tenure_months");
  const std::string body = json::serialize(json::array{CompactRow(), second});
  ASSERT_LT(body.size(), 1024u);
  HttpResult r = client.Post("/predict", body);
  ASSERT_EQ(r.status, 422) << r.Describe();
  json::value v = r.Json();
  EXPECT_NE(DetailAt(v, json::array{"body", 1, "tenure_months"}), nullptr) << r.body;
  EXPECT_EQ(v.at("detail").as_array().size(), 1u) << r.body;
}

TEST_F(BadInputTest, WrongTypeIs422NamingTheField) {
  HttpClient client(port());
  json::object row = CompactRow();
  row["monthly_charges"] = "lots";
  HttpResult r = client.Post("/predict", json::serialize(row));
  ASSERT_EQ(r.status, 422) << r.Describe();
  const json::value v = r.Json();
  const json::object* d = DetailAt(v, json::array{"body", "monthly_charges"});
  ASSERT_NE(d, nullptr) << r.body;
  EXPECT_EQ(StringField(*d, "type"), "type_error.float") << r.body;
  EXPECT_NE(StringField(*d, "msg").find("float"), std::string::npos) << r.body;
}

TEST_F(BadInputTest, BodyOverLimitIs413) {
  HttpClient client(port());
  // 2048 bytes of otherwise valid JSON.
  std::string body = "{\"pad\": \"" + std::string(2048 - 11, 'x') + "\"}";
  ASSERT_EQ(body.size(), 2048u);
  HttpResult r = client.Post("/predict", body);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(r.status, 413) << r.Describe();
  EXPECT_NE(StringField(r.Json(), "detail").find("1024"), std::string::npos) << r.body;
  EXPECT_FALSE(r.Header("X-Request-Id").empty());
  // A body exactly at the limit is read (and judged on its content).
  std::string at_limit = "{\"pad\": \"" + std::string(1024 - 11, 'x') + "\"}";
  ASSERT_EQ(at_limit.size(), 1024u);
  HttpClient second(port());
  HttpResult ok = second.Post("/predict", at_limit);
  EXPECT_EQ(ok.status, 422) << ok.Describe();
}

TEST_F(BadInputTest, UnknownRouteIs404Json) {
  HttpClient client(port());
  HttpResult r = client.Get("/no/such/route");
  ASSERT_EQ(r.status, 404) << r.Describe();
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_NE(StringField(r.Json(), "detail").find("/no/such/route"), std::string::npos) << r.body;
  // Under /v2 the error has the OIP shape.
  HttpResult v2 = client.Get("/v2/no/such/route");
  ASSERT_EQ(v2.status, 404) << v2.Describe();
  EXPECT_FALSE(StringField(v2.Json(), "error").empty()) << v2.body;
}

TEST_F(BadInputTest, GetPredictIs405WithAllowHeader) {
  HttpClient client(port());
  HttpResult r = client.Get("/predict");
  ASSERT_EQ(r.status, 405) << r.Describe();
  EXPECT_EQ(r.Header("Allow"), "POST");
  EXPECT_FALSE(StringField(r.Json(), "detail").empty()) << r.body;
}

TEST_F(BadInputTest, UnknownModelIs404) {
  HttpClient client(port());
  HttpResult r = client.Post("/v1/models/no_such_model/predict", json::serialize(CompactRow()));
  ASSERT_EQ(r.status, 404) << r.Describe();
  EXPECT_NE(StringField(r.Json(), "detail").find("no_such_model"), std::string::npos) << r.body;
}

TEST_F(BadInputTest, MalformedHttpIs400AndClosed) {
  RawRead r = SendRaw(port(), "GET /health HTTP/1.1\r\nthis is not a header\r\n\r\n", 3s);
  EXPECT_EQ(RawStatus(r.data), 400) << r.data;
  EXPECT_NE(RawBody(r.data).find("\"detail\""), std::string::npos) << r.data;
  EXPECT_TRUE(r.closed) << "the connection should be closed after a malformed request";
}

TEST_F(BadInputTest, ServerStillHealthyAfterBadInput) {
  {
    HttpClient client(port());
    client.Post("/predict", "{oops");
    client.Post("/predict", "\"just a string\"");
    client.Post("/predict", "[]");
    client.Post("/predict", std::string(4096, '['));
    client.Post("/predict", "{\"age\": null}");
    client.Get("/predict");
    SendRaw(port(), "\x01\x02\x03 garbage\r\n\r\n", 2s);
    SendRaw(port(), "POST /predict HTTP/1.1\r\nContent-Length: 5\r\n\r\n{", 200ms);
  }
  HttpClient client(port());
  HttpResult health = client.Get("/health");
  ASSERT_EQ(health.status, 200) << health.Describe();
  EXPECT_EQ(health.Json(), json::parse(R"({"status":"healthy","model_loaded":true})"));
  HttpResult predict = client.Post("/predict", json::serialize(CompactRow()));
  EXPECT_EQ(predict.status, 200) << predict.Describe();
}

// ===========================================================================
// 6. Limits: slow clients and the connection cap.

class HeaderTimeoutTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_ = new SuiteServer();
    s_->server = ServerProcess::Start(
        {"serve", "--port", "0", "--header-timeout", "1", "--idle-timeout", "20"},
        {{"MODEL_PATH", FixtureDir("logreg20") + "/model.onnx"}}, &s_->error);
  }
  static void TearDownTestSuite() {
    s_->Stop();
    delete s_;
    s_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(s_->server, nullptr) << s_->error; }
  static uint16_t port() { return s_->server->port(); }
  static SuiteServer* s_;
};
SuiteServer* HeaderTimeoutTest::s_ = nullptr;

TEST_F(HeaderTimeoutTest, PartialRequestLineIsClosedAfterHeaderTimeout) {
  RawConnection c;
  ASSERT_TRUE(c.Connect(port())) << c.error();
  ASSERT_TRUE(c.Send("POST /pred"));
  RawRead r = c.ReadUntilClose(5s);
  EXPECT_TRUE(r.closed) << "still open after " << r.seconds << " s";
  EXPECT_LT(r.seconds, 3.0);
  EXPECT_GT(r.seconds, 0.5) << "closed before the 1 s header timeout";
  // The server is fine afterwards.
  HttpClient client(port());
  EXPECT_EQ(client.Get("/health").status, 200);
}

// Found while writing these tests: on a keep-alive connection the next
// request's headers get --idle-timeout, not --header-timeout
// (http_server.cc ReadHeader()), so a client that sends one quick request can
// then dribble headers for the whole idle timeout.
TEST_F(HeaderTimeoutTest, PartialHeadersOnKeepAliveConnectionAreClosedAfterHeaderTimeout) {
  RawConnection c;
  ASSERT_TRUE(c.Connect(port())) << c.error();
  ASSERT_TRUE(c.Send("GET /health HTTP/1.1\r\nHost: e2e\r\n\r\n"));
  RawRead first = c.ReadResponse(3s);
  ASSERT_EQ(RawStatus(first.data), 200) << first.data;
  ASSERT_FALSE(first.closed);
  ASSERT_TRUE(c.Send("GET /health HTTP/1.1\r\nHo"));
  RawRead r = c.ReadUntilClose(3500ms);
  EXPECT_TRUE(r.closed) << "partial headers were still accepted after " << r.seconds
                        << " s with --header-timeout 1 (server waits for --idle-timeout 20)";
}

class ConnectionCapTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_ = new SuiteServer();
    s_->server = ServerProcess::Start(
        {"serve", "--port", "0", "--max-connections", "4"},
        {{"MODEL_PATH", FixtureDir("logreg20") + "/model.onnx"}}, &s_->error);
  }
  static void TearDownTestSuite() {
    s_->Stop();
    delete s_;
    s_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(s_->server, nullptr) << s_->error; }
  static uint16_t port() { return s_->server->port(); }
  static SuiteServer* s_;
};
SuiteServer* ConnectionCapTest::s_ = nullptr;

TEST_F(ConnectionCapTest, FifthConnectionIsClosedAndTheCapFreesUp) {
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<RawConnection>());
    ASSERT_TRUE(idle.back()->Connect(port())) << idle.back()->error();
  }
  // The server accepts connections in order, so the 5th meets the cap.
  RawConnection fifth;
  ASSERT_TRUE(fifth.Connect(port())) << fifth.error();
  RawRead r = fifth.ReadUntilClose(3s);
  EXPECT_TRUE(r.closed) << "the 5th connection stayed open";
  EXPECT_TRUE(r.data.empty()) << r.data;
  EXPECT_LT(r.seconds, 1.0);

  // The four admitted connections still work.
  ASSERT_TRUE(idle[0]->Send("GET /health HTTP/1.1\r\nHost: e2e\r\n\r\n"));
  RawRead ok = idle[0]->ReadResponse(3s);
  EXPECT_EQ(RawStatus(ok.data), 200) << ok.data;

  idle.clear();  // closes the four
  // The server notices the closes asynchronously; a new client gets in soon.
  HttpResult health;
  const auto deadline = Clock::now() + 3s;
  do {
    HttpClient client(port(), 2s);
    health = client.Get("/health");
    if (health.ok()) break;
    std::this_thread::sleep_for(20ms);
  } while (Clock::now() < deadline);
  ASSERT_TRUE(health.ok()) << health.Describe();
  EXPECT_EQ(health.status, 200);

  HttpClient client(port());
  HttpResult metrics = client.Get("/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.Describe();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(metrics.body, m,
                                std::regex(R"(\nmast_http_connections_rejected_total ([0-9]+))")))
      << metrics.body;
  EXPECT_GE(std::stoll(m[1]), 1);
}

// ===========================================================================
// 7. Graceful shutdown. Each test starts (and ends) its own server.

class GracefulShutdownTest : public ::testing::Test {
 protected:
  // Sends `clients` concurrent single-row requests to the slow model, sends
  // SIGTERM while they are in flight, and checks that every one is answered
  // in full and that the server exits 0 and stops listening.
  void DrainSlowRequests(int io_threads, int clients) {
    TempDir repo;
    AddModel(repo.path(), "slow", "slow");
    std::string error;
    auto server = ServerProcess::Start(
        {"serve", "--model-repository", repo.str(), "--port", "0", "--io-threads",
         std::to_string(io_threads), "--drain-timeout", "10"},
        {}, &error);
    ASSERT_NE(server, nullptr) << error;
    const uint16_t port = server->port();
    const json::object expected = Expected("slow");
    const std::string body = InferBody(
        json::array{Tensor("input", "FP32", {1, 20}, FlatInputs(expected))});

    std::vector<HttpResult> results(clients);
    std::atomic<int> sent{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i) {
      threads.emplace_back([&, i] {
        HttpClient client(port, 20s);
        HttpResult failure;
        if (!client.Send(verb::post, "/v2/models/slow/infer", body, {}, &failure)) {
          results[i] = failure;
          sent.fetch_add(1);
          return;
        }
        sent.fetch_add(1);
        results[i] = client.ReadResponse();
      });
    }
    const auto send_deadline = Clock::now() + 5s;
    while (sent.load() < clients && Clock::now() < send_deadline) {
      std::this_thread::sleep_for(1ms);
    }
    std::this_thread::sleep_for(50ms);  // let the server read them
    const auto signalled = Clock::now();
    ASSERT_TRUE(server->Signal(SIGTERM));
    for (auto& t : threads) t.join();

    int ok = 0;
    for (int i = 0; i < clients; ++i) {
      SCOPED_TRACE("client " + std::to_string(i));
      const HttpResult& r = results[i];
      EXPECT_TRUE(r.ok()) << r.Describe();
      EXPECT_EQ(r.status, 200) << r.Describe();
      if (r.ok() && r.status == 200) {
        const json::value v = r.Json();
        const json::object* out = FindOutput(v, "variable");
        ASSERT_NE(out, nullptr) << r.body;
        EXPECT_TRUE(JsonNear(out->at("data"), expected.at("prediction"),
                             expected.at("tolerance").to_number<double>()));
        EXPECT_FALSE(r.keep_alive) << "responses while draining should close the connection";
        ++ok;
      }
    }
    EXPECT_EQ(ok, clients);

    auto status = server->WaitExit(12s);
    const double exit_seconds = std::chrono::duration<double>(Clock::now() - signalled).count();
    ASSERT_TRUE(status.has_value()) << "still running 12 s after SIGTERM";
    EXPECT_TRUE(ExitedCleanly(status)) << StatusText(status) << "\n" << server->Log();
    EXPECT_LT(exit_seconds, 10.0) << "should exit within the drain timeout";
    EXPECT_TRUE(server->FindLogLine([](const json::object& o) {
      return StringField(o, "msg") == "stopped";
    }, 0ms).has_value()) << server->Log();

    RawConnection after;
    EXPECT_FALSE(after.Connect(port, 1s)) << "still accepting connections after exit";
    EXPECT_NE(after.error().find("refused"), std::string::npos) << after.error();
  }
};

TEST_F(GracefulShutdownTest, FinishesSlowRequestsInFlight) {
  // As many I/O threads as requests: all six are running when SIGTERM comes.
  DrainSlowRequests(/*io_threads=*/6, /*clients=*/6);
}

// Found while writing these tests: with fewer I/O threads than requests
// (inference runs inline on the I/O threads), the requests waiting for a
// thread are lost at SIGTERM although they were sent well before it:
// connections the application has not accepted yet are reset
// (http_server.cc Accept(): `if (draining) return;`, and the closed
// acceptor's backlog), and a request whose bytes were being read when the
// drain check saw `inflight == 0` is still run and logged as 200, but
// ioc.stop() ends the server before its response is written (EOF, 0 bytes).
TEST_F(GracefulShutdownTest, FinishesSlowRequestsQueuedBehindBusyIoThreads) {
  // Two I/O threads for six requests: four wait while two run.
  DrainSlowRequests(/*io_threads=*/2, /*clients=*/6);
}

TEST_F(GracefulShutdownTest, KeepAliveLoadSeesNoTruncatedOrFailedResponses) {
  std::string error;
  auto server = ServerProcess::Start(
      {"serve", "--port", "0", "--drain-timeout", "5"},
      {{"MODEL_PATH", FixtureDir("logreg20") + "/model.onnx"}}, &error);
  ASSERT_NE(server, nullptr) << error;
  const uint16_t port = server->port();
  const json::object expected = Expected("logreg20");
  const std::string body = json::serialize(NamedRow(expected, 0));
  const json::value want = json::array{expected.at("label").as_array().at(0)};

  struct Counts {
    int ok = 0;
    int refused = 0;           // connect refused: nothing was sent
    int write_failed = 0;      // the write failed: no response could start
    int closed_reused = 0;     // EOF/reset, zero bytes, on a reused connection
    int closed_new = 0;        // EOF/reset, zero bytes, on a new connection
    int truncated = 0;         // some bytes of a response, then EOF/reset
    int timeouts = 0;
    int bad_status = 0;        // complete response, not 200
    int wrong_body = 0;
    std::vector<std::string> problems;
    std::vector<std::string> ok_ids;           // answered in full
    std::vector<std::string> not_started_ids;  // no response byte came back
  };
  constexpr int kClients = 8;
  std::vector<Counts> counts(kClients);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      Counts& c = counts[i];
      HttpClient client(port, 5s);
      for (int n = 0; !stop.load(); ++n) {
        const std::string id = "load-" + std::to_string(i) + "-" + std::to_string(n);
        HttpResult r = client.Post("/predict", body, {{"X-Request-Id", id}});
        using E = HttpResult::Error;
        switch (r.error) {
          case E::kNone:
            if (r.status != 200) {
              ++c.bad_status;
              c.problems.push_back(r.Describe());
            } else if (!JsonNear(r.Json().at("prediction"), want, 0)) {
              ++c.wrong_body;
              c.problems.push_back(r.Describe());
            } else {
              ++c.ok;
              c.ok_ids.push_back(id);
            }
            break;
          case E::kConnect:
            ++c.refused;
            std::this_thread::sleep_for(5ms);
            break;
          case E::kWrite:
            ++c.write_failed;
            c.not_started_ids.push_back(id);
            break;
          case E::kNoResponse:
            ++(r.reused_connection ? c.closed_reused : c.closed_new);
            c.not_started_ids.push_back(id);
            break;
          case E::kPartialResponse:
            ++c.truncated;
            c.problems.push_back(r.Describe());
            break;
          case E::kTimeout:
            ++c.timeouts;
            c.problems.push_back(r.Describe());
            break;
        }
      }
    });
  }
  std::this_thread::sleep_for(700ms);
  ASSERT_TRUE(server->Signal(SIGTERM));
  std::this_thread::sleep_for(800ms);
  stop.store(true);
  for (auto& t : threads) t.join();

  Counts total;
  for (const auto& c : counts) {
    total.ok += c.ok;
    total.refused += c.refused;
    total.write_failed += c.write_failed;
    total.closed_reused += c.closed_reused;
    total.closed_new += c.closed_new;
    total.truncated += c.truncated;
    total.timeouts += c.timeouts;
    total.bad_status += c.bad_status;
    total.wrong_body += c.wrong_body;
    for (const auto& p : c.problems) {
      if (total.problems.size() < 10) total.problems.push_back(p);
    }
  }
  std::string problems;
  for (const auto& p : total.problems) problems += "\n  " + p;
  const std::string summary =
      "ok " + std::to_string(total.ok) + ", not started: refused " +
      std::to_string(total.refused) + ", write failed " + std::to_string(total.write_failed) +
      ", closed idle keep-alive " + std::to_string(total.closed_reused) +
      ", closed new connection " + std::to_string(total.closed_new) + "; truncated " +
      std::to_string(total.truncated) + ", timeouts " + std::to_string(total.timeouts) +
      ", non-200 " + std::to_string(total.bad_status) + ", wrong body " +
      std::to_string(total.wrong_body) + problems;
  RecordProperty("outcomes", summary);
  std::printf("[ outcomes ] %s\n", summary.c_str());
  EXPECT_GT(total.ok, 0) << summary;
  EXPECT_EQ(total.truncated, 0) << summary;
  EXPECT_EQ(total.bad_status, 0) << summary;
  EXPECT_EQ(total.wrong_body, 0) << summary;
  EXPECT_EQ(total.timeouts, 0) << summary;

  auto status = server->WaitExit(8s);
  ASSERT_TRUE(status.has_value()) << "still running 8 s after SIGTERM";
  EXPECT_TRUE(ExitedCleanly(status)) << StatusText(status) << "\n" << server->Log();

  // "Not started" must really mean not started: the server must not have
  // run (and logged as answered) a request whose client got no response.
  std::map<std::string, int64_t> logged;  // request_id -> status
  for (const auto& line : server->LogLines()) {
    if (StringField(line, "msg") != "request") continue;
    const auto& o = line.as_object();
    logged[StringField(line, "request_id")] =
        o.contains("status") ? o.at("status").to_number<int64_t>() : 0;
  }
  int lost = 0;
  std::string lost_ids;
  for (const auto& c : counts) {
    for (const auto& id : c.not_started_ids) {
      auto it = logged.find(id);
      if (it != logged.end()) {
        ++lost;
        lost_ids += " " + id + " (logged status " + std::to_string(it->second) + ")";
      }
    }
    for (const auto& id : c.ok_ids) {
      EXPECT_TRUE(logged.count(id)) << "answered request " << id << " missing from the log";
    }
  }
  EXPECT_EQ(lost, 0) << "requests the server processed and logged, whose client got "
                        "EOF/reset with no response byte:" << lost_ids << "\n" << summary;
}

// ===========================================================================
// 9. Start-up errors.

class StartupErrorTest : public ::testing::Test {
 protected:
  // Runs mast with `env` and returns once it exits (or fails the test).
  std::unique_ptr<ServerProcess> RunToExit(const Env& env, std::optional<int>* status,
                                           double* seconds) {
    auto p = ServerProcess::Spawn({"serve", "--port", "0"}, env);
    const auto start = Clock::now();
    *status = p->WaitExit(10s);
    *seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return p;
  }
};

TEST_F(StartupErrorTest, CorruptModelFailsFastNamingFileAndCause) {
  const std::string path = FixtureDir("corrupt") + "/model.onnx";
  std::optional<int> status;
  double seconds = 0;
  auto p = RunToExit({{"MODEL_PATH", path}}, &status, &seconds);
  ASSERT_TRUE(status.has_value()) << "still running after 10 s:\n" << p->Log();
  ASSERT_TRUE(WIFEXITED(*status)) << StatusText(status);
  EXPECT_NE(WEXITSTATUS(*status), 0);
  EXPECT_EQ(WEXITSTATUS(*status), 1) << "conventions: 1 = failed";
  EXPECT_LT(seconds, 5.0);
  const std::string log = p->Log();
  EXPECT_NE(log.find(path), std::string::npos) << log;
  EXPECT_NE(log.find("Protobuf parsing failed"), std::string::npos) << log;
  EXPECT_EQ(log.find("\"listening\""), std::string::npos) << log;
}

TEST_F(StartupErrorTest, MissingModelFileFailsNamingIt) {
  TempDir dir;
  const std::string path = (dir.path() / "nowhere" / "model.onnx").string();
  std::optional<int> status;
  double seconds = 0;
  auto p = RunToExit({{"MODEL_PATH", path}}, &status, &seconds);
  ASSERT_TRUE(status.has_value()) << "still running after 10 s:\n" << p->Log();
  ASSERT_TRUE(WIFEXITED(*status)) << StatusText(status);
  EXPECT_NE(WEXITSTATUS(*status), 0);
  const std::string log = p->Log();
  EXPECT_NE(log.find(path), std::string::npos) << log;
  EXPECT_NE(log.find("does not exist"), std::string::npos) << log;
}

TEST_F(StartupErrorTest, ModelPathAndRepositoryTogetherIsAUsageError) {
  std::optional<int> status;
  double seconds = 0;
  auto p = RunToExit({{"MODEL_PATH", "/tmp/a.onnx"}, {"MAST_MODEL_REPOSITORY", "/tmp"}}, &status,
                     &seconds);
  ASSERT_TRUE(status.has_value()) << p->Log();
  ASSERT_TRUE(WIFEXITED(*status)) << StatusText(status);
  EXPECT_EQ(WEXITSTATUS(*status), 2) << p->Log();
  EXPECT_NE(p->Log().find("MODEL_PATH"), std::string::npos) << p->Log();
}

}  // namespace
}  // namespace mast_e2e
