// Status and StatusOr: mast's one error vocabulary.
//
// A Status is either OK or a (code, message) pair. Codes are the stable machine
// words of the API conventions (invalid_argument, not_found, ...), so a Status
// maps directly onto an HTTP status and an error body at the API edge.
// Third-party errors (ONNX Runtime exceptions, XGBoost return codes, Beast
// error codes) are translated into a Status once, in the adapter that calls
// them; nothing above the adapters throws.
//
// Thread-safety: values; safe to copy between threads.
#ifndef MAST_COMMON_STATUS_H_
#define MAST_COMMON_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace mast {

enum class StatusCode {
  kOk,
  kInvalidArgument,     // 400: malformed request
  kUnprocessable,       // 422: well-formed but invalid (e.g. a feature's type)
  kNotFound,            // 404
  kAlreadyExists,       // 409
  kFailedPrecondition,  // 409
  kUnauthenticated,     // 401
  kPermissionDenied,    // 403
  kResourceExhausted,   // 429
  kPayloadTooLarge,     // 413
  kUnavailable,         // 503
  kInternal,            // 500: our own bug or an environment failure
};

// The stable machine word for `code` ("invalid_argument", ...).
std::string_view StatusCodeName(StatusCode code);
// The HTTP status a Status with `code` is answered with.
int HttpStatusFor(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid_argument: message", or "ok".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgument(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}
inline Status Unprocessable(std::string m) {
  return Status(StatusCode::kUnprocessable, std::move(m));
}
inline Status NotFound(std::string m) {
  return Status(StatusCode::kNotFound, std::move(m));
}
inline Status AlreadyExists(std::string m) {
  return Status(StatusCode::kAlreadyExists, std::move(m));
}
inline Status FailedPrecondition(std::string m) {
  return Status(StatusCode::kFailedPrecondition, std::move(m));
}
inline Status Unavailable(std::string m) {
  return Status(StatusCode::kUnavailable, std::move(m));
}
inline Status Internal(std::string m) {
  return Status(StatusCode::kInternal, std::move(m));
}

// Either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : value_(std::move(status)) {  // NOLINT: implicit
    assert(!std::get<Status>(value_).ok());
  }
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit

  bool ok() const { return std::holds_alternative<T>(value_); }
  Status status() const {
    return ok() ? OkStatus() : std::get<Status>(value_);
  }
  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> value_;
};

}  // namespace mast

#define MAST_CONCAT_INNER(a, b) a##b
#define MAST_CONCAT(a, b) MAST_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr)                   \
  do {                                          \
    ::mast::Status mast_status_ = (expr);       \
    if (!mast_status_.ok()) return mast_status_; \
  } while (0)

// `lhs = value of expr`, or returns its Status from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(MAST_CONCAT(mast_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#endif  // MAST_COMMON_STATUS_H_
