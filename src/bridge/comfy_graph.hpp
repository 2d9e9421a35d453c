#pragma once
// ComfyUI workflow graphs ("API format": {node_id: {class_type, inputs}}) built from an ImageJob,
// using core nodes only. Pure, unit tested.
//
// txt2img:   CheckpointLoaderSimple -> [CLIPSetLastLayer] -> CLIPTextEncode x2,
//            EmptyLatentImage -> KSampler -> VAEDecode -> [upscalers] -> SaveImage
// hires fix: the first KSampler runs at the native size, LatentUpscale to the target, a second
//            KSampler with denoise = hires_fix_denoising_strength.
// img2img:   LoadImage -> ImageScale (to the job's size) -> VAEEncode -> KSampler(denoise)
// inpaint:   as img2img, plus LoadImage(mask) -> ImageScale -> ImageToMask(red) ->
//            SetLatentNoiseMask on the encoded latent (white = repaint).
// upscalers: UpscaleModelLoader + ImageUpscaleWithModel per post-processor, in order.

#include <string>
#include <vector>

#include "bridge/backend.hpp"
#include "bridge/json_read.hpp"

namespace horde::bridge {

struct ComfyInputs {
    std::string checkpoint;  // ckpt_name
    std::string sampler;     // ComfyUI sampler_name
    std::string scheduler = "normal";
    std::string image_name;                   // uploaded input image, for img2img/inpainting
    std::string mask_name;                    // uploaded mask image, for inpainting
    std::vector<std::string> upscale_models;  // UpscaleModelLoader model_name values, in order
    std::string filename_prefix = "horde";
};

struct ComfyGraph {
    json::object prompt;    // the value of "prompt" in POST /prompt
    std::string output_id;  // the SaveImage node, whose images /history lists
};

ComfyGraph BuildComfyGraph(const ImageJob& job, const ComfyInputs& inputs);

}  // namespace horde::bridge
