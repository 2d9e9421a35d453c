#include "domain/pricing.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>

#include "common/ascii.hpp"

namespace horde::domain {

namespace {

// ---- All pricing constants, in one place
// ---------------------------------------------------------

// Image generation time model (seconds on a reference card; see pricing.hpp for the formula).
// kJobOverheadSeconds and kStepSeconds are fitted to the reference's basis job (512², 50 steps,
// k_euler: 6.45 s) and default job (512², 30 steps, k_euler_a: 4.46 s): 20 steps = 1.99 s.
constexpr double kJobOverheadSeconds = 1.475;  // per job at 512²: text encode, VAE decode, ...
constexpr double kStepSeconds = 0.0995;        // per sampler step at 512²
// Pixel term p(mp) = kPixelFixed + kPixelLinear·mp + kPixelQuadratic·mp² with p(1) = 1 and
// p(4) = 2.695, the middle of what the reference implies for 1024² (2.64 at 50 steps, 2.76 at 30).
constexpr double kPixelFixed = 0.515;     // per-step cost that does not grow with the image
constexpr double kPixelLinear = 0.465;    // per-step cost proportional to the image area
constexpr double kPixelQuadratic = 0.02;  // attention: grows with the square of the area
constexpr double kReferenceAreaPixels = 512.0 * 512.0;  // mp = w·h / this
// hires_fix: a second denoising pass at full size over this share of the steps.
constexpr double kHiresPassFraction = 0.5;
// Source processing: encoding the source image (img2img, remix) or image and mask (painting).
constexpr double kImg2ImgFactor = 1.05;
constexpr double kPaintingFactor = 1.1;
// ControlNet: the control model runs beside the UNet at every step (+ the annotator).
constexpr double kControlNetFactor = 1.5;
// Converts seconds to kudos: the basis job (6.45 s) costs 11 kudos (basis 10 + adjustment 1).
constexpr double kBasisSeconds = 6.45;
constexpr double kBasisKudos = 11.0;
constexpr double kKudosPerSecond = kBasisKudos / kBasisSeconds;
// Add-ons to the base price (§4.1 step 3).
constexpr int64_t kKudosPerLora = 3;
constexpr int64_t kKudosForTextualInversions = 1;

// Post-processor seconds per 512² of generated image. GFPGAN + RealESRGAN_x4plus together are
// fitted to the reference's 35-step uni_pc point (25.46 kudos ⇒ about 10 s of post-processing).
struct PostProcessorCost {
    std::string_view name;
    double seconds;
    bool upscaler;  // charged ×1.05 in burn (§4.1)
};
constexpr std::array kPostProcessors = {
    PostProcessorCost{"GFPGAN", 2.0, false},
    PostProcessorCost{"CodeFormers", 2.5, false},
    PostProcessorCost{"RestoreFormer", 2.5, false},
    PostProcessorCost{"strip_background", 1.5, false},
    PostProcessorCost{"RealESRGAN_x4plus", 8.0, true},
    PostProcessorCost{"RealESRGAN_x2plus", 4.0, true},
    PostProcessorCost{"RealESRGAN_x4plus_anime_6B", 6.0, true},
    PostProcessorCost{"NMKD_Siax", 8.0, true},
    PostProcessorCost{"4x_AnimeSharp", 8.0, true},
    PostProcessorCost{"4xNomos8kSC", 8.0, true},
    PostProcessorCost{"4xLSDIRplus", 8.0, true},
    PostProcessorCost{"4xNomosWebPhoto_RealPLKSR", 8.0, true},
    PostProcessorCost{"4xNomos2_realplksr_dysample", 8.0, true},
    PostProcessorCost{"4xNomos2_hq_dat2", 12.0, true},
    PostProcessorCost{"2xModernSpanimationV1", 4.0, true},
};
constexpr double kUnknownPostProcessorSeconds = 8.0;  // priced like a 4× upscaler

// Burn (requester charge) factors (§4.1).
constexpr double kBurnSourceImageFactor = 1.3;
constexpr double kBurnUpscalerFactor = 1.05;
constexpr double kBurnFlat = 1.0;  // the horde tax, hard-wired to 1
constexpr double kBurnFastWorkersFactor = 1.2;
constexpr double kBurnWorkerBlacklistFactor = 1.1;
constexpr double kEstimateFlat = 1.0;
constexpr int64_t kActivationTax = 1;
constexpr int64_t kActivationTaxPerExtraSource = 5;
constexpr int64_t kActivationTaxForeignStyle = 2;

// Sampler classes (§4.5).
constexpr std::array<std::string_view, 5> kSecondOrderSamplers = {"k_heun", "k_dpm_2", "k_dpm_2_a",
                                                                  "k_dpmpp_2s_a", "k_dpmpp_sde"};
constexpr std::string_view kAdaptiveSampler = "k_dpm_adaptive";
constexpr int kAdaptiveSamplerSteps = 40;
constexpr std::string_view kLcmSampler = "lcm";

// Job TTL (§2.4).
constexpr double kTtlBaseSeconds = 30.0;
constexpr double kTtlSecondsPerStep = 2.0;  // per accurate step at 512²
constexpr double kTtlControlFactor = 2.0;
constexpr double kTtlHeavyFactor = 3.0;
constexpr int kTtlMinSeconds = 150;
constexpr int kTtlExtraSlowFactor = 3;

// Worker reward / estimate multipliers by baseline (§4.1).
constexpr double kSdxlMultiplier = 2.0;
constexpr double kSdxlQrCodeMultiplier = 4.0;
constexpr double kCascadeMultiplier = 4.0;
constexpr double kCascadeHiresMultiplier = 7.0;
constexpr double kFluxMultiplier = 8.0;  // also z_image_turbo
constexpr double kQwenMultiplier = 12.0;

// Bridge multipliers (§4.1).
constexpr std::string_view kBridgeRegen = "AI Horde Worker reGen";
constexpr int kBridgeRegenLatest = 13;
constexpr std::string_view kBridgeLegacy = "AI Horde Worker";
constexpr int kBridgeLegacyLatest = 24;
constexpr std::string_view kBridgeOurs = "Horde Worker";
constexpr double kBridgeCurrent = 1.0;
constexpr double kBridgeOutdated = 0.9;
constexpr double kBridgeUnofficial = 0.75;

// Upfront thresholds (§4.5).
constexpr int kMaxResCeiling = 1024;
constexpr int kMaxResPerThread = 10;
constexpr double kQueuedJobWeight = 0.9;
constexpr int kMaxResFloorSd1 = 576;
constexpr int kMaxResFloorSd2 = 768;
constexpr int kMaxResFloorLarge = 1024;
constexpr int kLcmUpfrontSteps = 10;
constexpr int kControlUpfrontSteps = 20;
constexpr int kTextMaxTokensCeiling = 512;
constexpr int kTextMaxTokensFloor = 256;
constexpr int kTextMaxTokensPerThread = 5;

// Text pricing (§4.2).
constexpr double kCharsPerToken = 4.0;
constexpr int kMinTokens = 20;
constexpr double kContextBase = 1.2;
constexpr double kContextGrowth = 2.2;
constexpr double kContextReferenceTokens = 1024.0;
constexpr double kContextMin = 0.1;
constexpr double kContextMax = 30.0;
constexpr double kBonusReferenceParamsB = 13.0;
constexpr double kBonusExponent = 0.2;
constexpr double kRewardParamsDivisor = 125.0;
constexpr double kUnvalidatedBackendFactor = 0.3;
constexpr double kUnknownTrustedPerToken = 0.027;
constexpr double kEstimateDivisor = 100.0;
constexpr double kUpfrontDivisor = 21.0;
constexpr int64_t kUpfrontUnknownPerJob = 20;
constexpr int64_t kTextChargeFlat = 1;

// Well-known image models and their baselines (our own, editable data). Anything missing falls
// back to the name heuristics in ImageModelBaseline.
struct ModelBaseline {
    std::string_view name;
    std::string_view baseline;
};
constexpr std::array kKnownImageModels = {
    ModelBaseline{"stable_diffusion", kBaselineSd1},
    ModelBaseline{"stable_diffusion_inpainting", kBaselineSd1},
    ModelBaseline{"Deliberate", kBaselineSd1},
    ModelBaseline{"Dreamshaper", kBaselineSd1},
    ModelBaseline{"Anything Diffusion", kBaselineSd1},
    ModelBaseline{"Realistic Vision", kBaselineSd1},
    ModelBaseline{"stable_diffusion_2.1", kBaselineSd2},
    ModelBaseline{"Stable Diffusion 2 Depth", kBaselineSd2},
    ModelBaseline{"SDXL 1.0", kBaselineSdxl},
    ModelBaseline{"AlbedoBase XL (SDXL)", kBaselineSdxl},
    ModelBaseline{"Juggernaut XL", kBaselineSdxl},
    ModelBaseline{"Pony Diffusion XL", kBaselineSdxl},
    ModelBaseline{"Stable Cascade 1.0", kBaselineCascade},
    ModelBaseline{"Flux.1-Schnell fp8 (Compact)", kBaselineFlux},
    ModelBaseline{"Flux.1-Dev fp8 (Compact)", kBaselineFlux},
    ModelBaseline{"Qwen-Image", kBaselineQwen},
    ModelBaseline{"Z-Image-Turbo", kBaselineZImage},
};

// Name fragments that end a text model's name and are not part of its size.
constexpr std::array<std::string_view, 9> kQuantisationTags = {
    "gguf", "ggml", "awq", "gptq", "exl2", "fp16", "bf16", "fp8", "int8"};

// ---- Helpers ------------------------------------------------------------------------------------

bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() &&
           ContainsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

/// Python's round() on a non-negative half: ties to even (the reference's round(0.9 × queued)).
int RoundHalfEven(double value) { return static_cast<int>(std::nearbyint(value)); }

double ImageAreaUnits(const ImageShape& shape) {
    return static_cast<double>(std::max(shape.width, 0)) *
           static_cast<double>(std::max(shape.height, 0)) / kReferenceAreaPixels;
}

double PixelTerm(double mp) { return kPixelFixed + kPixelLinear * mp + kPixelQuadratic * mp * mp; }

const PostProcessorCost* FindPostProcessor(std::string_view name) {
    for (const auto& pp : kPostProcessors) {
        if (pp.name == name) return &pp;
    }
    return nullptr;
}

double Burn(double kudos, bool has_source_image, const std::vector<std::string>& post_processing,
            bool slow_workers, bool worker_blacklist) {
    double k = kudos;
    if (has_source_image) k *= kBurnSourceImageFactor;
    for (const auto& name : post_processing) {
        const PostProcessorCost* pp = FindPostProcessor(name);
        if (pp != nullptr && pp->upscaler) k *= kBurnUpscalerFactor;
    }
    k += kBurnFlat;
    if (!slow_workers) k *= kBurnFastWorkersFactor;
    if (worker_blacklist) k *= kBurnWorkerBlacklistFactor;
    return k;
}

/// Whether `segment` (the text after a '-', '.' or '_') starts a quantisation suffix:
/// Q4_K_M, q8_0, IQ3_XS, GGUF, AWQ, ...
bool IsQuantisationSegment(std::string_view segment) {
    if (segment.size() >= 2 && AsciiLower(segment[0]) == 'q' && IsDigit(segment[1])) return true;
    if (segment.size() >= 3 && AsciiLower(segment[0]) == 'i' && AsciiLower(segment[1]) == 'q' &&
        IsDigit(segment[2])) {
        return true;
    }
    for (std::string_view tag : kQuantisationTags) {
        if (StartsWithIgnoreCase(segment, tag) &&
            (segment.size() == tag.size() || !IsAlnum(segment[tag.size()]))) {
            return true;
        }
    }
    return false;
}

std::string_view StripQuantisation(std::string_view name) {
    for (size_t i = 1; i < name.size(); ++i) {
        const char sep = name[i - 1];
        if ((sep == '-' || sep == '.' || sep == '_') && IsQuantisationSegment(name.substr(i))) {
            return name.substr(0, i - 1);
        }
    }
    return name;
}

/// Reads a decimal number ("13", "1.5") at `pos`; advances `pos` past it.
double ReadNumber(std::string_view text, size_t& pos) {
    double value = 0;
    while (pos < text.size() && IsDigit(text[pos])) {
        value = value * 10 + (text[pos] - '0');
        ++pos;
    }
    if (pos + 1 < text.size() && text[pos] == '.' && IsDigit(text[pos + 1])) {
        ++pos;
        double scale = 0.1;
        while (pos < text.size() && IsDigit(text[pos])) {
            value += (text[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
    }
    return value;
}

/// A size such as "13B", "0.5b", "350M" or "8x7B" starting at `start`, in billions.
std::optional<double> SizeAt(std::string_view text, size_t start) {
    size_t pos = start;
    double value = ReadNumber(text, pos);
    if (pos + 1 < text.size() && AsciiLower(text[pos]) == 'x' && IsDigit(text[pos + 1])) {
        ++pos;
        value *= ReadNumber(text, pos);  // mixture of experts: 8x7B = 56B
    }
    if (pos >= text.size()) return std::nullopt;
    const char unit = AsciiLower(text[pos]);
    if (unit != 'b' && unit != 'm') return std::nullopt;
    if (pos + 1 < text.size() && IsAlnum(text[pos + 1])) return std::nullopt;  // "4bit", "7bpw"
    if (value <= 0) return std::nullopt;
    return unit == 'b' ? value : value / 1000.0;
}

int CeilDiv4(int chars) {
    return static_cast<int>(std::ceil(static_cast<double>(std::max(chars, 0)) / kCharsPerToken));
}

}  // namespace

// ---- Baselines ----------------------------------------------------------------------------------

std::string_view ImageModelBaseline(std::string_view model_name) {
    for (const auto& known : kKnownImageModels) {
        if (known.name == model_name) return known.baseline;
    }
    if (ContainsIgnoreCase(model_name, "flux")) return kBaselineFlux;
    if (ContainsIgnoreCase(model_name, "cascade")) return kBaselineCascade;
    if (ContainsIgnoreCase(model_name, "qwen")) return kBaselineQwen;
    if (ContainsIgnoreCase(model_name, "z-image") || ContainsIgnoreCase(model_name, "z_image")) {
        return kBaselineZImage;
    }
    // "XL" is matched case-sensitively so that ordinary words ("pixel") do not count.
    if (ContainsIgnoreCase(model_name, "sdxl") || model_name.find("XL") != std::string_view::npos) {
        return kBaselineSdxl;
    }
    return kBaselineSd1;
}

bool IsHeavyModelFamily(std::string_view baseline) {
    return baseline == kBaselineFlux || baseline == kBaselineQwen || baseline == kBaselineZImage;
}

// ---- Image pricing ------------------------------------------------------------------------------

int AccurateSteps(const ImageShape& shape) {
    if (shape.sampler_name == kAdaptiveSampler) return kAdaptiveSamplerSteps;
    for (std::string_view sampler : kSecondOrderSamplers) {
        if (shape.sampler_name == sampler) return shape.steps * 2;
    }
    return shape.steps;
}

Kudos ImageBasePrice(const ImageShape& shape) {
    const double mp = ImageAreaUnits(shape);
    const double pixels = PixelTerm(mp);
    const double steps = static_cast<double>(std::max(AccurateSteps(shape), 0));

    double seconds = (kJobOverheadSeconds + kStepSeconds * steps) * pixels;
    if (shape.hires_fix) seconds += kStepSeconds * steps * kHiresPassFraction * pixels;
    if (shape.has_source_image) {
        const bool painting =
            shape.source_processing == "inpainting" || shape.source_processing == "outpainting";
        seconds *= painting ? kPaintingFactor : kImg2ImgFactor;
    }
    if (!shape.control_type.empty()) seconds *= kControlNetFactor;

    for (const auto& name : shape.post_processing) {
        const PostProcessorCost* pp = FindPostProcessor(name);
        seconds += (pp != nullptr ? pp->seconds : kUnknownPostProcessorSeconds) * mp;
    }

    Kudos price = Kudos::FromDoubleCents(seconds * kKudosPerSecond);
    price += Kudos::FromWhole(kKudosPerLora * std::max(shape.lora_count, 0));
    if (shape.ti_count > 0) price += Kudos::FromWhole(kKudosForTextualInversions);
    return price;
}

int ImageJobTtlSeconds(const ImageShape& shape, bool heavy_model_family, bool extra_slow_worker) {
    double ttl =
        kTtlBaseSeconds + AccurateSteps(shape) * kTtlSecondsPerStep * ImageAreaUnits(shape);
    if (!shape.control_type.empty()) ttl *= kTtlControlFactor;
    if (heavy_model_family) ttl *= kTtlHeavyFactor;
    int seconds = std::max(static_cast<int>(std::ceil(ttl)), kTtlMinSeconds);
    if (extra_slow_worker) seconds *= kTtlExtraSlowFactor;
    return seconds;
}

double BaselineRewardMultiplier(std::string_view baseline, const ImageShape& shape) {
    if (baseline == kBaselineSdxl) {
        return shape.workflow == "qr_code" ? kSdxlQrCodeMultiplier : kSdxlMultiplier;
    }
    if (baseline == kBaselineCascade) {
        return shape.hires_fix ? kCascadeHiresMultiplier : kCascadeMultiplier;
    }
    return FamilyEstimateMultiplier(baseline);
}

double FamilyEstimateMultiplier(std::string_view baseline) {
    if (baseline == kBaselineSdxl) return kSdxlMultiplier;
    if (baseline == kBaselineCascade) return kCascadeMultiplier;
    if (baseline == kBaselineFlux || baseline == kBaselineZImage) return kFluxMultiplier;
    if (baseline == kBaselineQwen) return kQwenMultiplier;
    return 1.0;
}

double BridgeRewardMultiplier(std::string_view bridge_name, int version) {
    if (bridge_name == kBridgeOurs) return kBridgeCurrent;
    if (bridge_name == kBridgeRegen) {
        return version >= kBridgeRegenLatest ? kBridgeCurrent : kBridgeOutdated;
    }
    if (bridge_name == kBridgeLegacy) {
        return version >= kBridgeLegacyLatest ? kBridgeCurrent : kBridgeOutdated;
    }
    return kBridgeUnofficial;
}

Kudos ImageJobCharge(Kudos reward, bool has_source_image,
                     const std::vector<std::string>& post_processing, bool slow_workers,
                     bool worker_blacklist, bool censored) {
    const double kudos = censored ? 0.0 : reward.ToDouble();
    return Kudos::FromDoubleCents(
        Burn(kudos, has_source_image, post_processing, slow_workers, worker_blacklist));
}

Kudos ImageEstimate(Kudos base_price, int n, double family_multiplier, bool has_source_image,
                    const std::vector<std::string>& post_processing, bool slow_workers,
                    bool worker_blacklist) {
    const double burn = Burn(base_price.ToDouble(), has_source_image, post_processing, slow_workers,
                             worker_blacklist);
    return Kudos::FromDoubleCents(burn * n * family_multiplier + kEstimateFlat);
}

Kudos ActivationTax(int extra_source_images, bool foreign_style) {
    return Kudos::FromWhole(kActivationTax +
                            kActivationTaxPerExtraSource * std::max(extra_source_images, 0) +
                            (foreign_style ? kActivationTaxForeignStyle : 0));
}

// ---- Upfront kudos
// --------------------------------------------------------------------------------

int ImageMaxResolution(int active_image_threads, int queued_image_jobs, std::string_view baseline) {
    int floor = kMaxResFloorSd1;
    if (baseline == kBaselineSd2) floor = kMaxResFloorSd2;
    if (baseline == kBaselineSdxl || baseline == kBaselineCascade || IsHeavyModelFamily(baseline)) {
        floor = kMaxResFloorLarge;
    }
    const int res = kMaxResCeiling + kMaxResPerThread * active_image_threads -
                    RoundHalfEven(kQueuedJobWeight * queued_image_jobs);
    return std::clamp(res, floor, kMaxResCeiling);
}

bool ImageNeedsUpfront(const ImageShape& shape, bool slow_workers, int model_max_steps, int max_res,
                       bool uses_lcm_lora) {
    const int steps = AccurateSteps(shape);
    if (!slow_workers) return true;
    if ((shape.sampler_name == kLcmSampler || uses_lcm_lora) && steps > kLcmUpfrontSteps) {
        return true;
    }
    if (steps > model_max_steps) return true;
    const int64_t pixels = static_cast<int64_t>(shape.width) * shape.height;
    if (pixels > static_cast<int64_t>(max_res) * max_res) return true;
    return !shape.control_type.empty() && steps > kControlUpfrontSteps;
}

int TextMaxTokens(int text_threads, int queued_text_jobs) {
    const int tokens = kTextMaxTokensCeiling + kTextMaxTokensPerThread * text_threads -
                       RoundHalfEven(kQueuedJobWeight * queued_text_jobs);
    return std::clamp(tokens, kTextMaxTokensFloor, kTextMaxTokensCeiling);
}

bool TextNeedsUpfront(bool slow_workers, int max_length, int text_threads, int queued_text_jobs) {
    return !slow_workers || max_length > TextMaxTokens(text_threads, queued_text_jobs);
}

// ---- Text pricing
// -----------------------------------------------------------------------------------

std::optional<double> TextModelParamsBillions(std::string_view model) {
    std::string_view name = model.substr(0, model.find("::"));
    name = StripQuantisation(name);
    for (size_t i = 0; i < name.size(); ++i) {
        if (!IsDigit(name[i])) continue;
        // A size starts a token: not inside a word or a version number ("Llama-3.1-8B").
        if (i > 0 && (IsAlnum(name[i - 1]) || name[i - 1] == '.')) continue;
        if (auto size = SizeAt(name, i)) return size;
    }
    return std::nullopt;
}

double TextContextMultiplier(int context_tokens) {
    const double ratio = static_cast<double>(std::max(context_tokens, 1)) / kContextReferenceTokens;
    const double ctx = kContextBase + std::pow(kContextGrowth, std::log2(ratio));
    return std::clamp(ctx, kContextMin, kContextMax);
}

double TextSizeBonus(double params_b) {
    return std::pow(std::max(params_b, kBonusReferenceParamsB) / kBonusReferenceParamsB,
                    kBonusExponent);
}

Kudos TextJobReward(std::optional<double> params_b, int generated_chars, int prompt_chars,
                    int max_length, bool validated_backend, bool owner_trusted) {
    const int tokens = std::min(std::max(CeilDiv4(generated_chars), kMinTokens), max_length);
    const int ctx_est = std::max(CeilDiv4(prompt_chars), kMinTokens);  // §9.2: no max_length cap
    const double ctx = TextContextMultiplier(ctx_est);
    if (!params_b.has_value()) {
        if (!owner_trusted) return Kudos::FromDoubleCents(ctx);
        return Kudos::FromDoubleCents(tokens * ctx * kUnknownTrustedPerToken);
    }
    const double p = *params_b;
    double k = tokens * TextSizeBonus(p) * p / kRewardParamsDivisor;
    if (!validated_backend) k *= kUnvalidatedBackendFactor;
    return Kudos::FromDoubleCents(k * ctx);
}

Kudos TextJobCharge(Kudos reward, bool censored) {
    return (censored ? Kudos() : reward) + Kudos::FromWhole(kTextChargeFlat);
}

Kudos TextPerJobBase(std::optional<double> first_model_params, bool no_models, int max_length,
                     int max_context_length) {
    const double ctx = TextContextMultiplier(max_context_length);
    // No models, or an unknown first model: priced as a 13B model (no size bonus).
    double base = max_length * kBonusReferenceParamsB * ctx / kEstimateDivisor;
    if (!no_models && first_model_params.has_value()) {
        const double p = *first_model_params;
        base = max_length * TextSizeBonus(p) * p * ctx / kEstimateDivisor;
    }
    return Kudos::FromDoubleCents(base) + Kudos::FromWhole(kTextChargeFlat);
}

Kudos TextEstimate(std::optional<double> first_model_params, bool no_models, int max_length,
                   int max_context_length, int n) {
    const Kudos per_job =
        TextPerJobBase(first_model_params, no_models, max_length, max_context_length);
    return per_job * std::max(n, 0) + Kudos::FromWhole(kTextChargeFlat);
}

Kudos TextUpfrontAmount(std::optional<double> p_max, int max_length, int n) {
    if (!p_max.has_value()) return Kudos::FromWhole(kUpfrontUnknownPerJob) * std::max(n, 0);
    return Kudos::FromDoubleCents(max_length * *p_max / kUpfrontDivisor) * std::max(n, 0);
}

}  // namespace horde::domain
