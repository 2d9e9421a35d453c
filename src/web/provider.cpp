#include "web/provider.hpp"

#include <boost/json.hpp>

namespace horde::web {

namespace json = boost::json;

ProviderConfig GitHubPreset(std::string client_id, std::string client_secret) {
    // https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
    return ProviderConfig{.id = "github",
                          .name = "GitHub",
                          .kind = ProviderKind::kGitHub,
                          .issuer = "",
                          .authorize_url = "https://github.com/login/oauth/authorize",
                          .token_url = "https://github.com/login/oauth/access_token",
                          .userinfo_url = "https://api.github.com/user",
                          .client_id = std::move(client_id),
                          .client_secret = std::move(client_secret),
                          .scopes = "read:user",
                          .client_auth = ClientAuth::kPost};
}

ProviderConfig DiscordPreset(std::string client_id, std::string client_secret) {
    // https://discord.com/developers/docs/topics/oauth2
    return ProviderConfig{.id = "discord",
                          .name = "Discord",
                          .kind = ProviderKind::kDiscord,
                          .issuer = "",
                          .authorize_url = "https://discord.com/oauth2/authorize",
                          .token_url = "https://discord.com/api/oauth2/token",
                          .userinfo_url = "https://discord.com/api/users/@me",
                          .client_id = std::move(client_id),
                          .client_secret = std::move(client_secret),
                          .scopes = "identify",
                          .client_auth = ClientAuth::kBasic};
}

ProviderConfig GooglePreset(std::string client_id, std::string client_secret) {
    // https://developers.google.com/identity/openid-connect/openid-connect
    return ProviderConfig{.id = "google",
                          .name = "Google",
                          .kind = ProviderKind::kGoogle,
                          .issuer = "https://accounts.google.com",
                          .authorize_url = "https://accounts.google.com/o/oauth2/v2/auth",
                          .token_url = "https://oauth2.googleapis.com/token",
                          .userinfo_url = "https://openidconnect.googleapis.com/v1/userinfo",
                          .client_id = std::move(client_id),
                          .client_secret = std::move(client_secret),
                          .scopes = "openid profile email",
                          .client_auth = ClientAuth::kBasic};
}

namespace {

std::string StringOrNumber(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) {
        return {};
    }
    if (v->is_string()) {
        return std::string(v->as_string());
    }
    if (v->is_int64()) {
        return std::to_string(v->as_int64());
    }
    if (v->is_uint64()) {
        return std::to_string(v->as_uint64());
    }
    return {};
}

std::string FirstString(const json::object& o, std::initializer_list<std::string_view> keys) {
    for (const auto key : keys) {
        const json::value* v = o.if_contains(key);
        if (v != nullptr && v->is_string() && !v->as_string().empty()) {
            return std::string(v->as_string());
        }
    }
    return {};
}

}  // namespace

Result<Identity> ParseUserInfo(ProviderKind kind, std::string_view json_body) {
    boost::system::error_code ec;
    const json::value v = json::parse(json_body, ec);
    if (ec || !v.is_object()) {
        return MakeError(ErrorCode::kOAuthFailed, "The provider's user info is not a JSON object.");
    }
    const json::object& o = v.as_object();
    Identity id;
    switch (kind) {
        case ProviderKind::kGitHub:
            id.subject = StringOrNumber(o, "id");
            id.name = FirstString(o, {"login", "name"});
            break;
        case ProviderKind::kDiscord:
            id.subject = StringOrNumber(o, "id");
            id.name = FirstString(o, {"global_name", "username"});
            break;
        case ProviderKind::kGoogle:
        case ProviderKind::kOidc:
            id.subject = StringOrNumber(o, "sub");
            id.name = FirstString(o, {"name", "preferred_username", "nickname", "given_name"});
            if (id.name.empty()) {
                const std::string email = FirstString(o, {"email"});
                id.name = email.substr(0, email.find('@'));
            }
            break;
    }
    if (id.subject.empty() || id.subject.size() > 255) {
        return MakeError(ErrorCode::kOAuthFailed, "The provider's user info has no user id.");
    }
    return id;
}

}  // namespace horde::web
