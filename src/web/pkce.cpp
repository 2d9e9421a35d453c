#include "web/pkce.hpp"

#include <sodium.h>

#include <array>

#include "common/random.hpp"
#include "web/base64url.hpp"

namespace horde::web {

std::string NewPkceVerifier() { return NewToken(64); }

std::string PkceChallengeS256(std::string_view verifier) {
    std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
    crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(verifier.data()),
                       verifier.size());
    return Base64UrlEncode(
        std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

}  // namespace horde::web
