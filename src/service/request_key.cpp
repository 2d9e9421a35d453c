#include "service/request_key.hpp"

#include <sodium.h>

#include <array>

#include "common/ids.hpp"

namespace horde::service {
RequestKey KeyOf(std::string_view id) {
    RequestKey key;
    if (IsUuid(id)) {
        int nibbles = 0;
        for (const char c : id) {
            if (c == '-') {
                continue;
            }
            uint64_t& half = nibbles < 16 ? key.hi : key.lo;
            half = (half << 4) | static_cast<uint64_t>(HexDigitValue(c));
            ++nibbles;
        }
        return key;
    }
    std::array<unsigned char, 16> digest{};
    crypto_generichash(digest.data(), digest.size(),
                       reinterpret_cast<const unsigned char*>(id.data()), id.size(), nullptr, 0);
    std::memcpy(&key.hi, digest.data(), 8);
    std::memcpy(&key.lo, digest.data() + 8, 8);
    return key;
}

}  // namespace horde::service
