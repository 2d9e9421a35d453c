#include "bridge/a1111_request.hpp"

#include <algorithm>

#include "bridge/image_params.hpp"

namespace horde::bridge {

namespace {

bool Contains(const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::optional<A1111SamplerChoice> ChooseA1111Sampler(const std::string& sampler, bool karras,
                                                     const std::vector<std::string>& available,
                                                     bool has_schedulers) {
    const auto base = A1111SamplerName(sampler);
    if (!base) {
        return std::nullopt;
    }
    const std::string name(*base);
    if (has_schedulers) {
        if (!Contains(available, name)) {
            return std::nullopt;
        }
        return A1111SamplerChoice{name, karras ? "Karras" : "Automatic"};
    }
    if (karras && Contains(available, name + " Karras")) {
        return A1111SamplerChoice{name + " Karras", std::nullopt};
    }
    if (!Contains(available, name)) {
        return std::nullopt;
    }
    return A1111SamplerChoice{name, std::nullopt};
}

json::object BuildA1111Request(const ImageJob& job, const A1111Inputs& inputs) {
    json::object body;
    body["prompt"] = job.prompt;
    body["negative_prompt"] = job.negative_prompt;
    body["seed"] = job.seed;
    body["steps"] = job.steps;
    body["cfg_scale"] = job.cfg_scale;
    body["width"] = job.width;
    body["height"] = job.height;
    body["sampler_name"] = inputs.sampler.sampler_name;
    if (inputs.sampler.scheduler) {
        body["scheduler"] = *inputs.sampler.scheduler;
    }
    body["batch_size"] = 1;
    body["n_iter"] = 1;
    body["tiling"] = job.tiling;
    body["restore_faces"] = false;
    body["send_images"] = true;
    body["save_images"] = false;
    json::object overrides;
    if (!inputs.checkpoint_title.empty()) {
        overrides["sd_model_checkpoint"] = inputs.checkpoint_title;
    }
    overrides["CLIP_stop_at_last_layers"] = job.clip_skip;
    body["override_settings"] = std::move(overrides);
    body["override_settings_restore_afterwards"] = false;
    if (!inputs.init_image_b64.empty()) {
        json::array images;
        images.emplace_back(inputs.init_image_b64);
        body["init_images"] = std::move(images);
        body["denoising_strength"] = job.denoising_strength;
        body["resize_mode"] = 0;
        if (!inputs.mask_b64.empty()) {
            body["mask"] = inputs.mask_b64;
            body["mask_blur"] = 4;
            body["inpainting_fill"] = 1;
            body["inpaint_full_res"] = false;
            body["inpainting_mask_invert"] = 0;
        }
        return body;
    }
    if (job.hires_fix) {
        const auto first = HiresFirstPass(job.width, job.height, NativePixels(job.horde_model));
        if (first) {
            body["enable_hr"] = true;
            body["width"] = first->first;
            body["height"] = first->second;
            body["hr_resize_x"] = job.width;
            body["hr_resize_y"] = job.height;
            body["hr_upscaler"] = "Latent";
            body["hr_second_pass_steps"] = 0;
            body["denoising_strength"] = job.hires_fix_denoising_strength;
        }
    }
    return body;
}

std::optional<json::object> BuildA1111Extras(const ImageJob& job, const std::string& image_b64,
                                             const std::vector<std::string>& upscalers,
                                             const std::vector<std::string>& face_restorers) {
    json::object body;
    bool any = false;
    bool upscaled = false;
    for (const auto& pp : job.post_processing) {
        if (IsFaceFixer(pp)) {
            const auto name = MatchPostProcessor(pp, face_restorers);
            if (!name) {
                continue;
            }
            if (NormalizeName(*name).starts_with("codeformer")) {
                body["codeformer_visibility"] = job.facefixer_strength;
                body["codeformer_weight"] = 0.5;
            } else {
                body["gfpgan_visibility"] = job.facefixer_strength;
            }
            any = true;
            continue;
        }
        if (upscaled) {
            continue;  // the horde allows one upscaler per request
        }
        if (const auto name = MatchPostProcessor(pp, upscalers)) {
            body["upscaler_1"] = *name;
            body["upscaling_resize"] = UpscaleFactor(pp);
            upscaled = true;
            any = true;
        }
    }
    if (!any) {
        return std::nullopt;
    }
    body["image"] = image_b64;
    body["resize_mode"] = 0;
    body["show_extras_results"] = true;
    if (!upscaled) {
        body["upscaling_resize"] = 1;
    }
    return body;
}

}  // namespace horde::bridge
