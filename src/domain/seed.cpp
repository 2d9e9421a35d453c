#include "domain/seed.hpp"

#include <cctype>

namespace horde::domain {

int64_t SeedToInt(std::string_view seed) {
    if (seed.empty()) {
        return 0;
    }
    bool digits = seed.size() <= 18;
    for (char c : seed) {
        digits = digits && std::isdigit(static_cast<unsigned char>(c));
    }
    if (digits) {
        int64_t v = 0;
        for (char c : seed) {
            v = v * 10 + (c - '0');
        }
        return v % (int64_t{1} << 32);
    }
    // Fold the little-endian byte integer into 32 bits: every 4-byte group shifts down by 32.
    uint64_t folded = 0;
    for (size_t i = seed.size(); i-- > 0;) {
        folded = (folded << 8) | static_cast<unsigned char>(seed[i]);
        while (folded >= (uint64_t{1} << 32)) {
            folded >>= 32;
        }
    }
    return static_cast<int64_t>(folded);
}

}  // namespace horde::domain
