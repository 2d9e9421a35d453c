#pragma once
// Strong identifier types. Requests, jobs and workers are UUIDv4 strings on the wire; users are
// integers ("alias#id").

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace horde {

template <typename T, typename Tag>
class StrongId {
public:
    StrongId() = default;
    explicit StrongId(T value) : value_(std::move(value)) {}
    const T& value() const { return value_; }
    auto operator<=>(const StrongId&) const = default;
    bool operator==(const StrongId&) const = default;

private:
    T value_{};
};

struct UserIdTag {};
struct RequestIdTag {};
struct JobIdTag {};
struct WorkerIdTag {};

using UserId = StrongId<int64_t, UserIdTag>;
using RequestId = StrongId<std::string, RequestIdTag>;
using JobId = StrongId<std::string, JobIdTag>;
using WorkerId = StrongId<std::string, WorkerIdTag>;

/// True when `s` is a canonical lower- or upper-case 8-4-4-4-12 hex UUID.
bool IsUuid(std::string_view s);

namespace ids_detail {
/// Each byte's value as a hex digit (either case), or -1.
inline constexpr std::array<int8_t, 256> kHexDigitValues = [] {
    std::array<int8_t, 256> t{};
    for (int c = 0; c < 256; ++c) {
        t[static_cast<size_t>(c)] = c >= '0' && c <= '9'   ? static_cast<int8_t>(c - '0')
                                    : c >= 'a' && c <= 'f' ? static_cast<int8_t>(c - 'a' + 10)
                                    : c >= 'A' && c <= 'F' ? static_cast<int8_t>(c - 'A' + 10)
                                                           : int8_t{-1};
    }
    return t;
}();
}  // namespace ids_detail

/// `c`'s value as a hex digit (either case), or -1.
inline int HexDigitValue(char c) {
    return ids_detail::kHexDigitValues[static_cast<unsigned char>(c)];
}

}  // namespace horde

template <typename T, typename Tag>
struct std::hash<horde::StrongId<T, Tag>> {
    size_t operator()(const horde::StrongId<T, Tag>& id) const noexcept {
        return std::hash<T>{}(id.value());
    }
};
