// Registry (push, test-load) and RegistrySource (serving aliases) on SQLite
// with the committed fixtures.
#include "registry/registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "fixture_util.h"
#include "registry/registry_source.h"
#include "store/migrations.h"

namespace mast {
namespace {

using testing::FixtureDir;
using testing::ReadFile;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("mast_registry");
    db_ = std::move(OpenSqliteDatabase((dir_ / "mast.db").string())).value();
    ASSERT_TRUE(ApplyMigrations(db_.get()).ok());
    store_ = std::make_unique<RegistryStore>(db_.get());
    blobs_ = std::move(BlobStore::Create((dir_ / "blobs").string())).value();
    registry_ = std::make_unique<Registry>(store_.get(), blobs_.get(), BackendOptions{});
    ASSERT_TRUE(store_->CreateModel("churn", "", {}, "t").ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  StatusOr<ModelVersionRecord> Push(const std::string& fixture, const std::string& file,
                                    const std::string& manifest, const std::string& model = "churn",
                                    const std::string& format = "") {
    auto blob = registry_->PutBlob(ReadFile(FixtureDir(fixture) + "/" + file));
    if (!blob.ok()) return blob.status();
    NewVersion req;
    req.model_name = model;
    req.digest = blob->digest;
    req.manifest = manifest;
    req.format = format;
    req.actor = "test";
    return registry_->CreateVersion(req);
  }

  std::filesystem::path dir_;
  std::unique_ptr<SqlDatabase> db_;
  std::unique_ptr<RegistryStore> store_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryTest, AGoodModelBecomesReadyWithItsSignature) {
  auto v = Push("logreg20_manifest", "model.onnx",
                ReadFile(FixtureDir("logreg20_manifest") + "/model.yaml"));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->status, VersionStatus::kReady) << v->status_message;
  EXPECT_EQ(v->format, "onnx");
  EXPECT_NE(v->signature.find("\"FP32\""), std::string::npos) << v->signature;
  EXPECT_NE(v->manifest.find("tenure_months"), std::string::npos);
}

TEST_F(RegistryTest, FormatIsDetectedForXgboostJsonAndUbj) {
  ASSERT_TRUE(store_->CreateModel("iris", "", {}, "t").ok());
  auto ubj = Push("xgb_multi_ubj", "model.ubj", "", "iris");
  ASSERT_TRUE(ubj.ok()) << ubj.status().message();
  EXPECT_EQ(ubj->format, "xgboost-ubj");
  EXPECT_EQ(ubj->status, VersionStatus::kReady) << ubj->status_message;
  auto json = Push("xgb_binary", "model.json", "", "iris");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->format, "xgboost-json");
  EXPECT_EQ(json->status, VersionStatus::kReady) << json->status_message;
}

TEST_F(RegistryTest, CorruptArtifactIsFailedWithTheReason) {
  auto v = Push("corrupt", "model.onnx", "");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->status, VersionStatus::kFailed);
  EXPECT_NE(v->status_message.find("Protobuf parsing failed"), std::string::npos)
      << v->status_message;
  EXPECT_EQ(store_->SetAlias("churn", "production", v->version, "t").code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(RegistryTest, ManifestThatDoesNotFitTheModelIsFailed) {
  auto v = Push("logreg20", "model.onnx", "features: [{name: a}, {name: b}]\n");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->status, VersionStatus::kFailed);
  EXPECT_NE(v->status_message.find("declares 2 features"), std::string::npos)
      << v->status_message;
}

TEST_F(RegistryTest, InvalidRequestsAreRefusedBeforeAnythingIsRecorded) {
  auto yaml = Push("logreg20", "model.onnx", "features: [");
  EXPECT_EQ(yaml.status().code(), StatusCode::kInvalidArgument);
  auto unknown = Push("logreg20", "model.onnx", "", "nobody");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  auto format = Push("logreg20", "model.onnx", "", "churn", "pickle");
  EXPECT_EQ(format.status().code(), StatusCode::kInvalidArgument);
  NewVersion missing_blob;
  missing_blob.model_name = "churn";
  missing_blob.digest = "sha256:" + std::string(64, 'c');
  EXPECT_EQ(registry_->CreateVersion(missing_blob).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->ListVersions("churn", 10, 0)->empty());
  EXPECT_EQ(registry_->PutBlob("").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RegistryTest, SourceServesTheAliasedVersionAndFollowsItsMoves) {
  const std::string manifest = ReadFile(FixtureDir("logreg20_manifest") + "/model.yaml");
  auto v1 = Push("logreg20_manifest", "model.onnx", manifest);
  auto v2 = Push("logreg20_manifest", "model.onnx", manifest);
  ASSERT_TRUE(v1.ok() && v2.ok());
  MetricsRegistry metrics_registry;
  ServingMetrics metrics(&metrics_registry);
  ModelManager manager(BackendOptions{}, &metrics);
  RegistrySourceOptions options;
  options.poll_interval = std::chrono::milliseconds(50);
  RegistrySource source(registry_.get(), &manager, {}, options);
  source.Start();
  EXPECT_EQ(manager.snapshot()->loaded_count(), 0);  // no alias yet

  ASSERT_TRUE(store_->SetAlias("churn", "production", 1, "t").ok());
  ASSERT_TRUE(source.SyncNow().ok());
  auto served = manager.snapshot()->Find("churn");
  ASSERT_TRUE(served.ok()) << served.status().message();
  EXPECT_EQ((*served)->version, "1");

  // Moved by "another replica": picked up by polling alone.
  ASSERT_TRUE(store_->SetAlias("churn", "production", 2, "t").ok());
  for (int i = 0; i < 100 && manager.snapshot()->Find("churn").value()->version != "2"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(manager.snapshot()->Find("churn").value()->version, "2");
  // Version 1 is unloaded once nothing holds it (here: at once).
  served = Status(StatusCode::kNotFound, "released");
  for (int i = 0; i < 100 && manager.unloaded_count() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(manager.unloaded_count(), 1);
  source.Stop();
}

TEST_F(RegistryTest, ChangedBlobIsNotServed) {
  const std::string manifest = ReadFile(FixtureDir("logreg20_manifest") + "/model.yaml");
  auto v1 = Push("logreg20_manifest", "model.onnx", manifest);
  ASSERT_TRUE(v1.ok());
  ASSERT_TRUE(store_->SetAlias("churn", "production", 1, "t").ok());
  {
    std::ofstream out(*blobs_->Path(v1->digest), std::ios::app);
    out << "tamper";
  }
  MetricsRegistry metrics_registry;
  ServingMetrics metrics(&metrics_registry);
  ModelManager manager(BackendOptions{}, &metrics);
  RegistrySource source(registry_.get(), &manager, {}, RegistrySourceOptions{});
  source.Start();
  auto served = manager.snapshot()->Find("churn", "1");
  ASSERT_FALSE(served.ok());
  EXPECT_EQ(served.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(served.status().message().find("hashes to"), std::string::npos)
      << served.status().message();
  source.Stop();
}

TEST_F(RegistryTest, VersionPolicyAddsVersionsButTheAliasAnswersByDefault) {
  const std::string manifest = ReadFile(FixtureDir("logreg20_manifest") + "/model.yaml");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Push("logreg20_manifest", "model.onnx", manifest).ok());
  ASSERT_TRUE(store_->SetAlias("churn", "production", 1, "t").ok());
  MetricsRegistry metrics_registry;
  ServingMetrics metrics(&metrics_registry);
  ModelManager manager(BackendOptions{}, &metrics);
  RegistrySource source(registry_.get(), &manager, {}, RegistrySourceOptions{});
  source.Start();
  EXPECT_EQ(manager.snapshot()->Versions("churn")->size(), 1u);

  ASSERT_TRUE(store_->SetModelTag("churn", "mast.version_policy", "latest:2").ok());
  ASSERT_TRUE(source.SyncNow().ok());
  const auto* versions = manager.snapshot()->Versions("churn");
  ASSERT_NE(versions, nullptr);
  EXPECT_EQ(versions->size(), 3u);  // 3 and 2 by policy, 1 by alias
  EXPECT_EQ(manager.snapshot()->Find("churn").value()->version, "1");
  EXPECT_TRUE(manager.snapshot()->Find("churn", "3").ok());

  ASSERT_TRUE(store_->SetModelTag("churn", "mast.version_policy", "specific:2").ok());
  ASSERT_TRUE(source.SyncNow().ok());
  EXPECT_EQ(manager.snapshot()->Versions("churn")->size(), 2u);
  EXPECT_EQ(manager.snapshot()->Find("churn", "3").status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(source.UnloadModel("churn").ok());
  EXPECT_EQ(manager.snapshot()->Versions("churn"), nullptr);
  EXPECT_TRUE(source.IsUnloaded("churn"));
  ASSERT_TRUE(source.LoadModel("churn").ok());
  EXPECT_EQ(manager.snapshot()->Find("churn").value()->version, "1");
  EXPECT_EQ(source.UnloadModel("nobody").code(), StatusCode::kNotFound);
  source.Stop();
}

TEST_F(RegistryTest, AVersionThatFailsToLoadLeavesTheOldOneServing) {
  const std::string manifest = ReadFile(FixtureDir("logreg20_manifest") + "/model.yaml");
  auto v1 = Push("logreg20_manifest", "model.onnx", manifest);
  auto v2 = Push("logreg20", "model.onnx", "");  // a different file
  ASSERT_TRUE(v1.ok() && v2.ok());
  ASSERT_NE(v1->digest, v2->digest);
  ASSERT_TRUE(store_->SetAlias("churn", "production", 1, "t").ok());
  MetricsRegistry metrics_registry;
  ServingMetrics metrics(&metrics_registry);
  ModelManager manager(BackendOptions{}, &metrics);
  RegistrySource source(registry_.get(), &manager, {}, RegistrySourceOptions{});
  source.Start();
  ASSERT_EQ(manager.snapshot()->Find("churn").value()->version, "1");
  // Version 2's file is damaged after its push; the alias moves to it.
  {
    std::ofstream out(*blobs_->Path(v2->digest), std::ios::app);
    out << "tamper";
  }
  ASSERT_TRUE(store_->SetAlias("churn", "production", 2, "t").ok());
  ASSERT_TRUE(source.SyncNow().ok());
  auto served = manager.snapshot()->Find("churn");
  ASSERT_TRUE(served.ok()) << served.status().message();
  EXPECT_EQ((*served)->version, "1");
  EXPECT_EQ(manager.snapshot()->Find("churn", "2").status().code(), StatusCode::kUnavailable);
  EXPECT_NE(metrics_registry.Render().find(
                "mast_model_loads_total{model=\"churn\",version=\"2\",result=\"failure\"} 1"),
            std::string::npos);
  source.Stop();
}

}  // namespace
}  // namespace mast
