#pragma once
// Image seeds: clients send strings; workers get integers.

#include <cstdint>
#include <string_view>

namespace horde::domain {

/// "1234" → 1234; any other text → the integer made of its UTF-8 bytes (little-endian), folded
/// right by 32 bits until it is below 2^32. Empty → 0.
int64_t SeedToInt(std::string_view seed);

}  // namespace horde::domain
