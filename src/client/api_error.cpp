#include "client/api_error.hpp"

#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <string_view>

namespace horde::client {

namespace {

/// 403 codes that are about the key or the account behind it, not about the request: the CLI
/// reports them as authentication errors.
constexpr std::string_view kAuthForbiddenRcs[] = {
    "WrongCredentials",  "AnonForbidden",    "AnonForbiddenWorker", "AnonForbiddenUserMod",
    "AnonForbiddenUser", "NotAdmin",         "NotModerator",        "NotOwner",
    "NotPrivileged",     "DeletedUser",      "BetaAnonForbidden",   "StylesAnonForbidden",
    "SharedKeyEmpty",    "SharedKeyExpired", "NotUserOrMod",        "NonServiceForbidden",
};

ErrorKind KindOf(int status, const std::string& rc) {
    if (status == 401) {
        return ErrorKind::kAuth;
    }
    if (status == 403) {
        for (auto auth_rc : kAuthForbiddenRcs) {
            if (rc == auth_rc) {
                return ErrorKind::kAuth;
            }
        }
        return ErrorKind::kRejected;
    }
    if (status == 404) {
        return ErrorKind::kNotFound;
    }
    if (status == 429) {
        return ErrorKind::kRateLimited;
    }
    if (status >= 400 && status < 500) {
        return ErrorKind::kRejected;
    }
    if (status >= 500) {
        return ErrorKind::kServer;
    }
    return ErrorKind::kInvalidResponse;
}

/// A readable summary of a non-JSON error body: its HTML <title>, else its first line.
std::string DescribeBody(const std::string& body) {
    const auto open = body.find("<title>");
    if (open != std::string::npos) {
        const auto close = body.find("</title>", open);
        if (close != std::string::npos) {
            return body.substr(open + 7, close - open - 7);
        }
    }
    std::string line = body.substr(0, body.find('\n'));
    if (line.size() > 200) {
        line = line.substr(0, 200) + "...";
    }
    return line;
}

}  // namespace

const char* ErrorKindName(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::kNetwork:
            return "network";
        case ErrorKind::kAuth:
            return "auth";
        case ErrorKind::kRejected:
            return "rejected";
        case ErrorKind::kNotFound:
            return "not_found";
        case ErrorKind::kRateLimited:
            return "rate_limited";
        case ErrorKind::kServer:
            return "server";
        case ErrorKind::kInvalidResponse:
            return "invalid_response";
        case ErrorKind::kFaulted:
            return "faulted";
        case ErrorKind::kTimeout:
            return "timeout";
        case ErrorKind::kCancelled:
            return "cancelled";
        case ErrorKind::kInvalidArgument:
            return "invalid_argument";
        case ErrorKind::kIo:
            return "io";
    }
    return "unknown";
}

std::string ApiError::ToString() const {
    std::string out;
    if (!rc.empty()) {
        out += rc;
    }
    if (http_status != 0) {
        out += out.empty() ? "HTTP " : " (HTTP ";
        out += std::to_string(http_status);
        if (!rc.empty()) {
            out += ")";
        }
    }
    if (!out.empty()) {
        out += ": ";
    }
    out += message.empty() ? std::string(ErrorKindName(kind)) + " error" : message;
    for (const auto& [field, text] : field_errors) {
        out += "; " + field + ": " + text;
    }
    return out;
}

std::optional<double> ParseRetryAfter(const std::string& value,
                                      std::chrono::system_clock::time_point now) {
    if (value.empty()) {
        return std::nullopt;
    }
    char* end = nullptr;
    const double seconds = std::strtod(value.c_str(), &end);
    if (end != value.c_str() && *end == '\0') {
        if (!std::isfinite(seconds) || seconds < 0) {
            return std::nullopt;
        }
        return seconds;
    }
    // An HTTP date: "Wed, 21 Oct 2015 07:28:00 GMT".
    std::tm tm{};
    if (strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S", &tm) == nullptr) {
        return std::nullopt;
    }
    const std::time_t at = timegm(&tm);
    const double delta =
        std::chrono::duration<double>(std::chrono::system_clock::from_time_t(at) - now).count();
    return delta < 0 ? 0.0 : delta;
}

ApiError ErrorFromHttp(int status, const std::string& body, const std::string& retry_after,
                       std::chrono::system_clock::time_point now) {
    ApiError e;
    e.http_status = status;
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(body, ec);
    if (!ec && v.is_object()) {
        const auto& o = v.get_object();
        if (const auto* m = o.if_contains("message"); m != nullptr && m->is_string()) {
            e.message = std::string(m->get_string());
        }
        if (const auto* rc = o.if_contains("rc"); rc != nullptr && rc->is_string()) {
            e.rc = std::string(rc->get_string());
        }
        if (const auto* errs = o.if_contains("errors"); errs != nullptr && errs->is_object()) {
            for (const auto& kv : errs->get_object()) {
                e.field_errors[std::string(kv.key())] = kv.value().is_string()
                                                            ? std::string(kv.value().get_string())
                                                            : boost::json::serialize(kv.value());
            }
        }
    } else if (!body.empty()) {
        e.message = DescribeBody(body);
    }
    e.kind = KindOf(status, e.rc);
    if (e.message.empty()) {
        e.message = "the server answered with HTTP status " + std::to_string(status);
    }
    if (auto ra = ParseRetryAfter(retry_after, now == std::chrono::system_clock::time_point{}
                                                   ? std::chrono::system_clock::now()
                                                   : now)) {
        e.retry_after_s = *ra;
    }
    return e;
}

}  // namespace horde::client
