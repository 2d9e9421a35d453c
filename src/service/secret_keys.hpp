#pragma once
// The server secret's keyed hash states, made once when the service starts. Every use of the
// secret starts from these: a hash of an API key or a URL starts from a copy of its keyed state,
// which spares decoding the secret and hashing the key block (HMAC's inner and outer pads) on
// every request; the browser MAC's and URL signatures' keys are derived once.
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
        crypto_auth_hmacsha256_init(&url_hmac, key.data(), key_len);
        // Derived keys = keyed BLAKE2b(secret, label), so that each use of the secret has its
        // own key: the browser MAC's, and the URL signatures' (a keyed BLAKE2b of its own, a
        // fifth of HMAC-SHA256's work with libsodium's SHA-256).
        auto derive = [&](std::string_view label, unsigned char* out, size_t out_len) {
            crypto_generichash(out, out_len, reinterpret_cast<const unsigned char*>(label.data()),
                               label.size(), key_len ? key.data() : nullptr, key_len);
        };
        derive("horde web mac", web_mac.data(), web_mac.size());
        std::array<unsigned char, 32> url_key{};
        derive("horde url signature", url_key.data(), url_key.size());
        crypto_generichash_init(&url, url_key.data(), url_key.size(), 32);
        sodium_memzero(url_key.data(), url_key.size());
        sodium_memzero(key.data(), key.size());
    }
    crypto_generichash_state api_key{};                         // HashKey
    crypto_generichash_state url{};                             // SignUrl
    crypto_auth_hmacsha256_state url_hmac{};                    // VerifyUrl: earlier signatures
    std::array<unsigned char, crypto_auth_KEYBYTES> web_mac{};  // WebMac
};

}  // namespace horde::service
