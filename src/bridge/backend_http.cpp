#include "bridge/backend_http.hpp"

#include <chrono>
#include <thread>

#include "httpclient/http_client.hpp"

namespace horde::bridge {

std::string TrimSlashes(std::string url) {
    while (!url.empty() && url.back() == '/') {
        url.pop_back();
    }
    return url;
}

Result<HttpReply> Call(const HttpEndpoint& endpoint, std::string method, std::string_view path,
                       std::string body, std::string content_type, int timeout_ms) {
    httpclient::Request request;
    request.method = std::move(method);
    request.url = endpoint.base_url + std::string(path);
    request.headers = endpoint.headers;
    if (!content_type.empty()) {
        request.headers.emplace_back("Content-Type", std::move(content_type));
    }
    request.body = std::move(body);
    request.timeout_ms = timeout_ms;
    request.connect_timeout_ms = std::min(timeout_ms, 5'000);
    auto response = httpclient::Send(request);
    if (!response) {
        return MakeError(ErrorCode::kNetwork,
                         request.method + " " + request.url + ": " + response.error().message);
    }
    return HttpReply{response->status, std::move(response->body)};
}

Error ReplyError(const HttpReply& reply, std::string_view method, std::string_view path) {
    const ErrorCode code =
        reply.status >= 400 && reply.status < 500 ? ErrorCode::kBadRequest : ErrorCode::kInternal;
    return MakeError(code, std::string(method) + " " + std::string(path) + ": HTTP " +
                               std::to_string(reply.status) + " " + json::Excerpt(reply.body));
}

Result<json::value> CallJson(const HttpEndpoint& endpoint, std::string method,
                             std::string_view path, const json::value* body, int timeout_ms) {
    std::string text;
    std::string content_type;
    if (body != nullptr) {
        text = boost::json::serialize(*body);
        content_type = "application/json";
    }
    const std::string method_copy = method;
    HORDE_TRY(HttpReply reply, Call(endpoint, std::move(method), path, std::move(text),
                                    std::move(content_type), timeout_ms));
    if (!reply.Ok()) {
        return ReplyError(reply, method_copy, path);
    }
    return json::Parse(reply.body, method_copy + " " + std::string(path));
}

Result<std::string> Download(const std::string& url, int timeout_ms, int attempts) {
    Error last = MakeError(ErrorCode::kNetwork, "no attempt");
    for (int i = 0; i < attempts; ++i) {
        if (i > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(250 * i));
        }
        auto result = Call(HttpEndpoint{url, {}}, "GET", "", "", "", timeout_ms);
        if (!result) {
            last = result.error();
            continue;
        }
        HttpReply reply = std::move(result).value();
        if (reply.Ok()) {
            return std::move(reply.body);
        }
        last = MakeError(ErrorCode::kInternal, "GET " + url.substr(0, url.find('?')) + ": HTTP " +
                                                   std::to_string(reply.status));
        if (reply.status >= 400 && reply.status < 500) {
            break;
        }
    }
    return last;
}

}  // namespace horde::bridge
