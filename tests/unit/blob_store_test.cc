#include "store/blob_store.h"

#include <gtest/gtest.h>

#include "fixture_util.h"

#include <filesystem>
#include <fstream>

namespace mast {
namespace {

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::FreshTestDir("mast_blobs");
    auto s = BlobStore::Create(root_.string());
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::filesystem::path root_;
  std::unique_ptr<BlobStore> store_;
};

TEST_F(BlobStoreTest, ContentIsAddressedBySha256) {
  auto info = store_->Put("abc");
  ASSERT_TRUE(info.ok());
  // SHA-256("abc"), the FIPS 180-2 test vector.
  EXPECT_EQ(info->digest,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(info->size_bytes, 3);
  auto again = store_->Put("abc");
  EXPECT_EQ(again->digest, info->digest);
  auto path = store_->Path(info->digest);
  ASSERT_TRUE(path.ok());
  std::ifstream in(*path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "abc");
  EXPECT_TRUE(store_->Verify(info->digest).ok());
  auto list = store_->List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, std::vector<std::string>{info->digest});
}

TEST_F(BlobStoreTest, PutFileMovesAFileIntoPlace) {
  const std::string upload = store_->temp_dir() + "/upload.1";
  std::ofstream(upload) << "abc";
  auto info = store_->PutFile(upload);
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->digest,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(info->size_bytes, 3);
  EXPECT_FALSE(std::filesystem::exists(upload)) << "moved, not copied";
  auto path = store_->Path(info->digest);
  ASSERT_TRUE(path.ok());
  EXPECT_TRUE(store_->Verify(info->digest).ok());
  EXPECT_EQ(std::filesystem::status(*path).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::others_read);
  // Content already stored: the file is left to its owner.
  std::ofstream(upload) << "abc";
  auto again = store_->PutFile(upload);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->digest, info->digest);
  EXPECT_TRUE(std::filesystem::exists(upload));
  EXPECT_EQ(store_->PutFile(store_->temp_dir() + "/missing").status().code(),
            StatusCode::kNotFound);
}

TEST_F(BlobStoreTest, ChangedContentFailsVerification) {
  auto info = store_->Put("model bytes");
  ASSERT_TRUE(info.ok());
  {
    std::ofstream out(*store_->Path(info->digest), std::ios::trunc);
    out << "tampered";
  }
  Status s = store_->Verify(info->digest);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("corrupt"), std::string::npos);
}

TEST_F(BlobStoreTest, MalformedAndMissingDigests) {
  EXPECT_EQ(store_->Path("sha256:xyz").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Path("../../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Path("sha256:" + std::string(64, 'a')).status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(store_->Remove("sha256:" + std::string(64, 'a')).ok());
}

TEST_F(BlobStoreTest, RemoveDeletes) {
  auto info = store_->Put("x");
  ASSERT_TRUE(store_->Remove(info->digest).ok());
  EXPECT_EQ(store_->Path(info->digest).status().code(), StatusCode::kNotFound);
}

// Temporary files are counted across every writer's directory.
int TemporaryFiles(const std::filesystem::path& tmp) {
  int n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(tmp)) {
    n += e.is_regular_file() && e.path().extension() != ".lock";
  }
  return n;
}

TEST_F(BlobStoreTest, CrashedWritersFilesAreCleanedButLiveOnesKept) {
  // A live second writer (another replica on the shared directory) has a
  // file in progress.
  auto live = BlobStore::Create(root_.string());
  ASSERT_TRUE(live.ok());
  std::filesystem::path live_dir;
  for (const auto& e : std::filesystem::directory_iterator(root_ / "tmp")) {
    if (e.is_directory() && e.path() != root_ / "tmp") live_dir = e.path();
  }
  // A writer that crashed: its directory, with no lock held.
  std::filesystem::create_directories(root_ / "tmp" / "dead-1");
  std::ofstream(root_ / "tmp" / "dead-1" / "half.123") << "partial";
  std::ofstream(root_ / "tmp" / "dead-1.lock") << "";
  std::ofstream(root_ / "tmp" / "stray.456") << "old layout";
  std::string in_progress;
  for (const auto& e : std::filesystem::directory_iterator(root_ / "tmp")) {
    if (e.is_directory() && e.path().filename() != "dead-1") {
      std::ofstream(e.path() / "uploading.789") << "in progress";
      in_progress = (e.path() / "uploading.789").string();
      break;
    }
  }
  ASSERT_FALSE(in_progress.empty());
  auto reopened = BlobStore::Create(root_.string());
  ASSERT_TRUE(reopened.ok());
  EXPECT_FALSE(std::filesystem::exists(root_ / "tmp" / "dead-1"));
  EXPECT_FALSE(std::filesystem::exists(root_ / "tmp" / "stray.456"));
  EXPECT_TRUE(std::filesystem::exists(in_progress));
  EXPECT_EQ(TemporaryFiles(root_ / "tmp"), 1);
  (void)live_dir;
}

TEST_F(BlobStoreTest, ClosingAStoreRemovesItsTemporaryDirectory) {
  store_.reset();
  auto again = BlobStore::Create(root_.string());
  ASSERT_TRUE(again.ok());
  again->reset();
  EXPECT_TRUE(std::filesystem::is_empty(root_ / "tmp"));
}

}  // namespace
}  // namespace mast
