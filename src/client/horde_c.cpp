// The C interface (horde_c.h) over horde::client::HordeClient. No exception crosses it: every
// entry point catches and reports HORDE_ERR_INTERNAL.

#include "client/horde_c.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <new>
#include <stop_token>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "client/horde_client.hpp"
#include "client/json_codec.hpp"

namespace {

using horde::client::ApiError;
using horde::client::ErrorKind;
using horde::client::HordeClient;

struct ErrorState {
    std::string message;
    std::string rc;
    int http_status = 0;
};

/// What a handle shares with its background jobs. Thread-safety: safe for concurrent use;
/// `client` and `settings` are guarded by `mu`, the per-thread errors by `errors_mu`.
struct ClientState {
    std::mutex mu;
    horde::client::ClientSettings settings;
    std::shared_ptr<const HordeClient> client;

    std::mutex errors_mu;
    std::unordered_map<std::thread::id, ErrorState> errors;

    std::shared_ptr<const HordeClient> Get() {
        std::lock_guard lock(mu);
        return client;
    }
    /// Applies `change` to the settings and swaps in a client built from them; calls already
    /// running keep the client they started with.
    template <typename F>
    void Reconfigure(F change) {
        std::lock_guard lock(mu);
        change(settings);
        client = std::make_shared<const HordeClient>(settings);
    }
    ErrorState& Mine() {
        std::lock_guard lock(errors_mu);
        return errors[std::this_thread::get_id()];
    }
    horde_status Ok() {
        ErrorState& e = Mine();
        e.message.clear();
        e.rc.clear();
        e.http_status = 0;
        return HORDE_OK;
    }
    horde_status Fail(horde_status status, const std::string& message, int http_status = 0,
                      const std::string& rc = {}) {
        ErrorState& e = Mine();
        e.message = message;
        e.rc = rc;
        e.http_status = http_status;
        return status;
    }
};

horde_status StatusOf(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::kNetwork:
            return HORDE_ERR_NETWORK;
        case ErrorKind::kAuth:
            return HORDE_ERR_AUTH;
        case ErrorKind::kRejected:
            return HORDE_ERR_REJECTED;
        case ErrorKind::kNotFound:
            return HORDE_ERR_NOT_FOUND;
        case ErrorKind::kRateLimited:
            return HORDE_ERR_RATE_LIMITED;
        case ErrorKind::kServer:
            return HORDE_ERR_SERVER;
        case ErrorKind::kInvalidResponse:
            return HORDE_ERR_INVALID_RESPONSE;
        case ErrorKind::kFaulted:
            return HORDE_ERR_FAULTED;
        case ErrorKind::kTimeout:
            return HORDE_ERR_TIMEOUT;
        case ErrorKind::kCancelled:
            return HORDE_ERR_CANCELLED;
        case ErrorKind::kInvalidArgument:
            return HORDE_ERR_INVALID_ARGUMENT;
        case ErrorKind::kIo:
            return HORDE_ERR_IO;
    }
    return HORDE_ERR_INTERNAL;
}

horde_status Report(ClientState& state, const ApiError& e) {
    return state.Fail(StatusOf(e.kind), e.ToString(), e.http_status, e.rc);
}

char* Dup(const std::string& s) {
    auto* p = static_cast<char*>(std::malloc(s.size() + 1));
    if (p == nullptr) {
        throw std::bad_alloc();
    }
    std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
}

bool Empty(const char* s) { return s == nullptr || *s == '\0'; }

horde_progress ToProgress(const horde::client::RequestStatus& s, double elapsed_s) {
    horde_progress p{};
    p.finished = s.finished;
    p.processing = s.processing;
    p.restarted = s.restarted;
    p.waiting = s.waiting;
    p.done = s.done ? 1 : 0;
    p.faulted = s.faulted ? 1 : 0;
    p.is_possible = s.is_possible ? 1 : 0;
    p.queue_position = s.queue_position;
    p.wait_time_s = s.wait_time_s;
    p.kudos = s.kudos;
    p.elapsed_s = elapsed_s;
    return p;
}

/// Runs `body`, turning exceptions into HORDE_ERR_INTERNAL on `state` (when there is one).
template <typename F>
horde_status Guard(ClientState* state, F body) {
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return state != nullptr ? state->Fail(HORDE_ERR_INTERNAL, "out of memory")
                                : HORDE_ERR_INTERNAL;
    } catch (const std::exception& e) {
        return state != nullptr ? state->Fail(HORDE_ERR_INTERNAL, e.what()) : HORDE_ERR_INTERNAL;
    } catch (...) {
        return state != nullptr ? state->Fail(HORDE_ERR_INTERNAL, "unknown error")
                                : HORDE_ERR_INTERNAL;
    }
}

}  // namespace

struct horde_client {
    std::shared_ptr<ClientState> state;
};

struct horde_result {
    struct Generation {
        std::string text;
        std::string image;
        std::string seed;
        std::string model;
        std::string worker_name;
        std::string worker_id;
        std::string id;
        bool censored = false;
    };
    horde_kind kind = HORDE_KIND_IMAGE;
    std::string request_id;
    double kudos = 0;
    std::string json;
    std::vector<Generation> generations;
    std::vector<horde::client::ImageGeneration> images;  // for fetching
};

namespace {

std::unique_ptr<horde_result> MakeResult(const horde::client::ImageStatus& s) {
    auto r = std::make_unique<horde_result>();
    r->kind = HORDE_KIND_IMAGE;
    r->request_id = s.id;
    r->kudos = s.kudos;
    r->json = horde::client::ToJson(s);
    for (const auto& g : s.generations) {
        r->generations.push_back(horde_result::Generation{
            {}, g.img, g.seed, g.model, g.worker_name, g.worker_id, g.id, g.censored});
    }
    r->images = s.generations;
    return r;
}

std::unique_ptr<horde_result> MakeResult(const horde::client::TextStatus& s) {
    auto r = std::make_unique<horde_result>();
    r->kind = HORDE_KIND_TEXT;
    r->request_id = s.id;
    r->kudos = s.kudos;
    r->json = horde::client::ToJson(s);
    for (const auto& g : s.generations) {
        r->generations.push_back(horde_result::Generation{g.text,
                                                          {},
                                                          std::to_string(g.seed),
                                                          g.model,
                                                          g.worker_name,
                                                          g.worker_id,
                                                          g.id,
                                                          g.state == "censored"});
    }
    return r;
}

using Outcome = std::variant<std::unique_ptr<horde_result>, ApiError>;

Outcome RunWait(const HordeClient& client, const std::string& id, horde_kind kind,
                const horde::client::WaitOptions& options) {
    if (kind == HORDE_KIND_TEXT) {
        auto r = client.WaitText(id, options);
        if (!r) {
            return std::move(r).error();
        }
        return MakeResult(*r);
    }
    auto r = client.WaitImage(id, options);
    if (!r) {
        return std::move(r).error();
    }
    return MakeResult(*r);
}

horde::client::WaitOptions WaitOptionsFor(double timeout_s) {
    horde::client::WaitOptions o;
    if (timeout_s > 0) {
        o.timeout_s = timeout_s;
    }
    return o;
}

const horde_result::Generation* GenAt(const horde_result* r, size_t index) {
    if (r == nullptr || index >= r->generations.size()) {
        return nullptr;
    }
    return &r->generations[index];
}

}  // namespace

struct horde_job {
    std::shared_ptr<ClientState> state;
    std::stop_source stop;
    std::mutex mu;
    horde_progress latest{};  // guarded by mu
    bool finished = false;    // guarded by mu
    std::future<Outcome> outcome;
};

extern "C" {

const char* horde_version(void) { return horde::client::kLibraryVersion; }

const char* horde_status_name(horde_status status) {
    switch (status) {
        case HORDE_OK:
            return "HORDE_OK";
        case HORDE_ERR_INVALID_ARGUMENT:
            return "HORDE_ERR_INVALID_ARGUMENT";
        case HORDE_ERR_NETWORK:
            return "HORDE_ERR_NETWORK";
        case HORDE_ERR_AUTH:
            return "HORDE_ERR_AUTH";
        case HORDE_ERR_REJECTED:
            return "HORDE_ERR_REJECTED";
        case HORDE_ERR_NOT_FOUND:
            return "HORDE_ERR_NOT_FOUND";
        case HORDE_ERR_RATE_LIMITED:
            return "HORDE_ERR_RATE_LIMITED";
        case HORDE_ERR_SERVER:
            return "HORDE_ERR_SERVER";
        case HORDE_ERR_INVALID_RESPONSE:
            return "HORDE_ERR_INVALID_RESPONSE";
        case HORDE_ERR_FAULTED:
            return "HORDE_ERR_FAULTED";
        case HORDE_ERR_TIMEOUT:
            return "HORDE_ERR_TIMEOUT";
        case HORDE_ERR_CANCELLED:
            return "HORDE_ERR_CANCELLED";
        case HORDE_ERR_IO:
            return "HORDE_ERR_IO";
        case HORDE_ERR_INTERNAL:
            return "HORDE_ERR_INTERNAL";
    }
    return "HORDE_ERR_UNKNOWN";
}

void horde_free(void* p) { std::free(p); }

horde_client* horde_client_new(const char* base_url, const char* api_key,
                               const char* client_agent) {
    try {
        auto state = std::make_shared<ClientState>();
        state->Reconfigure([&](horde::client::ClientSettings& s) {
            if (!Empty(base_url)) {
                s.base_url = base_url;
            }
            if (!Empty(api_key)) {
                s.api_key = api_key;
            }
            if (!Empty(client_agent)) {
                s.client_agent = client_agent;
            }
        });
        return new horde_client{std::move(state)};
    } catch (...) {
        return nullptr;
    }
}

void horde_client_free(horde_client* client) { delete client; }

horde_status horde_client_set_timeout_ms(horde_client* client, int timeout_ms) {
    if (client == nullptr) {
        return HORDE_ERR_INVALID_ARGUMENT;
    }
    auto& st = *client->state;
    return Guard(&st, [&] {
        if (timeout_ms <= 0) {
            return st.Fail(HORDE_ERR_INVALID_ARGUMENT, "timeout_ms must be positive");
        }
        st.Reconfigure(
            [&](horde::client::ClientSettings& s) { s.request_timeout_ms = timeout_ms; });
        return st.Ok();
    });
}

horde_status horde_client_set_poll_interval_ms(horde_client* client, int interval_ms) {
    if (client == nullptr) {
        return HORDE_ERR_INVALID_ARGUMENT;
    }
    auto& st = *client->state;
    return Guard(&st, [&] {
        if (interval_ms < 0) {
            return st.Fail(HORDE_ERR_INVALID_ARGUMENT, "interval_ms must not be negative");
        }
        st.Reconfigure(
            [&](horde::client::ClientSettings& s) { s.min_poll_interval_ms = interval_ms; });
        return st.Ok();
    });
}

const char* horde_last_error(const horde_client* client) {
    if (client == nullptr) {
        return "client is NULL";
    }
    return client->state->Mine().message.c_str();
}

int horde_last_http_status(const horde_client* client) {
    return client == nullptr ? 0 : client->state->Mine().http_status;
}

const char* horde_last_rc(const horde_client* client) {
    return client == nullptr ? "" : client->state->Mine().rc.c_str();
}

horde_status horde_submit_json(horde_client* client, horde_kind kind, const char* request_json,
                               char** out_id) {
    if (client == nullptr) {
        return HORDE_ERR_INVALID_ARGUMENT;
    }
    auto& st = *client->state;
    return Guard(&st, [&] {
        if (Empty(request_json) || out_id == nullptr) {
            return st.Fail(HORDE_ERR_INVALID_ARGUMENT, "request_json and out_id are required");
        }
        *out_id = nullptr;
        const std::string path =
            kind == HORDE_KIND_TEXT ? "/generate/text/async" : "/generate/async";
        auto body = st.Get()->RawCall("POST", path, request_json, true);
        if (!body) {
            return Report(st, body.error());
        }
        auto accepted = horde::client::DecodeAsyncResponse(*body);
        if (!accepted) {
            return Report(st, accepted.error());
        }
        if (accepted->id.empty()) {
            return st.Fail(HORDE_ERR_INVALID_RESPONSE, "the horde returned no request id");
        }
        *out_id = Dup(accepted->id);
        return st.Ok();
    });
}

horde_status horde_submit_image_simple(horde_client* client, const char* prompt,
                                       const char* negative_prompt, const char* model, int width,
                                       int height, int steps, int n, const char* seed,
                                       char** out_id) {
    if (client == nullptr) {
        return HORDE_ERR_INVALID_ARGUMENT;
    }
    auto& st = *client->state;
    return Guard(&st, [&] {
        if (Empty(prompt) || out_id == nullptr) {
            return st.Fail(HORDE_ERR_INVALID_ARGUMENT, "prompt and out_id are required");
        }
        *out_id = nullptr;
        horde::client::ImageRequest req;
        req.prompt = prompt;
        if (!Empty(negative_prompt)) {
            req.negative_prompt = negative_prompt;
        }
        if (!Empty(model)) {
            req.models = std::vector<std::string>{model};
        }
        if (width > 0) {
            req.params.width = width;
        }
        if (height > 0) {
            req.params.height = height;
        }
        if (steps > 0) {
            req.params.steps = steps;
        }
        if (n > 0) {
            req.params.n = n;
        }
        if (!Empty(seed)) {
            req.params.seed = std::string(seed);
        }
        auto accepted = st.Get()->SubmitImage(req);
        if (!accepted) {
            return Report(st, accepted.error());
        }
        *out_id = Dup(accepted->id);
        return st.Ok();
    });
}

horde_status horde_submit_text_simple(horde_client* client, const char* prompt, const char* model,
                                      int max_length, int max_context_length, double temperature,
                                      char** out_id) {
    if (client == nullptr) {
        return HORDE_ERR_INVALID_ARGUMENT;
    }
    auto& st = *client->state;
    return Guard(&st, [&] {
        if (Empty(prompt) || out_id == nullptr) {
            return st.Fail(HORDE_ERR_INVALID_ARGUMENT, "prompt and out_id are required");
        }
        *out_id = nullptr;
        horde::client::TextRequest req;
        req.prompt = prompt;
        if (!Empty(model)) {
            req.models = std::vector<std::string>{model};
        }
        if (max_length > 0) {
            req.params.max_length = max_length;
        }
        if (max_context_length > 0) {
            req.params.max_context_length = max_context_length;
        }
        if (temperature >= 0) {
            req.params.temperature = temperature;
        }
        auto accepted = st.Get()->SubmitText(req);
        if (!accepted) {
            return Report(st, accepted.error());
        }
        *out_id = Dup(accepted->id);
        return st.Ok();
    });
}

horde_status horde_check(horde_client* client, const char* id, horde_kind kind,
                         horde_progress* out) {
    if (client == nullptr) {
        return HORDE_ERR_INVALID_ARGUMENT;
    }
    auto& st = *client->state;
    return Guard(&st, [&] {
        if (Empty(id) || out == nullptr) {
            return st.Fail(HORDE_ERR_INVALID_ARGUMENT, "id and out are required");
        }
        const auto c = st.Get();
        if (kind == HORDE_KIND_TEXT) {
            auto s = c->GetTextStatus(id);
            if (!s) {
                return Report(st, s.error());
            }
            *out = ToProgress(*s, 0);
        } else {
            auto s = c->CheckImage(id);
            if (!s) {
                return Report(st, s.error());
            }
            *out = ToProgress(*s, 0);
        }
        return st.Ok();
    });
}

horde_status horde_wait(horde_client* client, const char* id, horde_kind kind, double timeout_s,
                        horde_progress_fn on_progress, void* user_data, horde_result** out_result) {
    if (client == nullptr) {
        return HORDE_ERR_INVALID_ARGUMENT;
    }
    auto& st = *client->state;
    return Guard(&st, [&] {
        if (Empty(id) || out_result == nullptr) {
            return st.Fail(HORDE_ERR_INVALID_ARGUMENT, "id and out_result are required");
        }
        *out_result = nullptr;
        std::stop_source stop;
        auto options = WaitOptionsFor(timeout_s);
        options.stop = stop.get_token();
        if (on_progress != nullptr) {
            options.on_progress = [&](const horde::client::Progress& p) {
                const horde_progress cp = ToProgress(p.status, p.elapsed_s);
                if (on_progress(&cp, user_data) != 0) {
                    stop.request_stop();
                }
            };
        }
        Outcome outcome = RunWait(*st.Get(), id, kind, options);
        if (auto* e = std::get_if<ApiError>(&outcome)) {
            return Report(st, *e);
        }
        *out_result = std::get<0>(outcome).release();
        return st.Ok();
    });
}

horde_status horde_cancel(horde_client* client, const char* id, horde_kind kind) {
    if (client == nullptr) {
        return HORDE_ERR_INVALID_ARGUMENT;
    }
    auto& st = *client->state;
    return Guard(&st, [&] {
        if (Empty(id)) {
            return st.Fail(HORDE_ERR_INVALID_ARGUMENT, "id is required");
        }
        const auto c = st.Get();
        if (kind == HORDE_KIND_TEXT) {
            auto r = c->CancelText(id);
            return r ? st.Ok() : Report(st, r.error());
        }
        auto r = c->CancelImage(id);
        return r ? st.Ok() : Report(st, r.error());
    });
}

horde_job* horde_job_start(horde_client* client, const char* id, horde_kind kind,
                           double timeout_s) {
    if (client == nullptr) {
        return nullptr;
    }
    auto& st = *client->state;
    horde_job* out = nullptr;
    (void)Guard(&st, [&] {
        if (Empty(id)) {
            return st.Fail(HORDE_ERR_INVALID_ARGUMENT, "id is required");
        }
        auto job = std::make_unique<horde_job>();
        job->state = client->state;
        auto options = WaitOptionsFor(timeout_s);
        options.stop = job->stop.get_token();
        horde_job* raw = job.get();
        options.on_progress = [raw](const horde::client::Progress& p) {
            std::lock_guard lock(raw->mu);
            raw->latest = ToProgress(p.status, p.elapsed_s);
        };
        job->outcome = std::async(std::launch::async, [raw, c = st.Get(), id = std::string(id),
                                                       kind, options = std::move(options)] {
            Outcome o = RunWait(*c, id, kind, options);
            std::lock_guard lock(raw->mu);
            raw->finished = true;
            return o;
        });
        out = job.release();
        return st.Ok();
    });
    return out;
}

int horde_job_poll(horde_job* job, horde_progress* out) {
    if (job == nullptr) {
        return 0;
    }
    std::lock_guard lock(job->mu);
    if (out != nullptr) {
        *out = job->latest;
    }
    return job->finished ? 1 : 0;
}

void horde_job_cancel(horde_job* job) {
    if (job != nullptr) {
        job->stop.request_stop();
    }
}

horde_status horde_job_finish(horde_job* job, horde_result** out_result) {
    if (job == nullptr) {
        return HORDE_ERR_INVALID_ARGUMENT;
    }
    std::unique_ptr<horde_job> owned(job);
    auto& st = *owned->state;
    return Guard(&st, [&] {
        if (out_result != nullptr) {
            *out_result = nullptr;
        }
        Outcome outcome = owned->outcome.get();
        if (auto* e = std::get_if<ApiError>(&outcome)) {
            return Report(st, *e);
        }
        if (out_result != nullptr) {
            *out_result = std::get<0>(outcome).release();
        }
        return st.Ok();
    });
}

void horde_job_free(horde_job* job) {
    if (job == nullptr) {
        return;
    }
    job->stop.request_stop();
    try {
        std::unique_ptr<horde_job> owned(job);
        if (owned->outcome.valid()) {
            owned->outcome.wait();
        }
    } catch (...) {
    }
}

horde_kind horde_result_kind(const horde_result* result) {
    return result == nullptr ? HORDE_KIND_IMAGE : result->kind;
}

const char* horde_result_request_id(const horde_result* result) {
    return result == nullptr ? nullptr : result->request_id.c_str();
}

double horde_result_kudos(const horde_result* result) {
    return result == nullptr ? 0 : result->kudos;
}

const char* horde_result_json(const horde_result* result) {
    return result == nullptr ? nullptr : result->json.c_str();
}

size_t horde_result_count(const horde_result* result) {
    return result == nullptr ? 0 : result->generations.size();
}

const char* horde_result_text(const horde_result* result, size_t index) {
    const auto* g = GenAt(result, index);
    return (g == nullptr || result->kind != HORDE_KIND_TEXT) ? nullptr : g->text.c_str();
}

const char* horde_result_image(const horde_result* result, size_t index) {
    const auto* g = GenAt(result, index);
    return (g == nullptr || result->kind != HORDE_KIND_IMAGE) ? nullptr : g->image.c_str();
}

const char* horde_result_seed(const horde_result* result, size_t index) {
    const auto* g = GenAt(result, index);
    return g == nullptr ? nullptr : g->seed.c_str();
}

const char* horde_result_model(const horde_result* result, size_t index) {
    const auto* g = GenAt(result, index);
    return g == nullptr ? nullptr : g->model.c_str();
}

const char* horde_result_worker_name(const horde_result* result, size_t index) {
    const auto* g = GenAt(result, index);
    return g == nullptr ? nullptr : g->worker_name.c_str();
}

const char* horde_result_worker_id(const horde_result* result, size_t index) {
    const auto* g = GenAt(result, index);
    return g == nullptr ? nullptr : g->worker_id.c_str();
}

const char* horde_result_generation_id(const horde_result* result, size_t index) {
    const auto* g = GenAt(result, index);
    return g == nullptr ? nullptr : g->id.c_str();
}

int horde_result_censored(const horde_result* result, size_t index) {
    const auto* g = GenAt(result, index);
    return (g != nullptr && g->censored) ? 1 : 0;
}

horde_status horde_result_fetch_image(horde_client* client, const horde_result* result,
                                      size_t index, unsigned char** out_bytes, size_t* out_size) {
    if (client == nullptr) {
        return HORDE_ERR_INVALID_ARGUMENT;
    }
    auto& st = *client->state;
    return Guard(&st, [&] {
        if (result == nullptr || out_bytes == nullptr || out_size == nullptr ||
            result->kind != HORDE_KIND_IMAGE || index >= result->images.size()) {
            return st.Fail(HORDE_ERR_INVALID_ARGUMENT,
                           "an image result, a valid index and out-parameters are required");
        }
        *out_bytes = nullptr;
        *out_size = 0;
        auto bytes = st.Get()->FetchImage(result->images[index]);
        if (!bytes) {
            return Report(st, bytes.error());
        }
        auto* p = static_cast<unsigned char*>(std::malloc(bytes->empty() ? 1 : bytes->size()));
        if (p == nullptr) {
            throw std::bad_alloc();
        }
        std::memcpy(p, bytes->data(), bytes->size());
        *out_bytes = p;
        *out_size = bytes->size();
        return st.Ok();
    });
}

horde_status horde_result_save_image(horde_client* client, const horde_result* result, size_t index,
                                     const char* path) {
    if (client == nullptr) {
        return HORDE_ERR_INVALID_ARGUMENT;
    }
    auto& st = *client->state;
    return Guard(&st, [&] {
        if (result == nullptr || Empty(path) || result->kind != HORDE_KIND_IMAGE ||
            index >= result->images.size()) {
            return st.Fail(HORDE_ERR_INVALID_ARGUMENT,
                           "an image result, a valid index and a path are required");
        }
        auto bytes = st.Get()->FetchImage(result->images[index]);
        if (!bytes) {
            return Report(st, bytes.error());
        }
        std::FILE* f = std::fopen(path, "wb");
        if (f == nullptr) {
            return st.Fail(HORDE_ERR_IO,
                           std::string("cannot open ") + path + ": " + std::strerror(errno));
        }
        const size_t written = std::fwrite(bytes->data(), 1, bytes->size(), f);
        const bool closed = std::fclose(f) == 0;
        if (written != bytes->size() || !closed) {
            return st.Fail(HORDE_ERR_IO, std::string("cannot write ") + path);
        }
        return st.Ok();
    });
}

void horde_result_free(horde_result* result) { delete result; }

horde_status horde_find_user(horde_client* client, char** out_username, double* out_kudos) {
    if (client == nullptr) {
        return HORDE_ERR_INVALID_ARGUMENT;
    }
    auto& st = *client->state;
    return Guard(&st, [&] {
        if (out_username != nullptr) {
            *out_username = nullptr;
        }
        auto user = st.Get()->FindUser();
        if (!user) {
            return Report(st, user.error());
        }
        if (out_username != nullptr) {
            *out_username = Dup(user->username);
        }
        if (out_kudos != nullptr) {
            *out_kudos = user->kudos;
        }
        return st.Ok();
    });
}

horde_status horde_transfer_kudos(horde_client* client, const char* username, double amount,
                                  double* out_transferred) {
    if (client == nullptr) {
        return HORDE_ERR_INVALID_ARGUMENT;
    }
    auto& st = *client->state;
    return Guard(&st, [&] {
        if (Empty(username)) {
            return st.Fail(HORDE_ERR_INVALID_ARGUMENT, "username is required");
        }
        auto t = st.Get()->TransferKudos(username, amount);
        if (!t) {
            return Report(st, t.error());
        }
        if (out_transferred != nullptr) {
            *out_transferred = t->transferred;
        }
        return st.Ok();
    });
}

horde_status horde_get_json(horde_client* client, const char* path, char** out_json) {
    if (client == nullptr) {
        return HORDE_ERR_INVALID_ARGUMENT;
    }
    auto& st = *client->state;
    return Guard(&st, [&] {
        if (Empty(path) || out_json == nullptr) {
            return st.Fail(HORDE_ERR_INVALID_ARGUMENT, "path and out_json are required");
        }
        *out_json = nullptr;
        auto body = st.Get()->RawCall("GET", path, {}, true);
        if (!body) {
            return Report(st, body.error());
        }
        *out_json = Dup(horde::client::NormalizeJson(*body));
        return st.Ok();
    });
}

}  // extern "C"
