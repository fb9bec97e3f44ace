// BlobStore: model artifacts as immutable files named by their SHA-256.
//
// Layout: <root>/sha256/<first two hex digits>/<64 hex digits>. A blob is
// written to a temporary file, fsynced, renamed into place and its directory
// fsynced, so a crash leaves either the whole blob or only a temporary file.
// Each BlobStore writes its temporary files in a directory of its own,
// <root>/tmp/<id>/, which it holds an flock(2) on (<root>/tmp/<id>.lock) for
// its lifetime; Create() removes the directories whose lock no live process
// holds, i.e. what crashed writers left, never a live replica's upload.
// Blobs are never modified; Remove() is for garbage collection of blobs no
// version references.
//
// Thread-safety: all methods are safe from any thread and from several
// processes sharing the directory (writes of the same digest race benignly:
// both produce identical files and rename is atomic).
#ifndef MAST_STORE_BLOB_STORE_H_
#define MAST_STORE_BLOB_STORE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "common/status.h"

namespace mast {

struct BlobInfo {
  std::string digest;  // "sha256:<64 hex>"
  int64_t size_bytes = 0;
};

class BlobStore {
 public:
  // Creates <root> if needed and removes leftover temporary files.
  static StatusOr<std::unique_ptr<BlobStore>> Create(const std::string& root);
  BlobStore(const BlobStore&) = delete;
  BlobStore& operator=(const BlobStore&) = delete;

  // Stores `data`; returns its digest and size. Storing existing content is
  // a no-op that returns the same digest.
  StatusOr<BlobInfo> Put(std::string_view data);
  // Stores the content of the file at `path`, which must be on the store's
  // filesystem (an upload written to temp_dir(), say), by moving the file
  // into place: it is gone afterwards unless the content was already
  // stored, in which case it is left as it was.
  StatusOr<BlobInfo> PutFile(const std::string& path);

  // This store's own temporary directory (removed by the next Create() if
  // this process dies): where uploads can be written before PutFile().
  const std::string& temp_dir() const { return tmp_dir_; }

  // Path of the blob with `digest`. Errors: kInvalidArgument for a malformed
  // digest, kNotFound if absent.
  StatusOr<std::string> Path(std::string_view digest) const;

  // Re-hashes the blob and checks it against `digest` (before every load).
  // Errors: kNotFound if absent, kFailedPrecondition if the content changed.
  Status Verify(std::string_view digest) const;

  // Removes the blob; absent is not an error.
  Status Remove(std::string_view digest);

  // Every stored digest.
  StatusOr<std::vector<std::string>> List() const;

  const std::string& root() const { return root_; }

 private:
  BlobStore(std::string root, std::string tmp_dir, int lock_fd)
      : root_(std::move(root)), tmp_dir_(std::move(tmp_dir)), lock_fd_(lock_fd) {}

  std::string root_;
  std::string tmp_dir_;  // this store's own temporary directory
  int lock_fd_;          // flock held on <tmp_dir_>.lock

 public:
  ~BlobStore();
};

}  // namespace mast

#endif  // MAST_STORE_BLOB_STORE_H_
