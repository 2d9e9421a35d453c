#pragma once
// Transport-neutral request and response values. The HTTP library stays behind this module.

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace horde::http {

enum class Method { kGet, kPost, kPut, kPatch, kDelete, kOptions, kHead, kOther };

std::string_view MethodName(Method m);

/// Thread-safety: a plain value.
struct Request {
    Method method = Method::kGet;
    std::string path;  // percent-decoded path, no query
    std::map<std::string, std::string> query;
    std::map<std::string, std::string> headers;  // keys lower-cased
    std::string body;
    std::string remote_ip;
    std::vector<std::string> path_params;  // filled by the router: the {placeholders}, in order

    /// Header value or empty string. `name` must be lower case.
    const std::string& Header(const std::string& name) const;
    /// Query parameter or `fallback`.
    std::string Query(const std::string& name, std::string fallback = {}) const;
};

struct Response {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    /// When non-empty, the body is streamed from this file instead of `body`.
    std::string file_path;
};

}  // namespace horde::http
