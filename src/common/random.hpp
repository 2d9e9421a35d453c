#pragma once
// Randomness (ids, keys, seeds) from libsodium's CSPRNG. Safe for concurrent use.

#include <cstdint>
#include <string>

namespace horde {

/// A random UUIDv4 string, lower case.
std::string NewUuid();
/// A time-ordered UUID (RFC 9562 version 7): 48 bits of `unix_ms`, then random bits. Ids made
/// later sort later, so database indexes keyed by them grow at one end instead of at random.
std::string NewUuidV7(int64_t unix_ms);
/// A url-safe random token of `length` characters (API keys are 22).
std::string NewToken(size_t length = 22);
/// A uniformly random integer in [0, upper), for what is not a secret (seeds, choices).
uint32_t RandomBelow(uint32_t upper);
/// 32 random bytes, hex encoded (secrets).
std::string NewSecretHex();

}  // namespace horde
