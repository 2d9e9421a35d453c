#pragma once
// PKCE (RFC 7636): a random code verifier and its S256 challenge.

#include <string>
#include <string_view>

namespace horde::web {

/// 64 characters from the unreserved set (RFC 7636 §4.1 allows 43..128).
std::string NewPkceVerifier();
/// BASE64URL(SHA-256(verifier)).
std::string PkceChallengeS256(std::string_view verifier);

}  // namespace horde::web
