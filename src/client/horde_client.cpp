#include "client/horde_client.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "client/base64.hpp"
#include "client/json_codec.hpp"
#include "common/random.hpp"

namespace horde::client {

namespace {

using Clock = std::chrono::steady_clock;

/// Sleeps `d`, waking early when `stop` is requested. Returns false when stopped.
bool SleepFor(std::chrono::milliseconds d, const std::stop_token& stop) {
    if (d.count() <= 0) {
        return !stop.stop_requested();
    }
    if (!stop.stop_possible()) {
        std::this_thread::sleep_for(d);
        return true;
    }
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    cv.wait_for(lock, stop, d, [] { return false; });
    return !stop.stop_requested();
}

std::chrono::milliseconds Millis(double seconds) {
    return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

double SecondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

bool Transient(const ApiError& e) {
    return e.kind == ErrorKind::kNetwork || e.kind == ErrorKind::kServer ||
           e.kind == ErrorKind::kRateLimited;
}

}  // namespace

std::string PercentEncode(const std::string& text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
                                c == '~';
        if (unreserved) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

std::string ApiBaseOf(std::string base_url) {
    while (!base_url.empty() && base_url.back() == '/') {
        base_url.pop_back();
    }
    if (base_url.find("://") == std::string::npos) {
        base_url = "http://" + base_url;
    }
    if (base_url.ends_with("/api/v2")) {
        return base_url;
    }
    if (base_url.ends_with("/api")) {
        return base_url + "/v2";
    }
    return base_url + "/api/v2";
}

HordeClient::HordeClient(ClientSettings settings)
    : settings_(std::move(settings)), api_base_(ApiBaseOf(settings_.base_url)) {
    if (settings_.api_key.empty()) {
        settings_.api_key = kAnonymousApiKey;
    }
    if (settings_.client_agent.empty()) {
        settings_.client_agent = kDefaultClientAgent;
    }
    if (!settings_.transport) {
        settings_.transport = [](const httpclient::Request& r) { return httpclient::Send(r); };
    }
}

ApiResult<httpclient::Response> HordeClient::Perform(const Call& call,
                                                     const std::stop_token& stop) const {
    httpclient::Request req;
    req.method = call.method;
    req.url = call.url;
    req.body = call.body;
    req.timeout_ms = call.timeout_ms > 0 ? call.timeout_ms : settings_.request_timeout_ms;
    req.connect_timeout_ms = settings_.connect_timeout_ms;
    if (call.api_headers) {
        req.headers.emplace_back("Client-Agent", settings_.client_agent);
        if (call.send_api_key) {
            req.headers.emplace_back("apikey", settings_.api_key);
        }
    }
    if (!call.body.empty()) {
        req.headers.emplace_back("Content-Type", "application/json");
    }
    for (const auto& h : call.headers) {
        req.headers.push_back(h);
    }
    for (int attempt = 0;; ++attempt) {
        auto sent = settings_.transport(req);
        if (!sent) {
            return MakeApiError(ErrorKind::kNetwork,
                                "cannot reach " + call.url + ": " + sent.error().message);
        }
        const httpclient::Response& resp = *sent;
        if (resp.status >= 200 && resp.status < 300) {
            return std::move(sent).value();
        }
        ApiError e = ErrorFromHttp(resp.status, resp.body, resp.Header("retry-after"));
        // A limiter 429 (no rc) was refused before any processing: always safe to repeat.
        const bool may_retry = call.retry_rate_limit || e.rc.empty();
        if (resp.status == 429 && may_retry && attempt < settings_.max_retries) {
            const double wait_s = e.retry_after_s.value_or(static_cast<double>(1 << attempt));
            if (wait_s <= settings_.max_retry_wait_s) {
                if (!SleepFor(Millis(wait_s), stop)) {
                    return e;
                }
                continue;
            }
        }
        return e;
    }
}

template <typename T, typename Decode>
ApiResult<T> HordeClient::GetDecoded(const std::string& path, bool send_api_key,
                                     Decode decode) const {
    Call call;
    call.url = Url(path);
    call.send_api_key = send_api_key;
    auto resp = Perform(call);
    if (!resp) {
        return std::move(resp).error();
    }
    return decode(resp->body);
}

// --- Generation -----------------------------------------------------------------------------

ApiResult<AsyncResponse> HordeClient::SubmitImage(const ImageRequest& request) const {
    auto body = EncodeImageRequest(request);
    if (!body) {
        return std::move(body).error();
    }
    Call call;
    call.method = "POST";
    call.url = Url("/generate/async");
    call.body = std::move(*body);
    call.send_api_key = true;
    call.retry_rate_limit = false;  // TooManyPrompts is the user's concurrency, not a blip
    auto resp = Perform(call);
    if (!resp) {
        return std::move(resp).error();
    }
    return DecodeAsyncResponse(resp->body);
}

ApiResult<AsyncResponse> HordeClient::SubmitText(const TextRequest& request) const {
    auto body = EncodeTextRequest(request);
    if (!body) {
        return std::move(body).error();
    }
    Call call;
    call.method = "POST";
    call.url = Url("/generate/text/async");
    call.body = std::move(*body);
    call.send_api_key = true;
    call.retry_rate_limit = false;
    auto resp = Perform(call);
    if (!resp) {
        return std::move(resp).error();
    }
    return DecodeAsyncResponse(resp->body);
}

ApiResult<double> HordeClient::EstimateImageKudos(ImageRequest request) const {
    request.dry_run = true;
    auto r = SubmitImage(request);
    if (!r) {
        return std::move(r).error();
    }
    return r->kudos;
}

ApiResult<double> HordeClient::EstimateTextKudos(TextRequest request) const {
    request.dry_run = true;
    auto r = SubmitText(request);
    if (!r) {
        return std::move(r).error();
    }
    return r->kudos;
}

ApiResult<RequestStatus> HordeClient::CheckImage(const std::string& id) const {
    if (id.empty()) {
        return MakeApiError(ErrorKind::kInvalidArgument, "empty request id");
    }
    auto s = GetDecoded<RequestStatus>("/generate/check/" + PercentEncode(id), false,
                                       DecodeRequestStatus);
    if (s) {
        s->id = id;
    }
    return s;
}

ApiResult<ImageStatus> HordeClient::GetImageStatus(const std::string& id) const {
    if (id.empty()) {
        return MakeApiError(ErrorKind::kInvalidArgument, "empty request id");
    }
    auto s =
        GetDecoded<ImageStatus>("/generate/status/" + PercentEncode(id), false, DecodeImageStatus);
    if (s) {
        s->id = id;
    }
    return s;
}

ApiResult<TextStatus> HordeClient::GetTextStatus(const std::string& id) const {
    if (id.empty()) {
        return MakeApiError(ErrorKind::kInvalidArgument, "empty request id");
    }
    auto s = GetDecoded<TextStatus>("/generate/text/status/" + PercentEncode(id), false,
                                    DecodeTextStatus);
    if (s) {
        s->id = id;
    }
    return s;
}

template <typename T, typename Decode>
ApiResult<T> HordeClient::CancelDecoded(const std::string& status_path, const std::string& id,
                                        Decode decode) const {
    if (id.empty()) {
        return MakeApiError(ErrorKind::kInvalidArgument, "empty request id");
    }
    Call call;
    call.method = "DELETE";
    call.url = Url(status_path + PercentEncode(id));
    auto resp = Perform(call);
    if (!resp) {
        return std::move(resp).error();
    }
    auto s = decode(resp->body);
    if (s) {
        s->id = id;
    }
    return s;
}

ApiResult<ImageStatus> HordeClient::CancelImage(const std::string& id) const {
    return CancelDecoded<ImageStatus>("/generate/status/", id, DecodeImageStatus);
}

ApiResult<TextStatus> HordeClient::CancelText(const std::string& id) const {
    return CancelDecoded<TextStatus>("/generate/text/status/", id, DecodeTextStatus);
}

ApiResult<RequestStatus> HordeClient::WaitDone(RequestKind kind, const std::string& id,
                                               const WaitOptions& options,
                                               std::optional<TextStatus>* text_out) const {
    if (id.empty()) {
        return MakeApiError(ErrorKind::kInvalidArgument, "empty request id");
    }
    const auto start = Clock::now();
    const auto interval = std::chrono::milliseconds(
        std::max(options.poll_interval_ms, settings_.min_poll_interval_ms));
    const bool image = kind == RequestKind::kImage;
    auto stop_with = [&](ErrorKind why, std::string message) -> ApiError {
        if (options.cancel_on_stop) {
            if (image) {
                (void)CancelImage(id);
            } else {
                (void)CancelText(id);
            }
            message += "; the request was cancelled on the server";
        }
        return MakeApiError(why, std::move(message));
    };
    int failures = 0;
    for (;;) {
        if (options.stop.stop_requested()) {
            return stop_with(ErrorKind::kCancelled, "stopped waiting for request " + id);
        }
        const double elapsed = SecondsSince(start);
        if (elapsed > options.timeout_s) {
            return stop_with(ErrorKind::kTimeout,
                             "request " + id + " was not done after " +
                                 std::to_string(static_cast<int64_t>(options.timeout_s)) + " s");
        }
        ApiResult<RequestStatus> polled = MakeApiError(ErrorKind::kInvalidResponse, "");
        if (image) {
            polled = CheckImage(id);
        } else {
            auto text = GetTextStatus(id);
            if (text) {
                polled = static_cast<const RequestStatus&>(*text);
                *text_out = std::move(*text);
            } else {
                polled = std::move(text).error();
            }
        }
        if (!polled) {
            if (Transient(polled.error()) && ++failures < options.max_poll_failures) {
                SleepFor(interval * failures, options.stop);
                continue;
            }
            return std::move(polled).error();
        }
        failures = 0;
        if (options.on_progress) {
            options.on_progress(Progress{kind, id, *polled, SecondsSince(start)});
        }
        if (polled->faulted) {
            return MakeApiError(ErrorKind::kFaulted,
                                "request " + id + " faulted: its generations failed (" +
                                    std::to_string(polled->restarted) + " failed jobs)");
        }
        if (polled->done) {
            return polled;
        }
        SleepFor(interval, options.stop);
    }
}

ApiResult<ImageStatus> HordeClient::WaitImage(const std::string& id,
                                              const WaitOptions& options) const {
    auto done = WaitDone(RequestKind::kImage, id, options, nullptr);
    if (!done) {
        return std::move(done).error();
    }
    // The full status is rate limited (10/min per request): fetch it once, now.
    int failures = 0;
    for (;;) {
        auto full = GetImageStatus(id);
        if (full || !Transient(full.error()) || ++failures >= options.max_poll_failures) {
            return full;
        }
        const auto interval = std::chrono::milliseconds(
            std::max(options.poll_interval_ms, settings_.min_poll_interval_ms));
        if (!SleepFor(interval * failures, options.stop)) {
            return full;
        }
    }
}

ApiResult<TextStatus> HordeClient::WaitText(const std::string& id,
                                            const WaitOptions& options) const {
    std::optional<TextStatus> last;
    auto done = WaitDone(RequestKind::kText, id, options, &last);
    if (!done) {
        return std::move(done).error();
    }
    return std::move(*last);
}

ApiResult<ImageStatus> HordeClient::GenerateImage(const ImageRequest& request,
                                                  const WaitOptions& options) const {
    auto accepted = SubmitImage(request);
    if (!accepted) {
        return std::move(accepted).error();
    }
    if (accepted->id.empty()) {
        return MakeApiError(ErrorKind::kInvalidResponse, "the horde accepted no request id");
    }
    if (options.on_submitted) {
        options.on_submitted(*accepted);
    }
    return WaitImage(accepted->id, options);
}

ApiResult<TextStatus> HordeClient::GenerateText(const TextRequest& request,
                                                const WaitOptions& options) const {
    auto accepted = SubmitText(request);
    if (!accepted) {
        return std::move(accepted).error();
    }
    if (accepted->id.empty()) {
        return MakeApiError(ErrorKind::kInvalidResponse, "the horde accepted no request id");
    }
    if (options.on_submitted) {
        options.on_submitted(*accepted);
    }
    return WaitText(accepted->id, options);
}

std::future<ApiResult<ImageStatus>> HordeClient::GenerateImageAsync(ImageRequest request,
                                                                    WaitOptions options) const {
    return std::async(std::launch::async,
                      [self = *this, request = std::move(request), options = std::move(options)] {
                          return self.GenerateImage(request, options);
                      });
}

std::future<ApiResult<TextStatus>> HordeClient::GenerateTextAsync(TextRequest request,
                                                                  WaitOptions options) const {
    return std::async(std::launch::async,
                      [self = *this, request = std::move(request), options = std::move(options)] {
                          return self.GenerateText(request, options);
                      });
}

std::future<ApiResult<ImageStatus>> HordeClient::WaitImageAsync(std::string id,
                                                                WaitOptions options) const {
    return std::async(std::launch::async,
                      [self = *this, id = std::move(id), options = std::move(options)] {
                          return self.WaitImage(id, options);
                      });
}

std::future<ApiResult<TextStatus>> HordeClient::WaitTextAsync(std::string id,
                                                              WaitOptions options) const {
    return std::async(std::launch::async,
                      [self = *this, id = std::move(id), options = std::move(options)] {
                          return self.WaitText(id, options);
                      });
}

ApiResult<std::string> HordeClient::FetchImage(const ImageGeneration& generation) const {
    if (generation.img.empty()) {
        return MakeApiError(ErrorKind::kInvalidResponse, "the generation carries no image");
    }
    if (!generation.IsUrl()) {
        auto bytes = Base64Decode(generation.img);
        if (!bytes) {
            return MakeApiError(ErrorKind::kInvalidResponse,
                                "the generation's image is neither a URL nor base64");
        }
        return std::move(*bytes);
    }
    Call call;
    call.url = generation.img;
    call.api_headers = false;  // presigned storage URL: never hand it the API key
    call.timeout_ms = settings_.download_timeout_ms;
    auto resp = Perform(call);
    if (!resp) {
        ApiError e = std::move(resp).error();
        e.message = "downloading the image failed: " + e.message;
        return e;
    }
    if (resp->body.size() > settings_.max_download_bytes) {
        return MakeApiError(ErrorKind::kInvalidResponse, "the image download is too large");
    }
    return std::move(resp->body);
}

// --- Account and horde ----------------------------------------------------------------------

ApiResult<UserDetails> HordeClient::FindUser() const {
    auto user = GetDecoded<UserDetails>("/find_user", true, DecodeUser);
    if (!user && user.error().http_status == 404 && user.error().rc == "UserNotFound") {
        // The reference answers an unknown key here with 404 UserNotFound: a key problem.
        ApiError e = std::move(user).error();
        e.kind = ErrorKind::kAuth;
        return e;
    }
    return user;
}

ApiResult<UserDetails> HordeClient::GetUser(int64_t user_id) const {
    return GetDecoded<UserDetails>("/users/" + std::to_string(user_id), true, DecodeUser);
}

ApiResult<std::vector<UserDetails>> HordeClient::ListUsers(int page,
                                                           const std::string& sort) const {
    return GetDecoded<std::vector<UserDetails>>(
        "/users?page=" + std::to_string(page) + "&sort=" + PercentEncode(sort), false,
        DecodeUserList);
}

ApiResult<std::vector<WorkerDetails>> HordeClient::ListWorkers(const std::string& type,
                                                               const std::string& name) const {
    std::string query;
    if (!type.empty()) {
        query += "type=" + PercentEncode(type);
    }
    if (!name.empty()) {
        query += (query.empty() ? "" : "&") + std::string("name=") + PercentEncode(name);
    }
    return GetDecoded<std::vector<WorkerDetails>>("/workers" + (query.empty() ? "" : "?" + query),
                                                  false, DecodeWorkerList);
}

ApiResult<WorkerDetails> HordeClient::GetWorker(const std::string& worker_id) const {
    return GetDecoded<WorkerDetails>("/workers/" + PercentEncode(worker_id), true, DecodeWorker);
}

ApiResult<WorkerDetails> HordeClient::GetWorkerByName(const std::string& name) const {
    return GetDecoded<WorkerDetails>("/workers/name/" + PercentEncode(name), true, DecodeWorker);
}

ApiResult<std::vector<ModelStatus>> HordeClient::ListModels(const std::string& type) const {
    return GetDecoded<std::vector<ModelStatus>>("/status/models?type=" + PercentEncode(type), false,
                                                DecodeModels);
}

ApiResult<Performance> HordeClient::GetPerformance() const {
    return GetDecoded<Performance>("/status/performance", false, DecodePerformance);
}

ApiResult<Heartbeat> HordeClient::GetHeartbeat() const {
    return GetDecoded<Heartbeat>("/status/heartbeat", false, DecodeHeartbeat);
}

ApiResult<HordeModes> HordeClient::GetModes() const {
    // Without a key: a non-moderator key is answered with 403 NotModerator.
    return GetDecoded<HordeModes>("/status/modes", false, DecodeModes);
}

ApiResult<KudosTransfer> HordeClient::TransferKudos(const std::string& username, double amount,
                                                    std::string idempotency_key) const {
    if (username.empty()) {
        return MakeApiError(ErrorKind::kInvalidArgument, "empty destination username");
    }
    if (idempotency_key.empty()) {
        idempotency_key = NewUuid();
    }
    Call call;
    call.method = "POST";
    call.url = Url("/kudos/transfer");
    call.body = EncodeTransfer(username, amount);
    call.send_api_key = true;
    call.retry_rate_limit = true;  // safe: the idempotency key makes a repeat a no-op
    call.headers.emplace_back("Idempotency-Key", idempotency_key);
    auto resp = Perform(call);
    if (!resp) {
        return std::move(resp).error();
    }
    return DecodeKudosTransfer(resp->body);
}

ApiResult<std::string> HordeClient::RawCall(const std::string& method, const std::string& path,
                                            const std::string& body, bool send_api_key) const {
    Call call;
    call.method = method;
    call.url = Url(path.starts_with("/") ? path : "/" + path);
    call.body = body;
    call.send_api_key = send_api_key;
    call.retry_rate_limit = method == "GET" || method == "DELETE";
    auto resp = Perform(call);
    if (!resp) {
        return std::move(resp).error();
    }
    return std::move(resp->body);
}

}  // namespace horde::client
