#pragma once
// The key of the in-memory request table: a request id's 128 bits instead of its 36-character
// text (which would cost a 32-byte string and a 48-byte heap block per queued request, on top of
// the copy the request itself keeps).

#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>

namespace horde::service {

struct RequestKey {
    uint64_t hi = 0;
    uint64_t lo = 0;
    bool operator==(const RequestKey&) const = default;
};

/// A UUID's bits (either case gives the same key); any other text maps to a 128-bit BLAKE2b hash
/// of it, so a lookup with an id the horde never issued simply finds nothing.
RequestKey KeyOf(std::string_view id);

struct RequestKeyHash {
    size_t operator()(const RequestKey& k) const noexcept {
        // UUIDv7's high half starts with the time; the low half is random.
        return static_cast<size_t>(k.lo ^ (k.hi * 0x9E3779B97F4A7C15ULL));
    }
};

}  // namespace horde::service
