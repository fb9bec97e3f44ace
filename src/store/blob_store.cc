#include "store/blob_store.h"

#include "common/digest.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

namespace mast {

namespace fs = std::filesystem;

namespace {

Status Errno(const std::string& what) {
  return Internal(what + ": " + std::strerror(errno));
}

Status FsyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) return Errno("open " + path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("fsync " + path);
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<BlobStore>> BlobStore::Create(const std::string& root) {
  std::error_code ec;
  const fs::path tmp_root = fs::path(root) / "tmp";
  fs::create_directories(fs::path(root) / "sha256", ec);
  if (!ec) fs::create_directories(tmp_root, ec);
  if (ec) return Unavailable("cannot create blob directory '" + root + "': " + ec.message());

  // Temporary files of writers that are gone: their lock is free.
  for (const auto& e : fs::directory_iterator(tmp_root, ec)) {
    const fs::path p = e.path();
    if (p.extension() == ".lock") {
      int fd = ::open(p.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0) continue;
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
        fs::path dir = p;
        dir.replace_extension();
        fs::remove_all(dir, ec);
        fs::remove(p, ec);
      }
      ::close(fd);
    } else if (e.is_regular_file(ec)) {
      fs::remove(p, ec);  // a stray file, not in any writer's directory
    }
  }
  // Directories without a lock file were left between mkdir and lock.
  for (const auto& e : fs::directory_iterator(tmp_root, ec)) {
    fs::path lock = e.path();
    lock += ".lock";
    if (e.is_directory(ec) && !fs::exists(lock, ec)) fs::remove_all(e.path(), ec);
  }

  char host[256] = "host";
  ::gethostname(host, sizeof(host) - 1);
  std::random_device rd;
  const std::string id = std::string(host) + "-" + std::to_string(::getpid()) + "-" +
                         std::to_string(rd());
  const fs::path lock_path = tmp_root / (id + ".lock");
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX) != 0) {
    if (lock_fd >= 0) ::close(lock_fd);
    return Unavailable("cannot lock '" + lock_path.string() + "': " + std::strerror(errno));
  }
  const fs::path own = tmp_root / id;
  fs::create_directories(own, ec);
  if (ec) {
    ::close(lock_fd);
    return Unavailable("cannot create '" + own.string() + "': " + ec.message());
  }
  return std::unique_ptr<BlobStore>(new BlobStore(root, own.string(), lock_fd));
}

BlobStore::~BlobStore() {
  std::error_code ec;
  fs::remove_all(tmp_dir_, ec);
  fs::path lock = tmp_dir_;
  lock += ".lock";
  fs::remove(lock, ec);
  ::close(lock_fd_);
}

namespace {

// Where blob `info` goes under `root`, its directory created; `*stored`
// says whether that path already holds it.
StatusOr<fs::path> PlaceFor(const std::string& root, const BlobInfo& info, bool* stored) {
  const std::string hex = info.digest.substr(7);
  const fs::path dir = fs::path(root) / "sha256" / hex.substr(0, 2);
  const fs::path final_path = dir / hex;
  std::error_code ec;
  *stored = fs::exists(final_path, ec) &&
            static_cast<int64_t>(fs::file_size(final_path, ec)) == info.size_bytes;
  if (*stored) return final_path;
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create '" + dir.string() + "': " + ec.message());
  return final_path;
}

}  // namespace

StatusOr<BlobInfo> BlobStore::Put(std::string_view data) {
  BlobInfo info{Sha256Digest(data), static_cast<int64_t>(data.size())};
  bool stored = false;
  ASSIGN_OR_RETURN(const fs::path final_path, PlaceFor(root_, info, &stored));
  if (stored) return info;
  const std::string hex = info.digest.substr(7);

  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::string tmp = (fs::path(tmp_dir_) / (hex + "." + std::to_string(rng()))).string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) return Errno("create " + tmp);
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Errno("write " + tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = Errno("fsync " + tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    Status s = Errno("rename " + tmp);
    ::unlink(tmp.c_str());
    return s;
  }
  RETURN_IF_ERROR(FsyncPath(final_path.parent_path().string(), O_RDONLY | O_DIRECTORY));
  return info;
}

StatusOr<BlobInfo> BlobStore::PutFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string digest, Sha256DigestOfFile(path));
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return Internal("cannot read the size of '" + path + "': " + ec.message());
  BlobInfo info{std::move(digest), static_cast<int64_t>(size)};
  bool stored = false;
  ASSIGN_OR_RETURN(const fs::path final_path, PlaceFor(root_, info, &stored));
  if (stored) return info;
  // Readable like Put()'s files, and on disk before its name is.
  if (::chmod(path.c_str(), 0644) != 0) return Errno("chmod " + path);
  RETURN_IF_ERROR(FsyncPath(path, O_RDONLY));
  if (::rename(path.c_str(), final_path.c_str()) != 0) return Errno("rename " + path);
  RETURN_IF_ERROR(FsyncPath(final_path.parent_path().string(), O_RDONLY | O_DIRECTORY));
  return info;
}

StatusOr<std::string> BlobStore::Path(std::string_view digest) const {
  if (!IsValidDigest(digest)) {
    return InvalidArgument("'" + std::string(digest) + "' is not a sha256:<64 hex> digest");
  }
  const std::string hex(digest.substr(7));
  const fs::path p = fs::path(root_) / "sha256" / hex.substr(0, 2) / hex;
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return NotFound("blob " + std::string(digest) + " is not stored");
  return p.string();
}

Status BlobStore::Verify(std::string_view digest) const {
  ASSIGN_OR_RETURN(std::string path, Path(digest));
  ASSIGN_OR_RETURN(std::string actual, Sha256DigestOfFile(path));
  if (actual != digest) {
    return FailedPrecondition("blob " + std::string(digest) + " is corrupt: its content hashes to " +
                              actual);
  }
  return OkStatus();
}

Status BlobStore::Remove(std::string_view digest) {
  auto path = Path(digest);
  if (!path.ok()) {
    return path.status().code() == StatusCode::kNotFound ? OkStatus() : path.status();
  }
  std::error_code ec;
  fs::remove(*path, ec);
  if (ec) return Internal("cannot remove '" + *path + "': " + ec.message());
  return OkStatus();
}

StatusOr<std::vector<std::string>> BlobStore::List() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(root_) / "sha256", ec)) {
    if (e.is_regular_file()) {
      std::string d = "sha256:" + e.path().filename().string();
      if (IsValidDigest(d)) out.push_back(std::move(d));
    }
  }
  if (ec) return Internal("cannot list blobs in '" + root_ + "': " + ec.message());
  return out;
}

}  // namespace mast
