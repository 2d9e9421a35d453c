#include "bridge/comfy_graph.hpp"

#include "bridge/image_params.hpp"

namespace horde::bridge {

namespace {

/// Adds nodes with ids "1", "2", ... and returns links to their outputs.
class GraphBuilder {
public:
    std::string Add(std::string_view class_type, json::object inputs) {
        const std::string id = std::to_string(++count_);
        json::object node;
        node["class_type"] = class_type;
        node["inputs"] = std::move(inputs);
        graph_[id] = std::move(node);
        return id;
    }
    static json::array Link(const std::string& id, int output) {
        json::array link;
        link.emplace_back(id);
        link.emplace_back(output);
        return link;
    }
    json::object Take() { return std::move(graph_); }

private:
    json::object graph_;
    int count_ = 0;
};

json::object SamplerInputs(const ImageJob& job, const ComfyInputs& in, const std::string& model,
                           const std::string& positive, const std::string& negative,
                           json::array latent, double denoise) {
    json::object s;
    s["seed"] = job.seed;
    s["steps"] = job.steps;
    s["cfg"] = job.cfg_scale;
    s["sampler_name"] = in.sampler;
    s["scheduler"] = in.scheduler;
    s["denoise"] = denoise;
    s["model"] = GraphBuilder::Link(model, 0);
    s["positive"] = GraphBuilder::Link(positive, 0);
    s["negative"] = GraphBuilder::Link(negative, 0);
    s["latent_image"] = std::move(latent);
    return s;
}

/// LoadImage(name) -> ImageScale to the job's size; returns the ImageScale node.
std::string LoadScaled(GraphBuilder& g, const std::string& name, const ImageJob& job) {
    const std::string load = g.Add("LoadImage", {{"image", name}});
    return g.Add("ImageScale", {{"image", GraphBuilder::Link(load, 0)},
                                {"upscale_method", "lanczos"},
                                {"width", job.width},
                                {"height", job.height},
                                {"crop", "disabled"}});
}

}  // namespace

ComfyGraph BuildComfyGraph(const ImageJob& job, const ComfyInputs& in) {
    GraphBuilder g;
    const std::string ckpt = g.Add("CheckpointLoaderSimple", {{"ckpt_name", in.checkpoint}});
    std::string clip = ckpt;
    int clip_output = 1;
    if (job.clip_skip > 1) {
        clip = g.Add("CLIPSetLastLayer", {{"clip", GraphBuilder::Link(ckpt, 1)},
                                          {"stop_at_clip_layer", -job.clip_skip}});
        clip_output = 0;
    }
    const std::string positive = g.Add(
        "CLIPTextEncode", {{"text", job.prompt}, {"clip", GraphBuilder::Link(clip, clip_output)}});
    const std::string negative =
        g.Add("CLIPTextEncode",
              {{"text", job.negative_prompt}, {"clip", GraphBuilder::Link(clip, clip_output)}});

    std::string sampled;
    if (!in.image_name.empty()) {
        const std::string image = LoadScaled(g, in.image_name, job);
        std::string latent = g.Add("VAEEncode", {{"pixels", GraphBuilder::Link(image, 0)},
                                                 {"vae", GraphBuilder::Link(ckpt, 2)}});
        if (!in.mask_name.empty()) {
            const std::string mask_image = LoadScaled(g, in.mask_name, job);
            const std::string mask = g.Add(
                "ImageToMask", {{"image", GraphBuilder::Link(mask_image, 0)}, {"channel", "red"}});
            latent = g.Add("SetLatentNoiseMask", {{"samples", GraphBuilder::Link(latent, 0)},
                                                  {"mask", GraphBuilder::Link(mask, 0)}});
        }
        sampled =
            g.Add("KSampler", SamplerInputs(job, in, ckpt, positive, negative,
                                            GraphBuilder::Link(latent, 0), job.denoising_strength));
    } else {
        const auto first =
            job.hires_fix ? HiresFirstPass(job.width, job.height, NativePixels(job.horde_model))
                          : std::nullopt;
        const int w = first ? first->first : job.width;
        const int h = first ? first->second : job.height;
        const std::string empty =
            g.Add("EmptyLatentImage", {{"width", w}, {"height", h}, {"batch_size", 1}});
        sampled = g.Add("KSampler", SamplerInputs(job, in, ckpt, positive, negative,
                                                  GraphBuilder::Link(empty, 0), 1.0));
        if (first) {
            const std::string upscaled =
                g.Add("LatentUpscale", {{"samples", GraphBuilder::Link(sampled, 0)},
                                        {"upscale_method", "nearest-exact"},
                                        {"width", job.width},
                                        {"height", job.height},
                                        {"crop", "disabled"}});
            sampled = g.Add("KSampler", SamplerInputs(job, in, ckpt, positive, negative,
                                                      GraphBuilder::Link(upscaled, 0),
                                                      job.hires_fix_denoising_strength));
        }
    }
    std::string image = g.Add("VAEDecode", {{"samples", GraphBuilder::Link(sampled, 0)},
                                            {"vae", GraphBuilder::Link(ckpt, 2)}});
    for (const auto& model : in.upscale_models) {
        const std::string loader = g.Add("UpscaleModelLoader", {{"model_name", model}});
        image = g.Add("ImageUpscaleWithModel", {{"upscale_model", GraphBuilder::Link(loader, 0)},
                                                {"image", GraphBuilder::Link(image, 0)}});
    }
    const std::string save = g.Add("SaveImage", {{"images", GraphBuilder::Link(image, 0)},
                                                 {"filename_prefix", in.filename_prefix}});
    return ComfyGraph{g.Take(), save};
}

}  // namespace horde::bridge
