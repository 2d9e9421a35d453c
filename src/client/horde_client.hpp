#pragma once
// horde::client::HordeClient: a typed C++ client of the AI Horde REST API v2, for apps, games
// and tools. It submits text and image requests, waits for them (blocking with a progress
// callback, or as std::future), cancels them, fetches the results, and makes the account and
// status calls.
//
//   horde::client::HordeClient horde({.base_url = "http://127.0.0.1:7001", .api_key = key});
//   horde::client::TextRequest req;
//   req.prompt = "Once upon a time";
//   req.params.max_length = 64;
//   auto done = horde.GenerateText(req, {.on_progress = [](const auto& p) { ... }});
//   if (!done) { std::cerr << done.error().ToString(); }
//   else { std::cout << done->generations.at(0).text; }
//
// Polling follows the public horde's rules: at most one status call per second per request
// (ClientSettings::min_poll_interval_ms), the full image status (rate limited to 10/min) only
// once the request is done, and HTTP 429 answers are retried after `Retry-After`.
//
// Thread-safety: safe for concurrent use. A HordeClient is immutable after construction and
// cheap to copy; every call is independent (libcurl keeps one connection cache per thread).
// There is no global state besides libcurl's one-time global initialisation.

#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "client/api_error.hpp"
#include "client/types.hpp"
#include "common/result.hpp"
#include "httpclient/http_client.hpp"

namespace horde::client {

/// Performs one HTTP exchange. The default is libcurl (httpclient::Send); tests inject fakes.
/// Must be safe for concurrent use.
using Transport = std::function<Result<httpclient::Response>(const httpclient::Request&)>;

inline constexpr const char* kAnonymousApiKey = "0000000000";
inline constexpr const char* kDefaultBaseUrl = "http://127.0.0.1:7001";
inline constexpr const char* kLibraryVersion = "0.1.0";
inline constexpr const char* kDefaultClientAgent = "horde-cpp:0.1.0:unknown";

struct ClientSettings {
    /// The horde's address. "/api/v2" is appended unless the URL already ends with it.
    std::string base_url = kDefaultBaseUrl;
    /// The API key; the anonymous key when empty.
    std::string api_key = kAnonymousApiKey;
    /// Sent as `Client-Agent`: "name:version:contact" identifies your app to the horde.
    std::string client_agent = kDefaultClientAgent;
    int request_timeout_ms = 30'000;    // one API call
    int connect_timeout_ms = 5'000;     // TCP/TLS connect
    int download_timeout_ms = 120'000;  // one result download
    int max_retries = 3;                // retries of a rate-limited (429) call
    double max_retry_wait_s = 60;       // longest single wait for a 429's Retry-After
    /// Floor of the poll interval (the horde caches status for 1 s; faster polling only costs
    /// rate limit). Lower it only for tests against a private horde.
    int min_poll_interval_ms = 1000;
    size_t max_download_bytes = 64u << 20;
    Transport transport{};  // empty = libcurl
};

/// What a wait reports after each poll.
struct Progress {
    RequestKind kind = RequestKind::kImage;
    std::string id{};
    RequestStatus status{};  // the lite status: queue position, ETA, finished/processing/waiting
    double elapsed_s = 0;    // since the wait began
};

struct WaitOptions {
    /// Called on the waiting thread after every poll (and once with the final status).
    std::function<void(const Progress&)> on_progress{};
    /// Called by Generate* once the horde accepted the request (id, price, warnings).
    std::function<void(const AsyncResponse&)> on_submitted{};
    int poll_interval_ms = 1000;  // raised to ClientSettings::min_poll_interval_ms
    double timeout_s = 1170;      // the horde drops unserved requests after 20 minutes
    /// Stops the wait: the result is then kCancelled (the request is cancelled on the server
    /// when cancel_on_stop). Signal it from any thread, e.g. a std::stop_source or std::jthread.
    std::stop_token stop{};
    /// On stop or timeout, cancel the request on the server (DELETE) before returning.
    bool cancel_on_stop = true;
    /// Consecutive failed polls (network errors, 5xx) tolerated before the wait fails.
    int max_poll_failures = 5;
};

class HordeClient {
public:
    explicit HordeClient(ClientSettings settings = {});

    const ClientSettings& settings() const { return settings_; }
    /// The API root, e.g. "http://127.0.0.1:7001/api/v2".
    const std::string& api_base() const { return api_base_; }

    // --- Generation -------------------------------------------------------------------------

    /// POST /generate/async. On success `id` names the request; `kudos` is the per-image price.
    ApiResult<AsyncResponse> SubmitImage(const ImageRequest& request) const;
    /// POST /generate/text/async.
    ApiResult<AsyncResponse> SubmitText(const TextRequest& request) const;
    /// The price in kudos of an image request, without queueing it (dry run).
    ApiResult<double> EstimateImageKudos(ImageRequest request) const;
    /// The price in kudos of a text request, without queueing it (dry run).
    ApiResult<double> EstimateTextKudos(TextRequest request) const;

    /// GET /generate/check/{id}: the lite status (10/s allowed).
    ApiResult<RequestStatus> CheckImage(const std::string& id) const;
    /// GET /generate/status/{id}: with the generations. Rate limited to 10/min per request.
    ApiResult<ImageStatus> GetImageStatus(const std::string& id) const;
    /// GET /generate/text/status/{id} (60/min).
    ApiResult<TextStatus> GetTextStatus(const std::string& id) const;
    /// DELETE /generate/status/{id}: cancels; the answer is the status before cancelling.
    ApiResult<ImageStatus> CancelImage(const std::string& id) const;
    /// DELETE /generate/text/status/{id}.
    ApiResult<TextStatus> CancelText(const std::string& id) const;

    /// Polls until the request is done, then fetches its full status. Errors: kFaulted,
    /// kTimeout, kCancelled (stop requested), or the failing call's error.
    ApiResult<ImageStatus> WaitImage(const std::string& id, const WaitOptions& options = {}) const;
    ApiResult<TextStatus> WaitText(const std::string& id, const WaitOptions& options = {}) const;

    /// Submit + wait.
    ApiResult<ImageStatus> GenerateImage(const ImageRequest& request,
                                         const WaitOptions& options = {}) const;
    ApiResult<TextStatus> GenerateText(const TextRequest& request,
                                       const WaitOptions& options = {}) const;

    /// The same on a new thread. The future owns a copy of the client, so it may outlive this
    /// object; callbacks run on that thread. Stop it through WaitOptions::stop.
    std::future<ApiResult<ImageStatus>> GenerateImageAsync(ImageRequest request,
                                                           WaitOptions options = {}) const;
    std::future<ApiResult<TextStatus>> GenerateTextAsync(TextRequest request,
                                                         WaitOptions options = {}) const;
    std::future<ApiResult<ImageStatus>> WaitImageAsync(std::string id,
                                                       WaitOptions options = {}) const;
    std::future<ApiResult<TextStatus>> WaitTextAsync(std::string id,
                                                     WaitOptions options = {}) const;

    /// The image's bytes (WebP): downloads `img` when it is a URL (without sending the API
    /// key), else decodes its base64.
    ApiResult<std::string> FetchImage(const ImageGeneration& generation) const;

    // --- Account and horde ------------------------------------------------------------------

    /// GET /find_user: the account of the API key. An unknown key is kAuth (the horde answers
    /// it with 404 UserNotFound).
    ApiResult<UserDetails> FindUser() const;
    /// GET /users/{id} (with the key: more details for yourself or a moderator).
    ApiResult<UserDetails> GetUser(int64_t user_id) const;
    /// GET /users?page=&sort= (sort: "kudos" or "age"; 25 per page).
    ApiResult<std::vector<UserDetails>> ListUsers(int page = 1,
                                                  const std::string& sort = "kudos") const;
    /// GET /workers (type: "", "image", "text" or "interrogation"; name: exact, optional).
    ApiResult<std::vector<WorkerDetails>> ListWorkers(const std::string& type = {},
                                                      const std::string& name = {}) const;
    ApiResult<WorkerDetails> GetWorker(const std::string& worker_id) const;
    ApiResult<WorkerDetails> GetWorkerByName(const std::string& name) const;
    /// GET /status/models?type= ("image" or "text").
    ApiResult<std::vector<ModelStatus>> ListModels(const std::string& type = "image") const;
    ApiResult<Performance> GetPerformance() const;
    ApiResult<Heartbeat> GetHeartbeat() const;
    ApiResult<HordeModes> GetModes() const;
    /// POST /kudos/transfer. `idempotency_key` makes retries safe; one is generated when empty.
    ApiResult<KudosTransfer> TransferKudos(const std::string& username, double amount,
                                           std::string idempotency_key = {}) const;

    /// One raw API call (path relative to the API root, e.g. "/status/news"); the body of a
    /// 2xx answer, else the error. For endpoints this class does not model.
    ApiResult<std::string> RawCall(const std::string& method, const std::string& path,
                                   const std::string& body = {}, bool send_api_key = true) const;

private:
    struct Call {
        std::string method = "GET";
        std::string url;  // absolute
        std::string body;
        bool send_api_key = false;
        bool api_headers = true;  // Client-Agent (and apikey when asked)
        bool retry_rate_limit = true;
        int timeout_ms = 0;  // 0 = settings_.request_timeout_ms
        std::vector<std::pair<std::string, std::string>> headers;
    };

    std::string Url(const std::string& path) const { return api_base_ + path; }
    ApiResult<httpclient::Response> Perform(const Call& call,
                                            const std::stop_token& stop = {}) const;
    template <typename T, typename Decode>
    ApiResult<T> GetDecoded(const std::string& path, bool send_api_key, Decode decode) const;
    /// DELETE of a request's status path: the status before the cancel, with its id filled in.
    template <typename T, typename Decode>
    ApiResult<T> CancelDecoded(const std::string& status_path, const std::string& id,
                               Decode decode) const;
    ApiResult<RequestStatus> WaitDone(RequestKind kind, const std::string& id,
                                      const WaitOptions& options,
                                      std::optional<TextStatus>* text_out) const;

    ClientSettings settings_;
    std::string api_base_;
};

/// "%XX"-escapes everything but unreserved characters (for path segments and query values).
std::string PercentEncode(const std::string& text);

/// Normalises a horde address to its API root ("http://h:1" -> "http://h:1/api/v2").
std::string ApiBaseOf(std::string base_url);

}  // namespace horde::client
