#include "httpclient/http_client.hpp"

#include <curl/curl.h>

#include <mutex>

#include "common/ascii.hpp"

namespace horde::httpclient {

namespace {

void GlobalInit() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

/// One easy handle per thread: libcurl keeps that handle's connections alive between calls.
struct ThreadHandle {
    CURL* curl = nullptr;
    ThreadHandle() {
        GlobalInit();
        curl = curl_easy_init();
    }
    ~ThreadHandle() {
        if (curl != nullptr) {
            curl_easy_cleanup(curl);
        }
    }
    ThreadHandle(const ThreadHandle&) = delete;
    ThreadHandle& operator=(const ThreadHandle&) = delete;
};

struct Sink {
    const Request* request;
    Response* response;
    bool aborted = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
    auto* sink = static_cast<Sink*>(user);
    const size_t n = size * count;
    if (sink->request->on_chunk) {
        if (!sink->request->on_chunk(std::string_view(data, n))) {
            sink->aborted = true;
            return 0;
        }
        return n;
    }
    sink->response->body.append(data, n);
    return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
    auto* sink = static_cast<Sink*>(user);
    const size_t n = size * count;
    std::string_view line(data, n);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        std::string name(line.substr(0, colon));
        for (auto& c : name) {
            c = AsciiLower(c);
        }
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
            value.remove_prefix(1);
        }
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) {
            value.remove_suffix(1);
        }
        sink->response->headers[name] = std::string(value);
    }
    return n;
}

}  // namespace

const std::string& Response::Header(const std::string& lower_name) const {
    static const std::string kEmpty;
    auto it = headers.find(lower_name);
    return it == headers.end() ? kEmpty : it->second;
}

Result<Response> Send(const Request& request) {
    thread_local ThreadHandle handle;
    CURL* curl = handle.curl;
    if (curl == nullptr) {
        return MakeError(ErrorCode::kNetwork, "curl could not be initialised");
    }
    curl_easy_reset(curl);
    Response response;
    Sink sink{&request, &response};
    curl_slist* headers = nullptr;
    for (const auto& [k, v] : request.headers) {
        headers = curl_slist_append(headers, (k + ": " + v).c_str());
    }
    // curl waits a second for "100 Continue" on large bodies unless told not to.
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_ms));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(request.connect_timeout_ms));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
    if (request.method == "HEAD") {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    }
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH") {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
    }
    const CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && sink.aborted)) {
        return MakeError(ErrorCode::kNetwork, curl_easy_strerror(rc));
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
}

Result<Response> SendJson(std::string method, std::string url, std::string body,
                          std::vector<std::pair<std::string, std::string>> headers,
                          int timeout_ms) {
    Request r;
    r.method = std::move(method);
    r.url = std::move(url);
    r.body = std::move(body);
    r.headers = std::move(headers);
    r.headers.emplace_back("Content-Type", "application/json");
    r.timeout_ms = timeout_ms;
    return Send(r);
}

}  // namespace horde::httpclient
