#pragma once
// A small blocking HTTP client over libcurl, for the worker, the CLI, the client library and
// tests. Each thread reuses its own connection cache (keep-alive); calls from different threads
// are independent. Safe for concurrent use.

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace horde::httpclient {

struct Request {
    std::string method = "GET";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    int timeout_ms = 30'000;
    int connect_timeout_ms = 5'000;
    /// When set, the response body is delivered in chunks as it arrives (SSE, large downloads)
    /// and Response::body stays empty. Return false to abort the transfer.
    std::function<bool(std::string_view)> on_chunk;
};

struct Response {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // names lower-cased

    const std::string& Header(const std::string& lower_name) const;
};

/// Performs the request. Transport failures (refused, timeout, DNS) → ErrorCode::kNetwork with
/// curl's message; any HTTP status, including 4xx/5xx, is a Response.
Result<Response> Send(const Request& request);

/// Convenience: JSON request with a body (sets Content-Type: application/json).
Result<Response> SendJson(std::string method, std::string url, std::string body,
                          std::vector<std::pair<std::string, std::string>> headers = {},
                          int timeout_ms = 30'000);

}  // namespace horde::httpclient
