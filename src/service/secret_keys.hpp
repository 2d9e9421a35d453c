#pragma once
// The server secret's keyed hash states, made once when the service starts. Every use of the
// secret starts from these: a hash of an API key or a URL starts from a copy of its keyed state,
// which spares decoding the secret and hashing the key block (HMAC's inner and outer pads) on
// every request; the browser MAC's key is derived once.
//
// Thread-safety: immutable after construction; copies of the states are the callers'.

#include <sodium.h>

#include <array>
#include <string>
#include <string_view>

#include "service/horde_service.hpp"

namespace horde::service {

struct HordeService::SecretKeys {
    /// `secret_hex`: up to 32 bytes in hex; anything else counts as no key.
    explicit SecretKeys(const std::string& secret_hex) {
        std::array<unsigned char, 32> key{};
        size_t key_len = 0;
        if (sodium_hex2bin(key.data(), key.size(), secret_hex.data(), secret_hex.size(), nullptr,
                           &key_len, nullptr) != 0) {
            key_len = 0;
        }
        crypto_generichash_init(&api_key, key_len ? key.data() : nullptr, key_len, 32);
        crypto_auth_hmacsha256_init(&url, key.data(), key_len);
        // The browser MAC's key = keyed BLAKE2b(secret, "horde web mac"), so it differs from the
        // API-key hashing and URL-signing uses of the same secret.
        static constexpr std::string_view kLabel = "horde web mac";
        crypto_generichash(web_mac.data(), web_mac.size(),
                           reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size(),
                           key_len ? key.data() : nullptr, key_len);
        sodium_memzero(key.data(), key.size());
    }
    crypto_generichash_state api_key{};                         // HashKey
    crypto_auth_hmacsha256_state url{};                         // SignUrl
    std::array<unsigned char, crypto_auth_KEYBYTES> web_mac{};  // WebMac
};

}  // namespace horde::service
