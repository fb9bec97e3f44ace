// The registry store suite, run against SQLite and a real PostgreSQL.
#include "store/registry_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "store/migrations.h"
#include "support/postgres_server.h"

namespace mast {
namespace {

class RegistryStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const int n = counter.fetch_add(1);
    if (GetParam() == "sqlite") {
      dir_ = std::filesystem::temp_directory_path() /
             ("mast_registry_store_" + std::to_string(::getpid()) + "_" + std::to_string(n));
      std::filesystem::create_directories(dir_);
      auto db = OpenSqliteDatabase((dir_ / "mast.db").string());
      ASSERT_TRUE(db.ok()) << db.status().message();
      db_ = std::move(db).value();
    } else {
      std::string error;
      auto* server = testing::PostgresServer::Shared(&error);
      ASSERT_NE(server, nullptr) << error;
      const std::string name = "registry_" + std::to_string(::getpid()) + "_" + std::to_string(n);
      ASSERT_TRUE(server->CreateDatabase(name, &error)) << error;
      auto db = OpenPostgresDatabase(server->DsnFor(name));
      ASSERT_TRUE(db.ok()) << db.status().message();
      db_ = std::move(db).value();
    }
    auto version = ApplyMigrations(db_.get());
    ASSERT_TRUE(version.ok()) << version.status().message();
    ASSERT_EQ(*version, LatestSchemaVersion());
    store_ = std::make_unique<RegistryStore>(db_.get());
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Creates model `name` with versions 1..n, all READY.
  void ModelWithReadyVersions(const std::string& name, int n) {
    ASSERT_TRUE(store_->CreateModel(name, "", {}, "test").ok());
    for (int i = 0; i < n; ++i) {
      ModelVersionRecord v;
      v.model_name = name;
      v.digest = "sha256:" + std::string(63, '0') + std::to_string(i % 10);
      v.size_bytes = 10;
      v.format = "onnx";
      auto created = store_->CreateVersion(v);
      ASSERT_TRUE(created.ok()) << created.status().message();
      ASSERT_TRUE(store_->SetVersionStatus(name, created->version, VersionStatus::kReady, "",
                                           "{\"inputs\":[]}")
                      .ok());
    }
  }

  std::filesystem::path dir_;
  std::unique_ptr<SqlDatabase> db_;
  std::unique_ptr<RegistryStore> store_;
};

TEST_P(RegistryStoreTest, MigrationsAreIdempotent) {
  auto again = ApplyMigrations(db_.get());
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(*again, LatestSchemaVersion());
}

TEST_P(RegistryStoreTest, CreateGetAndDuplicateModel) {
  auto m = store_->CreateModel("churn", "predicts churn", {{"team", "ml"}}, "alice");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->name, "churn");
  EXPECT_EQ(m->tags.at("team"), "ml");
  EXPECT_EQ(m->created_by, "alice");
  EXPECT_EQ(m->created_at.size(), 24u);  // 2026-11-26T20:11:00.123Z
  auto dup = store_->CreateModel("churn", "", {}, "bob");
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetModel("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->CreateModel("a/b", "", {}, "x").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(RegistryStoreTest, VersionsAreNumberedPerModel) {
  ModelWithReadyVersions("a", 3);
  ModelWithReadyVersions("b", 1);
  auto list = store_->ListVersions("a", 10, 0);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].version, 3);  // newest first
  EXPECT_EQ((*list)[2].version, 1);
  EXPECT_EQ((*list)[0].status, VersionStatus::kReady);
  EXPECT_EQ(store_->GetVersion("b", 1)->version, 1);
  auto page = store_->ListVersions("a", 2, 3);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].version, 2);
  EXPECT_EQ(store_->GetVersion("a", 9).status().code(), StatusCode::kNotFound);
}

TEST_P(RegistryStoreTest, ConcurrentPushesGetDistinctNumbers) {
  ASSERT_TRUE(store_->CreateModel("m", "", {}, "t").ok());
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<int64_t> numbers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        ModelVersionRecord v;
        v.model_name = "m";
        v.digest = "sha256:" + std::string(64, 'a');
        v.format = "onnx";
        auto created = store_->CreateVersion(v);
        if (!created.ok()) {
          failures++;
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        numbers.insert(created->version);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(numbers.size(), 40u);
  EXPECT_EQ(*numbers.rbegin(), 40);
}

TEST_P(RegistryStoreTest, AliasNeedsAReadyVersionAndRecordsEveryMove) {
  ModelWithReadyVersions("churn", 2);
  ModelVersionRecord pending;
  pending.model_name = "churn";
  pending.digest = "sha256:" + std::string(64, 'b');
  pending.format = "onnx";
  auto v3 = store_->CreateVersion(pending);
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(v3->status, VersionStatus::kPending);
  EXPECT_EQ(store_->SetAlias("churn", "production", 3, "a").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->SetAlias("churn", "production", 7, "a").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->SetAlias("churn", "12", 1, "a").code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(store_->SetAlias("churn", "production", 1, "alice").ok());
  ASSERT_TRUE(store_->SetAlias("churn", "production", 2, "bob").ok());
  EXPECT_EQ(store_->GetVersionByAlias("churn", "production")->version, 2);
  EXPECT_EQ(store_->GetModel("churn")->aliases.at("production"), 2);
  ASSERT_TRUE(store_->DeleteAlias("churn", "production", "carol").ok());
  EXPECT_EQ(store_->GetVersionByAlias("churn", "production").status().code(),
            StatusCode::kNotFound);

  auto history = store_->AliasHistory("churn");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_FALSE((*history)[0].from_version.has_value());
  EXPECT_EQ(*(*history)[0].to_version, 1);
  EXPECT_EQ((*history)[0].actor, "alice");
  EXPECT_EQ(*(*history)[1].from_version, 1);
  EXPECT_EQ(*(*history)[1].to_version, 2);
  EXPECT_EQ(*(*history)[2].from_version, 2);
  EXPECT_FALSE((*history)[2].to_version.has_value());
  EXPECT_EQ((*history)[2].actor, "carol");
  EXPECT_LT((*history)[0].seq, (*history)[1].seq);
}

TEST_P(RegistryStoreTest, AliasedVersionsAndModelsCannotBeDeleted) {
  ModelWithReadyVersions("churn", 2);
  ASSERT_TRUE(store_->SetAlias("churn", "production", 2, "a").ok());
  Status s = store_->DeleteVersion("churn", 2);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("production"), std::string::npos) << s.message();
  EXPECT_EQ(store_->DeleteModel("churn").code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->DeleteVersion("churn", 1).ok());
  EXPECT_EQ(store_->GetVersion("churn", 1).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->DeleteAlias("churn", "production", "a").ok());
  EXPECT_TRUE(store_->DeleteModel("churn").ok());
  EXPECT_EQ(store_->GetModel("churn").status().code(), StatusCode::kNotFound);
  // The name can be registered again, numbering afresh.
  ModelWithReadyVersions("churn", 1);
  EXPECT_EQ(store_->GetModel("churn")->latest_version, 1);
}

TEST_P(RegistryStoreTest, EveryChangeAdvancesTheEpoch) {
  auto e0 = store_->Epoch();
  ASSERT_TRUE(e0.ok());
  ModelWithReadyVersions("m", 1);
  auto e1 = store_->Epoch();
  EXPECT_GT(*e1, *e0);
  ASSERT_TRUE(store_->SetAlias("m", "production", 1, "a").ok());
  EXPECT_GT(*store_->Epoch(), *e1);
  // Failed changes do not.
  auto e2 = *store_->Epoch();
  EXPECT_FALSE(store_->SetAlias("m", "production", 5, "a").ok());
  EXPECT_EQ(*store_->Epoch(), e2);
}

TEST_P(RegistryStoreTest, TagsAndDescriptions) {
  ModelWithReadyVersions("m", 1);
  ASSERT_TRUE(store_->SetModelTag("m", "owner", "x").ok());
  ASSERT_TRUE(store_->SetModelTag("m", "owner", "y").ok());
  EXPECT_EQ(store_->GetModel("m")->tags.at("owner"), "y");
  ASSERT_TRUE(store_->DeleteModelTag("m", "owner").ok());
  EXPECT_EQ(store_->DeleteModelTag("m", "owner").code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->SetVersionTag("m", 1, "stage", "qa").ok());
  EXPECT_EQ(store_->GetVersion("m", 1)->tags.at("stage"), "qa");
  EXPECT_EQ(store_->SetVersionTag("m", 2, "stage", "qa").code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->UpdateModel("m", "new words").ok());
  EXPECT_EQ(store_->GetModel("m")->description, "new words");
  ASSERT_TRUE(store_->UpdateVersion("m", 1, "v words").ok());
  EXPECT_EQ(store_->GetVersion("m", 1)->description, "v words");
}

TEST_P(RegistryStoreTest, ListModelsFiltersAndPages) {
  for (const char* n : {"churn", "churn-v2", "fraud", "ltv"}) {
    ASSERT_TRUE(store_->CreateModel(n, "", {}, "t").ok());
  }
  auto all = store_->ListModels("", 10, "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);
  auto churn = store_->ListModels("churn", 10, "");
  ASSERT_EQ(churn->size(), 2u);
  auto page = store_->ListModels("", 2, "churn-v2");
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].name, "fraud");
}

TEST_P(RegistryStoreTest, VersionsWithAliasAndReferencedDigests) {
  ModelWithReadyVersions("a", 2);
  ModelWithReadyVersions("b", 1);
  ASSERT_TRUE(store_->SetAlias("a", "production", 2, "t").ok());
  ASSERT_TRUE(store_->SetAlias("b", "staging", 1, "t").ok());
  auto prod = store_->VersionsWithAlias("production");
  ASSERT_TRUE(prod.ok());
  ASSERT_EQ(prod->size(), 1u);
  EXPECT_EQ((*prod)[0].model_name, "a");
  EXPECT_EQ((*prod)[0].version, 2);
  auto digests = store_->ReferencedDigests();
  ASSERT_TRUE(digests.ok());
  EXPECT_EQ(digests->size(), 2u);  // "...0" and "...1"
}

TEST_P(RegistryStoreTest, InterruptedPushesAreSettledAsFailed) {
  ASSERT_TRUE(store_->CreateModel("m", "", {}, "t").ok());
  ModelVersionRecord v;
  v.model_name = "m";
  v.digest = "sha256:" + std::string(64, 'd');
  v.format = "onnx";
  ASSERT_TRUE(store_->CreateVersion(v).ok());
  // Not older than the cutoff: left alone (a replica may be loading it).
  EXPECT_EQ(*store_->FailStalePending("2000-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(store_->GetVersion("m", 1)->status, VersionStatus::kPending);
  EXPECT_EQ(*store_->FailStalePending("2999-01-01T00:00:00.000Z"), 1);
  auto settled = store_->GetVersion("m", 1);
  EXPECT_EQ(settled->status, VersionStatus::kFailed);
  EXPECT_NE(settled->status_message.find("interrupted"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Engines, RegistryStoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace mast
