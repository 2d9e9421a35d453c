#pragma once
// Base64 (RFC 4648, standard alphabet; decoding also accepts the URL-safe one, missing padding,
// whitespace and a "data:...;base64," prefix). Pure functions, safe for concurrent use.

#include <optional>
#include <string>
#include <string_view>

namespace horde::client {

std::string Base64Encode(std::string_view bytes);
/// nullopt when `text` holds characters outside the alphabet.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace horde::client
