#pragma once
// The OAuth login's state between /auth/login and /auth/callback, carried by the browser in a
// short-lived cookie: the payload (JSON, base64url) and a MAC over it, "payload.mac". The MAC is
// computed by the caller (HordeService::WebMac, crypto_auth under the server secret).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace horde::web {

struct LoginState {
    std::string provider;
    std::string state;
    std::string verifier;  // PKCE code verifier
    std::string nonce;     // OIDC only ("" otherwise)
    std::string return_to;
    int64_t expires_unix = 0;
};

using MacFn = std::function<std::string(std::string_view message)>;

/// "payload.mac".
std::string SealLoginState(const LoginState& s, const MacFn& mac);
/// The state, when the MAC matches (constant time), the payload is well formed and it has not
/// expired at `now_unix`.
std::optional<LoginState> OpenLoginState(std::string_view cookie, const MacFn& mac,
                                         int64_t now_unix);

/// True for a same-site relative path: starts with one '/', not "//" or "/\", no control
/// characters or backslashes, at most 512 bytes.
bool IsSafeReturnTo(std::string_view path);

/// Constant-time string equality.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace horde::web
