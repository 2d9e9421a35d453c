// Browser sessions: the session cookie on /api/ calls (with CSRF), GET /api/web/session and
// /api/web/config, POST /api/web/register, /logout, /key, /invites (docs/web.md).

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

http::Response WithCookie(http::Response resp, const web::CookieSpec& cookie) {
    resp.headers.emplace_back("Set-Cookie", web::FormatSetCookie(cookie));
    resp.headers.emplace_back("Cache-Control", "no-store");
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
    // Not logged in: a CSRF token bound to the horde_csrf cookie (double submit, signed).
    std::string pre = CookieOf(req, kPreCsrfCookie);
    const bool fresh_cookie = pre.size() != kPreCsrfChars;
    if (fresh_cookie) {
        pre = NewToken(kPreCsrfChars);
    }
    boost::json::object o{{"logged_in", false}, {"csrf_token", service_.WebMac("precsrf", pre)}};
    auto resp = JsonResponse(200, o);
    if (!token.empty() || fresh_cookie) {
        // One Set-Cookie per answer: clear a stale session cookie first, the CSRF cookie on the
        // next call.
        if (!token.empty()) {
            return WithCookie(std::move(resp), {.name = kSessionCookie,
                                                .value = "",
                                                .max_age_s = 0,
                                                .secure = SecureCookies(req)});
        }
        return WithCookie(
            std::move(resp),
            {.name = kPreCsrfCookie, .value = pre, .max_age_s = -1, .secure = SecureCookies(req)});
    }
    resp.headers.emplace_back("Cache-Control", "no-store");
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
    const std::string pre = CookieOf(req, kPreCsrfCookie);
    if (pre.empty() ||
        !web::ConstantTimeEqual(req.Header("x-csrf-token"), service_.WebMac("precsrf", pre))) {
        return ErrorResponse(MakeError(ErrorCode::kCsrfFailed));
    }
    if (!settings_.pseudonymous_registration) {
        return ErrorResponse(MakeError(ErrorCode::kRegistrationClosed));
    }
    auto body = protocol::ParseJsonObject(req.body);
    if (!body) {
        return ErrorResponse(body.error());
    }
    protocol::FieldReader f(*body);
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
    auto view = service_.GetUser(login->user.id);
    boost::json::object o;
    o["api_key"] = login->api_key;
    o["user"] = boost::json::object{
        {"id", login->user.id.value()},
        {"username", login->user.username + "#" + std::to_string(login->user.id.value())},
        {"pseudonymous", true},
        {"kudos", view ? view->kudos.ToWire() : 0.0}};
    o["csrf_token"] = CsrfTokenFor(service_.HashKey(login->session_token));
    return WithCookie(JsonResponse(200, o), {.name = kSessionCookie,
                                             .value = login->session_token,
                                             .max_age_s = kSessionCookieMaxAge,
                                             .secure = SecureCookies(req)});
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
    return WithCookie(
        JsonResponse(200, boost::json::object{}),
        {.name = kSessionCookie, .value = "", .max_age_s = 0, .secure = SecureCookies(req)});
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
    auto resp = JsonResponse(200, boost::json::object{{"api_key", reset->api_key}});
    resp.headers.emplace_back("Cache-Control", "no-store");
    return resp;
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
