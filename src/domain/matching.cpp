#include "domain/matching.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <string>

#include "common/ascii.hpp"
#include "domain/pricing.hpp"

namespace horde::domain {
namespace {

// Post-processors that make a batch count as heavy (§3.4).
constexpr std::array<std::string_view, 9> kHeavyPostProcessors = {
    "RealESRGAN_x4plus", "RealESRGAN_x4plus_anime_6B",
    "NMKD_Siax",         "4x_AnimeSharp",
    "CodeFormers",       "4xNomos8kSC",
    "4xLSDIRplus",       "4xNomos2_hq_dat2",
    "RestoreFormer",
};
constexpr double kHeavyBatchFactor = 1.8;
constexpr double kPostProcessorBatchFactor = 0.4;
constexpr double kMaxPixelsBatchDivisor = 3.5;

bool Contains(const std::vector<std::string>& list, std::string_view value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

bool IsSpecialModel(std::string_view model) {
    return model.starts_with("horde_special") || model.starts_with("SDXL_beta");
}

SkipReason CheckModels(const Request& r, const Worker& worker) {
    const std::vector<std::string>& served = worker.profile.models;
    if (r.models.empty()) {
        // "Any model" never lands on a worker serving special models.
        if (r.kind == GenKind::kImage &&
            std::any_of(served.begin(), served.end(),
                        [](const std::string& m) { return IsSpecialModel(m); })) {
            return SkipReason::kModels;
        }
        return SkipReason::kNone;
    }
    const bool any = std::any_of(r.models.begin(), r.models.end(),
                                 [&](std::string_view m) { return Contains(served, m); });
    return any ? SkipReason::kNone : SkipReason::kModels;
}

bool WorkerListExcludes(const Request& r, const WorkerId& id) {
    if (r.workers.empty()) return false;
    const bool listed = std::find(r.workers.begin(), r.workers.end(), id) != r.workers.end();
    return r.worker_blacklist ? listed : !listed;
}

bool PromptHitsBlacklist(std::string_view prompt, const std::vector<std::string>& blacklist) {
    if (blacklist.empty()) return false;
    const std::string lowered = AsciiLower(prompt);
    return std::any_of(blacklist.begin(), blacklist.end(), [&](const std::string& word) {
        return !word.empty() && lowered.find(AsciiLower(word)) != std::string::npos;
    });
}

// Step 5 for image requests: flags and bridge capabilities.
SkipReason CheckImageFeatures(const Request& r, const MatchContext& ctx) {
    using enum Capability;
    const ImageShape& im = r.image;
    const WorkerProfile& p = ctx.worker.profile;
    const Capabilities& caps = ctx.caps;

    if (im.has_source_image) {
        if (!p.allow_img2img) return SkipReason::kImg2Img;
        if (!caps.Has(kImg2Img)) return SkipReason::kBridgeVersion;
        const bool painting =
            im.source_processing == "inpainting" || im.source_processing == "outpainting";
        if (painting) {
            if (!p.allow_painting) return SkipReason::kPainting;
            if (!caps.Has(kInpainting)) return SkipReason::kBridgeVersion;
        }
    }
    if (!im.post_processing.empty()) {
        if (!p.allow_post_processing) return SkipReason::kPostProcessing;
        if (!caps.Has(kPostProcessing)) return SkipReason::kBridgeVersion;
        for (const std::string& pp : im.post_processing) {
            if (!caps.SupportsPostProcessor(pp)) return SkipReason::kBridgeVersion;
        }
    }
    if (im.lora_count > 0) {
        if (!p.allow_lora) return SkipReason::kLora;
        if (!caps.Has(kLora)) return SkipReason::kBridgeVersion;
        if (im.lora_versions && !caps.Has(kLoraVersions)) return SkipReason::kBridgeVersion;
    }
    if (im.ti_count > 0 && !caps.Has(kTextualInversion)) return SkipReason::kBridgeVersion;
    if (!im.control_type.empty()) {
        if (!p.allow_controlnet) return SkipReason::kControlnet;
        if (!caps.Has(kControlnet)) return SkipReason::kBridgeVersion;
    }
    if (im.image_is_control && !caps.Has(kImageIsControl)) return SkipReason::kBridgeVersion;
    if (im.return_control_map && !caps.Has(kReturnControlMap)) {
        return SkipReason::kBridgeVersion;
    }
    if (im.transparent) {
        if (!p.allow_sdxl_controlnet) return SkipReason::kControlnet;
        if (!caps.Has(kLayerDiffuse)) return SkipReason::kBridgeVersion;
    }
    if (!im.workflow.empty()) {
        if (!caps.Has(kWorkflow)) return SkipReason::kBridgeVersion;
        if (im.workflow == "qr_code") {
            if (ctx.models.any_sdxl && !p.allow_sdxl_controlnet) return SkipReason::kControlnet;
            if (!caps.Has(kQrCode) || !caps.Has(kExtraTexts)) return SkipReason::kBridgeVersion;
        }
    }
    if (im.extra_source_images > 0 && !caps.Has(kExtraSourceImages)) {
        return SkipReason::kBridgeVersion;
    }
    if (!im.sampler_name.empty() && !caps.SupportsSampler(im.sampler_name)) {
        return SkipReason::kBridgeVersion;
    }
    if (im.hires_fix) {
        if (!caps.Has(kHiresFix)) return SkipReason::kBridgeVersion;
        if (ctx.models.any_stable_cascade && !caps.Has(kStableCascade2Pass)) {
            return SkipReason::kBridgeVersion;
        }
    }
    if (im.tiling && !caps.Has(kTiling)) return SkipReason::kBridgeVersion;
    if (im.clip_skip > 1 && !caps.Has(kClipSkip)) return SkipReason::kBridgeVersion;
    if (ctx.models.any_flux && !caps.Has(kFlux)) return SkipReason::kBridgeVersion;
    // r2 is deliberately not checked: workers without it submit base64 and we store it (§9.6).

    if (p.limit_max_steps && AccurateSteps(im) > kLimitMaxStepsThreshold) {
        return SkipReason::kStepCount;
    }
    return SkipReason::kNone;
}

SkipReason CheckTextFeatures(const Request& r, const MatchContext& ctx) {
    const WorkerProfile& p = ctx.worker.profile;
    if (r.validated_backends && !IsValidatedTextBackend(ParseBridgeAgent(p.bridge_agent).name)) {
        return SkipReason::kBridgeVersion;
    }
    if (!r.text.softprompt.empty() && !Contains(p.softprompts, r.text.softprompt)) {
        return SkipReason::kMatchingSoftprompt;
    }
    return SkipReason::kNone;
}

}  // namespace

std::string_view SkipReasonKey(SkipReason reason) {
    switch (reason) {
        case SkipReason::kNone:
            return "";
        case SkipReason::kModels:
            return "models";
        case SkipReason::kWorkerId:
            return "worker_id";
        case SkipReason::kMaxPixels:
            return "max_pixels";
        case SkipReason::kImg2Img:
            return "img2img";
        case SkipReason::kPainting:
            return "painting";
        case SkipReason::kUnsafeIp:
            return "unsafe_ip";
        case SkipReason::kNsfw:
            return "nsfw";
        case SkipReason::kLora:
            return "lora";
        case SkipReason::kPostProcessing:
            return "post-processing";
        case SkipReason::kControlnet:
            return "controlnet";
        case SkipReason::kPerformance:
            return "performance";
        case SkipReason::kUntrusted:
            return "untrusted";
        case SkipReason::kBridgeVersion:
            return "bridge_version";
        case SkipReason::kKudos:
            return "kudos";
        case SkipReason::kBlacklist:
            return "blacklist";
        case SkipReason::kStepCount:
            return "step_count";
        case SkipReason::kMaxContextLength:
            return "max_context_length";
        case SkipReason::kMaxLength:
            return "max_length";
        case SkipReason::kMatchingSoftprompt:
            return "matching_softprompt";
        case SkipReason::kSecret:
            return "secret";
        case SkipReason::kMaintenance:
            return "maintenance";
    }
    return "";
}

RequestModelTraits ImageModelTraits(const CompactStringList& models) {
    RequestModelTraits traits;
    for (const std::string_view model : models) {
        const std::string_view baseline = ImageModelBaseline(model);
        traits.any_sdxl = traits.any_sdxl || baseline == kBaselineSdxl;
        traits.any_flux = traits.any_flux || baseline == kBaselineFlux;
        traits.any_stable_cascade = traits.any_stable_cascade || baseline == kBaselineCascade;
    }
    return traits;
}

bool IsReportedSkipReason(SkipReason reason) {
    return reason != SkipReason::kNone && reason != SkipReason::kSecret &&
           reason != SkipReason::kMaintenance;
}

SkipReason CanGenerate(const Request& r, const MatchContext& ctx) {
    const Worker& worker = ctx.worker;
    const WorkerProfile& p = worker.profile;
    const bool image = r.kind == GenKind::kImage;

    // 1. Absolute exclusions, not reported.
    if (ctx.worker_tricked) return SkipReason::kSecret;
    if (worker.maintenance && r.user != worker.owner) return SkipReason::kMaintenance;

    // 2. Cheap flag and list checks.
    if (!ctx.models_prechecked) {
        if (r.kind != worker.kind) return SkipReason::kModels;
        if (const SkipReason m = CheckModels(r, worker); m != SkipReason::kNone) return m;
    }
    if (WorkerListExcludes(r, worker.id)) return SkipReason::kWorkerId;
    if (r.nsfw && !p.nsfw) return SkipReason::kNsfw;
    if (r.trusted_workers && !ctx.owner_trusted) return SkipReason::kUntrusted;
    if (!r.safe_ip && !p.allow_unsafe_ipaddr) return SkipReason::kUnsafeIp;
    if (image && !r.safe_ip && !ctx.owner_trusted && !ctx.requester_trusted) {
        return SkipReason::kUntrusted;
    }

    // 3. Speed.
    if (!r.slow_workers && ctx.worker_is_slow) return SkipReason::kPerformance;
    if (image && p.extra_slow_worker && !r.extra_slow_workers) return SkipReason::kPerformance;

    // 4. Size.
    if (image) {
        const int64_t pixels = static_cast<int64_t>(r.image.width) * r.image.height;
        if (pixels > p.max_pixels) return SkipReason::kMaxPixels;
    } else {
        if (r.text.max_length > p.max_length) return SkipReason::kMaxLength;
        if (r.text.max_context_length > p.max_context_length) {
            return SkipReason::kMaxContextLength;
        }
    }

    // 5. Features and bridge capabilities.
    const SkipReason feature = image ? CheckImageFeatures(r, ctx) : CheckTextFeatures(r, ctx);
    if (feature != SkipReason::kNone) return feature;

    // 6. Prompt scan.
    if (PromptHitsBlacklist(r.prompt, p.blacklist)) return SkipReason::kBlacklist;

    // 7. Upfront kudos (priority users bypass it, §9.2).
    if (p.require_upfront_kudos && !ctx.requester_trusted && !ctx.requester_is_priority &&
        ctx.requester_available < r.kudos_per_job) {
        return SkipReason::kKudos;
    }
    return SkipReason::kNone;
}

double SlowWorkerThreshold(GenKind kind, std::optional<double> first_model_params_billions) {
    if (kind == GenKind::kImage) return kSlowImageWorkerPixelstepsPerS;
    if (!first_model_params_billions) return 3.0;
    if (*first_model_params_billions >= 20.0) return 3.0;
    if (*first_model_params_billions >= 13.0) return 4.0;
    return 5.0;
}

int SafeBatchAmount(const Request& r, const WorkerProfile& p, int requested_amount) {
    const int amount = std::max(requested_amount, 1);
    int safe = amount;
    if (r.kind == GenKind::kImage) {
        const ImageShape& im = r.image;
        const bool heavy =
            im.transparent ||
            std::any_of(
                im.post_processing.begin(), im.post_processing.end(), [](const std::string& pp) {
                    return std::find(kHeavyPostProcessors.begin(), kHeavyPostProcessors.end(),
                                     pp) != kHeavyPostProcessors.end();
                });
        const double pixels = static_cast<double>(im.width) * static_cast<double>(im.height);
        const double cost =
            pixels *
            (1.0 + kPostProcessorBatchFactor * static_cast<double>(im.post_processing.size())) *
            (heavy ? kHeavyBatchFactor : 1.0);
        if (cost > 0) {
            const double fit =
                (static_cast<double>(p.max_pixels) / kMaxPixelsBatchDivisor * amount) / cost;
            const double rounded = std::round(fit);
            safe = rounded >= amount ? amount : std::max(1, static_cast<int>(rounded));
        }
        if (im.workflow == "qr_code") safe = 1;
    }
    if (r.disable_batching) safe = 1;
    return std::min(safe, std::max(r.n, 0));
}

}  // namespace horde::domain
