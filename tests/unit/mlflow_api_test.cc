// The MLflow-compatible registry API (/api/2.0/mlflow) driven through a real
// Gateway, worker pool and Registry on a temporary SQLite store, with the
// committed model fixtures.
#include "api/mlflow_api.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>

#include <boost/json.hpp>

#include "api/openapi.h"
#include "api/registry_api.h"
#include "common/logging.h"
#include "fixture_util.h"
#include "monitor/metrics.h"
#include "monitor/serving_metrics.h"
#include "store/migrations.h"

namespace mast {
namespace {

namespace json = boost::json;
using testing::FixtureDir;
using testing::ReadFile;

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Response {
  int status = 0;
  json::value body;
  std::string raw;

  const json::object& obj() const { return body.as_object(); }
  std::string ErrorCode() const {
    const json::object* o = body.if_object();
    if (!o || !o->contains("error_code")) return "";
    return std::string(o->at("error_code").as_string());
  }
};

class MlflowApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("mast_mlflow");
    db_ = std::move(OpenSqliteDatabase((dir_ / "mast.db").string())).value();
    ASSERT_TRUE(ApplyMigrations(db_.get()).ok());
    store_ = std::make_unique<RegistryStore>(db_.get());
    blobs_ = std::move(BlobStore::Create((dir_ / "blobs").string())).value();
    registry_ = std::make_unique<Registry>(store_.get(), blobs_.get(), BackendOptions{});
    metrics_ = std::make_unique<ServingMetrics>(&metrics_registry_);
    gateway_ = std::make_unique<Gateway>(metrics_.get());
    workers_ = std::make_unique<WorkerPool>(2);
    RegisterRegistryApi(gateway_.get(), registry_.get(), workers_.get(), nullptr);
    RegisterMlflowApi(gateway_.get(), registry_.get(), workers_.get(), [this] { ++changes_; });
  }
  void TearDown() override {
    workers_.reset();  // finishes queued work before the registry goes away
    std::filesystem::remove_all(dir_);
  }

  Response Call(http::verb method, const std::string& target, const std::string& body = "",
                const std::string& content_type = "application/json") {
    HttpRequest req{method, target, 11};
    req.set(http::field::host, "localhost");
    if (!body.empty()) {
      req.set(http::field::content_type, content_type);
      req.body() = body;
    }
    req.prepare_payload();
    auto done = std::make_shared<std::promise<HttpResponse>>();
    auto future = done->get_future();
    gateway_->Handle(std::move(req), PeerInfo{"127.0.0.1", true},
                     [done](HttpResponse r) { done->set_value(std::move(r)); });
    Response out;
    if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      ADD_FAILURE() << "no response to " << target;
      return out;
    }
    HttpResponse r = future.get();
    out.status = static_cast<int>(r.result_int());
    out.raw = r.body();
    boost::system::error_code ec;
    out.body = json::parse(out.raw, ec);
    if (ec) ADD_FAILURE() << target << " answered non-JSON: " << out.raw;
    EXPECT_EQ(r[http::field::content_type], "application/json") << target;
    return out;
  }

  static std::string Path(const std::string& route) { return "/api/2.0/mlflow/" + route; }
  Response Get(const std::string& route_and_query) {
    return Call(http::verb::get, Path(route_and_query));
  }
  Response Post(const std::string& route, const json::object& body) {
    return Call(http::verb::post, Path(route), json::serialize(body));
  }
  Response Patch(const std::string& route, const json::object& body) {
    return Call(http::verb::patch, Path(route), json::serialize(body));
  }
  Response Delete(const std::string& route, const json::object& body) {
    return Call(http::verb::delete_, Path(route), json::serialize(body));
  }

  // Uploads a fixture through mast's own POST /api/v1/blobs; returns the digest.
  std::string Upload(const std::string& fixture) {
    Response r = Call(http::verb::post, "/api/v1/blobs",
                      ReadFile(FixtureDir(fixture) + "/model.onnx"), "application/octet-stream");
    EXPECT_EQ(r.status, 201) << r.raw;
    return std::string(r.obj().at("digest").as_string());
  }

  void CreateModel(const std::string& name, json::object extra = {}) {
    extra["name"] = name;
    Response r = Post("registered-models/create", extra);
    ASSERT_EQ(r.status, 200) << r.raw;
  }

  // Registers a fixture as a new version of `model`; returns model_version.
  json::object CreateVersion(const std::string& model, const std::string& fixture,
                             json::object extra = {}) {
    extra["name"] = model;
    extra["source"] = Upload(fixture);
    Response r = Post("model-versions/create", extra);
    EXPECT_EQ(r.status, 200) << r.raw;
    if (r.status != 200) return {};
    return r.obj().at("model_version").as_object();
  }

  static void ExpectError(const Response& r, int status, const std::string& code,
                          const std::string& message_part = "") {
    EXPECT_EQ(r.status, status) << r.raw;
    ASSERT_TRUE(r.body.is_object()) << r.raw;
    EXPECT_EQ(r.obj().size(), 2u) << "MLflow errors are {error_code, message}: " << r.raw;
    EXPECT_EQ(r.ErrorCode(), code) << r.raw;
    ASSERT_TRUE(r.obj().contains("message") && r.obj().at("message").is_string()) << r.raw;
    EXPECT_NE(std::string(r.obj().at("message").as_string()).find(message_part),
              std::string::npos)
        << r.raw;
  }

  static std::vector<std::string> Names(const json::array& items, const char* field) {
    std::vector<std::string> out;
    for (const auto& i : items) out.emplace_back(i.as_object().at(field).as_string());
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<SqlDatabase> db_;
  std::unique_ptr<RegistryStore> store_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<Registry> registry_;
  MetricsRegistry metrics_registry_;
  std::unique_ptr<ServingMetrics> metrics_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<WorkerPool> workers_;
  std::atomic<int> changes_{0};
};

TEST_F(MlflowApiTest, CreateGetUpdateAndDeleteARegisteredModel) {
  Response created = Post(
      "registered-models/create",
      {{"name", "churn"},
       {"description", "churn model"},
       {"tags", json::array{json::object{{"key", "team"}, {"value", "risk"}}}}});
  ASSERT_EQ(created.status, 200) << created.raw;
  const json::object& m = created.obj().at("registered_model").as_object();
  EXPECT_EQ(m.at("name"), "churn");
  EXPECT_EQ(m.at("description"), "churn model");
  EXPECT_EQ(m.at("tags"), (json::array{json::object{{"key", "team"}, {"value", "risk"}}}));
  EXPECT_EQ(m.at("aliases"), json::array{});
  EXPECT_EQ(m.at("latest_versions"), json::array{});
  EXPECT_EQ(changes_.load(), 1);

  Response got = Get("registered-models/get?name=churn");
  ASSERT_EQ(got.status, 200) << got.raw;
  EXPECT_EQ(got.obj().at("registered_model").as_object().at("description"), "churn model");
  EXPECT_EQ(changes_.load(), 1) << "a read is not a change";

  Response updated = Patch("registered-models/update", {{"name", "churn"}, {"description", "v2"}});
  ASSERT_EQ(updated.status, 200) << updated.raw;
  const json::object& u = updated.obj().at("registered_model").as_object();
  EXPECT_EQ(u.at("description"), "v2");
  EXPECT_GE(u.at("last_updated_timestamp").as_int64(), u.at("creation_timestamp").as_int64());

  // MLflow clients send DELETE parameters as a JSON body.
  Response deleted = Delete("registered-models/delete", {{"name", "churn"}});
  ASSERT_EQ(deleted.status, 200) << deleted.raw;
  EXPECT_EQ(deleted.body, json::object{});
  ExpectError(Get("registered-models/get?name=churn"), 404, "RESOURCE_DOES_NOT_EXIST", "churn");
}

TEST_F(MlflowApiTest, DuplicateCreateIsResourceAlreadyExistsWith400) {
  CreateModel("churn");
  ExpectError(Post("registered-models/create", {{"name", "churn"}}), 400,
              "RESOURCE_ALREADY_EXISTS", "churn");
}

TEST_F(MlflowApiTest, MissingThingsAreResourceDoesNotExistWith404) {
  ExpectError(Get("registered-models/get?name=nobody"), 404, "RESOURCE_DOES_NOT_EXIST", "nobody");
  ExpectError(Delete("registered-models/delete", {{"name", "nobody"}}), 404,
              "RESOURCE_DOES_NOT_EXIST");
  CreateModel("churn");
  ExpectError(Get("model-versions/get?name=churn&version=7"), 404, "RESOURCE_DOES_NOT_EXIST",
              "version 7");
  ExpectError(Get("registered-models/alias?name=churn&alias=champion"), 404,
              "RESOURCE_DOES_NOT_EXIST", "champion");
  ExpectError(Post("registered-models/get-latest-versions", {{"name", "nobody"}}), 404,
              "RESOURCE_DOES_NOT_EXIST");
  const std::string digest = Upload("logreg20");
  ExpectError(Post("model-versions/create", {{"name", "nobody"}, {"source", digest}}), 404,
              "RESOURCE_DOES_NOT_EXIST", "nobody");
  ExpectError(Post("model-versions/create",
                   {{"name", "churn"}, {"source", "sha256:" + std::string(64, 'c')}}),
              404, "RESOURCE_DOES_NOT_EXIST", "not stored");
}

TEST_F(MlflowApiTest, InvalidParametersAreInvalidParameterValueWith400) {
  ExpectError(Post("registered-models/create", {{"description", "no name"}}), 400,
              "INVALID_PARAMETER_VALUE", "name");
  ExpectError(Call(http::verb::post, Path("registered-models/create"), "{not json"), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post("registered-models/create", {{"name", "x"}, {"tags", "team=risk"}}), 400,
              "INVALID_PARAMETER_VALUE", "tags");
  CreateModel("churn");
  ExpectError(Get("model-versions/get?name=churn&version=one"), 400, "INVALID_PARAMETER_VALUE",
              "version");
}

TEST_F(MlflowApiTest, SearchRegisteredModelsByNameLikeEqualityAndTags) {
  CreateModel("churn-a");
  CreateModel("churn-b", {{"tags", json::array{json::object{{"key", "team"}, {"value", "risk"}}}}});
  CreateModel("fraud", {{"tags", json::array{json::object{{"key", "team"}, {"value", "risk"}}}}});
  CreateModel("old_churn");

  // GET with the filter form-encoded, as MLflow's Python client sends it.
  Response like = Get("registered-models/search?filter=name+LIKE+%27%25churn%25%27");
  ASSERT_EQ(like.status, 200) << like.raw;
  EXPECT_EQ(Names(like.obj().at("registered_models").as_array(), "name"),
            (std::vector<std::string>{"churn-a", "churn-b", "old_churn"}));
  EXPECT_FALSE(like.obj().contains("next_page_token"));

  Response prefix = Post("registered-models/search", {{"filter", "name LIKE 'churn%'"}});
  EXPECT_EQ(Names(prefix.obj().at("registered_models").as_array(), "name"),
            (std::vector<std::string>{"churn-a", "churn-b"}));
  Response ilike = Post("registered-models/search", {{"filter", "name ILIKE '%CHURN-_'"}});
  EXPECT_EQ(Names(ilike.obj().at("registered_models").as_array(), "name"),
            (std::vector<std::string>{"churn-a", "churn-b"}));
  Response exact = Post("registered-models/search", {{"filter", "name='fraud'"}});
  EXPECT_EQ(Names(exact.obj().at("registered_models").as_array(), "name"),
            (std::vector<std::string>{"fraud"}));
  Response none = Post("registered-models/search", {{"filter", "name = 'churn'"}});
  EXPECT_EQ(none.obj().at("registered_models"), json::array{});
  Response tagged = Post("registered-models/search",
                         {{"filter", "tags.team = 'risk' AND name LIKE '%churn%'"}});
  EXPECT_EQ(Names(tagged.obj().at("registered_models").as_array(), "name"),
            (std::vector<std::string>{"churn-b"}));

  // Pages of two, following next_page_token.
  std::vector<std::string> all;
  std::string token;
  int pages = 0;
  do {
    json::object req{{"max_results", 2}};
    if (!token.empty()) req["page_token"] = token;
    Response page = Post("registered-models/search", req);
    ASSERT_EQ(page.status, 200) << page.raw;
    for (auto& n : Names(page.obj().at("registered_models").as_array(), "name")) all.push_back(n);
    token = page.obj().contains("next_page_token")
                ? std::string(page.obj().at("next_page_token").as_string())
                : "";
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(all, (std::vector<std::string>{"churn-a", "churn-b", "fraud", "old_churn"}));

  ExpectError(Post("registered-models/search", {{"filter", "name LIKE churn"}}), 400,
              "INVALID_PARAMETER_VALUE", "invalid filter");
  ExpectError(Post("registered-models/search", {{"filter", "owner = 'x'"}}), 400,
              "INVALID_PARAMETER_VALUE", "unsupported attribute");
  ExpectError(Get("registered-models/search?max_results=5000"), 400, "INVALID_PARAMETER_VALUE",
              "max_results");
  ExpectError(Post("registered-models/search",
                   {{"order_by", json::array{"last_updated_timestamp DESC"}}}),
              400, "INVALID_PARAMETER_VALUE", "order_by");
}

TEST_F(MlflowApiTest, VersionFromAnUploadedBlobIsReadyAndNumberedAsAString) {
  CreateModel("churn");
  const std::string digest = Upload("logreg20");
  const int64_t before = NowMillis();
  Response r = Post("model-versions/create",
                    {{"name", "churn"},
                     {"source", digest},
                     {"run_id", "run-1"},
                     {"description", "first"},
                     {"tags", json::array{json::object{{"key", "data"}, {"value", "2026-11"}}}}});
  ASSERT_EQ(r.status, 200) << r.raw;
  const json::object& v = r.obj().at("model_version").as_object();
  EXPECT_EQ(v.at("name"), "churn");
  EXPECT_EQ(v.at("version"), "1");
  EXPECT_EQ(v.at("status"), "READY") << r.raw;
  EXPECT_EQ(v.at("status_message"), "");
  EXPECT_EQ(v.at("current_stage"), "None");
  EXPECT_EQ(v.at("source").as_string(), "mast-blob:" + digest);
  EXPECT_EQ(v.at("run_id"), "run-1");
  EXPECT_EQ(v.at("description"), "first");
  EXPECT_EQ(v.at("tags"), (json::array{json::object{{"key", "data"}, {"value", "2026-11"}}}));
  EXPECT_EQ(v.at("aliases"), json::array{});
  EXPECT_EQ(v.at("user_id"), "loopback:127.0.0.1");

  // Timestamps are integers in milliseconds since the epoch, and now.
  ASSERT_TRUE(v.at("creation_timestamp").is_int64()) << r.raw;
  ASSERT_TRUE(v.at("last_updated_timestamp").is_int64()) << r.raw;
  const int64_t created = v.at("creation_timestamp").as_int64();
  EXPECT_GE(created, before - 1000);
  EXPECT_LE(created, NowMillis() + 1000);
  EXPECT_GE(v.at("last_updated_timestamp").as_int64(), created);

  // The "mast-blob:" form names the same artifact.
  Response second = Post("model-versions/create", {{"name", "churn"}, {"source", "mast-blob:" + digest}});
  ASSERT_EQ(second.status, 200) << second.raw;
  EXPECT_EQ(second.obj().at("model_version").as_object().at("version"), "2");

  Response got = Get("model-versions/get?name=churn&version=1");
  ASSERT_EQ(got.status, 200) << got.raw;
  EXPECT_EQ(got.obj().at("model_version"), v);

  Response uri = Get("model-versions/get-download-uri?name=churn&version=2");
  ASSERT_EQ(uri.status, 200) << uri.raw;
  EXPECT_EQ(uri.body, (json::object{{"artifact_uri", "mast-blob:" + digest}}));

  Response model = Get("registered-models/get?name=churn");
  const json::object& m = model.obj().at("registered_model").as_object();
  ASSERT_EQ(m.at("latest_versions").as_array().size(), 1u) << model.raw;
  EXPECT_EQ(m.at("latest_versions").as_array()[0].as_object().at("version"), "2");
  ASSERT_TRUE(m.at("creation_timestamp").is_int64());
  EXPECT_GE(m.at("creation_timestamp").as_int64(), before - 1000);

  Response updated = Patch("model-versions/update",
                           {{"name", "churn"}, {"version", "1"}, {"description", "better"}});
  ASSERT_EQ(updated.status, 200) << updated.raw;
  EXPECT_EQ(updated.obj().at("model_version").as_object().at("description"), "better");
}

TEST_F(MlflowApiTest, CorruptArtifactIsFailedRegistrationWithTheReason) {
  CreateModel("churn");
  json::object v = CreateVersion("churn", "corrupt");
  EXPECT_EQ(v.at("status"), "FAILED_REGISTRATION");
  EXPECT_NE(std::string(v.at("status_message").as_string()).find("Protobuf parsing failed"),
            std::string::npos)
      << json::serialize(v);
  // A failed version is never a latest version, nor an alias target.
  Response latest = Post("registered-models/get-latest-versions", {{"name", "churn"}});
  EXPECT_EQ(latest.obj().at("model_versions"), json::array{});
  ExpectError(Post("registered-models/alias",
                   {{"name", "churn"}, {"alias", "champion"}, {"version", "1"}}),
              400, "INVALID_PARAMETER_VALUE", "READY");
}

TEST_F(MlflowApiTest, LocalPathsAndRemoteSourcesAreRefused) {
  CreateModel("churn");
  for (const char* source :
       {"/etc/passwd", "file:///tmp/model.onnx", "./model.onnx", "models/churn/model.onnx"}) {
    ExpectError(Post("model-versions/create", {{"name", "churn"}, {"source", source}}), 400,
                "INVALID_PARAMETER_VALUE", "/api/v1/blobs");
    EXPECT_NE(Post("model-versions/create", {{"name", "churn"}, {"source", source}})
                  .obj()
                  .at("message")
                  .as_string()
                  .find("local path"),
              std::string::npos)
        << source;
  }
  ExpectError(Post("model-versions/create", {{"name", "churn"}, {"source", "s3://bucket/m"}}), 400,
              "INVALID_PARAMETER_VALUE", "scheme 's3'");
  ExpectError(Post("model-versions/create", {{"name", "churn"}, {"source", "runs:/abc/model"}}),
              400, "INVALID_PARAMETER_VALUE", "/api/v1/blobs");
  ExpectError(Post("model-versions/create", {{"name", "churn"}, {"source", "sha256:abc"}}), 400,
              "INVALID_PARAMETER_VALUE", "64 hex");
  ExpectError(Post("model-versions/create", {{"name", "churn"}}), 400, "INVALID_PARAMETER_VALUE",
              "source");
  Response versions = Post("model-versions/search", {{"filter", "name='churn'"}});
  EXPECT_EQ(versions.obj().at("model_versions"), json::array{}) << "nothing was recorded";
}

TEST_F(MlflowApiTest, AliasesSetGetDeleteAndDeletionIsRefusedWhileAliased) {
  CreateModel("churn");
  CreateVersion("churn", "logreg20");
  CreateVersion("churn", "logreg20");
  const int before = changes_.load();
  Response set = Post("registered-models/alias",
                      {{"name", "churn"}, {"alias", "champion"}, {"version", "1"}});
  ASSERT_EQ(set.status, 200) << set.raw;
  EXPECT_EQ(set.body, json::object{});
  EXPECT_EQ(changes_.load(), before + 1);

  Response got = Get("registered-models/alias?name=churn&alias=champion");
  ASSERT_EQ(got.status, 200) << got.raw;
  const json::object& v = got.obj().at("model_version").as_object();
  EXPECT_EQ(v.at("version"), "1");
  EXPECT_EQ(v.at("aliases"), json::array{"champion"});
  Response model = Get("registered-models/get?name=churn");
  EXPECT_EQ(model.obj().at("registered_model").as_object().at("aliases"),
            (json::array{json::object{{"alias", "champion"}, {"version", "1"}}}));

  ExpectError(Delete("model-versions/delete", {{"name", "churn"}, {"version", "1"}}), 400,
              "INVALID_PARAMETER_VALUE", "champion");
  ExpectError(Delete("registered-models/delete", {{"name", "churn"}}), 400,
              "INVALID_PARAMETER_VALUE", "champion");
  ASSERT_EQ(Get("model-versions/get?name=churn&version=1").status, 200);

  // A version number as a JSON number is accepted too.
  ASSERT_EQ(Post("registered-models/alias", {{"name", "churn"}, {"alias", "champion"}, {"version", 2}})
                .status,
            200);
  EXPECT_EQ(Get("registered-models/alias?name=churn&alias=champion")
                .obj()
                .at("model_version")
                .as_object()
                .at("version"),
            "2");
  Response deleted_v1 = Delete("model-versions/delete", {{"name", "churn"}, {"version", "1"}});
  EXPECT_EQ(deleted_v1.status, 200) << deleted_v1.raw;

  Response unaliased = Delete("registered-models/alias", {{"name", "churn"}, {"alias", "champion"}});
  ASSERT_EQ(unaliased.status, 200) << unaliased.raw;
  ExpectError(Get("registered-models/alias?name=churn&alias=champion"), 404,
              "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Delete("registered-models/alias", {{"name", "churn"}, {"alias", "champion"}}), 404,
              "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(Delete("registered-models/delete", {{"name", "churn"}}).status, 200);
}

TEST_F(MlflowApiTest, GetLatestVersionsIsTheNewestReadyVersionInStageNone) {
  CreateModel("churn");
  Response empty = Post("registered-models/get-latest-versions", {{"name", "churn"}});
  ASSERT_EQ(empty.status, 200) << empty.raw;
  EXPECT_EQ(empty.obj().at("model_versions"), json::array{});
  CreateVersion("churn", "logreg20");
  CreateVersion("churn", "logreg20");
  CreateVersion("churn", "corrupt");  // version 3, FAILED

  Response all = Post("registered-models/get-latest-versions", {{"name", "churn"}});
  ASSERT_EQ(all.status, 200) << all.raw;
  EXPECT_EQ(Names(all.obj().at("model_versions").as_array(), "version"),
            std::vector<std::string>{"2"});
  Response none = Post("registered-models/get-latest-versions",
                       {{"name", "churn"}, {"stages", json::array{"None"}}});
  EXPECT_EQ(Names(none.obj().at("model_versions").as_array(), "version"),
            std::vector<std::string>{"2"});
  Response get_form = Get("registered-models/get-latest-versions?name=churn&stages=none");
  EXPECT_EQ(Names(get_form.obj().at("model_versions").as_array(), "version"),
            std::vector<std::string>{"2"});
  // No version is ever in Production: mast has aliases, not stages.
  Response production = Post("registered-models/get-latest-versions",
                             {{"name", "churn"}, {"stages", json::array{"Production"}}});
  ASSERT_EQ(production.status, 200) << production.raw;
  EXPECT_EQ(production.obj().at("model_versions"), json::array{});
  ExpectError(Post("registered-models/get-latest-versions",
                   {{"name", "churn"}, {"stages", json::array{"Shipped"}}}),
              400, "INVALID_PARAMETER_VALUE", "Shipped");
}

TEST_F(MlflowApiTest, ModelAndVersionTags) {
  CreateModel("churn");
  CreateVersion("churn", "logreg20");
  ASSERT_EQ(Post("registered-models/set-tag", {{"name", "churn"}, {"key", "team"}, {"value", "risk"}})
                .status,
            200);
  ASSERT_EQ(Post("model-versions/set-tag",
                 {{"name", "churn"}, {"version", "1"}, {"key", "validated"}, {"value", "yes"}})
                .status,
            200);
  EXPECT_EQ(Get("registered-models/get?name=churn").obj().at("registered_model").as_object().at("tags"),
            (json::array{json::object{{"key", "team"}, {"value", "risk"}}}));
  EXPECT_EQ(Get("model-versions/get?name=churn&version=1").obj().at("model_version").as_object().at("tags"),
            (json::array{json::object{{"key", "validated"}, {"value", "yes"}}}));

  ASSERT_EQ(Delete("registered-models/delete-tag", {{"name", "churn"}, {"key", "team"}}).status, 200);
  ASSERT_EQ(Delete("model-versions/delete-tag", {{"name", "churn"}, {"version", "1"}, {"key", "validated"}})
                .status,
            200);
  EXPECT_EQ(Get("registered-models/get?name=churn").obj().at("registered_model").as_object().at("tags"),
            json::array{});
  EXPECT_EQ(Get("model-versions/get?name=churn&version=1").obj().at("model_version").as_object().at("tags"),
            json::array{});
  ExpectError(Delete("registered-models/delete-tag", {{"name", "churn"}, {"key", "team"}}), 404,
              "RESOURCE_DOES_NOT_EXIST", "team");
  ExpectError(Post("model-versions/set-tag", {{"name", "churn"}, {"version", "9"}, {"key", "k"}}),
              404, "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(MlflowApiTest, SearchModelVersionsByNameRunIdAndPages) {
  CreateModel("churn");
  CreateModel("fraud");
  CreateVersion("churn", "logreg20", {{"run_id", "run-a"}});
  CreateVersion("churn", "logreg20", {{"run_id", "run-b"}});
  CreateVersion("fraud", "logreg20", {{"run_id", "run-b"}});

  Response by_name = Get("model-versions/search?filter=name%3D%27churn%27");
  ASSERT_EQ(by_name.status, 200) << by_name.raw;
  EXPECT_EQ(Names(by_name.obj().at("model_versions").as_array(), "version"),
            (std::vector<std::string>{"2", "1"}));
  Response by_run = Post("model-versions/search", {{"filter", "run_id = 'run-b'"}});
  auto runs = by_run.obj().at("model_versions").as_array();
  EXPECT_EQ(Names(runs, "name"), (std::vector<std::string>{"churn", "fraud"}));
  Response both = Post("model-versions/search",
                       {{"filter", "name = 'churn' AND run_id IN ('run-a', 'run-x')"}});
  EXPECT_EQ(Names(both.obj().at("model_versions").as_array(), "version"),
            std::vector<std::string>{"1"});
  Response numbered = Post("model-versions/search", {{"filter", "version_number = 1"}});
  EXPECT_EQ(Names(numbered.obj().at("model_versions").as_array(), "name"),
            (std::vector<std::string>{"churn", "fraud"}));

  // One per page across models: churn 2, churn 1, fraud 1.
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    std::string query = "model-versions/search?max_results=1";
    if (!token.empty()) query += "&page_token=" + token;
    Response page = Get(query);
    ASSERT_EQ(page.status, 200) << page.raw;
    for (const auto& v : page.obj().at("model_versions").as_array()) {
      seen.push_back(std::string(v.as_object().at("name").as_string()) + "/" +
                     std::string(v.as_object().at("version").as_string()));
    }
    token = page.obj().contains("next_page_token")
                ? std::string(page.obj().at("next_page_token").as_string())
                : "";
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(seen, (std::vector<std::string>{"churn/2", "churn/1", "fraud/1"}));
  ExpectError(Post("model-versions/search", {{"page_token", "garbage"}}), 400,
              "INVALID_PARAMETER_VALUE", "page_token");
}

TEST_F(MlflowApiTest, RenameAndStageTransitionsAreNotImplemented) {
  CreateModel("churn");
  ExpectError(Post("registered-models/rename", {{"name", "churn"}, {"new_name", "churn2"}}), 501,
              "NOT_IMPLEMENTED", "rename");
  ExpectError(Post("model-versions/transition-stage",
                   {{"name", "churn"}, {"version", "1"}, {"stage", "Production"}}),
              501, "NOT_IMPLEMENTED", "alias");
}

TEST_F(MlflowApiTest, RoutesAreManagementRoutes) {
  Response r = [&] {
    HttpRequest req{http::verb::get, Path("registered-models/get?name=churn"), 11};
    req.prepare_payload();
    std::promise<HttpResponse> done;
    auto future = done.get_future();
    gateway_->Handle(std::move(req), PeerInfo{"10.1.2.3", false},
                     [&done](HttpResponse resp) { done.set_value(std::move(resp)); });
    HttpResponse resp = future.get();
    return Response{static_cast<int>(resp.result_int()), json::parse(resp.body()), resp.body()};
  }();
  // The gateway's own refusal takes MLflow's shape on MLflow's routes.
  ExpectError(r, 403, "PERMISSION_DENIED", "");
}

TEST_F(MlflowApiTest, GatewayAnswersOnMlflowPathsTakeMlflowsShape) {
  // An endpoint MLflow does not have: ENDPOINT_NOT_FOUND, as an MLflow server says.
  ExpectError(Get("registered-models/no-such-thing"), 404, "ENDPOINT_NOT_FOUND",
              "no route /api/2.0/mlflow/registered-models/no-such-thing");
  // A method the route does not take: no such endpoint either (MLflow's
  // endpoints are a method and a path).
  Response wrong = Call(http::verb::put, Path("registered-models/create"), "{}");
  ExpectError(wrong, 405, "ENDPOINT_NOT_FOUND", "PUT");
  // The OpenAPI document says so.
  boost::system::error_code ec;
  json::value doc = json::parse(OpenApiDocument(gateway_->routes(), "test"), ec);
  ASSERT_FALSE(ec);
  const json::value& schema = doc.at("paths").at("/api/2.0/mlflow/registered-models/get")
                                  .at("get").at("responses").at("4XX").at("content")
                                  .at("application/json").at("schema");
  EXPECT_EQ(schema.at("properties").as_object().size(), 2u) << json::serialize(schema);
  EXPECT_TRUE(schema.at("properties").as_object().contains("error_code"))
      << json::serialize(schema);
  // mast's own API keeps its shape.
  Response native = Call(http::verb::get, "/api/v1/no-such-thing");
  EXPECT_EQ(native.status, 404) << native.raw;
  ASSERT_TRUE(native.body.is_object()) << native.raw;
  EXPECT_TRUE(native.obj().contains("error")) << native.raw;
  EXPECT_FALSE(native.obj().contains("error_code")) << native.raw;
}

TEST(MlflowApiHelpers, Rfc3339TimestampsBecomeEpochMilliseconds) {
  EXPECT_EQ(EpochMillisFromRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(EpochMillisFromRfc3339("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(EpochMillisFromRfc3339("2026-11-26T20:11:00.123Z"), int64_t{1795723860123});
  EXPECT_EQ(EpochMillisFromRfc3339("2026-11-26T21:11:00.123+01:00"), int64_t{1795723860123});
  EXPECT_EQ(EpochMillisFromRfc3339("2026-11-26T20:11:00.123456Z"), int64_t{1795723860123});
  EXPECT_EQ(EpochMillisFromRfc3339("2026-11-26"), std::nullopt);
  EXPECT_EQ(EpochMillisFromRfc3339("2026-11-26T20:11:00"), std::nullopt);
  EXPECT_EQ(EpochMillisFromRfc3339("2026-13-26T20:11:00Z"), std::nullopt);
  EXPECT_EQ(EpochMillisFromRfc3339("2026-11-26T20:11:00Zjunk"), std::nullopt);
  // What the store writes round-trips to about now.
  auto now = EpochMillisFromRfc3339(NowRfc3339());
  ASSERT_TRUE(now.has_value());
  EXPECT_NEAR(static_cast<double>(*now), static_cast<double>(NowMillis()), 2000.0);
}

TEST(MlflowApiHelpers, LikeMatchesPercentAndUnderscore) {
  EXPECT_TRUE(LikeMatch("churn", "churn", false));
  EXPECT_TRUE(LikeMatch("old_churn_v2", "%churn%", false));
  EXPECT_TRUE(LikeMatch("churn-a", "churn-_", false));
  EXPECT_FALSE(LikeMatch("churn-ab", "churn-_", false));
  EXPECT_TRUE(LikeMatch("", "%", false));
  EXPECT_FALSE(LikeMatch("Churn", "churn", false));
  EXPECT_TRUE(LikeMatch("Churn", "churn", true));
  EXPECT_TRUE(LikeMatch("abcabcabd", "%abc%abd", false));
  EXPECT_FALSE(LikeMatch("abcabcab", "%abc%abd", false));
}

}  // namespace
}  // namespace mast
