#pragma once
// OAuth 2.0 / OpenID Connect providers: settings, the GitHub/Discord/Google presets, and how each
// one's user-info answer names the person.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace horde::web {

enum class ProviderKind { kGitHub, kDiscord, kGoogle, kOidc };

/// How the client authenticates at the token endpoint.
enum class ClientAuth { kBasic, kPost };

struct ProviderConfig {
    std::string id;    // URL segment and oauth_id prefix: "github", "discord", "google", or the
                       // generic provider's configured name
    std::string name;  // shown on the login page
    ProviderKind kind = ProviderKind::kOidc;
    std::string issuer;  // OIDC: discovery from <issuer>/.well-known/openid-configuration
    std::string authorize_url;
    std::string token_url;
    std::string userinfo_url;
    std::string client_id;
    std::string client_secret;  // never logged, never answered
    std::string scopes;         // space separated
    ClientAuth client_auth = ClientAuth::kBasic;

    /// True for providers that get a `nonce` and may answer an id_token.
    bool IsOidc() const { return kind == ProviderKind::kOidc || kind == ProviderKind::kGoogle; }
    /// True when discovery must fill the endpoints first.
    bool NeedsDiscovery() const {
        return !issuer.empty() && (authorize_url.empty() || token_url.empty());
    }
};

ProviderConfig GitHubPreset(std::string client_id, std::string client_secret);
ProviderConfig DiscordPreset(std::string client_id, std::string client_secret);
ProviderConfig GooglePreset(std::string client_id, std::string client_secret);

/// Who logged in, as the provider says.
struct Identity {
    std::string subject;  // the provider's stable user id
    std::string name;     // a display name for the new account
};

/// Reads the user-info JSON of `kind`: GitHub {id, login}, Discord {id, global_name|username},
/// OIDC/Google {sub, name|preferred_username|nickname|email}. kOAuthFailed when the id is missing.
Result<Identity> ParseUserInfo(ProviderKind kind, std::string_view json_body);

}  // namespace horde::web
