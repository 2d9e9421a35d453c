// Browser sessions: the session cookie on /api/ calls (with CSRF), GET /api/web/session and
// /api/web/config, POST /api/web/register, /logout, /key, /invites (docs/web.md).

#include <algorithm>
#include <boost/json.hpp>

#include "api/api.hpp"
#include "api/error_mapping.hpp"
#include "common/random.hpp"
#include "protocol/json_util.hpp"
#include "web/cookies.hpp"
#include "web/login_state.hpp"

namespace horde::api {

namespace {

constexpr const char* kSessionCookie = "horde_session";
constexpr const char* kPreCsrfCookie = "horde_csrf";
constexpr int kSessionCookieMaxAge = 30 * 24 * 3600;
constexpr size_t kPreCsrfChars = 32;
constexpr size_t kCookieMaxChars = 128;
constexpr size_t kApiKeyMaxChars = 128;

std::string CookieOf(const http::Request& req, const char* name) {
    const std::string& header = req.Header("cookie");
    if (header.empty()) {
        return {};
    }
    auto cookies = web::ParseCookies(header);
    auto it = cookies.find(name);
    if (it == cookies.end() || it->second.size() > kCookieMaxChars) {
        return {};
    }
    return it->second;
}

bool IsChange(http::Method m) {
    return m != http::Method::kGet && m != http::Method::kHead && m != http::Method::kOptions;
}

web::CookieSpec SessionCookie(const std::string& token, bool secure) {
    return {.name = kSessionCookie,
            .value = token,
            .max_age_s = kSessionCookieMaxAge,
            .secure = secure};
}

web::CookieSpec ClearedSessionCookie(bool secure) {
    return {.name = kSessionCookie, .value = "", .max_age_s = 0, .secure = secure};
}

/// Adds one Set-Cookie (the server sends each of them) and `Cache-Control: no-store` once.
http::Response WithCookie(http::Response resp, const web::CookieSpec& cookie) {
    resp.headers.emplace_back("Set-Cookie", web::FormatSetCookie(cookie));
    const bool has_cache_control =
        std::any_of(resp.headers.begin(), resp.headers.end(),
                    [](const auto& h) { return h.first == "Cache-Control"; });
    if (!has_cache_control) {
        resp.headers.emplace_back("Cache-Control", "no-store");
    }
    return resp;
}

}  // namespace

Result<std::optional<std::string>> MaintenanceMessageInput(std::string_view body) {
    HORDE_TRY(auto object, protocol::ParseJsonObject(body));
    protocol::FieldReader f(object);
    return f.OptString("maintenance_msg", {.min_chars = 0, .max_chars = 500});
}

bool Api::SecureCookies(const http::Request& req) const {
    if (!settings_.public_url.empty()) {
        return settings_.public_url.starts_with("https://");
    }
    return req.Header("x-forwarded-proto") == "https";
}

std::string Api::CsrfTokenFor(const std::string& session_hash) const {
    return service_.WebMac("csrf", session_hash);
}

std::optional<http::Response> Api::AttachSession(http::Request& req) const {
    if (!req.Header("apikey").empty() || req.path.starts_with("/api/web/")) {
        return std::nullopt;  // an explicit key wins; /api/web/ reads the cookie itself
    }
    const std::string token = CookieOf(req, kSessionCookie);
    if (token.empty()) {
        return std::nullopt;
    }
    auto session = service_.ResolveSession(token);
    if (!session) {
        return std::nullopt;  // stale cookie: the call goes on as anonymous
    }
    if (IsChange(req.method) &&
        !web::ConstantTimeEqual(req.Header("x-csrf-token"), CsrfTokenFor(session->token_hash))) {
        return ErrorResponse(MakeError(ErrorCode::kCsrfFailed));
    }
    req.headers["apikey"] = std::string(kSessionKeyPrefix) + token;
    return std::nullopt;
}

http::Response Api::WebSession(http::Request& req) const {
    const std::string token = CookieOf(req, kSessionCookie);
    if (!token.empty()) {
        auto session = service_.ResolveSession(token);
        if (session) {
            http::Request user_req = req;
            user_req.headers["apikey"] = std::string(kSessionKeyPrefix) + token;
            user_req.path_params = {std::to_string(session->user.id.value())};
            const http::Response user = UserById(user_req);
            boost::json::object o;
            o["logged_in"] = true;
            o["csrf_token"] = CsrfTokenFor(session->token_hash);
            o["user"] = boost::json::parse(user.body);
            const std::string fresh = service_.TakePendingApiKey(session->token_hash);
            if (!fresh.empty()) {
                o["new_api_key"] = fresh;
            }
            auto resp = JsonResponse(200, o);
            resp.headers.emplace_back("Cache-Control", "no-store");
            return resp;
        }
    }
    // Not logged in: a CSRF token bound to the horde_csrf cookie (double submit, signed); a
    // stale session cookie is cleared in the same answer.
    std::string pre = CookieOf(req, kPreCsrfCookie);
    const bool fresh_cookie = pre.size() != kPreCsrfChars;
    if (fresh_cookie) {
        pre = NewToken(kPreCsrfChars);
    }
    boost::json::object o{{"logged_in", false}, {"csrf_token", service_.WebMac("precsrf", pre)}};
    auto resp = JsonResponse(200, o);
    resp.headers.emplace_back("Cache-Control", "no-store");
    if (!token.empty()) {
        resp = WithCookie(std::move(resp), ClearedSessionCookie(SecureCookies(req)));
    }
    if (fresh_cookie) {
        resp = WithCookie(
            std::move(resp),
            {.name = kPreCsrfCookie, .value = pre, .max_age_s = -1, .secure = SecureCookies(req)});
    }
    return resp;
}

http::Response Api::WebConfig(http::Request&) const {
    boost::json::array providers;
    for (const auto& p : oauth_->providers()) {
        providers.push_back(boost::json::object{{"id", p.id}, {"name", p.name}});
    }
    const auto modes = service_.GetModes();
    boost::json::object o;
    o["providers"] = std::move(providers);
    o["pseudonymous_registration"] = settings_.pseudonymous_registration && !modes.raid;
    o["maintenance_mode"] = modes.maintenance;
    o["maintenance_msg"] = service_.MaintenanceMessage();
    o["invite_only_mode"] = modes.invite_only;
    return JsonResponse(200, o);
}

http::Response Api::WebRegister(http::Request& req) const {
    // The pre-login token (bound to horde_csrf), or the token of the session this browser has
    // (logging in again switches accounts).
    const std::string csrf = req.Header("x-csrf-token");
    const std::string pre = CookieOf(req, kPreCsrfCookie);
    const std::string old = CookieOf(req, kSessionCookie);
    bool csrf_ok = !pre.empty() && web::ConstantTimeEqual(csrf, service_.WebMac("precsrf", pre));
    if (!csrf_ok && !old.empty()) {
        auto current = service_.ResolveSession(old);
        csrf_ok = current && web::ConstantTimeEqual(csrf, CsrfTokenFor(current->token_hash));
    }
    if (!csrf_ok) {
        return ErrorResponse(MakeError(ErrorCode::kCsrfFailed));
    }
    auto body = protocol::ParseJsonObject(req.body);
    if (!body) {
        return ErrorResponse(body.error());
    }
    protocol::FieldReader f(*body);
    auto api_key = f.OptString("api_key", {.min_chars = 1, .max_chars = kApiKeyMaxChars});
    if (!api_key) {
        return ErrorResponse(api_key.error());
    }
    domain::User user;
    std::string session_token;
    std::string new_key;
    if (*api_key) {
        // Log in with an existing key (the way back for a pseudonymous account).
        auto known = service_.Authenticate(**api_key);
        if (!known) {
            return ErrorResponse(known.error());
        }
        if (known->anonymous) {
            return ErrorResponse(MakeError(
                ErrorCode::kAnonForbidden,
                "The anonymous key cannot log in: create an account or use your own key."));
        }
        auto token = service_.CreateSession(known->id);
        if (!token) {
            return ErrorResponse(token.error());
        }
        user = *known;
        session_token = std::move(*token);
    } else {
        if (!settings_.pseudonymous_registration) {
            return ErrorResponse(MakeError(ErrorCode::kRegistrationClosed));
        }
        auto username = f.OptString("username", {.min_chars = 1, .max_chars = 100});
        if (!username) {
            return ErrorResponse(username.error());
        }
        if (!*username) {
            return ErrorResponse(
                MakeError(ErrorCode::kValidationFailed, "username is required", "username"));
        }
        auto login = service_.RegisterPseudonymous(**username);
        if (!login) {
            return ErrorResponse(login.error());
        }
        user = login->user;
        session_token = std::move(login->session_token);
        new_key = std::move(login->api_key);
    }
    // A session this browser had before is over (no two accounts in one browser).
    if (!old.empty()) {
        (void)service_.EndSession(old);
    }
    auto session = service_.ResolveSession(session_token);
    if (!session) {
        return ErrorResponse(session.error());
    }
    auto view = service_.GetUser(user.id);
    boost::json::object o;
    if (!new_key.empty()) {
        o["api_key"] = new_key;
    }
    o["user"] =
        boost::json::object{{"id", user.id.value()},
                            {"username", user.username + "#" + std::to_string(user.id.value())},
                            {"pseudonymous", user.pseudonymous},
                            {"kudos", view ? view->kudos.ToWire() : 0.0}};
    o["csrf_token"] = CsrfTokenFor(session->token_hash);
    return WithCookie(JsonResponse(200, o), SessionCookie(session_token, SecureCookies(req)));
}

http::Response Api::WebLogout(http::Request& req) const {
    const std::string token = CookieOf(req, kSessionCookie);
    if (!token.empty()) {
        auto session = service_.ResolveSession(token);
        if (session) {
            if (!web::ConstantTimeEqual(req.Header("x-csrf-token"),
                                        CsrfTokenFor(session->token_hash))) {
                return ErrorResponse(MakeError(ErrorCode::kCsrfFailed));
            }
            if (auto s = service_.EndSession(token); !s) {
                return ErrorResponse(s.error());
            }
        }
    }
    return WithCookie(JsonResponse(200, boost::json::object{}),
                      ClearedSessionCookie(SecureCookies(req)));
}

Result<service::Caller> Api::WebCaller(const http::Request& req) const {
    if (!req.Header("apikey").empty()) {
        return CallerOf(req, true);
    }
    const std::string token = CookieOf(req, kSessionCookie);
    if (token.empty()) {
        return MakeError(ErrorCode::kSessionExpired, "Please log in first.");
    }
    HORDE_TRY(auto session, service_.ResolveSession(token));
    if (!web::ConstantTimeEqual(req.Header("x-csrf-token"), CsrfTokenFor(session.token_hash))) {
        return MakeError(ErrorCode::kCsrfFailed);
    }
    http::Request as_key = req;
    as_key.headers["apikey"] = std::string(kSessionKeyPrefix) + token;
    return CallerOf(as_key, true);
}

http::Response Api::WebKey(http::Request& req) const {
    auto caller = WebCaller(req);
    if (!caller) {
        return ErrorResponse(caller.error());
    }
    if (caller->user.anonymous) {
        return ErrorResponse(MakeError(ErrorCode::kAnonForbidden));
    }
    auto reset = service_.ResetKey(caller->user.id);
    if (!reset) {
        return ErrorResponse(reset.error());
    }
    boost::json::object o{{"api_key", reset->api_key}};
    if (!req.Header("apikey").empty()) {
        auto resp = JsonResponse(200, o);
        resp.headers.emplace_back("Cache-Control", "no-store");
        return resp;
    }
    // The reset ended every session of the account (their binding names the old key): this
    // browser gets a new one, with a new CSRF token.
    (void)service_.EndSession(CookieOf(req, kSessionCookie));
    auto token = service_.CreateSession(caller->user.id);
    if (!token) {
        return ErrorResponse(token.error());
    }
    auto session = service_.ResolveSession(*token);
    if (!session) {
        return ErrorResponse(session.error());
    }
    o["csrf_token"] = CsrfTokenFor(session->token_hash);
    return WithCookie(JsonResponse(200, o), SessionCookie(*token, SecureCookies(req)));
}

http::Response Api::WebInvite(http::Request& req) const {
    auto caller = WebCaller(req);
    if (!caller) {
        return ErrorResponse(caller.error());
    }
    boost::json::object body;
    if (!req.body.empty()) {
        auto parsed = protocol::ParseJsonObject(req.body);
        if (!parsed) {
            return ErrorResponse(parsed.error());
        }
        body = std::move(*parsed);
    }
    protocol::FieldReader f(body);
    auto username =
        f.OptString("username", {.min_chars = 3, .max_chars = 120, .empty_is_unset = true});
    if (!username) {
        return ErrorResponse(username.error());
    }
    if (*username) {
        auto user = service_.InviteUser(caller->user, **username);
        if (!user) {
            return ErrorResponse(user.error());
        }
        return JsonResponse(
            200, boost::json::object{
                     {"username", user->username + "#" + std::to_string(user->id.value())},
                     {"worker_invited", user->worker_invited}});
    }
    auto link = service_.CreateInvite(caller->user);
    if (!link) {
        return ErrorResponse(link.error());
    }
    return JsonResponse(200, boost::json::object{{"token", link->token},
                                                 {"url", BaseUrl(req) + "/invite/" + link->token},
                                                 {"expires", ToUnixMillis(link->expires) / 1000}});
}

http::Response Api::WebInviteAccept(http::Request& req) const {
    auto caller = WebCaller(req);
    if (!caller) {
        return ErrorResponse(caller.error());
    }
    auto user = service_.AcceptInvite(caller->user, req.path_params.at(0));
    if (!user) {
        return ErrorResponse(user.error());
    }
    return JsonResponse(200, boost::json::object{{"worker_invited", user->worker_invited}});
}

}  // namespace horde::api
