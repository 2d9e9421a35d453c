#pragma once
// url-safe base64 without padding (RFC 4648 §5), as PKCE, JWTs and our signed cookies use it.

#include <optional>
#include <string>
#include <string_view>

namespace horde::web {

std::string Base64UrlEncode(std::string_view bytes);
/// Standard base64 with padding (HTTP Basic credentials).
std::string Base64Encode(std::string_view bytes);
/// nullopt when `text` is not url-safe base64 without padding.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace horde::web
