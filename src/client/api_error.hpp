#pragma once
// Errors of the client library, as values: what went wrong (ErrorKind), and when the server
// answered, its HTTP status, its `rc` code and its `message`. ApiResult<T> is the client's
// Result type: the same member names as horde::Result (and std::expected), with ApiError as the
// error type. Plain values; thread-safety as for any value type.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "common/check.hpp"

namespace horde::client {

/// The class of a failure. Apps usually branch on this; the `rc` gives the precise reason.
enum class ErrorKind {
    kNetwork,          // the server could not be reached (refused, DNS, TLS, transport timeout)
    kAuth,             // 401, or 403 for a problem with the key (anonymous, wrong owner, ...)
    kRejected,         // any other 4xx: the server refused the request (see rc and message)
    kNotFound,         // 404: unknown or expired request, user or worker
    kRateLimited,      // 429 that outlasted the retries (see retry_after_s)
    kServer,           // 5xx
    kInvalidResponse,  // the answer was not the JSON the API documents
    kFaulted,          // the request faulted on the server (its jobs failed)
    kTimeout,          // waiting for a request took longer than allowed
    kCancelled,        // the caller stopped the wait (the request was cancelled on the server)
    kInvalidArgument,  // the call itself was wrong (empty id, bad base64, ...)
    kIo,               // a local file could not be read or written
};

/// A short stable name for the kind ("network", "auth", ...).
const char* ErrorKindName(ErrorKind kind);

struct ApiError {
    ErrorKind kind = ErrorKind::kInvalidResponse;
    int http_status = 0;    // 0 when no HTTP answer was involved
    std::string rc{};       // the server's return code, e.g. "InvalidAPIKey"; may be empty
    std::string message{};  // the server's message, or the client's description
    std::map<std::string, std::string> field_errors{};  // 400 validation errors: field -> text
    std::optional<double> retry_after_s{};              // Retry-After of a 429/503, if sent

    /// One line for people: "InvalidAPIKey (HTTP 401): No user matching sent API Key. ...".
    std::string ToString() const;
};

inline ApiError MakeApiError(ErrorKind kind, std::string message, int http_status = 0,
                             std::string rc = {}) {
    ApiError e;
    e.kind = kind;
    e.message = std::move(message);
    e.http_status = http_status;
    e.rc = std::move(rc);
    return e;
}

template <typename T>
class [[nodiscard]] ApiResult {
public:
    ApiResult(T value) : state_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
    ApiResult(ApiError error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool has_value() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & {
        HORDE_CHECK(has_value(), "ApiResult::value() on an error");
        return std::get<0>(state_);
    }
    const T& value() const& {
        HORDE_CHECK(has_value(), "ApiResult::value() on an error");
        return std::get<0>(state_);
    }
    T&& value() && {
        HORDE_CHECK(has_value(), "ApiResult::value() on an error");
        return std::get<0>(std::move(state_));
    }
    const ApiError& error() const& {
        HORDE_CHECK(!has_value(), "ApiResult::error() on a value");
        return std::get<1>(state_);
    }
    ApiError&& error() && {
        HORDE_CHECK(!has_value(), "ApiResult::error() on a value");
        return std::get<1>(std::move(state_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

private:
    std::variant<T, ApiError> state_;
};

template <>
class [[nodiscard]] ApiResult<void> {
public:
    ApiResult() = default;
    ApiResult(ApiError error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
    bool has_value() const noexcept { return !error_.has_value(); }
    explicit operator bool() const noexcept { return has_value(); }
    const ApiError& error() const& {
        HORDE_CHECK(!has_value(), "ApiResult::error() on a value");
        return *error_;
    }

private:
    std::optional<ApiError> error_;
};

/// The error an HTTP answer with a non-2xx status stands for: the kind from the status and rc,
/// the rc/message/errors from a JSON body, or a description of a non-JSON body (HTML 404s).
/// `retry_after` is the Retry-After header's value ("" when absent).
ApiError ErrorFromHttp(int status, const std::string& body, const std::string& retry_after = {},
                       std::chrono::system_clock::time_point now = {});

/// Parses a Retry-After value: delta seconds ("3", "1.5") or an HTTP date (seconds from `now`).
/// nullopt if unusable.
std::optional<double> ParseRetryAfter(const std::string& value,
                                      std::chrono::system_clock::time_point now);

}  // namespace horde::client
