#pragma once
// Kudos pricing: what an image or text job costs the requester, what it earns the worker, how
// long a worker may take, and when a request must hold kudos up front (api-contract §2.4, §4.1,
// §4.2, §4.5 with the decisions of §9.2 and §9.4). Pure functions over plain values; no I/O.
//
// Image base price (§9.4: our own closed form, not the reference's neural network).
//   1. steps_eff = AccurateSteps(shape): steps, ×2 for second-order samplers, 40 for
//      k_dpm_adaptive.
//   2. mp = width × height / 512² (the image area in units of a 512×512 image), and the pixel
//      term p(mp) = kPixelFixed + kPixelLinear × mp + kPixelQuadratic × mp². p(1) = 1; it grows
//      less than linearly for small images (fixed per-step overhead) and slightly faster than
//      linearly for large ones (attention is quadratic in the latent size).
//   3. Seconds for the generation pass, on a reference card:
//        t_gen = (kJobOverheadSeconds + kStepSeconds × steps_eff) × p(mp)
//      hires_fix adds a second pass at full size over kHiresPassFraction of the steps:
//        t_gen += kStepSeconds × steps_eff × kHiresPassFraction × p(mp)
//      then ×kImg2ImgFactor / ×kPaintingFactor for img2img/remix / inpainting/outpainting,
//      and ×kControlNetFactor when a control_type is set.
//   4. Post-processors add seconds proportional to the generated pixels:
//        t_pp = Σ pp_seconds(name) × mp   (upscalers cost more than face fixers)
//   5. K = round((t_gen + t_pp) × kKudosPerSecond, 0.01), where kKudosPerSecond maps the
//      reference's basis job (512×512, 50 steps, k_euler, 6.45 s) to 11 kudos.
//   6. K += 3 per LoRA, +1 if any textual inversion (§4.1 step 3).
// Calibration (reference value → ours): 512² 50 steps k_euler 11.00 → 11.00; 1024² same
// 29.03 → 29.65; 512² 30 steps k_euler_a 7.61 → 7.61; 1024² same 20.99 → 20.50; 768×512 30 steps
// k_dpmpp_2m img2img canny 15.13 → 15.06; 512² 35 steps uni_pc GFPGAN+RealESRGAN_x4plus
// 25.46 → 25.51.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/kudos.hpp"
#include "domain/entities.hpp"

namespace horde::domain {

// ---- Model baselines (the family a model belongs to) ------------------------------------------

inline constexpr std::string_view kBaselineSd1 = "stable_diffusion_1";
inline constexpr std::string_view kBaselineSd2 = "stable_diffusion_2";
inline constexpr std::string_view kBaselineSdxl = "stable_diffusion_xl";
inline constexpr std::string_view kBaselineCascade = "stable_cascade";
inline constexpr std::string_view kBaselineFlux = "flux_1";
inline constexpr std::string_view kBaselineQwen = "qwen_image";
inline constexpr std::string_view kBaselineZImage = "z_image_turbo";

/// The baseline (model family) of an image model: an exact match in a small editable table of
/// well-known names first, then name heuristics ("Flux" → flux_1, "Cascade" → stable_cascade,
/// "Qwen" → qwen_image, "Z-Image" → z_image_turbo, "SDXL"/"XL" → stable_diffusion_xl), else
/// stable_diffusion_1. The returned view points at static storage.
std::string_view ImageModelBaseline(std::string_view model_name);

/// True for the families whose jobs get a triple job TTL (§2.4): flux_1, qwen_image,
/// z_image_turbo.
bool IsHeavyModelFamily(std::string_view baseline);

// ---- Image pricing ------------------------------------------------------------------------------

/// Steps as the sampler really runs them: ×2 for second-order samplers (k_heun, k_dpm_2,
/// k_dpm_2_a, k_dpmpp_2s_a, k_dpmpp_sde); k_dpm_adaptive always counts as 40.
int AccurateSteps(const ImageShape& shape);

/// The base price K of one image job (§4.1, §9.4): our closed-form estimate of the generation
/// time converted to kudos and rounded to 0.01, plus 3 per LoRA and 1 if any textual inversion.
/// See the header comment for the formula.
Kudos ImageBasePrice(const ImageShape& shape);

/// Seconds a worker may hold an image job before it is aborted (§2.4):
/// 30 + accurate_steps × 2 × (w×h / 512²), ×2 with a control_type, ×3 for a heavy model family,
/// at least 150, then ×3 for an extra-slow worker. Fractions round up.
int ImageJobTtlSeconds(const ImageShape& shape, bool heavy_model_family, bool extra_slow_worker);

/// Seconds a worker may hold a text job (§2.4).
inline constexpr int kTextJobTtlSeconds = 150;

/// Worker reward multiplier for a delivered image job, by the job model's baseline (§4.1):
/// SDXL 2 (4 with workflow qr_code), Stable Cascade 4 (7 with hires_fix), flux_1 and
/// z_image_turbo 8, qwen_image 12, otherwise 1.
double BaselineRewardMultiplier(std::string_view baseline, const ImageShape& shape);

/// Model-family multiplier for dry-run and upfront image estimates (§4.1), by the first requested
/// model's baseline: SDXL 2, Stable Cascade 4, flux_1 / z_image_turbo 8, qwen_image 12, else 1.
double FamilyEstimateMultiplier(std::string_view baseline);

/// Share of a job reward its worker's owner receives, by bridge (§4.1): 1.0 for current official
/// bridges ("AI Horde Worker reGen" ≥ 13, legacy "AI Horde Worker" ≥ 24, our "Horde Worker"),
/// 0.9 for older versions of the two official bridges, 0.75 for any other bridge.
double BridgeRewardMultiplier(std::string_view bridge_name, int version);

/// What a requester is charged for one delivered image job (§4.1): burn(reward), or burn(0) when
/// the job was censored, with burn(k) = ((k × 1.3 if source image) × Π pp_factor + 1)
/// × (1.2 if !slow_workers) × (1.1 if worker_blacklist); pp_factor is 1.05 for upscalers and 1
/// for face fixers and strip_background. Rounded to 0.01.
Kudos ImageJobCharge(Kudos reward, bool has_source_image,
                     const std::vector<std::string>& post_processing, bool slow_workers,
                     bool worker_blacklist, bool censored);

/// Dry-run / upfront estimate of an image request (§4.1): burn(base_price) × n ×
/// family_multiplier + 1, rounded to 0.01.
Kudos ImageEstimate(Kudos base_price, int n, double family_multiplier, bool has_source_image,
                    const std::vector<std::string>& post_processing, bool slow_workers,
                    bool worker_blacklist);

/// One-off charge when a request is activated (§4.1, fixed per §9.2): 1 + 5 per extra source
/// image + 2 when a style owned by someone else was applied.
Kudos ActivationTax(int extra_source_images, bool foreign_style);

// ---- Upfront kudos (§4.5)
// -------------------------------------------------------------------------

/// A model's max_steps requirement when it declares none.
inline constexpr int kDefaultModelMaxSteps = 40;

/// Largest side (in pixels) of a square an image request may cover without upfront kudos:
/// 1024 + 10 × active_image_threads − round(0.9 × queued_image_jobs), at most 1024 and at least
/// 576 (768 for stable_diffusion_2, 1024 for the native-1024 families: SDXL, Cascade, Flux, and
/// also qwen_image and z_image_turbo).
int ImageMaxResolution(int active_image_threads, int queued_image_jobs, std::string_view baseline);

/// Whether an image request must hold kudos up front (§4.5): slow_workers off; an LCM sampler
/// (or LCM LoRA) with more than 10 accurate steps; more accurate steps than model_max_steps
/// (pass kDefaultModelMaxSteps when the models declare none); w×h above max_res²; or a
/// control_type with more than 20 accurate steps. The deployment's "worker list needs upfront"
/// switch is the caller's to apply.
bool ImageNeedsUpfront(const ImageShape& shape, bool slow_workers, int model_max_steps, int max_res,
                       bool uses_lcm_lora = false);

/// Largest max_length a text request may ask for without upfront kudos (§4.5):
/// clamp(512 + 5 × text_threads − round(0.9 × queued_text_jobs), 256, 512).
int TextMaxTokens(int text_threads, int queued_text_jobs);

/// Whether a text request must hold kudos up front (§4.5): slow_workers off, or max_length above
/// TextMaxTokens(text_threads, queued_text_jobs).
bool TextNeedsUpfront(bool slow_workers, int max_length, int text_threads, int queued_text_jobs);

// ---- Text pricing (§4.2 with the fixes of §9.2)
// ---------------------------------------------------

/// Parameters of a text model in billions, read from its name: the part before any "::alias",
/// without quantisation suffixes (-Q4_K_M, -GGUF, ...), then the first size such as "13B", "7b",
/// "1.5B", "350M" or "8x7B" (= 56). nullopt when the name carries no size (price as P = 1).
std::optional<double> TextModelParamsBillions(std::string_view model);

/// Context multiplier ctx(L) = clamp(1.2 + 2.2^(log2(L / 1024)), 0.1, 30).
double TextContextMultiplier(int context_tokens);

/// Size bonus (max(P, 13) / 13)^0.2.
double TextSizeBonus(double params_b);

/// Worker reward for one delivered text job (§4.2, §9.2): tokens = clamp(ceil(generated/4), 20,
/// max_length); ctx_est = max(ceil(prompt/4), 20) (not capped by max_length: our fix).
/// Known model: round(tokens × bonus × P / 125 × (0.3 if backend not validated) × ctx, 0.01).
/// Unknown model: round(ctx, 0.01) for an untrusted owner, round(tokens × ctx × 0.027, 0.01) for
/// a trusted one.
Kudos TextJobReward(std::optional<double> params_b, int generated_chars, int prompt_chars,
                    int max_length, bool validated_backend, bool owner_trusted);

/// What a requester is charged for one delivered text job: reward + 1 (1 when censored).
Kudos TextJobCharge(Kudos reward, bool censored);

/// Estimated charge of one text job (reported as the request's per-job kudos, fixing quirk 4):
/// round(max_length × bonus × P × ctx(max_context_length) / 100, 0.01) + 1 for a known first
/// model, with P = 13 and no bonus when there are no models or the first is unknown.
Kudos TextPerJobBase(std::optional<double> first_model_params, bool no_models, int max_length,
                     int max_context_length);

/// Dry-run estimate of a text request: TextPerJobBase(...) × n + 1.
Kudos TextEstimate(std::optional<double> first_model_params, bool no_models, int max_length,
                   int max_context_length, int n);

/// Upfront amount for a text request (§4.2): round(max_length × P_max / 21, 0.01) × n, where
/// P_max is the largest known size among the requested models; 20 × n when there is none.
Kudos TextUpfrontAmount(std::optional<double> p_max, int max_length, int n);

}  // namespace horde::domain
