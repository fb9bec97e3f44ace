// SHA-256 digests in the "sha256:<64 lowercase hex>" form used for
// content-addressed artifacts.
//
// Thread-safety: pure functions.
#ifndef MAST_COMMON_DIGEST_H_
#define MAST_COMMON_DIGEST_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace mast {

// "sha256:<hex>" of `data`.
std::string Sha256Digest(std::string_view data);
// "sha256:<hex>" of a file's content. Errors: kNotFound if missing.
StatusOr<std::string> Sha256DigestOfFile(const std::string& path);
// True for "sha256:" followed by 64 lowercase hex digits.
bool IsValidDigest(std::string_view digest);
// HMAC-SHA256 of `data` under `key`, as lowercase hex (64 characters).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

}  // namespace mast

#endif  // MAST_COMMON_DIGEST_H_
