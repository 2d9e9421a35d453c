#include "api/api.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <cstring>

#include "api/error_mapping.hpp"

namespace horde::api {

using http::Method;

namespace {

const char* kCorsHeaders =
    "apikey, Client-Agent, Content-Type, X-Fields, Proxied-For, "
    "Idempotency-Key, Authorization";

bool IsNumberChar(char c) {
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/// Where the JSON string that opens at `raw[i]` (a '"') ends: just past its closing quote, the
/// first '"' after an even run of backslashes (memchr: strings are most of a body's text).
size_t SkipString(const std::string& raw, size_t i) {
    for (++i; i < raw.size();) {
        const void* hit = std::memchr(raw.data() + i, '"', raw.size() - i);
        if (hit == nullptr) {
            break;
        }
        const size_t quote = static_cast<size_t>(static_cast<const char*>(hit) - raw.data());
        size_t backslashes = 0;
        while (quote - backslashes > i && raw[quote - backslashes - 1] == '\\') {
            ++backslashes;
        }
        if (backslashes % 2 == 0) {
            return quote + 1;
        }
        i = quote + 1;
    }
    return raw.size();
}

/// Boost.JSON 1.81 writes every double in exponent form ("7.61E0"). Valid JSON, but clients
/// and people expect "7.61", as the reference sends: rewrites those number tokens (outside
/// strings) in fmt's shortest round-trip form. Most bodies have none and go out as they are;
/// otherwise the text between them is copied in spans.
std::string PlainDoubles(std::string raw) {
    if (raw.find('E') == std::string::npos) {
        return raw;  // Boost writes every double with an 'E'
    }
    std::string out;
    size_t copied = 0;  // raw[0, copied) is in `out`; 0 while nothing was rewritten
    size_t i = 0;
    while (i < raw.size()) {
        const char c = raw[i];
        if (c == '"') {
            i = SkipString(raw, i);
            continue;
        }
        if (c != '-' && (c < '0' || c > '9')) {
            ++i;
            continue;
        }
        size_t j = i;
        bool exponent = false;
        for (; j < raw.size() && IsNumberChar(raw[j]); ++j) {
            exponent = exponent || raw[j] == 'e' || raw[j] == 'E';
        }
        if (exponent) {
            if (copied == 0) {
                out.reserve(raw.size() + 16);
            }
            out.append(raw, copied, i - copied);
            const double d = std::strtod(raw.substr(i, j - i).c_str(), nullptr);
            std::string pretty = fmt::format("{}", d);
            if (pretty.find_first_of(".eEn") == std::string::npos) {
                pretty += ".0";
            }
            out += pretty;
            copied = j;
        }
        i = j;
    }
    if (copied == 0) {
        return raw;  // an 'E' only inside strings
    }
    out.append(raw, copied, raw.size() - copied);
    return out;
}

http::Response JsonText(int status, std::string text) {
    http::Response r;
    r.status = status;
    r.body = std::move(text);
    return r;
}

}  // namespace

// One overload per kind of tree: an object or array passed where a value is expected would be
// copied into a temporary value first (a pop's answer: ~5k instructions and its allocations).
std::string SerializeJson(const boost::json::value& v) {
    return PlainDoubles(boost::json::serialize(v));
}
std::string SerializeJson(const boost::json::object& o) {
    return PlainDoubles(boost::json::serialize(o));
}
std::string SerializeJson(const boost::json::array& a) {
    return PlainDoubles(boost::json::serialize(a));
}

http::Response JsonResponse(int status, const boost::json::value& body) {
    return JsonText(status, SerializeJson(body));
}
http::Response JsonResponse(int status, const boost::json::object& body) {
    return JsonText(status, SerializeJson(body));
}
http::Response JsonResponse(int status, const boost::json::array& body) {
    return JsonText(status, SerializeJson(body));
}

Api::Api(service::HordeService& service, ApiSettings settings, OffsetClock* test_clock)
    : service_(service), settings_(std::move(settings)), test_clock_(test_clock) {
    const std::string v2 = "/api/v2";
    Add(Method::kPost, v2 + "/generate/async", &Api::ImageAsync);
    Add(Method::kGet, v2 + "/generate/check/{id}", &Api::ImageCheck);
    Add(Method::kGet, v2 + "/generate/status/{id}", &Api::ImageStatus);
    Add(Method::kDelete, v2 + "/generate/status/{id}", &Api::ImageCancel);
    Add(Method::kPost, v2 + "/generate/pop", &Api::ImagePop);
    Add(Method::kPost, v2 + "/generate/submit", &Api::ImageSubmit);
    Add(Method::kPost, v2 + "/generate/text/async", &Api::TextAsync);
    Add(Method::kGet, v2 + "/generate/text/status/{id}", &Api::TextStatus);
    Add(Method::kDelete, v2 + "/generate/text/status/{id}", &Api::TextCancel);
    Add(Method::kPost, v2 + "/generate/text/pop", &Api::TextPop);
    Add(Method::kPost, v2 + "/generate/text/submit", &Api::TextSubmit);
    Add(Method::kPut, v2 + "/results/{name}", &Api::ResultPut);
    Add(Method::kGet, v2 + "/results/{name}", &Api::ResultGet);
    Add(Method::kGet, v2 + "/find_user", &Api::FindUser);
    Add(Method::kGet, v2 + "/users", &Api::Users);
    Add(Method::kGet, v2 + "/users/{id}", &Api::UserById);
    Add(Method::kPut, v2 + "/users/{id}", &Api::UserModify);
    Add(Method::kPost, v2 + "/kudos/transfer", &Api::KudosTransfer);
    Add(Method::kPost, v2 + "/kudos/award", &Api::KudosAward);
    Add(Method::kGet, v2 + "/workers", &Api::Workers);
    Add(Method::kGet, v2 + "/workers/name/{name}", &Api::WorkerByName);
    Add(Method::kGet, v2 + "/workers/{id}", &Api::WorkerById);
    Add(Method::kPut, v2 + "/workers/{id}", &Api::WorkerModify);
    Add(Method::kDelete, v2 + "/workers/{id}", &Api::WorkerDelete);
    Add(Method::kGet, v2 + "/status/heartbeat", &Api::Heartbeat);
    Add(Method::kGet, v2 + "/status/models", &Api::Models);
    Add(Method::kGet, v2 + "/status/models/{name}", &Api::ModelByName);
    Add(Method::kGet, v2 + "/status/performance", &Api::Performance);
    Add(Method::kGet, v2 + "/status/modes", &Api::ModesGet);
    Add(Method::kPut, v2 + "/status/modes", &Api::ModesPut);
    Add(Method::kPost, v2 + "/dev/test-user", &Api::DevTestUser);
    Add(Method::kPost, v2 + "/dev/clock", &Api::DevClock);
    // Browser pages (docs/web.md); static files are the fallback in Dispatch.
    oauth_ = std::make_unique<web::OAuthClient>(settings_.oauth_providers);
    Add(Method::kGet, "/api/web/session", &Api::WebSession);
    Add(Method::kGet, "/api/web/config", &Api::WebConfig);
    Add(Method::kPost, "/api/web/register", &Api::WebRegister);
    // Logging in with an existing key is the same use case as registering (same body rules).
    Add(Method::kPost, "/api/web/login", &Api::WebRegister);
    Add(Method::kPost, "/api/web/logout", &Api::WebLogout);
    Add(Method::kPost, "/api/web/key", &Api::WebKey);
    Add(Method::kPost, "/api/web/invites", &Api::WebInvite);
    Add(Method::kPost, "/api/web/invites/{token}/accept", &Api::WebInviteAccept);
    Add(Method::kGet, "/auth/login/{provider}", &Api::AuthLogin);
    Add(Method::kGet, "/auth/callback/{provider}", &Api::AuthCallback);
}

void Api::Add(Method m, const std::string& path, H handler) {
    router_.Add(m, path, [this, handler](http::Request& req, const http::Reply& reply) {
        reply.Send(Decorated((this->*handler)(req)));
    });
}

void Api::Add(Method m, const std::string& path, AsyncH handler) {
    router_.Add(m, path, [this, handler](http::Request& req, const http::Reply& reply) {
        (this->*handler)(req, Responder(*this, reply));
    });
}

void Responder::Send(http::Response response) const {
    reply_.Send(api_->Decorated(std::move(response)));
}

service::Resume Responder::Resume() const {
    return [reply = reply_](std::function<void()> fn) { reply.Post(std::move(fn)); };
}

void Api::Dispatch(http::Request& req, const http::Reply& reply) const {
    if (req.method == Method::kOptions) {
        http::Response resp;
        resp.status = 200;
        resp.body = "";
        resp.content_type = "text/plain";
        reply.Send(Decorated(std::move(resp)));
        return;
    }
    const Method lookup = req.method == Method::kHead ? Method::kGet : req.method;
    auto match = router_.Find(lookup, req.path);
    switch (match.kind) {
        case http::Router::MatchKind::kFound:
            if (auto refused = AttachSession(req)) {
                reply.Send(Decorated(std::move(*refused)));
                return;
            }
            req.path_params = std::move(match.params);
            try {
                (*match.handler)(req, reply);
            } catch (const std::exception& e) {
                spdlog::error("{} {}: unhandled exception: {}", http::MethodName(req.method),
                              req.path, e.what());
                // Ignored if the handler has answered already.
                reply.Send(Decorated(ErrorResponse(MakeError(ErrorCode::kInternal))));
            }
            return;
        case http::Router::MatchKind::kWrongMethod:
            reply.Send(Decorated(ErrorResponse(MakeError(ErrorCode::kMethodNotAllowed))));
            return;
        case http::Router::MatchKind::kNoPath:
            reply.Send(Decorated(req.path.starts_with("/api/")
                                     ? ErrorResponse(MakeError(ErrorCode::kNotFound))
                                     : StaticFile(req)));
            return;
    }
}

http::Response Api::Decorated(http::Response resp) const {
    resp.headers.emplace_back("Access-Control-Allow-Origin", "*");
    resp.headers.emplace_back("Access-Control-Allow-Methods",
                              "POST, GET, OPTIONS, PUT, DELETE, PATCH");
    resp.headers.emplace_back("Access-Control-Allow-Headers", kCorsHeaders);
    resp.headers.emplace_back("Horde-Node", settings_.node_name + ":" + settings_.version);
    return resp;
}

http::Response Api::TransportError(int status, const std::string& why) const {
    ErrorCode code = ErrorCode::kBadRequest;
    if (status == 413) {
        code = ErrorCode::kPayloadTooLarge;
    } else if (status >= 500) {
        code = ErrorCode::kInternal;
    }
    auto resp = ErrorResponse(MakeError(code, why));
    resp.status = status;
    resp.headers.emplace_back("Access-Control-Allow-Origin", "*");
    return resp;
}

Result<service::Caller> Api::CallerOf(const http::Request& req, bool key_required) const {
    service::Caller c;
    c.ip = req.remote_ip;
    c.client_agent = req.Header("client-agent");
    if (c.client_agent.empty()) {
        c.client_agent = "unknown:0:unknown";
    }
    std::string key = req.Header("apikey");
    if (key.empty()) {
        if (key_required) {
            return MakeError(ErrorCode::kValidationFailed,
                             "The API Key corresponding to a registered user. Missing required "
                             "parameter in the HTTP headers",
                             "apikey");
        }
        key = "0000000000";
    }
    if (key.starts_with(kSessionKeyPrefix)) {
        // Set by AttachSession from the session cookie (or sent as is by a client that holds
        // the session token).
        HORDE_TRY(auto session, service_.ResolveSession(key.substr(kSessionKeyPrefix.size())));
        c.user = std::move(session.user);
    } else {
        HORDE_TRY(c.user, service_.Authenticate(key));
    }
    if (IsAdmin(c.user)) {
        c.user.admin = true;
        c.user.moderator = true;
        c.user.trusted = true;
    }
    return c;
}

bool Api::IsAdmin(const domain::User& u) const {
    return u.admin || (!settings_.admins.empty() &&
                       settings_.admins.contains(u.username + "#" + std::to_string(u.id.value())));
}

std::string Api::BaseUrl(const http::Request& req) const {
    if (!settings_.public_url.empty()) {
        return settings_.public_url;
    }
    std::string host = req.Header("host");
    if (host.empty()) {
        host = "127.0.0.1";
    }
    const std::string& proto = req.Header("x-forwarded-proto");
    return (proto.empty() ? "http" : proto) + "://" + host;
}

std::string Api::SignedResultUrl(const http::Request& req, const std::string& name,
                                 const std::string& purpose) const {
    const int64_t expires = service_.UrlExpiry();
    return BaseUrl(req) + "/api/v2/results/" + name + "?expires=" + std::to_string(expires) +
           "&sig=" + service_.SignUrl(name, purpose, expires);
}

}  // namespace horde::api
