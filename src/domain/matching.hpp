#pragma once
// Pop matching (api-contract.md §3.3, §3.4): whether one worker may take one request, and how many
// jobs of it one pop hands out. Pure functions; the caller supplies everything that needs a store
// (trust, balances, speeds, model reference facts) through MatchContext.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/kudos.hpp"
#include "domain/bridge_capabilities.hpp"
#include "domain/entities.hpp"

namespace horde::domain {

/// Why a worker did not take a request. Every reason except kNone, kSecret and kMaintenance is
/// counted in the pop response's `skipped` object under SkipReasonKey().
enum class SkipReason {
    kNone,
    kModels,
    kWorkerId,
    kMaxPixels,
    kImg2Img,
    kPainting,
    kUnsafeIp,
    kNsfw,
    kLora,
    kPostProcessing,
    kControlnet,
    kPerformance,
    kUntrusted,
    kBridgeVersion,
    kKudos,
    kBlacklist,
    kStepCount,
    kMaxContextLength,
    kMaxLength,
    kMatchingSoftprompt,
    kSecret,       // the worker was tricked (fake job) by this request before; never reported
    kMaintenance,  // the worker is in maintenance and the request is not its owner's; not reported
};

/// The `skipped` key ("models", "post-processing", ...). kSecret → "secret", kMaintenance →
/// "maintenance" and kNone → "" are given for logs only.
std::string_view SkipReasonKey(SkipReason reason);

/// Whether `reason` is counted in a pop's `skipped` object.
bool IsReportedSkipReason(SkipReason reason);

/// Facts about the request's models that come from the model reference (filled by the service; the
/// defaults describe plain SD 1.x models).
struct RequestModelTraits {
    // One byte (bit-fields): a copy sits in every queue entry.
    bool any_sdxl : 1 = false;            // qr_code on SDXL needs allow_sdxl_controlnet
    bool any_flux : 1 = false;            // needs the bridge's `flux`
    bool any_stable_cascade : 1 = false;  // with hires_fix needs `stable_cascade_2pass`
};

/// The traits of an image request's models, from ImageModelBaseline() (pricing.hpp).
RequestModelTraits ImageModelTraits(const CompactStringList& models);

/// Everything CanGenerate needs besides the request. Holds references: build it per pop. (g++ 12
/// warns about members left out of a designated initializer, so name every member.)
struct MatchContext {
    const Worker& worker;
    const Capabilities& caps;     // ResolveCapabilities(worker.profile), cached per pop
    bool owner_trusted = false;   // the worker's owner is trusted
    bool worker_is_slow = false;  // speed below SlowWorkerThreshold()
    bool worker_tricked = false;  // this request already gave the worker a fake job
    bool requester_trusted = false;
    bool requester_is_priority = false;  // requester is the worker owner or a priority user
    Kudos requester_available;           // requester's balance above its floor, minus holds
    RequestModelTraits models;
    /// The caller already knows the request is of the worker's kind and passes the model rule
    /// (it came from the queue of a model the worker serves): skip those checks.
    bool models_prechecked = false;
};

/// Whether the worker in `ctx` may take a job of `r`; kNone when it may.
///
/// The checks run cheap-first, and the first failing one is the reason reported, in this order:
///  1. kSecret (tricked before), kMaintenance (worker in maintenance, request not its owner's);
///  2. kModels (kind mismatch; request lists models and none is served; image request listing
///     none while the worker serves a `horde_special`/`SDXL_beta` model), kWorkerId (allow/block
///     list), kNsfw, kUntrusted (`trusted_workers` and owner untrusted), kUnsafeIp (unsafe-IP
///     request, worker refuses those), kUntrusted (image: owner and requester untrusted, unsafe
///     IP);
///  3. kPerformance (`slow_workers=false` and worker slow; image: extra-slow worker and
///     `extra_slow_workers=false`);
///  4. size: image kMaxPixels; text kMaxLength, then kMaxContextLength;
///  5. image features, each "allow flag → its own reason, then bridge capability →
///     kBridgeVersion": img2img, painting, post-processing (each PP name), lora (then
///     lora_versions), textual inversion, controlnet (image_is_control, return_control_map),
///     transparent (kControlnet for allow_sdxl_controlnet), workflow/qr_code (kControlnet for SDXL
///     without allow_sdxl_controlnet), extra source images, sampler, hires_fix
///     (stable_cascade_2pass), tiling, clip_skip > 1, flux; then kStepCount;
///     text: kBridgeVersion (`validated_backends` and backend not validated),
///     kMatchingSoftprompt;
///  6. kBlacklist (a worker blacklist word, case-insensitively, inside the prompt);
///  7. kKudos (worker requires upfront kudos, requester neither trusted nor priority, and
///     available < the request's per-job price; text workers too, §9.2).
///
/// Departures from the reference: `r2=true` does not need the bridge's `r2` (our server stores
/// results itself and accepts base64 from any worker, §9.6); `limit_max_steps` uses one threshold
/// (accurate steps > kLimitMaxStepsThreshold, the midpoint of the default 20..40 model range)
/// instead of per-model ranges; samplers are checked independently of karras; worker staleness and
/// inpainting-only model sets are the caller's concern. `extra_slow_workers` and
/// `allow_unsafe_ipaddr` follow the contract: the first is image-only, the second applies to both.
SkipReason CanGenerate(const Request& r, const MatchContext& ctx);

/// Accurate steps above which a `limit_max_steps` worker skips a request.
inline constexpr int kLimitMaxStepsThreshold = 30;

/// Image workers below this many pixelsteps per second are slow.
inline constexpr double kSlowImageWorkerPixelstepsPerS = 500'000.0;

/// The speed (things per second) below which a worker counts as slow: image 500,000 pixelsteps/s;
/// text 3 tokens/s for a first declared model of ≥20B parameters, 4 for ≥13B, 5 for others, and 3
/// when the worker declares no model (nullopt). For text, pass
/// TextModelParamsBillions(first model).value_or(0) (pricing.hpp) when the worker declares one.
double SlowWorkerThreshold(GenKind kind, std::optional<double> first_model_params_billions);

/// How many jobs of `r` one pop hands to a worker asking for `requested_amount` (§3.4).
/// Image: round((max_pixels / 3.5 × amount) / (w×h × (1 + 0.4 × #PP) × 1.8 if heavy)), clamped
/// to [1, amount]; heavy = a heavy post-processor or `transparent`. Text: amount. Then 1 when
/// `disable_batching` (or a qr_code workflow), and at most `r.n` (0 when nothing is left).
/// `requested_amount` below 1 counts as 1.
int SafeBatchAmount(const Request& r, const WorkerProfile& p, int requested_amount);

}  // namespace horde::domain
