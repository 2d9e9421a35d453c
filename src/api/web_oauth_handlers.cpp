// OAuth 2.0 login: GET /auth/login/{provider} and GET /auth/callback/{provider} (docs/web.md).
// The state, PKCE verifier, nonce and return_to travel in the signed, 10-minute horde_oauth
// cookie (Path=/auth); the provider calls go through web::OAuthClient.

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "api/api.hpp"
#include "api/error_mapping.hpp"
#include "common/random.hpp"
#include "web/cookies.hpp"
#include "web/login_state.hpp"
#include "web/pkce.hpp"

namespace horde::api {

namespace {

constexpr const char* kOAuthCookie = "horde_oauth";
constexpr const char* kSessionCookie = "horde_session";
constexpr int kLoginStateLifetimeS = 600;
constexpr int kSessionCookieMaxAge = 30 * 24 * 3600;
constexpr size_t kMaxParamChars = 2048;

http::Response Redirect(const std::string& location) {
    http::Response r;
    r.status = 302;
    r.content_type = "text/plain";
    r.body = "";
    r.headers.emplace_back("Location", location);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

/// "/login?error=<code>", the code limited to [a-z_] (provider error codes are like that).
http::Response LoginError(std::string_view code) {
    std::string safe;
    for (const char c : code.substr(0, 64)) {
        if ((c >= 'a' && c <= 'z') || c == '_') {
            safe.push_back(c);
        }
    }
    return Redirect("/login?error=" + (safe.empty() ? std::string("provider_error") : safe));
}

int64_t UnixNow(const Clock& clock) { return ToUnixMillis(clock.Now()) / 1000; }

/// The login state is used once: a callback whose `state` matches it deletes the horde_oauth
/// cookie, whatever the outcome. (A callback with another state leaves it: the browser's own
/// login may still be under way.)
http::Response ClearingLoginState(http::Response resp, bool secure) {
    resp.headers.emplace_back("Set-Cookie", web::FormatSetCookie({.name = kOAuthCookie,
                                                                  .value = "",
                                                                  .path = "/auth",
                                                                  .max_age_s = 0,
                                                                  .secure = secure}));
    return resp;
}

}  // namespace

http::Response Api::AuthLogin(http::Request& req) const {
    const web::ProviderConfig* p = oauth_->Find(req.path_params.at(0));
    if (p == nullptr) {
        return ErrorResponse(MakeError(ErrorCode::kUnknownProvider));
    }
    const std::string return_to = req.Query("return_to", "/account");
    if (!web::IsSafeReturnTo(return_to)) {
        return ErrorResponse(
            MakeError(ErrorCode::kValidationFailed,
                      "return_to must be a path on this site, starting with one '/'", "return_to"));
    }
    auto endpoints = oauth_->EndpointsOf(*p);
    if (!endpoints) {
        return LoginError("provider_unavailable");
    }
    web::LoginState st{.provider = p->id,
                       .state = NewToken(32),
                       .verifier = web::NewPkceVerifier(),
                       .nonce = p->IsOidc() ? NewToken(32) : std::string(),
                       .return_to = return_to,
                       .expires_unix = UnixNow(service_.clock()) + kLoginStateLifetimeS};
    auto url = web::BuildAuthorizeUrl(*p, *endpoints,
                                      {.redirect_uri = BaseUrl(req) + "/auth/callback/" + p->id,
                                       .state = st.state,
                                       .code_challenge = web::PkceChallengeS256(st.verifier),
                                       .nonce = st.nonce});
    if (!url) {
        return LoginError("provider_unavailable");
    }
    auto resp = Redirect(*url);
    const auto mac = [this](std::string_view m) { return service_.WebMac("oauth-state", m); };
    resp.headers.emplace_back("Set-Cookie",
                              web::FormatSetCookie({.name = kOAuthCookie,
                                                    .value = web::SealLoginState(st, mac),
                                                    .path = "/auth",
                                                    .max_age_s = kLoginStateLifetimeS,
                                                    .secure = SecureCookies(req)}));
    return resp;
}

http::Response Api::AuthCallback(http::Request& req) const {
    const bool secure = SecureCookies(req);
    const web::ProviderConfig* p = oauth_->Find(req.path_params.at(0));
    if (p == nullptr) {
        return LoginError("unknown_provider");
    }
    const auto cookies = web::ParseCookies(req.Header("cookie"));
    auto cookie = cookies.find(kOAuthCookie);
    const auto mac = [this](std::string_view m) { return service_.WebMac("oauth-state", m); };
    const auto st = cookie == cookies.end()
                        ? std::nullopt
                        : web::OpenLoginState(cookie->second, mac, UnixNow(service_.clock()));
    const std::string state = req.Query("state");
    if (!st || st->provider != p->id || state.empty() || state.size() > kMaxParamChars ||
        !web::ConstantTimeEqual(state, st->state)) {
        return LoginError("invalid_state");
    }
    if (const std::string error = req.Query("error"); !error.empty()) {
        return ClearingLoginState(LoginError(error), secure);
    }
    const std::string code = req.Query("code");
    if (code.empty() || code.size() > kMaxParamChars) {
        return ClearingLoginState(LoginError("invalid_request"), secure);
    }
    auto identity = oauth_->CompleteLogin(*p, code, st->verifier,
                                          BaseUrl(req) + "/auth/callback/" + p->id, st->nonce);
    if (!identity) {
        return ClearingLoginState(LoginError("provider_error"), secure);
    }
    auto login = service_.LoginWithOAuth(p->id + "_" + identity->subject, identity->name);
    if (!login) {
        spdlog::warn("oauth {}: login refused: {}", p->id, login.error().message);
        return ClearingLoginState(
            LoginError(login.error().code == ErrorCode::kDeletedUser ? "deleted_user"
                                                                     : "login_failed"),
            secure);
    }
    // A session this browser had before is over (no two accounts in one browser).
    if (auto old = cookies.find(kSessionCookie); old != cookies.end()) {
        (void)service_.EndSession(old->second);
    }
    auto resp = Redirect(st->return_to);
    resp.headers.emplace_back("Set-Cookie", web::FormatSetCookie({.name = kSessionCookie,
                                                                  .value = login->session_token,
                                                                  .max_age_s = kSessionCookieMaxAge,
                                                                  .secure = secure}));
    return ClearingLoginState(std::move(resp), secure);
}

}  // namespace horde::api
