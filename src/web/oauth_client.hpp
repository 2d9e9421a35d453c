#pragma once
// The provider side of an OAuth 2.0 authorization-code login with PKCE: authorize URLs, OpenID
// Connect discovery (cached per issuer), the token exchange and the user-info call, all through
// httpclient. The client secret is sent only to the token endpoint and never logged.
//
// Thread-safety: safe for concurrent use (the discovery cache has its own mutex).

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "web/provider.hpp"

namespace horde::web {

/// The endpoints of a provider after discovery.
struct Endpoints {
    std::string issuer;
    std::string authorize_url;
    std::string token_url;
    std::string userinfo_url;
};

struct AuthorizeParams {
    std::string redirect_uri;
    std::string state;
    std::string code_challenge;  // S256
    std::string nonce;           // OIDC only
};

/// The provider's authorize URL with response_type=code, client_id, redirect_uri, scope, state,
/// code_challenge(+method) and nonce, appended to any query the URL already has.
Result<std::string> BuildAuthorizeUrl(const ProviderConfig& p, const Endpoints& e,
                                      const AuthorizeParams& a);

/// Reads a discovery document (issuer, authorization_endpoint, token_endpoint,
/// userinfo_endpoint). kOAuthFailed when it lacks one of the first three.
Result<Endpoints> ParseDiscovery(std::string_view json_body);

/// The access token (and id_token) of a token endpoint answer; kOAuthFailed on an error answer.
struct Tokens {
    std::string access_token;
    std::string id_token;
};
Result<Tokens> ParseTokenResponse(std::string_view json_body);

/// Checks an id_token's claims (received straight from the token endpoint, so the TLS channel
/// vouches for it, OIDC Core §3.1.3.7): `nonce`, `aud` contains `client_id`, `iss` when known.
/// Returns its `sub`.
Result<std::string> CheckIdTokenClaims(std::string_view id_token, std::string_view nonce,
                                       std::string_view client_id, std::string_view issuer);

class OAuthClient {
public:
    explicit OAuthClient(std::vector<ProviderConfig> providers);

    const std::vector<ProviderConfig>& providers() const { return providers_; }
    /// nullptr when `id` is not configured.
    const ProviderConfig* Find(std::string_view id) const;
    /// The provider's endpoints, from its settings or discovery (cached after the first success).
    Result<Endpoints> EndpointsOf(const ProviderConfig& p);
    /// Trades `code` for tokens (with the PKCE verifier) and asks who logged in.
    Result<Identity> CompleteLogin(const ProviderConfig& p, const std::string& code,
                                   const std::string& verifier, const std::string& redirect_uri,
                                   const std::string& nonce);

private:
    std::vector<ProviderConfig> providers_;
    std::mutex mu_;
    std::map<std::string, Endpoints> discovered_;  // issuer → endpoints; guarded by mu_
};

}  // namespace horde::web
