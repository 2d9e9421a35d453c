// AUTOMATIC1111 / Forge / SD.Next image backend: GET /sdapi/v1/sd-models, /samplers,
// /schedulers, /upscalers, /face-restorers, GET+POST /sdapi/v1/options (checkpoint switch),
// POST /sdapi/v1/txt2img, /img2img, /extra-single-image, /interrupt.

#include <algorithm>
#include <map>
#include <mutex>

#include "bridge/a1111_request.hpp"
#include "bridge/backend.hpp"
#include "bridge/backend_http.hpp"
#include "bridge/image_codec.hpp"
#include "bridge/image_params.hpp"

namespace horde::bridge {

namespace {

constexpr int kProbeTimeoutMs = 5'000;
constexpr int kInterruptTimeoutMs = 3'000;

std::vector<std::string> NamesOf(const json::value& list, std::string_view key) {
    std::vector<std::string> out;
    if (!list.is_array()) {
        return out;
    }
    for (const json::value& item : list.get_array()) {
        if (item.is_object()) {
            const std::string name = json::String(item.get_object(), key);
            if (!name.empty()) {
                out.push_back(name);
            }
        }
    }
    return out;
}

/// The WebUI's answer {"images": [b64], "info": "<json text>"} as bytes and the seed used.
Result<ImageOutput> ParseImages(const json::value& v, std::string_view what, int64_t seed) {
    const json::value* images = v.is_object() ? json::Find(v.get_object(), "images") : nullptr;
    if (images == nullptr || !images->is_array() || images->get_array().empty() ||
        !images->get_array().front().is_string()) {
        return MakeError(ErrorCode::kInternal, std::string(what) + ": no images in the answer");
    }
    HORDE_TRY(std::string bytes, Base64Decode(images->get_array().front().get_string()));
    ImageOutput out{std::move(bytes), seed};
    if (const auto info_text = json::OptString(v.get_object(), "info")) {
        boost::system::error_code ec;
        const json::value info = boost::json::parse(*info_text, ec);
        if (!ec && info.is_object()) {
            out.seed = json::Int(info.get_object(), "seed", seed);
        }
    }
    return out;
}

class A1111Backend final : public Backend {
public:
    explicit A1111Backend(const BackendSettings& settings)
        : endpoint_{TrimSlashes(settings.url), {}} {
        if (settings.api_key.find(':') != std::string::npos) {
            endpoint_.headers.emplace_back("Authorization",
                                           "Basic " + Base64Encode(settings.api_key));
        } else if (!settings.api_key.empty()) {
            endpoint_.headers.emplace_back("Authorization", "Bearer " + settings.api_key);
        }
    }

    JobKind kind() const override { return JobKind::kImage; }
    std::string Name() const override { return "AUTOMATIC1111"; }

    Result<BackendInfo> Probe() override {
        HORDE_TRY(const json::value models,
                  CallJson(endpoint_, "GET", "/sdapi/v1/sd-models", nullptr, kProbeTimeoutMs));
        HORDE_TRY(const json::value samplers,
                  CallJson(endpoint_, "GET", "/sdapi/v1/samplers", nullptr, kProbeTimeoutMs));
        Catalog c;
        if (models.is_array()) {
            for (const json::value& m : models.get_array()) {
                if (!m.is_object()) {
                    continue;
                }
                const std::string title = json::String(m.get_object(), "title");
                std::string name = json::String(m.get_object(), "model_name");
                if (name.empty()) {
                    name = title;
                }
                if (!name.empty()) {
                    c.titles[name] = title.empty() ? name : title;
                }
            }
        }
        c.samplers = NamesOf(samplers, "name");
        const auto schedulers =
            CallJson(endpoint_, "GET", "/sdapi/v1/schedulers", nullptr, kProbeTimeoutMs);
        c.has_schedulers = schedulers.has_value() && schedulers->is_array();
        if (auto up = CallJson(endpoint_, "GET", "/sdapi/v1/upscalers", nullptr, kProbeTimeoutMs)) {
            c.upscalers = NamesOf(*up, "name");
        }
        if (auto faces =
                CallJson(endpoint_, "GET", "/sdapi/v1/face-restorers", nullptr, kProbeTimeoutMs)) {
            c.face_restorers = NamesOf(*faces, "name");
        }
        std::string current;
        if (auto options =
                CallJson(endpoint_, "GET", "/sdapi/v1/options", nullptr, kProbeTimeoutMs);
            options && options->is_object()) {
            current = json::String(options->get_object(), "sd_model_checkpoint");
        }

        BackendInfo info;
        info.version = Name();
        for (const auto& [name, title] : c.titles) {
            info.models.push_back(name);
        }
        ImageFeatures& f = info.features;
        f.img2img = true;
        f.inpainting = true;
        f.tiling = true;
        f.hires_fix = true;
        f.clip_skip = true;
        // Karras noise: the scheduler field (WebUI >= 1.9) or "<sampler> Karras" names.
        f.karras = c.has_schedulers ||
                   std::any_of(c.samplers.begin(), c.samplers.end(),
                               [](const std::string& s) { return s.ends_with(" Karras"); });
        for (const auto& s : SamplerTable()) {
            if (ChooseA1111Sampler(std::string(s.horde), false, c.samplers, c.has_schedulers)) {
                f.samplers.emplace_back(s.horde);
            }
        }
        for (const auto& pp : HordePostProcessors()) {
            const auto& pool = IsFaceFixer(pp) ? c.face_restorers : c.upscalers;
            if (MatchPostProcessor(pp, pool)) {
                f.post_processors.push_back(pp);
            }
        }
        std::lock_guard lock(mu_);
        catalog_ = std::move(c);
        if (!current.empty()) {
            current_checkpoint_ = current;
        }
        return info;
    }

    Result<ImageOutput> GenerateImage(const ImageJob& job, const CancelToken& cancel) override {
        Catalog c;
        {
            std::lock_guard lock(mu_);
            c = catalog_;
        }
        A1111Inputs inputs;
        const auto title = c.titles.find(job.model);
        inputs.checkpoint_title = title == c.titles.end() ? job.model : title->second;
        auto sampler = ChooseA1111Sampler(job.sampler, job.karras, c.samplers, c.has_schedulers);
        if (!sampler) {
            sampler = ChooseA1111Sampler("k_euler_a", job.karras, c.samplers, c.has_schedulers);
        }
        if (!sampler) {
            return MakeError(ErrorCode::kInternal,
                             "the WebUI runs neither " + job.sampler + " nor Euler a");
        }
        inputs.sampler = *sampler;
        HORDE_TRY_STATUS(SwitchCheckpoint(inputs.checkpoint_title, cancel));
        if (!job.source_processing.empty() && !job.source_image.empty()) {
            inputs.init_image_b64 = Base64Encode(job.source_image);
            if (job.source_processing == "inpainting" && !job.source_mask.empty()) {
                inputs.mask_b64 = Base64Encode(job.source_mask);
            }
        }
        const std::string path =
            inputs.init_image_b64.empty() ? "/sdapi/v1/txt2img" : "/sdapi/v1/img2img";
        const json::value body = BuildA1111Request(job, inputs);
        HORDE_TRY(const json::value reply,
                  CallJson(endpoint_, "POST", path, &body, cancel.RemainingMs()));
        HORDE_TRY(ImageOutput out, ParseImages(reply, "POST " + path, job.seed));
        if (job.post_processing.empty()) {
            return out;
        }
        const auto extras =
            BuildA1111Extras(job, Base64Encode(out.bytes), c.upscalers, c.face_restorers);
        if (!extras) {
            return out;
        }
        const json::value extras_body = *extras;
        HORDE_TRY(const json::value pp, CallJson(endpoint_, "POST", "/sdapi/v1/extra-single-image",
                                                 &extras_body, cancel.RemainingMs()));
        const auto image = pp.is_object() ? json::OptString(pp.get_object(), "image")
                                          : std::optional<std::string>();
        if (!image) {
            return MakeError(ErrorCode::kInternal,
                             "POST /sdapi/v1/extra-single-image: no image in the answer");
        }
        HORDE_TRY(out.bytes, Base64Decode(*image));
        return out;
    }

    void Interrupt() override {
        (void)Call(endpoint_, "POST", "/sdapi/v1/interrupt", "", "", kInterruptTimeoutMs);
    }

private:
    /// What the last probe learned.
    struct Catalog {
        std::map<std::string, std::string> titles;  // model_name -> title
        std::vector<std::string> samplers;
        bool has_schedulers = false;
        std::vector<std::string> upscalers;
        std::vector<std::string> face_restorers;
    };

    /// Loads `title` through POST /sdapi/v1/options unless it is the current checkpoint. One
    /// switch at a time; requests also carry it in override_settings, so a job is right even if
    /// another switch slips in between.
    Status SwitchCheckpoint(const std::string& title, const CancelToken& cancel) {
        std::lock_guard lock(switch_mu_);
        {
            std::lock_guard state(mu_);
            if (current_checkpoint_ == title) {
                return Ok();
            }
        }
        const json::value body = json::object{{"sd_model_checkpoint", title}};
        HORDE_TRY(const json::value ignored,
                  CallJson(endpoint_, "POST", "/sdapi/v1/options", &body, cancel.RemainingMs()));
        (void)ignored;
        std::lock_guard state(mu_);
        current_checkpoint_ = title;
        return Ok();
    }

    HttpEndpoint endpoint_;
    std::mutex switch_mu_;  // serializes checkpoint switches
    std::mutex mu_;
    Catalog catalog_;                 // guarded by mu_
    std::string current_checkpoint_;  // guarded by mu_
};

}  // namespace

std::shared_ptr<Backend> MakeA1111Backend(const BackendSettings& settings) {
    return std::make_shared<A1111Backend>(settings);
}

}  // namespace horde::bridge
