#include "web/oauth_client.hpp"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <boost/url.hpp>

#include "httpclient/http_client.hpp"
#include "web/base64url.hpp"
#include "web/login_state.hpp"

namespace horde::web {

namespace json = boost::json;
namespace urls = boost::urls;

namespace {

constexpr int kProviderTimeoutMs = 10'000;
constexpr size_t kMaxProviderBody = 256 * 1024;

std::string Str(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string FormEncode(std::string_view s) { return urls::encode(s, urls::unreserved_chars); }

std::string FormBody(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string body;
    for (const auto& [k, v] : fields) {
        if (!body.empty()) {
            body += '&';
        }
        body += FormEncode(k) + "=" + FormEncode(v);
    }
    return body;
}

Error ProviderError(const ProviderConfig& p, const std::string& what) {
    spdlog::warn("oauth {}: {}", p.id, what);
    return MakeError(ErrorCode::kOAuthFailed);
}

}  // namespace

Result<std::string> BuildAuthorizeUrl(const ProviderConfig& p, const Endpoints& e,
                                      const AuthorizeParams& a) {
    auto parsed = urls::parse_uri(e.authorize_url);
    if (!parsed) {
        return MakeError(ErrorCode::kOAuthFailed, "The provider's authorize URL is invalid.");
    }
    urls::url u(*parsed);
    auto params = u.params();
    params.append({"response_type", "code"});
    params.append({"client_id", p.client_id});
    params.append({"redirect_uri", a.redirect_uri});
    params.append({"scope", p.scopes});
    params.append({"state", a.state});
    params.append({"code_challenge", a.code_challenge});
    params.append({"code_challenge_method", "S256"});
    if (p.IsOidc() && !a.nonce.empty()) {
        params.append({"nonce", a.nonce});
    }
    return std::string(u.buffer());
}

Result<Endpoints> ParseDiscovery(std::string_view json_body) {
    boost::system::error_code ec;
    const json::value v = json::parse(json_body, ec);
    if (ec || !v.is_object()) {
        return MakeError(ErrorCode::kOAuthFailed, "The discovery document is not JSON.");
    }
    const auto& o = v.as_object();
    Endpoints e{.issuer = Str(o, "issuer"),
                .authorize_url = Str(o, "authorization_endpoint"),
                .token_url = Str(o, "token_endpoint"),
                .userinfo_url = Str(o, "userinfo_endpoint")};
    if (e.issuer.empty() || e.authorize_url.empty() || e.token_url.empty()) {
        return MakeError(ErrorCode::kOAuthFailed, "The discovery document lacks endpoints.");
    }
    return e;
}

Result<Tokens> ParseTokenResponse(std::string_view json_body) {
    boost::system::error_code ec;
    const json::value v = json::parse(json_body, ec);
    if (ec || !v.is_object()) {
        return MakeError(ErrorCode::kOAuthFailed, "The token answer is not JSON.");
    }
    const auto& o = v.as_object();
    Tokens t{.access_token = Str(o, "access_token"), .id_token = Str(o, "id_token")};
    if (t.access_token.empty()) {
        const std::string err = Str(o, "error");
        return MakeError(ErrorCode::kOAuthFailed,
                         "The provider refused the code" + (err.empty() ? "" : ": " + err));
    }
    return t;
}

Result<std::string> CheckIdTokenClaims(std::string_view id_token, std::string_view nonce,
                                       std::string_view client_id, std::string_view issuer) {
    const size_t a = id_token.find('.');
    const size_t b = a == std::string_view::npos ? a : id_token.find('.', a + 1);
    if (b == std::string_view::npos) {
        return MakeError(ErrorCode::kOAuthFailed, "Malformed id_token.");
    }
    const auto payload = Base64UrlDecode(id_token.substr(a + 1, b - a - 1));
    if (!payload) {
        return MakeError(ErrorCode::kOAuthFailed, "Malformed id_token.");
    }
    boost::system::error_code ec;
    const json::value v = json::parse(*payload, ec);
    if (ec || !v.is_object()) {
        return MakeError(ErrorCode::kOAuthFailed, "Malformed id_token.");
    }
    const auto& o = v.as_object();
    if (!ConstantTimeEqual(Str(o, "nonce"), nonce)) {
        return MakeError(ErrorCode::kOAuthFailed, "The id_token's nonce does not match.");
    }
    bool aud_ok = false;
    if (const json::value* aud = o.if_contains("aud")) {
        if (aud->is_string()) {
            aud_ok = aud->as_string() == client_id;
        } else if (aud->is_array()) {
            for (const auto& x : aud->as_array()) {
                aud_ok = aud_ok || (x.is_string() && x.as_string() == client_id);
            }
        }
    }
    if (!aud_ok) {
        return MakeError(ErrorCode::kOAuthFailed, "The id_token is not for this client.");
    }
    if (!issuer.empty() && Str(o, "iss") != issuer) {
        return MakeError(ErrorCode::kOAuthFailed, "The id_token's issuer does not match.");
    }
    return Str(o, "sub");
}

OAuthClient::OAuthClient(std::vector<ProviderConfig> providers)
    : providers_(std::move(providers)) {}

const ProviderConfig* OAuthClient::Find(std::string_view id) const {
    for (const auto& p : providers_) {
        if (p.id == id) {
            return &p;
        }
    }
    return nullptr;
}

Result<Endpoints> OAuthClient::EndpointsOf(const ProviderConfig& p) {
    Endpoints e{.issuer = p.issuer,
                .authorize_url = p.authorize_url,
                .token_url = p.token_url,
                .userinfo_url = p.userinfo_url};
    if (!p.NeedsDiscovery()) {
        return e;
    }
    {
        std::lock_guard lock(mu_);
        auto it = discovered_.find(p.issuer);
        if (it != discovered_.end()) {
            return it->second;
        }
    }
    std::string url = p.issuer;
    while (!url.empty() && url.back() == '/') {
        url.pop_back();
    }
    url += "/.well-known/openid-configuration";
    httpclient::Request discovery;
    discovery.url = url;
    discovery.headers = {{"Accept", "application/json"}};
    discovery.timeout_ms = kProviderTimeoutMs;
    auto resp = httpclient::Send(discovery);
    if (!resp) {
        return ProviderError(p, "discovery failed: " + resp.error().message);
    }
    if (resp->status != 200 || resp->body.size() > kMaxProviderBody) {
        return ProviderError(p, "discovery answered HTTP " + std::to_string(resp->status));
    }
    HORDE_TRY(Endpoints found, ParseDiscovery(resp->body));
    // Explicit settings win over discovered ones.
    if (!p.authorize_url.empty()) {
        found.authorize_url = p.authorize_url;
    }
    if (!p.token_url.empty()) {
        found.token_url = p.token_url;
    }
    if (!p.userinfo_url.empty()) {
        found.userinfo_url = p.userinfo_url;
    }
    std::lock_guard lock(mu_);
    discovered_[p.issuer] = found;
    return found;
}

Result<Identity> OAuthClient::CompleteLogin(const ProviderConfig& p, const std::string& code,
                                            const std::string& verifier,
                                            const std::string& redirect_uri,
                                            const std::string& nonce) {
    HORDE_TRY(const Endpoints e, EndpointsOf(p));
    std::vector<std::pair<std::string, std::string>> form{{"grant_type", "authorization_code"},
                                                          {"code", code},
                                                          {"redirect_uri", redirect_uri},
                                                          {"code_verifier", verifier}};
    httpclient::Request token_req;
    token_req.method = "POST";
    token_req.url = e.token_url;
    token_req.headers = {{"Accept", "application/json"},
                         {"Content-Type", "application/x-www-form-urlencoded"}};
    token_req.timeout_ms = kProviderTimeoutMs;
    if (p.client_auth == ClientAuth::kBasic) {
        // RFC 6749 §2.3.1: form-encode id and secret, then HTTP Basic.
        const std::string creds = FormEncode(p.client_id) + ":" + FormEncode(p.client_secret);
        token_req.headers.emplace_back("Authorization", "Basic " + Base64Encode(creds));
    } else {
        form.emplace_back("client_id", p.client_id);
        form.emplace_back("client_secret", p.client_secret);
    }
    token_req.body = FormBody(form);
    auto token_resp = httpclient::Send(token_req);
    if (!token_resp) {
        return ProviderError(p, "token call failed: " + token_resp.error().message);
    }
    if (token_resp->body.size() > kMaxProviderBody) {
        return ProviderError(p, "token answer too large");
    }
    auto tokens = ParseTokenResponse(token_resp->body);
    if (!tokens) {
        return ProviderError(p, "token call answered HTTP " + std::to_string(token_resp->status) +
                                    ": " + tokens.error().message);
    }
    std::string id_token_sub;
    if (p.IsOidc() && !tokens->id_token.empty()) {
        auto sub = CheckIdTokenClaims(tokens->id_token, nonce, p.client_id, e.issuer);
        if (!sub) {
            return ProviderError(p, sub.error().message);
        }
        id_token_sub = *sub;
    }
    if (e.userinfo_url.empty()) {
        return ProviderError(p, "no user-info endpoint");
    }
    httpclient::Request info_req;
    info_req.url = e.userinfo_url;
    info_req.headers = {{"Authorization", "Bearer " + tokens->access_token},
                        {"Accept", "application/json"},
                        {"User-Agent", "horded"}};  // GitHub's API requires a User-Agent
    info_req.timeout_ms = kProviderTimeoutMs;
    auto info = httpclient::Send(info_req);
    if (!info) {
        return ProviderError(p, "user-info call failed: " + info.error().message);
    }
    if (info->status != 200 || info->body.size() > kMaxProviderBody) {
        return ProviderError(p, "user-info answered HTTP " + std::to_string(info->status));
    }
    auto identity = ParseUserInfo(p.kind, info->body);
    if (!identity) {
        return ProviderError(p, identity.error().message);
    }
    if (!id_token_sub.empty() && id_token_sub != identity->subject) {
        return ProviderError(p, "id_token and user info name different users");
    }
    return identity;
}

}  // namespace horde::web
