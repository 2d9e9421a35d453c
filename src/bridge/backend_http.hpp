#pragma once
// HTTP calls from the worker to its backend (and to other hosts: source images), with the error
// messages a volunteer can act on. Safe for concurrent use.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bridge/json_read.hpp"
#include "common/result.hpp"

namespace horde::bridge {

/// A base URL ("http://127.0.0.1:5001", no trailing slash) plus headers sent with every call.
struct HttpEndpoint {
    std::string base_url;
    std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpReply {
    int status = 0;
    std::string body;
    bool Ok() const { return status >= 200 && status < 300; }
};

/// `url` without trailing slashes.
std::string TrimSlashes(std::string url);

/// One HTTP exchange. Transport failures (refused, timeout) are kNetwork errors naming the URL;
/// every HTTP status, 4xx/5xx included, is a reply.
Result<HttpReply> Call(const HttpEndpoint& endpoint, std::string method, std::string_view path,
                       std::string body, std::string content_type, int timeout_ms);

/// A JSON exchange that must answer 2xx with JSON. A non-2xx status is an error whose code is
/// kBadRequest for 4xx (the backend refused the parameters) and kInternal for 5xx, with the
/// status and an excerpt of the body in its message.
Result<json::value> CallJson(const HttpEndpoint& endpoint, std::string method,
                             std::string_view path, const json::value* body, int timeout_ms);

/// The error for a non-2xx reply to `method path`.
Error ReplyError(const HttpReply& reply, std::string_view method, std::string_view path);

/// Downloads `url` (a source image): GET with retries on transport errors and 5xx.
Result<std::string> Download(const std::string& url, int timeout_ms, int attempts);

}  // namespace horde::bridge
