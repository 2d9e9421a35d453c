// Test mode only: POST /api/v2/dev/test-user (§9.8) and POST /api/v2/dev/clock.

#include <boost/json.hpp>

#include "api/api.hpp"
#include "api/error_mapping.hpp"

namespace horde::api {

namespace {

bool IsLoopback(const std::string& ip) {
    return ip == "127.0.0.1" || ip == "::1" || ip.rfind("127.", 0) == 0;
}

[[maybe_unused]] http::Response Plain(int status, const std::string& message) {
    return JsonResponse(status, boost::json::object{{"message", message}});
}

}  // namespace

http::Response Api::DevTestUser(http::Request& req) const {
    if (!settings_.test_mode) {
        return ErrorResponse(MakeError(ErrorCode::kNotFound));
    }
    if (!IsLoopback(req.remote_ip)) {
        return ErrorResponse(MakeError(ErrorCode::kForbidden, "Forbidden"));
    }
    boost::json::object body;
    if (!req.body.empty()) {
        boost::system::error_code ec;
        auto v = boost::json::parse(req.body, ec);
        if (!ec && !v.is_object()) {
            return ErrorResponse(MakeError(ErrorCode::kBadRequest, "JSON object payload expected"));
        }
        if (!ec) {
            body = v.as_object();
        }
    }
    std::string username = "test_user";
    std::string oauth_id = "ci_test_user";
    bool moderator = true;
    bool trusted = true;
    std::optional<int64_t> kudos = 10000;
    if (auto* f = body.if_contains("username")) {
        if (!f->is_string()) {
            return ErrorResponse(MakeError(ErrorCode::kBadRequest, "username must be a string"));
        }
        username = std::string(f->as_string());
    }
    if (auto* f = body.if_contains("oauth_id")) {
        if (!f->is_string()) {
            return ErrorResponse(MakeError(ErrorCode::kBadRequest, "oauth_id must be a string"));
        }
        oauth_id = std::string(f->as_string());
    }
    if (auto* f = body.if_contains("moderator")) {
        if (!f->is_bool()) {
            return ErrorResponse(MakeError(ErrorCode::kBadRequest, "moderator must be a boolean"));
        }
        moderator = f->as_bool();
    }
    if (auto* f = body.if_contains("trusted")) {
        if (!f->is_bool()) {
            return ErrorResponse(MakeError(ErrorCode::kBadRequest, "trusted must be a boolean"));
        }
        trusted = f->as_bool();
    }
    if (auto* f = body.if_contains("kudos")) {
        if (f->is_null()) {
            kudos.reset();
        } else if (f->is_int64() || f->is_uint64()) {
            kudos = f->to_number<int64_t>();
            if (*kudos < 0) {
                return ErrorResponse(
                    MakeError(ErrorCode::kBadRequest, "kudos must be non-negative"));
            }
        } else {
            return ErrorResponse(
                MakeError(ErrorCode::kBadRequest, "kudos must be an integer or null"));
        }
    }
    auto trim = [](std::string s) {
        const auto b = s.find_first_not_of(" \t\r\n");
        const auto e = s.find_last_not_of(" \t\r\n");
        return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    username = trim(username);
    oauth_id = trim(oauth_id);
    if (username.empty()) {
        return ErrorResponse(MakeError(ErrorCode::kBadRequest, "username cannot be empty"));
    }
    if (oauth_id.empty()) {
        return ErrorResponse(MakeError(ErrorCode::kBadRequest, "oauth_id cannot be empty"));
    }
    if (username.size() > 30) {
        username.resize(30);
    }
    auto result = service_.UpsertTestUser(username, oauth_id, moderator, trusted, kudos);
    if (!result) {
        return ErrorResponse(result.error());
    }
    const auto& u = result->user;
    boost::json::object out;
    out["api_key"] = result->api_key;
    out["user_id"] = std::to_string(u.id.value());
    out["username"] = u.username;
    out["alias"] = u.username + "#" + std::to_string(u.id.value());
    out["kudos"] = static_cast<int64_t>(result->kudos.ToDouble());
    out["trusted"] = u.trusted;
    out["moderator"] = u.moderator;
    out["created"] = result->created;
    return JsonResponse(result->created ? 201 : 200, out);
}

http::Response Api::DevClock(http::Request& req) const {
    if (!settings_.test_mode || test_clock_ == nullptr) {
        return ErrorResponse(MakeError(ErrorCode::kNotFound));
    }
    if (!IsLoopback(req.remote_ip)) {
        return ErrorResponse(MakeError(ErrorCode::kForbidden, "Forbidden"));
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(req.body, ec);
    const boost::json::value* adv = nullptr;
    if (!ec && v.is_object()) {
        adv = v.as_object().if_contains("advance_s");
    }
    if (adv == nullptr || !adv->is_number() || adv->to_number<double>() < 0 ||
        adv->to_number<double>() > 1e7) {
        return ErrorResponse(MakeError(ErrorCode::kValidationFailed,
                                       "'advance_s' must be a number of seconds in 0..1e7",
                                       "advance_s"));
    }
    test_clock_->Advance(
        std::chrono::milliseconds(static_cast<int64_t>(adv->to_number<double>() * 1000)));
    service_.Tick();
    return JsonResponse(200, boost::json::object{{"now_ms", ToUnixMillis(service_.clock().Now())},
                                                 {"offset_ms", test_clock_->offset_ms()}});
}

}  // namespace horde::api
