#pragma once
// AUTOMATIC1111 / Forge / SD.Next request bodies built from an ImageJob. Pure, unit tested.
//
// txt2img (`POST /sdapi/v1/txt2img`): prompt, negative_prompt, seed, steps, cfg_scale, width,
// height, sampler_name (+ scheduler "Karras"/"Automatic" on WebUI >= 1.9, else the legacy
// "<sampler> Karras" name), tiling, batch_size/n_iter 1, override_settings {sd_model_checkpoint,
// CLIP_stop_at_last_layers}. A hires fix generates at the model's native size and upscales to the
// requested one (enable_hr, hr_resize_x/y, hr_upscaler "Latent", denoising_strength).
// img2img (`POST /sdapi/v1/img2img`): the same plus init_images, denoising_strength and, for
// inpainting, mask (white = repaint), mask_blur 4, inpainting_fill 1 (original).
// Post-processing (`POST /sdapi/v1/extra-single-image`): one upscaler and face restoration.

#include <optional>
#include <string>
#include <vector>

#include "bridge/backend.hpp"
#include "bridge/json_read.hpp"

namespace horde::bridge {

struct A1111SamplerChoice {
    std::string sampler_name;
    std::optional<std::string> scheduler;  // only on WebUIs with /sdapi/v1/schedulers
};

/// The sampler (and scheduler) to send for horde `sampler` with `karras`, given the WebUI's
/// sampler names and whether it has the separate scheduler field. nullopt: it cannot run it.
std::optional<A1111SamplerChoice> ChooseA1111Sampler(const std::string& sampler, bool karras,
                                                     const std::vector<std::string>& available,
                                                     bool has_schedulers);

struct A1111Inputs {
    std::string checkpoint_title;  // sd_model_checkpoint
    A1111SamplerChoice sampler;
    std::string init_image_b64;  // img2img / inpainting
    std::string mask_b64;        // inpainting
};

/// The body for txt2img (no init image) or img2img.
json::object BuildA1111Request(const ImageJob& job, const A1111Inputs& inputs);

/// The body for extra-single-image, or nullopt when none of `job.post_processing` maps onto the
/// WebUI's upscalers and face restorers.
std::optional<json::object> BuildA1111Extras(const ImageJob& job, const std::string& image_b64,
                                             const std::vector<std::string>& upscalers,
                                             const std::vector<std::string>& face_restorers);

}  // namespace horde::bridge
