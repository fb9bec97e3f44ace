// End-to-end tests of the model registry: the real `mast` binary with a
// SQLite --data-dir (or a real PostgreSQL --store), driven over the /api/v1
// REST API, serving what the `production` alias points at.
//
//   RegistryAuthTest      admin token on management routes only
//   RegistryRestTest      models, versions, tags, paging, aliases, history
//   RegistryBadPushTest   every refusal is the right 4xx with a clear reason
//   RegistryUploadLimitTest  --max-upload-bytes on /api/v1/blobs
//   RegistryServingTest   a push is served without restart
//   RegistryHotSwapTest   alias flips under 16 keep-alive connections (20 s)
//   RegistryReplicaTest   two replicas on one PostgreSQL follow each other
//   RegistryCrashTest     kill -9 mid-upload and mid-push keeps invariants
//   RegistryRestartTest   the SQLite store serves the same version after restart
//
// Two pushed versions are told apart by the Open Inference Protocol answer's
// "model_version" (the two fixtures predict the same labels).
#include <ostream>  // before any Boost header (Boost 1.81 + GCC 12)

#include "e2e_util.h"

#include <gtest/gtest.h>

#include <set>

#include "common/digest.h"
#include "support/postgres_server.h"

namespace mast_e2e {
namespace {

// ---------------------------------------------------------------------------
// Fixtures

struct Artifacts {
  std::string a;         // logreg20_manifest/model.onnx
  std::string b;         // logreg20/model.onnx (same inputs, another file)
  std::string manifest;  // logreg20_manifest/model.yaml: 20 named features
  std::string corrupt;   // corrupt/model.onnx
};

const Artifacts& Files() {
  static const Artifacts* files = [] {
    auto* f = new Artifacts();
    f->a = ReadFile(FixtureDir("logreg20_manifest") + "/model.onnx");
    f->b = ReadFile(FixtureDir("logreg20") + "/model.onnx");
    f->manifest = ReadFile(FixtureDir("logreg20_manifest") + "/model.yaml");
    f->corrupt = ReadFile(FixtureDir("corrupt") + "/model.onnx");
    return f;
  }();
  return *files;
}

const json::object& Churn() {
  static const json::object* expected = new json::object(Expected("logreg20_manifest"));
  return *expected;
}

size_t ChurnRows() { return Churn().at("inputs").as_array().size(); }

int64_t ExpectedLabel(size_t row) {
  return Churn().at("label").as_array().at(row).to_number<int64_t>();
}

std::string InferRowBody(size_t row) {
  const json::array& values = Churn().at("inputs").as_array().at(row).as_array();
  return InferBody(json::array{Tensor("input", "FP32", {1, 20}, values)});
}

const std::regex& Rfc3339() {
  static const std::regex re(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$)");
  return re;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Polls `done` every `every` until it is true or `timeout` passes; returns
// the seconds it took, or nullopt.
std::optional<double> WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                              std::chrono::milliseconds every = 10ms) {
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  for (;;) {
    if (done()) return Seconds(Clock::now() - start);
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(every);
  }
}

// ---------------------------------------------------------------------------
// The server and the REST client

std::vector<std::string> ServeArgs(const std::string& data_dir,
                                   const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"serve", "--port", "0", "--data-dir", data_dir,
                                "--registry-poll", "0.2"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// An /api/v1 client on one keep-alive connection; adds the bearer token when
// it has one.
class Api {
 public:
  explicit Api(uint16_t port, std::string token = "")
      : client_(port, std::chrono::seconds(30)), token_(std::move(token)) {}

  HttpResult Call(verb method, const std::string& target, const std::string& body = "",
                  Headers headers = {}) {
    if (!token_.empty()) headers.emplace_back("Authorization", "Bearer " + token_);
    return client_.Request(method, target, body, headers);
  }
  HttpResult Get(const std::string& target) { return Call(verb::get, target); }
  HttpResult Delete(const std::string& target) { return Call(verb::delete_, target); }
  HttpResult Post(const std::string& target, const json::value& body) {
    return Call(verb::post, target, json::serialize(body));
  }
  HttpResult Put(const std::string& target, const json::value& body) {
    return Call(verb::put, target, json::serialize(body));
  }
  HttpResult Patch(const std::string& target, const json::value& body) {
    return Call(verb::patch, target, json::serialize(body));
  }

  HttpResult CreateModel(const std::string& name, json::object extra = {}) {
    extra["name"] = name;
    return Post("/api/v1/models", extra);
  }
  HttpResult UploadBlob(const std::string& bytes) {
    return Call(verb::post, "/api/v1/blobs", bytes,
                {{"Content-Type", "application/octet-stream"}});
  }
  // Uploads the blob (which must succeed) and creates a version from it.
  HttpResult Push(const std::string& model, const std::string& artifact,
                  const std::string& manifest, const std::vector<std::string>& aliases = {}) {
    HttpResult blob = UploadBlob(artifact);
    if (!blob.ok() || blob.status != 201) return blob;
    json::object body{{"digest", StringField(blob.Json(), "digest")}, {"manifest", manifest}};
    if (!aliases.empty()) {
      json::array a;
      for (const auto& s : aliases) a.push_back(json::string(s));
      body["aliases"] = std::move(a);
    }
    return Post("/api/v1/models/" + model + "/versions", body);
  }
  HttpResult SetAlias(const std::string& model, const std::string& alias, int64_t version) {
    return Put("/api/v1/models/" + model + "/aliases/" + alias, json::object{{"version", version}});
  }

  HttpClient& client() { return client_; }

 private:
  HttpClient client_;
  std::string token_;
};

int64_t VersionOf(const HttpResult& r) {
  json::value v = r.Json();
  const json::object* o = v.if_object();
  if (!o || !o->contains("version") || !o->at("version").is_int64()) return 0;
  return o->at("version").get_int64();
}

// Checks a native error answer: `status`, JSON {"error": {"code": `code`,
// "message": "...`mentions`..."}}.
::testing::AssertionResult IsError(const HttpResult& r, int status, const std::string& code,
                                   const std::vector<std::string>& mentions = {}) {
  if (!r.ok()) return ::testing::AssertionFailure() << r.Describe();
  if (r.status != status) {
    return ::testing::AssertionFailure() << "expected status " << status << ", got "
                                         << r.Describe();
  }
  if (r.Header("Content-Type") != "application/json") {
    return ::testing::AssertionFailure() << "Content-Type '" << r.Header("Content-Type") << "'";
  }
  json::value v = r.Json();
  const json::object* o = v.if_object();
  const json::value* e = o ? o->if_contains("error") : nullptr;
  if (!e || !e->is_object()) {
    return ::testing::AssertionFailure() << "no {\"error\": {...}} object: " << r.body;
  }
  if (StringField(*e, "code") != code) {
    return ::testing::AssertionFailure() << "expected code '" << code << "': " << r.body;
  }
  const std::string message = StringField(*e, "message");
  if (message.empty()) return ::testing::AssertionFailure() << "empty message: " << r.body;
  for (const auto& m : mentions) {
    if (message.find(m) == std::string::npos) {
      return ::testing::AssertionFailure() << "message should mention '" << m << "': " << r.body;
    }
  }
  if (r.Header("X-Request-Id").empty()) {
    return ::testing::AssertionFailure() << "no X-Request-Id on the error";
  }
  return ::testing::AssertionSuccess();
}

// One OIP infer of `model`; the model_version that answered, or "" on
// anything but a complete 200.
std::string ServedVersion(HttpClient& client, const std::string& model, size_t row = 0) {
  HttpResult r = client.Post("/v2/models/" + model + "/infer", InferRowBody(row));
  if (!r.ok() || r.status != 200) return "";
  return StringField(r.Json(), "model_version");
}

std::string ServedVersion(uint16_t port, const std::string& model) {
  HttpClient client(port, 5s);
  return ServedVersion(client, model);
}

// Every model (all pages).
std::vector<json::object> ListAllModels(Api& api) {
  std::vector<json::object> out;
  std::string token;
  for (int page = 0; page < 100; ++page) {
    HttpResult r = api.Get("/api/v1/models?page_size=1000&page_token=" + token);
    EXPECT_EQ(r.status, 200) << r.Describe();
    if (r.status != 200) break;
    json::value v = r.Json();
    for (const auto& m : v.at("items").as_array()) out.push_back(m.as_object());
    token = StringField(v, "next_page_token");
    if (token.empty()) break;
  }
  return out;
}

std::vector<json::object> ListAllVersions(Api& api, const std::string& model) {
  std::vector<json::object> out;
  std::string token;
  for (int page = 0; page < 100; ++page) {
    HttpResult r =
        api.Get("/api/v1/models/" + model + "/versions?page_size=1000&page_token=" + token);
    EXPECT_EQ(r.status, 200) << r.Describe();
    if (r.status != 200) break;
    json::value v = r.Json();
    for (const auto& m : v.at("items").as_array()) out.push_back(m.as_object());
    token = StringField(v, "next_page_token");
    if (token.empty()) break;
  }
  return out;
}

fs::path BlobPath(const fs::path& blob_dir, const std::string& digest) {
  const std::string hex = digest.substr(7);
  return blob_dir / "sha256" / hex.substr(0, 2) / hex;
}

// Temporary blob files under `dir` (each writer has a directory of its own
// there, with a .lock file beside it; those do not count).
size_t CountFiles(const fs::path& dir) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() != ".lock") ++n;
  }
  return n;
}

// Every blob file's content hashes to its name (no torn or foreign files).
::testing::AssertionResult BlobsIntact(const fs::path& blob_dir) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(blob_dir / "sha256", ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string name = it->path().filename().string();
    auto digest = mast::Sha256DigestOfFile(it->path().string());
    if (!digest.ok() || *digest != "sha256:" + name) {
      return ::testing::AssertionFailure()
             << "blob " << it->path() << " does not hash to its name ("
             << (digest.ok() ? *digest : digest.status().message()) << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t x = rng();
    std::memcpy(&s[i], &x, 8);
  }
  return s;
}

// ===========================================================================
// 1. Credentials

TEST(RegistryAuthTest, AdminTokenGuardsManagementRoutesButNotPredictions) {
  TempDir data;
  const std::string token = "e2e-admin-" + RandomHex(24);
  std::string error;
  auto server = ServerProcess::Start(ServeArgs(data.str()), {{"MAST_ADMIN_TOKEN", token}}, &error);
  ASSERT_NE(server, nullptr) << error;
  const uint16_t port = server->port();

  // No credentials: 401 with a challenge, on reads and writes alike.
  {
    Api anonymous(port);
    HttpResult r = anonymous.Get("/api/v1/models");
    EXPECT_TRUE(IsError(r, 401, "unauthenticated", {"Bearer"}));
    EXPECT_NE(r.Header("WWW-Authenticate").find("Bearer"), std::string::npos)
        << "no WWW-Authenticate challenge: " << r.Describe();
    EXPECT_TRUE(IsError(anonymous.CreateModel("churn"), 401, "unauthenticated"));
    EXPECT_TRUE(IsError(anonymous.UploadBlob(Files().a), 401, "unauthenticated"));
  }
  // Wrong credentials.
  for (const std::string& header : std::vector<std::string>{"Bearer wrong-token", "Bearer " + token + "x", "Bearer " + token.substr(1),
        "Basic " + token, "Bearer "}) {
    SCOPED_TRACE(header);
    HttpClient client(port);
    HttpResult r = client.Get("/api/v1/models", {{"Authorization", header}});
    EXPECT_TRUE(IsError(r, 401, "unauthenticated"));
    EXPECT_FALSE(r.Header("WWW-Authenticate").empty()) << r.Describe();
  }
  // The nameless attempts created nothing.
  Api admin(port, token);
  HttpResult list = admin.Get("/api/v1/models");
  ASSERT_EQ(list.status, 200) << list.Describe();
  EXPECT_TRUE(list.Json().at("items").as_array().empty()) << list.body;

  // The right token works; the actor is recorded as "admin".
  HttpResult created = admin.CreateModel("churn");
  ASSERT_EQ(created.status, 201) << created.Describe();
  EXPECT_EQ(StringField(created.Json(), "created_by"), "admin") << created.body;
  HttpResult pushed = admin.Push("churn", Files().a, Files().manifest, {"production"});
  ASSERT_EQ(pushed.status, 201) << pushed.Describe();
  HttpResult history = admin.Get("/api/v1/models/churn/alias-history");
  ASSERT_EQ(history.status, 200) << history.Describe();
  ASSERT_EQ(history.Json().at("items").as_array().size(), 1u) << history.body;
  EXPECT_EQ(StringField(history.Json().at("items").at(0), "actor"), "admin") << history.body;

  // Prediction, health and metadata routes never need the token.
  HttpClient anonymous(port);
  auto served = WaitFor([&] { return ServedVersion(anonymous, "churn") == "1"; }, 2s);
  EXPECT_TRUE(served.has_value()) << "not served within 2 s; log:\n" << server->Log();
  HttpResult predict =
      anonymous.Post("/v1/models/churn/predict", json::serialize(NamedRow(Churn(), 0)));
  EXPECT_EQ(predict.status, 200) << predict.Describe();
  EXPECT_EQ(anonymous.Get("/health").status, 200);
  EXPECT_EQ(anonymous.Get("/v2/models/churn").status, 200);
  EXPECT_EQ(anonymous.Get("/v2/health/ready").status, 200);

  // The secret never reaches the log.
  EXPECT_EQ(server->Log().find(token), std::string::npos) << "admin token appears in the log";
  EXPECT_TRUE(ExitedCleanly(server->Stop())) << server->Log();
}

// RFC 7235 section 2.1: the authentication scheme is case-insensitive.
TEST(RegistryAuthTest, BearerSchemeIsCaseInsensitive) {
  TempDir data;
  const std::string token = "e2e-admin-" + RandomHex(24);
  std::string error;
  auto server = ServerProcess::Start(ServeArgs(data.str()), {{"MAST_ADMIN_TOKEN", token}}, &error);
  ASSERT_NE(server, nullptr) << error;
  for (const std::string scheme : {"Bearer", "bearer", "BEARER"}) {
    HttpClient client(server->port());
    HttpResult r = client.Get("/api/v1/models", {{"Authorization", scheme + " " + token}});
    EXPECT_EQ(r.status, 200) << "scheme '" << scheme << "': " << r.Describe();
  }
  EXPECT_TRUE(ExitedCleanly(server->Stop())) << server->Log();
}

TEST(RegistryAuthTest, WithoutTokenLoopbackNeedsNoCredentials) {
  TempDir data;
  std::string error;
  auto server = ServerProcess::Start(ServeArgs(data.str()), {}, &error);
  ASSERT_NE(server, nullptr) << error;
  Api api(server->port());
  HttpResult list = api.Get("/api/v1/models");
  EXPECT_EQ(list.status, 200) << list.Describe();
  HttpResult created = api.CreateModel("churn");
  ASSERT_EQ(created.status, 201) << created.Describe();
  EXPECT_EQ(StringField(created.Json(), "created_by").rfind("loopback:", 0), 0u) << created.body;
  // A token sent anyway is not required (and does not break anything).
  HttpClient client(server->port());
  HttpResult with_token = client.Get("/api/v1/models/churn", {{"Authorization", "Bearer x"}});
  EXPECT_EQ(with_token.status, 200) << with_token.Describe();
  EXPECT_TRUE(ExitedCleanly(server->Stop())) << server->Log();
}

// ===========================================================================
// 1. REST basics (one server, no token: loopback)

class RegistryRestTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_ = new SuiteServer();
    s_->repo = std::make_unique<TempDir>();
    s_->server = ServerProcess::Start(ServeArgs(s_->repo->str()), {}, &s_->error);
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
SuiteServer* RegistryRestTest::s_ = nullptr;

TEST_F(RegistryRestTest, ModelsCreateGetListPagingTagsDescriptionDelete) {
  Api api(port());
  const std::string prefix = "crud" + RandomHex(6) + "-";
  // Created out of order; listed by name.
  for (const std::string n : {"charlie", "alpha", "delta", "bravo"}) {
    HttpResult r = api.CreateModel(prefix + n, json::object{{"description", "model " + n},
                                                            {"tags", {{"team", "risk"}}}});
    ASSERT_EQ(r.status, 201) << r.Describe();
    json::value v = r.Json();
    EXPECT_EQ(StringField(v, "name"), prefix + n);
    EXPECT_EQ(StringField(v, "description"), "model " + n);
    EXPECT_EQ(v.at("tags"), json::parse(R"({"team":"risk"})")) << r.body;
    EXPECT_EQ(v.at("aliases"), json::object{}) << r.body;
    EXPECT_TRUE(std::regex_match(StringField(v, "created_at"), Rfc3339())) << r.body;
    EXPECT_FALSE(v.as_object().contains("latest_version")) << r.body;
  }
  HttpResult got = api.Get("/api/v1/models/" + prefix + "alpha");
  ASSERT_EQ(got.status, 200) << got.Describe();
  EXPECT_EQ(StringField(got.Json(), "description"), "model alpha");

  // page_size=1 and next_page_token walk all four, in name order, once each.
  std::vector<std::string> names;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    HttpResult r = api.Get("/api/v1/models?page_size=1&filter=" + prefix + "&page_token=" + token);
    ASSERT_EQ(r.status, 200) << r.Describe();
    json::value v = r.Json();
    const auto& items = v.at("items").as_array();
    ASSERT_LE(items.size(), 1u) << r.body;
    for (const auto& m : items) names.push_back(StringField(m, "name"));
    token = StringField(v, "next_page_token");
    if (token.empty()) break;
  }
  EXPECT_EQ(names, (std::vector<std::string>{prefix + "alpha", prefix + "bravo",
                                             prefix + "charlie", prefix + "delta"}));
  // filter narrows; a full page has no next token.
  HttpResult filtered = api.Get("/api/v1/models?filter=" + prefix + "brav");
  ASSERT_EQ(filtered.status, 200) << filtered.Describe();
  ASSERT_EQ(filtered.Json().at("items").as_array().size(), 1u) << filtered.body;
  EXPECT_EQ(StringField(filtered.Json(), "next_page_token"), "") << filtered.body;
  EXPECT_TRUE(IsError(api.Get("/api/v1/models?page_size=0"), 400, "invalid_argument",
                      {"page_size"}));
  EXPECT_TRUE(IsError(api.Get("/api/v1/models?page_size=1001"), 400, "invalid_argument"));

  // Description.
  const std::string alpha = "/api/v1/models/" + prefix + "alpha";
  HttpResult patched = api.Patch(alpha, json::object{{"description", "churn model v2"}});
  ASSERT_EQ(patched.status, 200) << patched.Describe();
  EXPECT_EQ(StringField(patched.Json(), "description"), "churn model v2");
  EXPECT_GE(StringField(patched.Json(), "updated_at"), StringField(got.Json(), "created_at"));
  EXPECT_EQ(StringField(api.Get(alpha).Json(), "description"), "churn model v2");

  // Tags: set, overwrite, delete.
  EXPECT_EQ(api.Put(alpha + "/tags/owner", json::object{{"value", "ana"}}).status, 204);
  EXPECT_EQ(api.Put(alpha + "/tags/team", json::object{{"value", "growth"}}).status, 204);
  EXPECT_EQ(api.Get(alpha).Json().at("tags"), json::parse(R"({"owner":"ana","team":"growth"})"));
  EXPECT_EQ(api.Delete(alpha + "/tags/owner").status, 204);
  EXPECT_EQ(api.Get(alpha).Json().at("tags"), json::parse(R"({"team":"growth"})"));
  EXPECT_TRUE(IsError(api.Delete(alpha + "/tags/owner"), 404, "not_found", {"owner"}));

  // Delete (no aliases): gone.
  HttpResult deleted = api.Delete(alpha);
  EXPECT_EQ(deleted.status, 204) << deleted.Describe();
  EXPECT_TRUE(IsError(api.Get(alpha), 404, "not_found", {prefix + "alpha"}));
}

TEST_F(RegistryRestTest, VersionsAliasesAndAliasHistory) {
  Api api(port());
  const std::string model = "ver" + RandomHex(6);
  const std::string base = "/api/v1/models/" + model;
  ASSERT_EQ(api.CreateModel(model).status, 201);

  HttpResult blob = api.UploadBlob(Files().a);
  ASSERT_EQ(blob.status, 201) << blob.Describe();
  const std::string digest = StringField(blob.Json(), "digest");
  EXPECT_EQ(digest, mast::Sha256Digest(Files().a)) << blob.body;
  EXPECT_EQ(blob.Json().at("size_bytes").to_number<int64_t>(),
            static_cast<int64_t>(Files().a.size()));
  // Uploading the same bytes again gives the same digest.
  EXPECT_EQ(StringField(api.UploadBlob(Files().a).Json(), "digest"), digest);

  HttpResult v1 = api.Post(base + "/versions", json::object{{"digest", digest},
                                                            {"manifest", Files().manifest},
                                                            {"description", "first"},
                                                            {"tags", {{"source", "e2e"}}}});
  ASSERT_EQ(v1.status, 201) << v1.Describe();
  {
    json::value v = v1.Json();
    EXPECT_EQ(VersionOf(v1), 1);
    EXPECT_EQ(StringField(v, "status"), "READY") << v1.body;
    EXPECT_EQ(StringField(v, "model_name"), model);
    EXPECT_EQ(StringField(v, "digest"), digest);
    EXPECT_EQ(StringField(v, "format"), "onnx");
    EXPECT_EQ(StringField(v, "manifest"), Files().manifest);
    EXPECT_EQ(StringField(v, "description"), "first");
    EXPECT_EQ(v.at("tags"), json::parse(R"({"source":"e2e"})"));
    EXPECT_EQ(v.at("aliases"), json::array{});
    ASSERT_TRUE(v.as_object().contains("signature")) << v1.body;
    EXPECT_EQ(v.at("signature").at("inputs"),
              json::parse(R"([{"name":"input","datatype":"FP32","shape":[-1,20]}])"));
  }
  HttpResult v2 = api.Push(model, Files().b, Files().manifest);
  ASSERT_EQ(v2.status, 201) << v2.Describe();
  EXPECT_EQ(VersionOf(v2), 2);
  EXPECT_EQ(StringField(v2.Json(), "status"), "READY") << v2.body;

  // List, newest first, and page through it.
  HttpResult all = api.Get(base + "/versions");
  ASSERT_EQ(all.status, 200) << all.Describe();
  ASSERT_EQ(all.Json().at("items").as_array().size(), 2u) << all.body;
  EXPECT_EQ(all.Json().at("items").at(0).at("version"), json::value(2));
  EXPECT_EQ(all.Json().at("items").at(1).at("version"), json::value(1));
  std::vector<int64_t> paged;
  std::string token;
  for (int page = 0; page < 5; ++page) {
    HttpResult r = api.Get(base + "/versions?page_size=1&page_token=" + token);
    ASSERT_EQ(r.status, 200) << r.Describe();
    const json::value page_json = r.Json();
    for (const auto& v : page_json.at("items").as_array()) {
      paged.push_back(v.at("version").as_int64());
    }
    token = StringField(r.Json(), "next_page_token");
    if (token.empty()) break;
  }
  EXPECT_EQ(paged, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(api.Get(base).Json().at("latest_version"), json::value(2));

  // Version description and tags.
  HttpResult vp = api.Patch(base + "/versions/1", json::object{{"description", "baseline"}});
  ASSERT_EQ(vp.status, 200) << vp.Describe();
  EXPECT_EQ(StringField(vp.Json(), "description"), "baseline");
  EXPECT_EQ(api.Put(base + "/versions/1/tags/auc", json::object{{"value", "0.91"}}).status, 204);
  EXPECT_EQ(api.Get(base + "/versions/1").Json().at("tags"),
            json::parse(R"({"auc":"0.91","source":"e2e"})"));
  EXPECT_EQ(api.Delete(base + "/versions/1/tags/auc").status, 204);
  EXPECT_TRUE(IsError(api.Get(base + "/versions/abc"), 400, "invalid_argument", {"abc"}));
  EXPECT_TRUE(IsError(api.Get(base + "/versions/3"), 404, "not_found", {model, "3"}));

  // Aliases: set, get, move, delete.
  HttpResult set = api.SetAlias(model, "production", 1);
  ASSERT_EQ(set.status, 200) << set.Describe();
  EXPECT_EQ(VersionOf(set), 1);
  EXPECT_EQ(set.Json().at("aliases"), json::array{"production"}) << set.body;
  HttpResult get = api.Get(base + "/aliases/production");
  ASSERT_EQ(get.status, 200) << get.Describe();
  EXPECT_EQ(VersionOf(get), 1);
  EXPECT_EQ(api.Get(base).Json().at("aliases"), json::parse(R"({"production":1})"));
  // A version number given as a string is accepted too.
  HttpResult moved = api.Put(base + "/aliases/production", json::object{{"version", "2"}});
  ASSERT_EQ(moved.status, 200) << moved.Describe();
  EXPECT_EQ(VersionOf(api.Get(base + "/aliases/production")), 2);
  EXPECT_EQ(api.Get(base + "/versions/1").Json().at("aliases"), json::array{});
  EXPECT_EQ(api.Delete(base + "/aliases/production").status, 204);
  EXPECT_TRUE(IsError(api.Get(base + "/aliases/production"), 404, "not_found", {"production"}));
  EXPECT_TRUE(IsError(api.Delete(base + "/aliases/production"), 404, "not_found"));
  // Reserved alias names.
  EXPECT_TRUE(IsError(api.SetAlias(model, "latest", 1), 400, "invalid_argument", {"latest"}));
  EXPECT_TRUE(IsError(api.SetAlias(model, "7", 1), 400, "invalid_argument", {"7"}));
  EXPECT_TRUE(IsError(api.Put(base + "/aliases/staging", json::object{{"version", 0}}), 400,
                      "invalid_argument", {"version"}));

  // History: who, when, from, to; in order.
  HttpResult h = api.Get(base + "/alias-history");
  ASSERT_EQ(h.status, 200) << h.Describe();
  const json::array items = h.Json().at("items").as_array();
  ASSERT_EQ(items.size(), 3u) << h.body;
  const json::value want_from[] = {nullptr, 1, 2};
  const json::value want_to[] = {1, 2, nullptr};
  std::string last_at;
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE("history item " + std::to_string(i));
    EXPECT_EQ(StringField(items[i], "alias"), "production");
    EXPECT_EQ(items[i].at("from_version"), want_from[i]) << h.body;
    EXPECT_EQ(items[i].at("to_version"), want_to[i]) << h.body;
    EXPECT_EQ(StringField(items[i], "actor").rfind("loopback:", 0), 0u) << h.body;
    const std::string at = StringField(items[i], "at");
    EXPECT_TRUE(std::regex_match(at, Rfc3339())) << at;
    EXPECT_GE(at, last_at);
    last_at = at;
  }

  // With no alias left, versions and the model can go.
  EXPECT_EQ(api.Delete(base + "/versions/1").status, 204);
  EXPECT_TRUE(IsError(api.Get(base + "/versions/1"), 404, "not_found"));
  EXPECT_EQ(api.Delete(base).status, 204);
}

// ===========================================================================
// 2. Bad pushes and conflicts (one server, no token)

class RegistryBadPushTest : public RegistryRestTest {
 protected:
  // A fresh model name with one READY version (production -> 1) if `ready`.
  std::string NewModel(Api& api, bool ready) {
    const std::string model = "bad" + RandomHex(8);
    HttpResult r = api.CreateModel(model);
    EXPECT_EQ(r.status, 201) << r.Describe();
    if (ready) {
      HttpResult v = api.Push(model, Files().a, Files().manifest, {"production"});
      EXPECT_EQ(v.status, 201) << v.Describe();
    }
    return model;
  }
};

TEST_F(RegistryBadPushTest, CorruptArtifactIs422AndVersionIsRecordedFailed) {
  Api api(port());
  const std::string model = NewModel(api, false);
  HttpResult blob = api.UploadBlob(Files().corrupt);
  ASSERT_EQ(blob.status, 201) << blob.Describe();
  HttpResult r = api.Post("/api/v1/models/" + model + "/versions",
                          json::object{{"digest", StringField(blob.Json(), "digest")},
                                       {"format", "onnx"},
                                       {"aliases", json::array{"production"}}});
  EXPECT_TRUE(IsError(r, 422, "invalid_argument",
                      {model, "version 1", "failed its test load", "Protobuf parsing failed"}));
  HttpResult v = api.Get("/api/v1/models/" + model + "/versions/1");
  ASSERT_EQ(v.status, 200) << v.Describe();
  EXPECT_EQ(StringField(v.Json(), "status"), "FAILED") << v.body;
  EXPECT_NE(StringField(v.Json(), "status_message").find("Protobuf parsing failed"),
            std::string::npos)
      << v.body;
  // The alias asked for was not set, and a FAILED version cannot take one.
  EXPECT_TRUE(IsError(api.Get("/api/v1/models/" + model + "/aliases/production"), 404,
                      "not_found"));
  EXPECT_TRUE(IsError(api.SetAlias(model, "production", 1), 409, "failed_precondition",
                      {"FAILED", "READY"}));
  // Never served.
  HttpClient client(port());
  EXPECT_EQ(client.Get("/v2/models/" + model).status, 404);
}

TEST_F(RegistryBadPushTest, ManifestThatDoesNotFitTheModelIs422) {
  Api api(port());
  const std::string model = NewModel(api, false);
  const std::string two_features =
      "features:\n  - {name: age, type: float}\n  - {name: tenure_months, type: float}\n";
  HttpResult r = api.Push(model, Files().a, two_features);
  EXPECT_TRUE(IsError(r, 422, "invalid_argument", {"failed its test load"}));
  std::printf("[ manifest misfit ] %s\n", r.body.c_str());
  HttpResult v = api.Get("/api/v1/models/" + model + "/versions/1");
  ASSERT_EQ(v.status, 200) << v.Describe();
  EXPECT_EQ(StringField(v.Json(), "status"), "FAILED") << v.body;
  EXPECT_FALSE(StringField(v.Json(), "status_message").empty()) << v.body;
}

TEST_F(RegistryBadPushTest, InvalidYamlManifestIs400AndRecordsNothing) {
  Api api(port());
  const std::string model = NewModel(api, false);
  HttpResult r = api.Push(model, Files().a, "features: [ {name: age, type: float\n  - :\n");
  EXPECT_TRUE(IsError(r, 400, "invalid_argument", {"manifest"}));
  HttpResult list = api.Get("/api/v1/models/" + model + "/versions");
  ASSERT_EQ(list.status, 200) << list.Describe();
  EXPECT_TRUE(list.Json().at("items").as_array().empty()) << list.body;
  // The next good push is version 1: no number was used up.
  HttpResult good = api.Push(model, Files().a, Files().manifest);
  ASSERT_EQ(good.status, 201) << good.Describe();
  EXPECT_EQ(VersionOf(good), 1);
}

// An alias the push cannot set must refuse the push before anything is
// recorded: a 400 must not leave a new version behind.
TEST_F(RegistryBadPushTest, PushWithAReservedAliasIs400AndRecordsNothing) {
  Api api(port());
  const std::string model = NewModel(api, false);
  for (const std::string alias : {"latest", "7"}) {
    SCOPED_TRACE(alias);
    EXPECT_TRUE(IsError(api.Push(model, Files().a, Files().manifest, {alias}), 400,
                        "invalid_argument", {alias}));
  }
  HttpResult list = api.Get("/api/v1/models/" + model + "/versions");
  ASSERT_EQ(list.status, 200) << list.Describe();
  EXPECT_TRUE(list.Json().at("items").as_array().empty())
      << "refused pushes left versions behind: " << list.body;
}

TEST_F(RegistryBadPushTest, UnknownModelIs404) {
  Api api(port());
  EXPECT_TRUE(IsError(api.Get("/api/v1/models/no-such-model"), 404, "not_found",
                      {"no-such-model"}));
  EXPECT_TRUE(IsError(api.Push("no-such-model", Files().a, Files().manifest), 404, "not_found",
                      {"no-such-model"}));
  EXPECT_TRUE(IsError(api.Get("/api/v1/models/no-such-model/versions"), 404, "not_found"));
  EXPECT_TRUE(IsError(api.SetAlias("no-such-model", "production", 1), 404, "not_found"));
  EXPECT_TRUE(IsError(api.Patch("/api/v1/models/no-such-model", json::object{{"description", ""}}),
                      404, "not_found"));
  EXPECT_TRUE(IsError(api.Delete("/api/v1/models/no-such-model"), 404, "not_found"));
}

TEST_F(RegistryBadPushTest, DuplicateModelIs409) {
  Api api(port());
  const std::string model = NewModel(api, false);
  EXPECT_TRUE(IsError(api.CreateModel(model), 409, "already_exists", {model}));
}

TEST_F(RegistryBadPushTest, AliasToMissingVersionIs404) {
  Api api(port());
  const std::string model = NewModel(api, true);
  EXPECT_TRUE(IsError(api.SetAlias(model, "production", 42), 404, "not_found", {"42"}));
  EXPECT_EQ(VersionOf(api.Get("/api/v1/models/" + model + "/aliases/production")), 1)
      << "a refused move must leave the alias where it was";
}

TEST_F(RegistryBadPushTest, DeletingAVersionAnAliasUsesIs409NamingTheAlias) {
  Api api(port());
  const std::string model = NewModel(api, true);
  EXPECT_TRUE(IsError(api.Delete("/api/v1/models/" + model + "/versions/1"), 409,
                      "failed_precondition", {"production"}));
  EXPECT_EQ(api.Get("/api/v1/models/" + model + "/versions/1").status, 200);
  // Once the alias moves away, the version can be deleted.
  ASSERT_EQ(api.Push(model, Files().b, Files().manifest, {"production"}).status, 201);
  EXPECT_EQ(api.Delete("/api/v1/models/" + model + "/versions/1").status, 204);
}

TEST_F(RegistryBadPushTest, DeletingAnAliasedModelIs409) {
  Api api(port());
  const std::string model = NewModel(api, true);
  EXPECT_TRUE(IsError(api.Delete("/api/v1/models/" + model), 409, "failed_precondition",
                      {"production"}));
  EXPECT_EQ(api.Get("/api/v1/models/" + model).status, 200);
  EXPECT_EQ(api.Delete("/api/v1/models/" + model + "/aliases/production").status, 204);
  EXPECT_EQ(api.Delete("/api/v1/models/" + model).status, 204);
  EXPECT_EQ(api.Get("/api/v1/models/" + model).status, 404);
}

TEST_F(RegistryBadPushTest, UnknownOrMissingBlobDigest) {
  Api api(port());
  const std::string model = NewModel(api, false);
  const std::string target = "/api/v1/models/" + model + "/versions";
  const std::string unknown = "sha256:" + std::string(64, '0');
  EXPECT_TRUE(IsError(api.Post(target, json::object{{"digest", unknown}}), 404, "not_found"));
  EXPECT_TRUE(IsError(api.Post(target, json::object{{"manifest", Files().manifest}}), 400,
                      "invalid_argument", {"digest"}));
  EXPECT_TRUE(IsError(api.Post(target, json::object{{"digest", "md5:abc"}}), 400,
                      "invalid_argument"));
  EXPECT_TRUE(IsError(api.UploadBlob(""), 400, "invalid_argument", {"empty"}));
}

TEST_F(RegistryBadPushTest, MalformedJsonIs400) {
  Api api(port());
  const std::string model = NewModel(api, true);
  EXPECT_TRUE(IsError(api.Call(verb::post, "/api/v1/models", "{\"name\": "), 400,
                      "invalid_argument", {"JSON"}));
  EXPECT_TRUE(IsError(api.Call(verb::post, "/api/v1/models", "[1,2]"), 400, "invalid_argument"));
  EXPECT_TRUE(IsError(api.Post("/api/v1/models", json::object{{"name", 5}}), 400,
                      "invalid_argument", {"name"}));
  EXPECT_TRUE(IsError(api.Post("/api/v1/models", json::object{}), 400, "invalid_argument",
                      {"name"}));
  EXPECT_TRUE(IsError(api.Call(verb::post, "/api/v1/models/" + model + "/versions", "nope"), 400,
                      "invalid_argument"));
  EXPECT_TRUE(IsError(api.Call(verb::put, "/api/v1/models/" + model + "/aliases/production",
                               "{version: 1}"),
                      400, "invalid_argument"));
  EXPECT_TRUE(IsError(api.Post("/api/v1/models/" + model + "/versions",
                               json::object{{"digest", mast::Sha256Digest(Files().a)},
                                            {"aliases", "production"}}),
                      400, "invalid_argument", {"aliases"}));
  EXPECT_TRUE(IsError(api.Call(verb::patch, "/api/v1/models/" + model, "{"), 400,
                      "invalid_argument"));
  // The alias is untouched by all of that.
  EXPECT_EQ(VersionOf(api.Get("/api/v1/models/" + model + "/aliases/production")), 1);
}

TEST(RegistryUploadLimitTest, BlobOverMaxUploadBytesIs413) {
  TempDir data;
  std::string error;
  auto server =
      ServerProcess::Start(ServeArgs(data.str(), {"--max-upload-bytes", "1000"}), {}, &error);
  ASSERT_NE(server, nullptr) << error;
  ASSERT_LT(Files().a.size(), 1000u);
  Api api(server->port());
  HttpResult big = api.UploadBlob(RandomBytes(4000, 7));
  EXPECT_TRUE(IsError(big, 413, "resource_exhausted"));
  Api api2(server->port());
  HttpResult small = api2.UploadBlob(Files().a);
  EXPECT_EQ(small.status, 201) << small.Describe();
  // The limit is for artifacts only: other routes keep --max-body-bytes.
  HttpResult model = api2.CreateModel("churn", json::object{{"description", std::string(3000, 'd')}});
  EXPECT_EQ(model.status, 201) << model.Describe();
  EXPECT_TRUE(ExitedCleanly(server->Stop())) << server->Log();
}

// The peak resident set of process `pid` in KiB (VmHWM), or -1.
long PeakRssKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// Artifacts are written to disk as they arrive: a 96 MiB upload does not
// raise the server's peak memory by anything like its size, and leaves no
// temporary file behind.
TEST(RegistryUploadTest, LargeUploadsAreWrittenToDiskNotHeldInMemory) {
  TempDir data;
  std::string error;
  auto server = ServerProcess::Start(ServeArgs(data.str()), {}, &error);
  ASSERT_NE(server, nullptr) << error;
  Api api(server->port());
  ASSERT_EQ(api.UploadBlob(Files().a).status, 201);  // the upload path's own allocations
  const long before = PeakRssKib(server->pid());
  ASSERT_GT(before, 0);
  const std::string big = RandomBytes(size_t{96} << 20, 5);
  HttpResult r = api.UploadBlob(big);
  ASSERT_EQ(r.status, 201) << r.Describe();
  EXPECT_EQ(StringField(r.Json(), "digest"), mast::Sha256Digest(big));
  const long after = PeakRssKib(server->pid());
  EXPECT_LT(after - before, 24 * 1024) << "peak RSS " << before << " -> " << after << " KiB";
  const fs::path blob = BlobPath(data.path() / "blobs", mast::Sha256Digest(big));
  ASSERT_TRUE(fs::exists(blob));
  EXPECT_EQ(fs::file_size(blob), big.size());
  EXPECT_EQ(CountFiles(data.path() / "blobs" / "tmp"), 0) << "an upload's file was left behind";
  // The same content again: stored once, and its second copy removed too
  // (with the request's last reference, which may outlive the answer).
  EXPECT_EQ(api.UploadBlob(big).status, 201);
  EXPECT_TRUE(
      WaitFor([&] { return CountFiles(data.path() / "blobs" / "tmp") == 0; }, 10s, 5ms).has_value());
  // A client that leaves mid-body leaves no file either.
  {
    RawConnection raw;
    ASSERT_TRUE(raw.Connect(server->port())) << raw.error();
    ASSERT_TRUE(raw.Send("POST /api/v1/blobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                         std::to_string(big.size()) + "\r\n\r\n"));
    ASSERT_TRUE(raw.Send(std::string_view(big).substr(0, big.size() / 3)));
    EXPECT_TRUE(WaitFor([&] { return CountFiles(data.path() / "blobs" / "tmp") > 0; }, 10s, 1ms)
                    .has_value());
    raw.Close();
  }
  EXPECT_TRUE(
      WaitFor([&] { return CountFiles(data.path() / "blobs" / "tmp") == 0; }, 10s, 5ms).has_value())
      << "the cut upload's file stayed";
  EXPECT_TRUE(ExitedCleanly(server->Stop())) << server->Log();
}

// A client that asks (Expect: 100-continue) is told to send its body, or,
// without credentials, refused before it sends a byte of it.
TEST(RegistryUploadTest, ExpectContinueIsAnsweredAndRefusalsComeBeforeTheBody) {
  TempDir data;
  const std::string token = "e2e-admin-" + RandomHex(24);
  std::string error;
  auto server = ServerProcess::Start(ServeArgs(data.str()), {{"MAST_ADMIN_TOKEN", token}}, &error);
  ASSERT_NE(server, nullptr) << error;
  const std::string body = RandomBytes(3u << 20, 8);
  const std::string head = "POST /api/v1/blobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Expect: 100-continue\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n";
  {
    RawConnection raw;
    ASSERT_TRUE(raw.Connect(server->port())) << raw.error();
    ASSERT_TRUE(raw.Send(head + "\r\n"));
    RawRead refused = raw.ReadResponse(5s);
    EXPECT_EQ(refused.data.rfind("HTTP/1.1 401", 0), 0u) << refused.data;
    EXPECT_NE(refused.data.find("WWW-Authenticate: Bearer"), std::string::npos) << refused.data;
    EXPECT_NE(refused.data.find("\"unauthenticated\""), std::string::npos) << refused.data;
  }
  {
    RawConnection raw;
    ASSERT_TRUE(raw.Connect(server->port())) << raw.error();
    ASSERT_TRUE(raw.Send(head + "Authorization: Bearer " + token + "\r\n\r\n"));
    RawRead go = raw.ReadResponse(5s);
    EXPECT_EQ(go.data, "HTTP/1.1 100 Continue\r\n\r\n");
    ASSERT_TRUE(raw.Send(body));
    RawRead stored = raw.ReadResponse(10s);
    EXPECT_EQ(stored.data.rfind("HTTP/1.1 201", 0), 0u) << stored.data;
    EXPECT_NE(stored.data.find(mast::Sha256Digest(body)), std::string::npos) << stored.data;
  }
  EXPECT_EQ(CountFiles(data.path() / "blobs" / "tmp"), 0);
  EXPECT_TRUE(ExitedCleanly(server->Stop())) << server->Log();
}

// ===========================================================================
// 3. Serving a push without restart

TEST(RegistryServingTest, PushedModelIsServedWithinTwoSecondsWithoutRestart) {
  TempDir data;
  std::string error;
  auto server = ServerProcess::Start(ServeArgs(data.str()), {}, &error);
  ASSERT_NE(server, nullptr) << error;
  HttpClient client(server->port());
  HttpResult health = client.Get("/health");
  EXPECT_EQ(health.status, 503) << health.Describe();
  EXPECT_EQ(health.Json(), json::parse(R"({"status":"unhealthy","model_loaded":false})"));
  EXPECT_EQ(client.Get("/v2/health/ready").status, 503);
  EXPECT_EQ(client.Post("/v1/models/churn/predict", json::serialize(NamedRow(Churn(), 0))).status,
            404);

  Api api(server->port());
  ASSERT_EQ(api.CreateModel("churn").status, 201);
  HttpResult pushed = api.Push("churn", Files().a, Files().manifest, {"production"});
  ASSERT_EQ(pushed.status, 201) << pushed.Describe();
  EXPECT_EQ(StringField(pushed.Json(), "status"), "READY");
  EXPECT_EQ(pushed.Json().at("aliases"), json::array{"production"}) << pushed.body;

  HttpResult predict;
  auto took = WaitFor(
      [&] {
        predict = client.Post("/v1/models/churn/predict", json::serialize(NamedRows(Churn())));
        return predict.status == 200;
      },
      2s);
  ASSERT_TRUE(took.has_value()) << "not served within 2 s: " << predict.Describe() << "\nlog:\n"
                                << server->Log();
  std::printf("[ serving ] push -> first 200 predict: %.3f s\n", *took);
  EXPECT_TRUE(JsonNear(predict.Json().at("prediction"), Churn().at("label"), 0)) << predict.body;
  EXPECT_EQ(client.Get("/health").status, 200);
  HttpResult meta = client.Get("/v2/models/churn");
  ASSERT_EQ(meta.status, 200) << meta.Describe();
  EXPECT_EQ(meta.Json().at("versions"), json::array{"1"}) << meta.body;
  EXPECT_TRUE(ExitedCleanly(server->Stop())) << server->Log();
}

// ===========================================================================
// 4. Hot swap under load

TEST(RegistryHotSwapTest, AliasFlipsUnderLoadLoseNoRequest) {
  constexpr int kConnections = 16;
  constexpr auto kDuration = 20s;
  constexpr auto kFlipEvery = 2s;
  constexpr auto kSwapAllowance = 1s;

  TempDir data;
  std::string error;
  auto server = ServerProcess::Start(ServeArgs(data.str()), {}, &error);
  ASSERT_NE(server, nullptr) << error;
  const uint16_t port = server->port();
  Api api(port);
  ASSERT_EQ(api.CreateModel("churn").status, 201);
  ASSERT_EQ(VersionOf(api.Push("churn", Files().a, Files().manifest, {"production"})), 1);
  ASSERT_EQ(VersionOf(api.Push("churn", Files().b, Files().manifest)), 2);
  ASSERT_TRUE(WaitFor([&] { return ServedVersion(port, "churn") == "1"; }, 2s))
      << server->Log();

  struct Sample {
    Clock::time_point sent;
    Clock::time_point answered;
    int version;  // 1 or 2; 0 for anything else
  };
  std::atomic<bool> stop{false};
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> failures{0};
  std::atomic<int64_t> reconnects{0};
  std::mutex mu;
  std::vector<std::string> failure_examples;  // GUARDED_BY(mu)
  std::vector<std::vector<Sample>> samples(kConnections);
  std::vector<double> max_latency(kConnections, 0);

  auto worker = [&](int id) {
    HttpClient client(port, 10s);
    size_t row = static_cast<size_t>(id) % ChurnRows();
    while (!stop.load()) {
      const auto sent = Clock::now();
      HttpResult r = client.Post("/v2/models/churn/infer", InferRowBody(row));
      const auto answered = Clock::now();
      const double latency = Seconds(answered - sent);
      max_latency[id] = std::max(max_latency[id], latency);
      requests.fetch_add(1);
      std::string problem;
      int version = 0;
      if (!r.ok() || r.status != 200) {
        problem = r.Describe();
      } else {
        json::value v = r.Json(&problem);
        const std::string mv = StringField(v, "model_version");
        version = mv == "1" ? 1 : mv == "2" ? 2 : 0;
        const json::object* label = FindOutput(v, "label");
        if (version == 0) {
          problem = "model_version '" + mv + "': " + r.body;
        } else if (!label || !JsonNear(label->at("data"), json::array{ExpectedLabel(row)}, 0)) {
          problem = "wrong label: " + r.body;
        }
      }
      if (!problem.empty()) {
        failures.fetch_add(1);
        std::lock_guard<std::mutex> lock(mu);
        if (failure_examples.size() < 5) failure_examples.push_back(problem);
      }
      samples[id].push_back({sent, answered, version});
      row = (row + 1) % ChurnRows();
    }
    reconnects.fetch_add(client.connections_opened() - 1);
  };

  struct Flip {
    int to;
    Clock::time_point asked;  // the PUT was sent
    Clock::time_point done;   // its 200 arrived
  };
  std::vector<Flip> flips;
  std::vector<std::string> flip_problems;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < kConnections; ++i) threads.emplace_back(worker, i);

  // Flips at 1 s, 3 s, ..., 19 s; the load runs for the whole 20 s.
  int target = 1;
  HttpClient sampler(port, 10s);
  for (auto tick = start + kFlipEvery / 2; tick + kFlipEvery / 2 <= start + kDuration;
       tick += kFlipEvery) {
    std::this_thread::sleep_until(tick);
    target = target == 1 ? 2 : 1;
    const auto asked = Clock::now();
    HttpResult moved = api.SetAlias("churn", "production", target);
    if (moved.status != 200) {
      flip_problems.push_back("flip to " + std::to_string(target) + ": " + moved.Describe());
      continue;
    }
    flips.push_back({target, asked, Clock::now()});
    std::this_thread::sleep_until(flips.back().done + kSwapAllowance);
    const std::string serving = ServedVersion(sampler, "churn");
    if (serving != std::to_string(target)) {
      flip_problems.push_back("1 s after the flip to " + std::to_string(target) +
                              " version '" + serving + "' answered");
    }
  }
  std::this_thread::sleep_until(start + kDuration);
  stop.store(true);
  for (auto& t : threads) t.join();
  const double elapsed = Seconds(Clock::now() - start);

  // Every load request sent at least kSwapAllowance after a flip completed
  // and answered before the next flip was asked for must come from the
  // flipped-to version. (A request sent just before the next PUT may be
  // handled after it, so the answer time bounds the window too.) Also measured: the last request answered by the old version,
  // counted from the moment the flip's 200 arrived.
  int64_t stale = 0;
  double last_old_answer = 0;
  for (const auto& per_connection : samples) {
    for (const auto& s : per_connection) {
      for (size_t f = 0; f < flips.size(); ++f) {
        const bool before_next = f + 1 == flips.size() || s.answered < flips[f + 1].asked;
        if (!before_next || s.sent < flips[f].asked || s.version == 0) continue;
        if (s.version != flips[f].to) {
          last_old_answer = std::max(last_old_answer, Seconds(s.sent - flips[f].done));
          if (s.sent >= flips[f].done + kSwapAllowance) ++stale;
        }
      }
    }
  }
  const double max_lat = *std::max_element(max_latency.begin(), max_latency.end());
  std::printf(
      "[ hot swap ] %lld requests in %.1f s (%.0f/s) on %d keep-alive connections, %zu flips; "
      "max latency %.1f ms; failures %lld, reconnects %lld; old version answered up to %.0f ms "
      "after a flip's 200 (stale after 1 s: %lld)\n",
      static_cast<long long>(requests.load()), elapsed, requests.load() / elapsed, kConnections,
      flips.size(), max_lat * 1000, static_cast<long long>(failures.load()),
      static_cast<long long>(reconnects.load()), last_old_answer * 1000,
      static_cast<long long>(stale));
  ::testing::Test::RecordProperty("hot_swap_requests", std::to_string(requests.load()));
  ::testing::Test::RecordProperty("hot_swap_max_latency_ms", std::to_string(max_lat * 1000));

  EXPECT_GT(requests.load(), 1000);
  EXPECT_EQ(failures.load(), 0) << "first failures:\n"
                                << [&] {
                                     std::string s;
                                     for (const auto& f : failure_examples) s += f + "\n";
                                     return s;
                                   }();
  EXPECT_EQ(reconnects.load(), 0) << "a keep-alive connection was cut";
  EXPECT_EQ(flips.size(), 10u);
  EXPECT_TRUE(flip_problems.empty()) << [&] {
    std::string s;
    for (const auto& f : flip_problems) s += f + "\n";
    return s;
  }();
  EXPECT_EQ(stale, 0) << "answers from the old version more than 1 s after a flip";
  // Both versions actually served.
  std::set<int> seen;
  for (const auto& per_connection : samples) {
    for (const auto& s : per_connection) seen.insert(s.version);
  }
  EXPECT_EQ(seen, (std::set<int>{1, 2}));
  EXPECT_TRUE(ExitedCleanly(server->Stop())) << server->Log();
}

// ===========================================================================
// 5. Two replicas on one PostgreSQL

TEST(RegistryReplicaTest, TwoReplicasOnPostgresFollowEachOther) {
  std::string error;
  mast::testing::PostgresServer* pg = mast::testing::PostgresServer::Shared(&error);
  ASSERT_NE(pg, nullptr) << "cannot start PostgreSQL: " << error;
  const std::string db = "rege2e_" + RandomHex(10);
  ASSERT_TRUE(pg->CreateDatabase(db, &error)) << error;
  const std::string dsn = pg->DsnFor(db);

  TempDir shared_blobs, data_a, data_b;
  auto replica = [&](const TempDir& data) {
    return ServerProcess::Start({"serve", "--port", "0", "--store", dsn, "--data-dir", data.str(),
                                 "--blob-dir", shared_blobs.str(), "--registry-poll", "0.5"},
                                {}, &error);
  };
  auto a = replica(data_a);
  ASSERT_NE(a, nullptr) << error;
  auto b = replica(data_b);
  ASSERT_NE(b, nullptr) << error;
  EXPECT_EQ(a->FindLogLine([](const json::object& o) {
               return StringField(o, "msg") == "store open" &&
                      StringField(o, "dialect") == "postgresql";
             }).has_value(),
            true)
      << a->Log();

  // Push through A; B serves it.
  Api api_a(a->port());
  ASSERT_EQ(api_a.CreateModel("churn").status, 201);
  HttpResult pushed = api_a.Push("churn", Files().a, Files().manifest, {"production"});
  ASSERT_EQ(pushed.status, 201) << pushed.Describe();
  HttpClient on_b(b->port(), 5s);
  auto b_delay = WaitFor([&] { return ServedVersion(on_b, "churn") == "1"; }, 5s);
  ASSERT_TRUE(b_delay.has_value()) << "replica B never served version 1; log:\n" << b->Log();
  HttpResult predict = on_b.Post("/v1/models/churn/predict", json::serialize(NamedRow(Churn(), 3)));
  EXPECT_EQ(predict.status, 200) << predict.Describe();
  EXPECT_EQ(predict.Json().at("prediction"), json::array{ExpectedLabel(3)}) << predict.body;

  // A second version through A, the alias flipped through B; A follows.
  ASSERT_EQ(VersionOf(api_a.Push("churn", Files().b, Files().manifest)), 2);
  Api api_b(b->port());
  HttpResult flipped = api_b.SetAlias("churn", "production", 2);
  ASSERT_EQ(flipped.status, 200) << flipped.Describe();
  HttpClient on_a(a->port(), 5s);
  auto a_delay = WaitFor([&] { return ServedVersion(on_a, "churn") == "2"; }, 5s);
  ASSERT_TRUE(a_delay.has_value()) << "replica A never followed the flip; log:\n" << a->Log();
  auto b_self = WaitFor([&] { return ServedVersion(on_b, "churn") == "2"; }, 5s);
  ASSERT_TRUE(b_self.has_value());

  std::printf("[ replicas ] push on A -> served by B: %.3f s; flip on B -> served by A: %.3f s; "
              "flip on B -> served by B: %.3f s (poll 0.5 s)\n",
              *b_delay, *a_delay, *b_self);
  EXPECT_LT(*b_delay, 2.0);
  EXPECT_LT(*a_delay, 2.0);

  // Both see one history.
  HttpResult ha = api_a.Get("/api/v1/models/churn/alias-history");
  HttpResult hb = api_b.Get("/api/v1/models/churn/alias-history");
  ASSERT_EQ(ha.status, 200) << ha.Describe();
  EXPECT_EQ(ha.Json().at("items").as_array().size(), 2u) << ha.body;
  EXPECT_EQ(ha.Json(), hb.Json());
  EXPECT_TRUE(ExitedCleanly(a->Stop())) << a->Log();
  EXPECT_TRUE(ExitedCleanly(b->Stop())) << b->Log();
}

// Replicas share --blob-dir. One that starts while another is writing an
// upload into it must not break that upload.
TEST(RegistryReplicaTest, ReplicaStartingDuringAnUploadDoesNotBreakIt) {
  std::string error;
  mast::testing::PostgresServer* pg = mast::testing::PostgresServer::Shared(&error);
  ASSERT_NE(pg, nullptr) << "cannot start PostgreSQL: " << error;
  const std::string db = "rege2e_" + RandomHex(10);
  ASSERT_TRUE(pg->CreateDatabase(db, &error)) << error;
  TempDir shared_blobs, data_a, data_b;
  auto replica = [&](const TempDir& data) {
    return ServerProcess::Start({"serve", "--port", "0", "--store", pg->DsnFor(db), "--data-dir",
                                 data.str(), "--blob-dir", shared_blobs.str()},
                                {}, &error);
  };
  auto a = replica(data_a);
  ASSERT_NE(a, nullptr) << error;

  const std::string big = RandomBytes(size_t{80} << 20, 99);
  HttpResult uploaded;
  std::thread upload([&] {
    Api api(a->port());
    uploaded = api.UploadBlob(big);
  });
  // Start B while A's temporary file exists (A is writing the blob).
  const bool writing =
      WaitFor([&] { return CountFiles(shared_blobs.path() / "tmp") > 0; }, 20s, 1ms).has_value();
  auto b = replica(data_b);
  upload.join();
  ASSERT_TRUE(writing) << "A never wrote a temporary file";
  ASSERT_NE(b, nullptr) << error;
  EXPECT_EQ(uploaded.status, 201) << uploaded.Describe();
  EXPECT_TRUE(fs::exists(BlobPath(shared_blobs.path(), mast::Sha256Digest(big))));
  EXPECT_TRUE(ExitedCleanly(a->Stop())) << a->Log();
  EXPECT_TRUE(ExitedCleanly(b->Stop())) << b->Log();
}

// ===========================================================================
// 6. Crash consistency (SIGKILL)

// After a restart: the registry answers, blobs/tmp is empty, every blob is
// intact, every version names a blob that exists, every alias points at an
// existing READY version, and the production version of every model is
// served. Returns the versions seen, by model.
std::map<std::string, std::vector<json::object>> CheckRegistryConsistent(
    ServerProcess& server, const fs::path& blob_dir) {
  std::map<std::string, std::vector<json::object>> out;
  EXPECT_EQ(CountFiles(blob_dir / "tmp"), 0u) << "leftover temporary blob files";
  EXPECT_TRUE(BlobsIntact(blob_dir));
  Api api(server.port());
  HttpClient serving(server.port(), 5s);
  for (const auto& m : ListAllModels(api)) {
    const std::string name = StringField(m, "name");
    auto versions = ListAllVersions(api, name);
    std::map<int64_t, json::object> by_number;
    for (const auto& v : versions) {
      const std::string digest = StringField(v, "digest");
      EXPECT_TRUE(fs::exists(BlobPath(blob_dir, digest)))
          << name << " version " << Str(v.at("version")) << " names missing blob " << digest;
      by_number[v.at("version").as_int64()] = v;
    }
    for (const auto& [alias, number] : m.at("aliases").as_object()) {
      auto it = by_number.find(number.as_int64());
      if (it == by_number.end()) {
        ADD_FAILURE() << name << " alias " << alias << " points at missing version "
                      << Str(number);
        continue;
      }
      EXPECT_EQ(StringField(it->second, "status"), "READY")
          << name << " alias " << alias << " -> " << Str(it->second);
      HttpResult got = api.Get("/api/v1/models/" + name + "/aliases/" + std::string(alias));
      EXPECT_EQ(VersionOf(got), number.as_int64()) << got.Describe();
    }
    if (const json::value* prod = m.at("aliases").as_object().if_contains("production")) {
      const std::string want = std::to_string(prod->as_int64());
      std::string got;
      auto ok = WaitFor([&] { return (got = ServedVersion(serving, name)) == want; }, 2s);
      EXPECT_TRUE(ok.has_value()) << name << ": production is " << want << " but '" << got
                                  << "' answers; log:\n"
                                  << server.Log();
    }
    out[name] = std::move(versions);
  }
  return out;
}

TEST(RegistryCrashTest, KillDuringBlobUploadLeavesAConsistentRegistry) {
  TempDir data;
  const fs::path blob_dir = data.path() / "blobs";
  std::string error;
  auto server = ServerProcess::Start(ServeArgs(data.str()), {}, &error);
  ASSERT_NE(server, nullptr) << error;
  {
    Api api(server->port());
    ASSERT_EQ(api.CreateModel("churn").status, 201);
    ASSERT_EQ(api.Push("churn", Files().a, Files().manifest, {"production"}).status, 201);
    ASSERT_EQ(api.Push("churn", Files().b, Files().manifest).status, 201);
  }
  const size_t kSize = 50u << 20;
  const std::string big = RandomBytes(kSize, 42);
  const std::string head = "POST /api/v1/blobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Content-Type: application/octet-stream\r\nContent-Length: " +
                           std::to_string(kSize) + "\r\n\r\n";
  std::mt19937 rng(std::random_device{}());
  // Round 0 kills mid-body; round 1 as soon as the blob's temporary file
  // appears (mid-write); round 2 at a random moment after the last byte.
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    RawConnection raw;
    ASSERT_TRUE(raw.Connect(server->port())) << raw.error();
    ASSERT_TRUE(raw.Send(head));
    const size_t sent = round == 0 ? kSize * 2 / 5 : kSize;
    ASSERT_TRUE(raw.Send(std::string_view(big).substr(0, sent))) << raw.error();
    bool temp_file_at_kill = false;
    if (round == 1) {
      temp_file_at_kill =
          WaitFor([&] { return CountFiles(blob_dir / "tmp") > 0; }, 10s, 1ms).has_value();
      EXPECT_TRUE(temp_file_at_kill) << "the blob was never written; log:\n" << server->Log();
    } else if (round == 2) {
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 2500));
    }
    ASSERT_TRUE(server->Signal(SIGKILL));
    ASSERT_TRUE(server->WaitExit(5s).has_value());
    raw.Close();

    server = ServerProcess::Start(ServeArgs(data.str()), {}, &error);
    ASSERT_NE(server, nullptr) << error;
    auto versions = CheckRegistryConsistent(*server, blob_dir);
    ASSERT_EQ(versions["churn"].size(), 2u);
    // Every version's blob is servable: point production at each in turn.
    Api api(server->port());
    for (int64_t v : {2, 1}) {
      ASSERT_EQ(api.SetAlias("churn", "production", v).status, 200);
      auto ok = WaitFor([&] { return ServedVersion(server->port(), "churn") == std::to_string(v); },
                        2s);
      EXPECT_TRUE(ok.has_value()) << "version " << v << " not served; log:\n" << server->Log();
    }
    // The big blob is either whole or absent.
    const fs::path big_path = BlobPath(blob_dir, mast::Sha256Digest(big));
    std::printf("[ crash ] round %d: temporary file %s at the kill, big blob %s after it\n",
                round, temp_file_at_kill ? "present" : "not seen",
                fs::exists(big_path) ? "stored" : "absent");
    if (round == 0) {
      EXPECT_FALSE(fs::exists(big_path));
    }
  }
  // And the registry still takes pushes.
  Api api(server->port());
  HttpResult pushed = api.Push("churn", Files().a, Files().manifest);
  EXPECT_EQ(pushed.status, 201) << pushed.Describe();
  EXPECT_EQ(VersionOf(pushed), 3);
  EXPECT_TRUE(ExitedCleanly(server->Stop())) << server->Log();
}

TEST(RegistryCrashTest, KillDuringPushesAndAliasMovesKeepsInvariants) {
  constexpr int kKills = 5;
  TempDir data;
  const fs::path blob_dir = data.path() / "blobs";
  std::mt19937 rng(std::random_device{}());
  std::string error;

  // What the client was told, across all lives of the server.
  std::map<int64_t, std::string> acknowledged;  // version -> digest (201 or 422)
  std::set<int64_t> ready;
  int64_t duplicate_numbers = 0;
  int64_t unexpected = 0;
  std::vector<std::string> unexpected_examples;
  std::set<int64_t> pending_seen;  // versions left PENDING by a kill

  // The last acknowledged move of production, and the move in flight when
  // the server died (-1: a push to production whose number is unknown).
  std::optional<int64_t> acked_production;
  std::optional<int64_t> inflight_production;

  for (int life = 0; life <= kKills; ++life) {
    SCOPED_TRACE("life " + std::to_string(life));
    auto server = ServerProcess::Start(ServeArgs(data.str()), {}, &error);
    ASSERT_NE(server, nullptr) << error;
    if (life > 0) {
      auto versions = CheckRegistryConsistent(*server, blob_dir);
      // Every acknowledged version survived with its blob.
      std::map<int64_t, json::object> by_number;
      for (const auto& v : versions["churn"]) by_number[v.at("version").as_int64()] = v;
      for (const auto& [number, digest] : acknowledged) {
        auto it = by_number.find(number);
        if (it == by_number.end()) {
          ADD_FAILURE() << "acknowledged version " << number << " is gone";
          continue;
        }
        EXPECT_EQ(StringField(it->second, "digest"), digest);
        if (ready.count(number)) {
          EXPECT_EQ(StringField(it->second, "status"), "READY");
        }
      }
      for (const auto& [number, v] : by_number) {
        if (StringField(v, "status") == "PENDING") pending_seen.insert(number);
      }
      // The last acknowledged move of production survived (or the one in
      // flight at the kill replaced it).
      if (acked_production) {
        Api api(server->port());
        const int64_t now = VersionOf(api.Get("/api/v1/models/churn/aliases/production"));
        const bool explained =
            now == *acked_production ||
            (inflight_production && (*inflight_production == now ||
                                     (*inflight_production == -1 && now > *acked_production)));
        EXPECT_TRUE(explained) << "production is " << now
                               << " but the last acknowledged move was to " << *acked_production;
      }
    }
    if (life == kKills) {
      EXPECT_TRUE(ExitedCleanly(server->Stop())) << server->Log();
      break;
    }

    // A client pushes and moves aliases until the server dies under it.
    std::atomic<bool> dead{false};
    inflight_production.reset();
    const uint16_t port = server->port();
    std::thread client([&, seed = rng()] {
      std::mt19937 r(static_cast<uint32_t>(seed));
      Api api(port);
      api.client().set_timeout(5s);
      auto note = [&](const HttpResult& res, std::initializer_list<int> fine) {
        if (!res.ok()) {
          dead = true;
          return false;
        }
        if (std::find(fine.begin(), fine.end(), res.status) == fine.end()) {
          ++unexpected;
          if (unexpected_examples.size() < 5) unexpected_examples.push_back(res.Describe());
        }
        return true;
      };
      if (!note(api.CreateModel("churn"), {201, 409})) return;
      while (!dead) {
        const int action = static_cast<int>(r() % 4);
        if (action <= 1 || ready.empty()) {
          // Push A or B, sometimes straight to production; sometimes a fresh
          // random blob first (a new file write to interrupt).
          if (r() % 3 == 0 && !note(api.UploadBlob(RandomBytes(256 << 10, r())), {201})) return;
          const bool to_production = r() % 2 == 0;
          const std::string& artifact = r() % 2 ? Files().a : Files().b;
          if (to_production) inflight_production = -1;
          HttpResult res = api.Push("churn", artifact, Files().manifest,
                                    to_production ? std::vector<std::string>{"production"}
                                                  : std::vector<std::string>{});
          if (!note(res, {201})) return;
          const int64_t number = VersionOf(res);
          if (res.status == 201 && number > 0) {
            if (acknowledged.count(number)) ++duplicate_numbers;
            acknowledged[number] = StringField(res.Json(), "digest");
            ready.insert(number);
            if (to_production) acked_production = number;
          }
        } else {
          auto it = ready.begin();
          std::advance(it, r() % ready.size());
          const std::string alias = action == 2 ? "production" : "staging";
          if (alias == "production") inflight_production = *it;
          HttpResult res = api.SetAlias("churn", alias, *it);
          if (!note(res, {200})) return;
          if (alias == "production" && res.status == 200) acked_production = *it;
        }
        inflight_production.reset();
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 1200));
    ASSERT_TRUE(server->Signal(SIGKILL));
    ASSERT_TRUE(server->WaitExit(5s).has_value());
    client.join();
    server.reset();
  }
  // A kill during a push's test-load leaves that version PENDING for good
  // (nothing resolves it at restart); reported, not asserted: the
  // invariants above still hold because no alias can take it.
  std::printf("[ crash ] %d kills: %zu versions acknowledged, %zu left PENDING\n", kKills,
              acknowledged.size(), pending_seen.size());
  EXPECT_GE(acknowledged.size(), 3u) << "the client hardly pushed anything";
  EXPECT_EQ(duplicate_numbers, 0) << "a version number was handed out twice";
  EXPECT_EQ(unexpected, 0) << [&] {
    std::string s;
    for (const auto& e : unexpected_examples) s += e + "\n";
    return s;
  }();
}

// ===========================================================================
// 7. The SQLite store survives a restart

TEST(RegistryRestartTest, SqliteStoreServesTheSameVersionAfterRestart) {
  TempDir data;
  std::string error;
  auto server = ServerProcess::Start(ServeArgs(data.str()), {}, &error);
  ASSERT_NE(server, nullptr) << error;
  json::value history_before;
  {
    Api api(server->port());
    ASSERT_EQ(api.CreateModel("churn", json::object{{"description", "kept"}}).status, 201);
    ASSERT_EQ(VersionOf(api.Push("churn", Files().a, Files().manifest)), 1);
    ASSERT_EQ(VersionOf(api.Push("churn", Files().b, Files().manifest, {"production"})), 2);
    ASSERT_EQ(api.SetAlias("churn", "staging", 1).status, 200);
    ASSERT_TRUE(WaitFor([&] { return ServedVersion(server->port(), "churn") == "2"; }, 2s));
    history_before = api.Get("/api/v1/models/churn/alias-history").Json();
  }
  ASSERT_TRUE(ExitedCleanly(server->Stop())) << server->Log();

  server = ServerProcess::Start(ServeArgs(data.str()), {}, &error);
  ASSERT_NE(server, nullptr) << error;
  EXPECT_EQ(server->listening_line().at("models_loaded"), json::value(1))
      << Str(server->listening_line());
  // Served at once: no push, no poll needed.
  HttpClient client(server->port());
  EXPECT_EQ(ServedVersion(client, "churn"), "2");
  HttpResult predict = client.Post("/v1/models/churn/predict", json::serialize(NamedRows(Churn())));
  ASSERT_EQ(predict.status, 200) << predict.Describe();
  EXPECT_TRUE(JsonNear(predict.Json().at("prediction"), Churn().at("label"), 0));
  Api api(server->port());
  HttpResult model = api.Get("/api/v1/models/churn");
  ASSERT_EQ(model.status, 200) << model.Describe();
  EXPECT_EQ(model.Json().at("aliases"), json::parse(R"({"production":2,"staging":1})"));
  EXPECT_EQ(StringField(model.Json(), "description"), "kept");
  EXPECT_EQ(api.Get("/api/v1/models/churn/alias-history").Json(), history_before);
  // Numbering continues.
  EXPECT_EQ(VersionOf(api.Push("churn", Files().a, Files().manifest)), 3);
  EXPECT_TRUE(ExitedCleanly(server->Stop())) << server->Log();
}

}  // namespace
}  // namespace mast_e2e
