#include "store/blob_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace mast {
namespace {

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("mast_blobs_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
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

TEST_F(BlobStoreTest, RemoveDeletesAndLeftoverTemporaryFilesAreCleaned) {
  auto info = store_->Put("x");
  ASSERT_TRUE(store_->Remove(info->digest).ok());
  EXPECT_EQ(store_->Path(info->digest).status().code(), StatusCode::kNotFound);
  // A crash mid-write leaves only a temporary file; the next open removes it.
  std::ofstream(root_ / "tmp" / "half-written.123") << "partial";
  store_.reset();
  auto reopened = BlobStore::Create(root_.string());
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE(std::filesystem::is_empty(root_ / "tmp"));
  EXPECT_TRUE((*reopened)->List()->empty());
}

}  // namespace
}  // namespace mast
