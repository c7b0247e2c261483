#pragma once

// Status and Result<T>: the error model of every Liaison module (after absl::Status/StatusOr).
//
// A Status is a code plus a message fit to show a user ("collection 'x' is not writable by you").
// Functions that can fail return Status or Result<T>; both are [[nodiscard]]. Untrusted input never
// reaches an exception or an assert: it becomes a Status. http/ maps codes to HTTP statuses and
// TAXII error bodies in one table.
//
//   Result<Collection> c = store.GetCollection(root, id);
//   if (!c.ok()) return c.status();
//   ASSIGN_OR_RETURN(auto page, store.QueryObjects(query));
//   RETURN_IF_ERROR(store.CreateUser(user));

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace liaison {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is malformed (HTTP 400)
  kNotFound,            // no such resource, or not visible to the caller (404)
  kAlreadyExists,       // (409)
  kPermissionDenied,    // authenticated but not allowed (403)
  kUnauthenticated,     // no or bad credentials (401)
  kFailedPrecondition,  // system not in the state the operation needs (409/422)
  kResourceExhausted,   // a size or rate bound was exceeded (413/429)
  kNotAcceptable,       // HTTP content negotiation: no acceptable media type (406)
  kUnsupportedMediaType,  // request body media type not supported (415)
  kUnavailable,         // transient: retry may succeed (503)
  kDeadlineExceeded,    // (504/408)
  kDataLoss,            // stored data is corrupt (500)
  kInternal,            // a bug or an unexpected library failure (500)
};

// "InvalidArgument", "NotFound", ...
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "NotFound: collection 'x' does not exist"
  std::string ToString() const;

  // Returns a copy with "context: " put before the message.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgumentError(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExistsError(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status PermissionDeniedError(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status UnauthenticatedError(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status FailedPreconditionError(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status ResourceExhaustedError(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceededError(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status DataLossError(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Result<T> holds either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  // NOLINTNEXTLINE(google-explicit-constructor): implicit like absl::StatusOr.
  Result(const T& value) : v_(value) {}
  // NOLINTNEXTLINE(google-explicit-constructor)
  Result(T&& value) : v_(std::move(value)) {}
  // A Result made from a Status must carry an error; an OK status becomes kInternal.
  // NOLINTNEXTLINE(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {
    if (std::get<Status>(v_).ok()) v_ = InternalError("Result constructed from an OK status");
  }
  template <typename U>
    requires(std::is_constructible_v<T, U &&> && !std::is_same_v<std::decay_t<U>, T> &&
             !std::is_same_v<std::decay_t<U>, Status>)
  // NOLINTNEXTLINE(google-explicit-constructor)
  Result(U&& value) : v_(T(std::forward<U>(value))) {}

  bool ok() const { return std::holds_alternative<T>(v_); }

  // The error; OK when the Result holds a value.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // Precondition: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Status> v_;
};

namespace internal {
inline Status ToStatus(const Status& s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace liaison

#define LIAISON_CONCAT_INNER(a, b) a##b
#define LIAISON_CONCAT(a, b) LIAISON_CONCAT_INNER(a, b)

// Returns the Status of `expr` (a Status or Result) from the enclosing function if it is an error.
#define RETURN_IF_ERROR(expr)                                                       \
  do {                                                                              \
    ::liaison::Status liaison_status_ = ::liaison::internal::ToStatus((expr));      \
    if (!liaison_status_.ok()) return liaison_status_;                              \
  } while (false)

// ASSIGN_OR_RETURN(auto x, ResultExpr()): declares/assigns the value, or returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  LIAISON_ASSIGN_OR_RETURN_IMPL(LIAISON_CONCAT(liaison_result_, __LINE__), lhs, expr)
#define LIAISON_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

// Invariant check: aborts with a message. Only for conditions that cannot be caused by input;
// say in a comment why the condition holds.
#define LIAISON_CHECK(cond)                                                     \
  do {                                                                          \
    if (!(cond)) ::liaison::internal::CheckFailed(#cond, __FILE__, __LINE__);   \
  } while (false)

namespace liaison::internal {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}  // namespace liaison::internal
