#include "bridge/horde_api.hpp"

#include "httpclient/http_client.hpp"

namespace horde::bridge {

namespace {

// The reference's workers wait 40 s for a pop; a busy horde may take a while to match.
constexpr int kPopTimeoutMs = 40'000;
constexpr int kSubmitTimeoutMs = 30'000;
constexpr int kUploadTimeoutMs = 60'000;
constexpr int kDownloadTimeoutMs = 30'000;
constexpr int kDownloadAttempts = 3;

}  // namespace

std::string ApiBase(std::string horde_url) {
    horde_url = TrimSlashes(std::move(horde_url));
    if (horde_url.ends_with("/api/v2")) {
        return horde_url;
    }
    if (horde_url.ends_with("/api")) {
        return horde_url + "/v2";
    }
    return horde_url + "/api/v2";
}

HttpHordeApi::HttpHordeApi(std::string horde_url, std::string api_key)
    : api_base_(ApiBase(std::move(horde_url))), api_key_(std::move(api_key)) {}

Result<ApiReply> HttpHordeApi::Post(const std::string& path, const json::object& body,
                                    int timeout_ms) {
    httpclient::Request request;
    request.method = "POST";
    request.url = api_base_ + path;
    request.body = boost::json::serialize(body);
    request.headers = {{"apikey", api_key_},
                       {"Client-Agent", BridgeAgent()},
                       {"Content-Type", "application/json"}};
    request.timeout_ms = timeout_ms;
    HORDE_TRY(httpclient::Response response, httpclient::Send(request));
    ApiReply reply;
    reply.status = response.status;
    boost::system::error_code ec;
    reply.body = boost::json::parse(response.body, ec);
    if (ec) {
        reply.body = nullptr;
        reply.message = json::Excerpt(response.body);
    } else if (reply.body.is_object()) {
        reply.rc = json::String(reply.body.get_object(), "rc");
        reply.message = json::String(reply.body.get_object(), "message");
    }
    return reply;
}

Result<ApiReply> HttpHordeApi::Pop(JobKind kind, const json::object& body) {
    return Post(kind == JobKind::kText ? "/generate/text/pop" : "/generate/pop", body,
                kPopTimeoutMs);
}

Result<ApiReply> HttpHordeApi::Submit(JobKind kind, const json::object& body) {
    return Post(kind == JobKind::kText ? "/generate/text/submit" : "/generate/submit", body,
                kSubmitTimeoutMs);
}

Result<HttpReply> HttpHordeApi::Upload(const std::string& url, const std::string& bytes) {
    httpclient::Request request;
    request.method = "PUT";
    request.url = url;
    request.body = bytes;
    request.headers = {{"Content-Type", "image/webp"}};
    request.timeout_ms = kUploadTimeoutMs;
    HORDE_TRY(httpclient::Response response, httpclient::Send(request));
    return HttpReply{response.status, std::move(response.body)};
}

Result<std::string> HttpHordeApi::Download(const std::string& url) {
    return bridge::Download(url, kDownloadTimeoutMs, kDownloadAttempts);
}

}  // namespace horde::bridge
