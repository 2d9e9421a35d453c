// KoboldAI / KoboldCpp text backend: GET /api/v1/model, /api/extra/version,
// /api/extra/true_max_context_length (or /api/v1/config/max_context_length),
// POST /api/v1/generate, POST /api/extra/abort.

#include <mutex>
#include <set>

#include "bridge/backend.hpp"
#include "bridge/backend_http.hpp"
#include "bridge/text_params.hpp"
#include "common/random.hpp"

namespace horde::bridge {

namespace {

constexpr int kProbeTimeoutMs = 5'000;
constexpr int kAbortTimeoutMs = 3'000;
constexpr auto kBusyRetry = std::chrono::milliseconds(1'000);

class KoboldBackend final : public Backend {
public:
    explicit KoboldBackend(const BackendSettings& settings)
        : endpoint_{TrimSlashes(settings.url), {}} {
        if (!settings.api_key.empty()) {
            endpoint_.headers.emplace_back("Authorization", "Bearer " + settings.api_key);
        }
    }

    JobKind kind() const override { return JobKind::kText; }
    std::string Name() const override { return "KoboldAI"; }

    Result<BackendInfo> Probe() override {
        HORDE_TRY(const json::value model,
                  CallJson(endpoint_, "GET", "/api/v1/model", nullptr, kProbeTimeoutMs));
        const std::string name =
            model.is_object() ? json::String(model.get_object(), "result") : std::string();
        BackendInfo info;
        if (name.empty() || name == "ReadOnly") {
            return MakeError(ErrorCode::kInternal, "the KoboldAI backend has no model loaded");
        }
        info.models.push_back(name);
        info.version = "KoboldAI";
        if (auto v = CallJson(endpoint_, "GET", "/api/extra/version", nullptr, kProbeTimeoutMs);
            v && v->is_object()) {
            info.version = json::String(v->get_object(), "result", "KoboldCpp") + " " +
                           json::String(v->get_object(), "version");
        }
        for (const char* path :
             {"/api/extra/true_max_context_length", "/api/v1/config/max_context_length"}) {
            auto v = CallJson(endpoint_, "GET", path, nullptr, kProbeTimeoutMs);
            if (v && v->is_object()) {
                info.max_context_length = static_cast<int>(json::Int(v->get_object(), "value", 0));
                if (info.max_context_length > 0) {
                    break;
                }
            }
        }
        return info;
    }

    Result<TextOutput> GenerateText(const TextJob& job, const CancelToken& cancel) override {
        const std::string genkey = "HORDE" + NewToken(12);
        const std::string body = boost::json::serialize(BuildKoboldRequest(job, genkey));
        ActiveKey active(*this, genkey);
        while (true) {
            HORDE_TRY(HttpReply reply, Call(endpoint_, "POST", "/api/v1/generate", body,
                                            "application/json", cancel.RemainingMs()));
            if (reply.status == 503) {
                // KoboldCpp answers 503 while it serves someone else; wait for our turn.
                if (!cancel.SleepFor(kBusyRetry)) {
                    return MakeError(
                        ErrorCode::kInternal,
                        "the KoboldAI backend stayed busy until the job's " + cancel.Reason());
                }
                continue;
            }
            if (!reply.Ok()) {
                return ReplyError(reply, "POST", "/api/v1/generate");
            }
            HORDE_TRY(const json::value v, json::Parse(reply.body, "POST /api/v1/generate"));
            const json::value* results =
                v.is_object() ? json::Find(v.get_object(), "results") : nullptr;
            if (results == nullptr || !results->is_array() || results->get_array().empty() ||
                !results->get_array().front().is_object()) {
                return MakeError(ErrorCode::kInternal, "POST /api/v1/generate: no results in " +
                                                           json::Excerpt(reply.body));
            }
            return TextOutput{FinishText(
                json::String(results->get_array().front().get_object(), "text"), job.params)};
        }
    }

    void Interrupt() override {
        std::set<std::string> keys;
        {
            std::lock_guard lock(mu_);
            keys = active_;
        }
        for (const auto& key : keys) {
            const json::value body = json::object{{"genkey", key}};
            (void)CallJson(endpoint_, "POST", "/api/extra/abort", &body, kAbortTimeoutMs);
        }
    }

private:
    /// Registers a genkey while its generation runs, so Interrupt() can abort it.
    class ActiveKey {
    public:
        ActiveKey(KoboldBackend& backend, std::string key)
            : backend_(backend), key_(std::move(key)) {
            std::lock_guard lock(backend_.mu_);
            backend_.active_.insert(key_);
        }
        ~ActiveKey() {
            std::lock_guard lock(backend_.mu_);
            backend_.active_.erase(key_);
        }
        ActiveKey(const ActiveKey&) = delete;
        ActiveKey& operator=(const ActiveKey&) = delete;

    private:
        KoboldBackend& backend_;
        std::string key_;
    };

    HttpEndpoint endpoint_;
    std::mutex mu_;
    std::set<std::string> active_;  // guarded by mu_
};

}  // namespace

std::shared_ptr<Backend> MakeKoboldBackend(const BackendSettings& settings) {
    return std::make_shared<KoboldBackend>(settings);
}

}  // namespace horde::bridge
