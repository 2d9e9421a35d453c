#pragma once
// Result<T>: the std::expected-shaped subset we need (g++ 12 has no usable std::expected in C++20).

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "common/check.hpp"
#include "common/error_code.hpp"

namespace horde {

/// A failure: the public code plus a message. `message` is shown to clients when non-empty
/// (it replaces the code's default text, e.g. to name the offending id); `field` names the
/// request field for validation errors.
struct Error {
    ErrorCode code = ErrorCode::kInternal;
    std::string message;  // empty = the code's default public message
    std::string field;    // for kValidationFailed: the offending field
};

inline Error MakeError(ErrorCode code, std::string message = {}, std::string field = {}) {
    return Error{code, std::move(message), std::move(field)};
}

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool has_value() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & {
        HORDE_CHECK(has_value(), "Result::value() on an error");
        return std::get<0>(state_);
    }
    const T& value() const& {
        HORDE_CHECK(has_value(), "Result::value() on an error");
        return std::get<0>(state_);
    }
    T&& value() && {
        HORDE_CHECK(has_value(), "Result::value() on an error");
        return std::get<0>(std::move(state_));
    }
    const Error& error() const& {
        HORDE_CHECK(!has_value(), "Result::error() on a value");
        return std::get<1>(state_);
    }
    Error&& error() && {
        HORDE_CHECK(!has_value(), "Result::error() on a value");
        return std::get<1>(std::move(state_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

private:
    std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
    bool has_value() const noexcept { return !error_.has_value(); }
    explicit operator bool() const noexcept { return has_value(); }
    void value() const { HORDE_CHECK(has_value(), "Result<void>::value() on an error"); }
    const Error& error() const& {
        HORDE_CHECK(!has_value(), "Result::error() on a value");
        return *error_;
    }

private:
    std::optional<Error> error_;
};

using Status = Result<void>;
inline Status Ok() { return {}; }

}  // namespace horde

#define HORDE_CONCAT_INNER(a, b) a##b
#define HORDE_CONCAT(a, b) HORDE_CONCAT_INNER(a, b)

/// HORDE_TRY(auto x, expr): evaluates expr (a Result); on error returns the error from the
/// enclosing function, else binds the value to x.
#define HORDE_TRY(decl, expr) HORDE_TRY_IMPL(HORDE_CONCAT(horde_try_, __LINE__), decl, expr)
#define HORDE_TRY_IMPL(tmp, decl, expr) \
    auto tmp = (expr);                  \
    if (!tmp.has_value()) {             \
        return std::move(tmp).error();  \
    }                                   \
    decl = std::move(tmp).value()

/// HORDE_TRY_STATUS(expr): for Result<void>.
#define HORDE_TRY_STATUS(expr)            \
    do {                                  \
        auto horde_status_ = (expr);      \
        if (!horde_status_.has_value()) { \
            return horde_status_.error(); \
        }                                 \
    } while (false)
