#pragma once
// The horde's image payload, decoded: prompt split, defaults, seeds, sampler names per backend,
// the first-pass size of a hires fix, post-processor names. Pure functions, unit tested.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bridge/backend.hpp"
#include "bridge/json_read.hpp"

namespace horde::bridge {

/// "positive ### negative": splits on the LAST "###" and trims both parts. Without "###" the
/// whole text is positive.
std::pair<std::string, std::string> SplitNegativePrompt(std::string_view prompt);

/// The payload of an image pop as an ImageJob (source images are the caller's business).
/// `seed_fallback` is used when the payload's seed is missing or not a number. Seeds are reduced
/// to 0..2^32-1, the range every backend accepts.
ImageJob ParseImagePayload(const json::object& payload, int64_t seed_fallback);

/// One horde sampler and its names in the backends.
struct SamplerNames {
    std::string_view horde;
    std::string_view a1111;    // AUTOMATIC1111 / Forge display name
    std::string_view comfyui;  // ComfyUI KSampler sampler_name
};
/// All 14 horde samplers (k_lms ... DDIM, lcm).
const std::vector<SamplerNames>& SamplerTable();
std::optional<std::string_view> A1111SamplerName(std::string_view horde);
std::optional<std::string_view> ComfySamplerName(std::string_view horde);

/// The native pixel count of a model family: 1024x1024 for SDXL-class names ("xl", "pony",
/// "illustrious", "flux"), else 512x512.
int64_t NativePixels(std::string_view model_name);

/// The first-pass size of a hires fix: the target scaled down (same aspect) to about the model's
/// native pixel count, in multiples of 64, at least 64. nullopt when the target is not larger
/// than native (no second pass needed).
std::optional<std::pair<int, int>> HiresFirstPass(int width, int height, int64_t native_pixels);

/// Every post-processor name the horde knows (face fixers, upscalers, strip_background).
const std::vector<std::string>& HordePostProcessors();

/// Lower case with everything but letters and digits removed ("4x_NMKD-Siax" -> "4xnmkdsiax").
std::string NormalizeName(std::string_view name);

/// The upscale factor a post-processor name implies ("x2"/"2x" -> 2, else 4).
int UpscaleFactor(std::string_view horde_name);

/// Whether a horde post-processor restores faces (GFPGAN, CodeFormers, RestoreFormer).
bool IsFaceFixer(std::string_view horde_name);

/// The backend file or display name among `available` that serves horde post-processor
/// `horde_name`: a known alias first (e.g. RealESRGAN_x4plus -> "R-ESRGAN 4x+"), then the same
/// normalized name, then a name containing it.
std::optional<std::string> MatchPostProcessor(std::string_view horde_name,
                                              const std::vector<std::string>& available);

}  // namespace horde::bridge
