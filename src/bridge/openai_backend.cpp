// OpenAI-compatible text backend (llama.cpp server, vLLM, Aphrodite, TabbyAPI, Ollama's /v1):
// GET /v1/models, POST /v1/completions; the context size comes from /v1/models (vLLM's
// max_model_len, llama.cpp's meta.n_ctx_train) or llama.cpp's GET /props.

#include "bridge/backend.hpp"
#include "bridge/backend_http.hpp"
#include "bridge/text_params.hpp"

namespace horde::bridge {

namespace {

constexpr int kProbeTimeoutMs = 5'000;
constexpr auto kBusyRetry = std::chrono::milliseconds(1'000);

/// "http://host:8080/v1/" -> "http://host:8080"
std::string BaseWithoutV1(std::string url) {
    url = TrimSlashes(std::move(url));
    if (url.ends_with("/v1")) {
        url.resize(url.size() - 3);
    }
    return url;
}

int ContextFromProps(const json::object& props) {
    if (const auto n = json::OptInt(props, "n_ctx"); n && *n > 0) {
        return static_cast<int>(*n);
    }
    const json::object& settings = json::Object(props, "default_generation_settings");
    return static_cast<int>(json::Int(settings, "n_ctx", 0));
}

class OpenAiBackend final : public Backend {
public:
    explicit OpenAiBackend(const BackendSettings& settings)
        : endpoint_{BaseWithoutV1(settings.url), {}} {
        if (!settings.api_key.empty()) {
            endpoint_.headers.emplace_back("Authorization", "Bearer " + settings.api_key);
        }
    }

    JobKind kind() const override { return JobKind::kText; }
    std::string Name() const override { return "OpenAI-compatible"; }

    Result<BackendInfo> Probe() override {
        HORDE_TRY(const json::value models,
                  CallJson(endpoint_, "GET", "/v1/models", nullptr, kProbeTimeoutMs));
        const json::value* data =
            models.is_object() ? json::Find(models.get_object(), "data") : nullptr;
        if (data == nullptr || !data->is_array()) {
            return MakeError(
                ErrorCode::kInternal,
                "GET /v1/models: no data list in " + json::Excerpt(boost::json::serialize(models)));
        }
        BackendInfo info;
        std::string owner;
        for (const json::value& m : data->get_array()) {
            if (!m.is_object()) {
                continue;
            }
            const json::object& o = m.get_object();
            const std::string id = json::String(o, "id");
            if (id.empty()) {
                continue;
            }
            info.models.push_back(id);
            if (owner.empty()) {
                owner = json::String(o, "owned_by");
            }
            if (info.max_context_length == 0) {
                info.max_context_length = static_cast<int>(json::Int(o, "max_model_len", 0));
            }
            if (info.max_context_length == 0) {
                info.max_context_length =
                    static_cast<int>(json::Int(json::Object(o, "meta"), "n_ctx_train", 0));
            }
        }
        if (info.models.empty()) {
            return MakeError(ErrorCode::kInternal, "GET /v1/models lists no model");
        }
        // llama.cpp serves its actual context size (which may be below n_ctx_train) at /props.
        if (auto props = CallJson(endpoint_, "GET", "/props", nullptr, kProbeTimeoutMs);
            props && props->is_object()) {
            if (const int n = ContextFromProps(props->get_object()); n > 0) {
                info.max_context_length = n;
            }
        }
        info.version = owner.empty() ? Name() : Name() + " (" + owner + ")";
        return info;
    }

    Result<TextOutput> GenerateText(const TextJob& job, const CancelToken& cancel) override {
        const std::string body = boost::json::serialize(BuildOpenAiRequest(job));
        while (true) {
            HORDE_TRY(HttpReply reply, Call(endpoint_, "POST", "/v1/completions", body,
                                            "application/json", cancel.RemainingMs()));
            if (reply.status == 503 || reply.status == 429) {
                // Loading the model, or all slots busy: wait for our turn.
                if (!cancel.SleepFor(kBusyRetry)) {
                    return MakeError(ErrorCode::kInternal,
                                     "the backend stayed busy until the job's " + cancel.Reason());
                }
                continue;
            }
            if (!reply.Ok()) {
                return ReplyError(reply, "POST", "/v1/completions");
            }
            HORDE_TRY(const json::value v, json::Parse(reply.body, "POST /v1/completions"));
            const json::value* choices =
                v.is_object() ? json::Find(v.get_object(), "choices") : nullptr;
            if (choices == nullptr || !choices->is_array() || choices->get_array().empty() ||
                !choices->get_array().front().is_object()) {
                return MakeError(ErrorCode::kInternal, "POST /v1/completions: no choices in " +
                                                           json::Excerpt(reply.body));
            }
            return TextOutput{FinishText(
                json::String(choices->get_array().front().get_object(), "text"), job.params)};
        }
    }

private:
    HttpEndpoint endpoint_;
};

}  // namespace

std::shared_ptr<Backend> MakeOpenAiBackend(const BackendSettings& settings) {
    return std::make_shared<OpenAiBackend>(settings);
}

}  // namespace horde::bridge
