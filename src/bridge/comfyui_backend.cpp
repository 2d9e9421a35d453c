// ComfyUI image backend: GET /system_stats, /object_info/{node} (checkpoints, samplers,
// schedulers, upscale models), POST /upload/image (source images and masks), POST /prompt with a
// workflow graph, GET /history/{prompt_id} until done, GET /view for the image, then
// POST /history {"delete"} to tidy up. Cancellation: POST /queue {"delete"} and /interrupt.

#include <algorithm>
#include <cctype>
#include <mutex>
#include <set>

#include "bridge/backend.hpp"
#include "bridge/backend_http.hpp"
#include "bridge/comfy_graph.hpp"
#include "bridge/image_codec.hpp"
#include "bridge/image_params.hpp"
#include "common/random.hpp"

namespace horde::bridge {

namespace {

constexpr int kProbeTimeoutMs = 5'000;
constexpr int kShortCallTimeoutMs = 10'000;
constexpr auto kPollFirst = std::chrono::milliseconds(100);
constexpr auto kPollMax = std::chrono::milliseconds(500);

std::string PercentEncode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[u >> 4U]);
            out.push_back(kHex[u & 15U]);
        }
    }
    return out;
}

/// The choices of a combo input in /object_info: [[a, b, ...], {...}] or ["COMBO", {options}].
std::vector<std::string> ComboOptions(const json::value& info, std::string_view node,
                                      std::string_view input) {
    std::vector<std::string> out;
    if (!info.is_object()) {
        return out;
    }
    const json::object& required =
        json::Object(json::Object(json::Object(info.get_object(), node), "input"), "required");
    const json::value* spec = json::Find(required, input);
    if (spec == nullptr || !spec->is_array() || spec->get_array().empty()) {
        return out;
    }
    const json::array& a = spec->get_array();
    const json::array* choices = nullptr;
    if (a.front().is_array()) {
        choices = &a.front().get_array();
    } else if (a.size() > 1 && a[1].is_object()) {
        const json::value* options = json::Find(a[1].get_object(), "options");
        if (options != nullptr && options->is_array()) {
            choices = &options->get_array();
        }
    }
    if (choices != nullptr) {
        for (const json::value& c : *choices) {
            if (c.is_string()) {
                out.emplace_back(c.get_string());
            }
        }
    }
    return out;
}

bool Has(const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

class ComfyUiBackend final : public Backend {
public:
    explicit ComfyUiBackend(const BackendSettings& settings)
        : endpoint_{TrimSlashes(settings.url), {}}, client_id_(NewUuid()) {
        if (!settings.api_key.empty()) {
            endpoint_.headers.emplace_back("Authorization", "Bearer " + settings.api_key);
        }
    }

    JobKind kind() const override { return JobKind::kImage; }
    std::string Name() const override { return "ComfyUI"; }

    Result<BackendInfo> Probe() override {
        HORDE_TRY(const json::value stats,
                  CallJson(endpoint_, "GET", "/system_stats", nullptr, kProbeTimeoutMs));
        HORDE_TRY(const json::value ckpt,
                  CallJson(endpoint_, "GET", "/object_info/CheckpointLoaderSimple", nullptr,
                           kProbeTimeoutMs));
        HORDE_TRY(const json::value ksampler,
                  CallJson(endpoint_, "GET", "/object_info/KSampler", nullptr, kProbeTimeoutMs));
        Catalog c;
        c.samplers = ComboOptions(ksampler, "KSampler", "sampler_name");
        c.schedulers = ComboOptions(ksampler, "KSampler", "scheduler");
        if (auto up = CallJson(endpoint_, "GET", "/object_info/UpscaleModelLoader", nullptr,
                               kProbeTimeoutMs)) {
            c.upscale_models = ComboOptions(*up, "UpscaleModelLoader", "model_name");
        }
        BackendInfo info;
        info.models = ComboOptions(ckpt, "CheckpointLoaderSimple", "ckpt_name");
        const std::string version =
            stats.is_object()
                ? json::String(json::Object(stats.get_object(), "system"), "comfyui_version")
                : std::string();
        info.version = version.empty() ? Name() : Name() + " " + version;
        ImageFeatures& f = info.features;
        f.img2img = true;
        f.inpainting = true;
        f.hires_fix = true;
        f.clip_skip = true;
        f.karras = Has(c.schedulers, "karras");
        for (const auto& s : SamplerTable()) {
            if (Has(c.samplers, s.comfyui)) {
                f.samplers.emplace_back(s.horde);
            }
        }
        for (const auto& pp : HordePostProcessors()) {
            if (!IsFaceFixer(pp) && pp != "strip_background" &&
                MatchPostProcessor(pp, c.upscale_models)) {
                f.post_processors.push_back(pp);
            }
        }
        std::lock_guard lock(mu_);
        catalog_ = std::move(c);
        return info;
    }

    Result<ImageOutput> GenerateImage(const ImageJob& job, const CancelToken& cancel) override {
        Catalog c;
        {
            std::lock_guard lock(mu_);
            c = catalog_;
        }
        ComfyInputs in;
        in.checkpoint = job.model;
        const auto sampler = ComfySamplerName(job.sampler);
        in.sampler = sampler && Has(c.samplers, *sampler) ? std::string(*sampler)
                                                          : std::string("euler_ancestral");
        in.scheduler = job.karras && Has(c.schedulers, "karras") ? "karras" : "normal";
        if (!job.source_processing.empty() && !job.source_image.empty()) {
            HORDE_TRY(in.image_name, Upload(job.source_image, "source", cancel));
            if (job.source_processing == "inpainting" && !job.source_mask.empty()) {
                HORDE_TRY(in.mask_name, Upload(job.source_mask, "mask", cancel));
            }
        }
        for (const auto& pp : job.post_processing) {
            if (IsFaceFixer(pp)) {
                continue;
            }
            if (auto model = MatchPostProcessor(pp, c.upscale_models)) {
                in.upscale_models.push_back(std::move(*model));
                break;  // the horde allows one upscaler per request
            }
        }
        const ComfyGraph graph = BuildComfyGraph(job, in);
        const json::value body = json::object{{"prompt", graph.prompt}, {"client_id", client_id_}};
        HORDE_TRY(const json::value queued,
                  CallJson(endpoint_, "POST", "/prompt", &body, kShortCallTimeoutMs));
        const std::string prompt_id =
            queued.is_object() ? json::String(queued.get_object(), "prompt_id") : std::string();
        if (prompt_id.empty()) {
            return MakeError(
                ErrorCode::kInternal,
                "POST /prompt: no prompt_id in " + json::Excerpt(boost::json::serialize(queued)));
        }
        ActivePrompt active(*this, prompt_id);
        HORDE_TRY(const json::object image, WaitForImage(prompt_id, graph.output_id, cancel));
        const std::string query =
            "/view?filename=" + PercentEncode(json::String(image, "filename")) +
            "&subfolder=" + PercentEncode(json::String(image, "subfolder")) +
            "&type=" + PercentEncode(json::String(image, "type", "output"));
        HORDE_TRY(HttpReply view,
                  Call(endpoint_, "GET", query, "", "", cancel.RemainingMs(kShortCallTimeoutMs)));
        if (!view.Ok()) {
            return ReplyError(view, "GET", "/view");
        }
        const json::value forget = json::object{{"delete", json::array{prompt_id}}};
        (void)CallJson(endpoint_, "POST", "/history", &forget, kShortCallTimeoutMs);
        return ImageOutput{std::move(view.body), job.seed};
    }

    void Interrupt() override {
        std::set<std::string> ids;
        {
            std::lock_guard lock(mu_);
            ids = active_;
        }
        for (const auto& id : ids) {
            Cancel(id);
        }
    }

private:
    struct Catalog {
        std::vector<std::string> samplers;
        std::vector<std::string> schedulers;
        std::vector<std::string> upscale_models;
    };

    class ActivePrompt {
    public:
        ActivePrompt(ComfyUiBackend& backend, std::string id)
            : backend_(backend), id_(std::move(id)) {
            std::lock_guard lock(backend_.mu_);
            backend_.active_.insert(id_);
        }
        ~ActivePrompt() {
            std::lock_guard lock(backend_.mu_);
            backend_.active_.erase(id_);
        }
        ActivePrompt(const ActivePrompt&) = delete;
        ActivePrompt& operator=(const ActivePrompt&) = delete;

    private:
        ComfyUiBackend& backend_;
        std::string id_;
    };

    /// Removes a queued prompt, or interrupts it when it is running.
    void Cancel(const std::string& prompt_id) {
        const json::value remove = json::object{{"delete", json::array{prompt_id}}};
        (void)CallJson(endpoint_, "POST", "/queue", &remove, kShortCallTimeoutMs);
        const json::value interrupt = json::object{{"prompt_id", prompt_id}};
        (void)CallJson(endpoint_, "POST", "/interrupt", &interrupt, kShortCallTimeoutMs);
    }

    /// POST /upload/image as multipart/form-data; returns the name LoadImage takes.
    Result<std::string> Upload(const std::string& bytes, std::string_view role,
                               const CancelToken& cancel) {
        const ImageFormat format = SniffImage(bytes);
        const char* ext = format == ImageFormat::kWebp   ? "webp"
                          : format == ImageFormat::kJpeg ? "jpg"
                                                         : "png";
        const std::string boundary = "----HordeWorker" + NewToken(16);
        const std::string filename = "horde_" + std::string(role) + "_" + NewToken(12) + "." + ext;
        std::string body;
        auto field = [&](std::string_view name, std::string_view value) {
            body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" +
                    std::string(name) + "\"\r\n\r\n" + std::string(value) + "\r\n";
        };
        body += "--" + boundary +
                "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + filename +
                "\"\r\nContent-Type: image/" + ext + "\r\n\r\n";
        body += bytes;
        body += "\r\n";
        field("overwrite", "true");
        field("type", "input");
        body += "--" + boundary + "--\r\n";
        HORDE_TRY(HttpReply reply, Call(endpoint_, "POST", "/upload/image", std::move(body),
                                        "multipart/form-data; boundary=" + boundary,
                                        cancel.RemainingMs(kShortCallTimeoutMs, 60'000)));
        if (!reply.Ok()) {
            return ReplyError(reply, "POST", "/upload/image");
        }
        HORDE_TRY(const json::value v, json::Parse(reply.body, "POST /upload/image"));
        const std::string name = v.is_object() ? json::String(v.get_object(), "name") : "";
        if (name.empty()) {
            return MakeError(ErrorCode::kInternal,
                             "POST /upload/image: no name in " + json::Excerpt(reply.body));
        }
        const std::string subfolder = json::String(v.get_object(), "subfolder");
        return subfolder.empty() ? name : subfolder + "/" + name;
    }

    /// Polls /history/{id} until the prompt has an image, fails, or the token fires.
    Result<json::object> WaitForImage(const std::string& prompt_id, const std::string& output_id,
                                      const CancelToken& cancel) {
        auto delay = kPollFirst;
        while (true) {
            if (!cancel.SleepFor(delay)) {
                Cancel(prompt_id);
                return MakeError(ErrorCode::kInternal,
                                 "ComfyUI prompt cancelled at the job's " + cancel.Reason());
            }
            delay = std::min(kPollMax, delay * 2);
            HORDE_TRY(const json::value history, CallJson(endpoint_, "GET", "/history/" + prompt_id,
                                                          nullptr, kShortCallTimeoutMs));
            if (!history.is_object()) {
                continue;
            }
            const json::object& entry = json::Object(history.get_object(), prompt_id);
            if (entry.empty()) {
                continue;  // still queued or running
            }
            const json::object& status = json::Object(entry, "status");
            if (json::String(status, "status_str") == "error") {
                return MakeError(ErrorCode::kInternal,
                                 "ComfyUI failed the prompt: " +
                                     json::Excerpt(boost::json::serialize(
                                                       json::Find(status, "messages") != nullptr
                                                           ? *json::Find(status, "messages")
                                                           : json::value()),
                                                   400));
            }
            const json::object& outputs = json::Object(entry, "outputs");
            const json::value* images = json::Find(json::Object(outputs, output_id), "images");
            if (images != nullptr && images->is_array() && !images->get_array().empty() &&
                images->get_array().front().is_object()) {
                return images->get_array().front().get_object();
            }
            if (json::Bool(status, "completed", false)) {
                return MakeError(ErrorCode::kInternal,
                                 "ComfyUI finished the prompt without an image");
            }
        }
    }

    HttpEndpoint endpoint_;
    std::string client_id_;
    std::mutex mu_;
    Catalog catalog_;               // guarded by mu_
    std::set<std::string> active_;  // guarded by mu_
};

}  // namespace

std::shared_ptr<Backend> MakeComfyUiBackend(const BackendSettings& settings) {
    return std::make_shared<ComfyUiBackend>(settings);
}

}  // namespace horde::bridge
