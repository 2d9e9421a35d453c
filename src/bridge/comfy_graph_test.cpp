#include "bridge/comfy_graph.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace horde::bridge {
namespace {

/// class_type -> the inputs of the (first) node of that type.
std::multimap<std::string, json::object> Nodes(const json::object& graph) {
    std::multimap<std::string, json::object> out;
    for (const auto& [id, node] : graph) {
        out.emplace(std::string(node.at("class_type").as_string()), node.at("inputs").as_object());
    }
    return out;
}

/// Every link ["id", n] points at a node of the graph.
void ExpectLinksResolve(const json::object& graph) {
    for (const auto& [id, node] : graph) {
        for (const auto& [name, value] : node.at("inputs").as_object()) {
            if (!value.is_array()) {
                continue;
            }
            const auto& link = value.as_array();
            ASSERT_EQ(link.size(), 2u) << id << "." << name;
            EXPECT_TRUE(graph.contains(link[0].as_string())) << id << "." << name;
            EXPECT_TRUE(link[1].is_int64()) << id << "." << name;
        }
    }
}

ImageJob Job() {
    ImageJob job;
    job.prompt = "a cat";
    job.negative_prompt = "dogs";
    job.width = 640;
    job.height = 512;
    job.steps = 20;
    job.cfg_scale = 7;
    job.seed = 99;
    job.horde_model = "stable_diffusion";
    return job;
}

ComfyInputs Inputs() {
    ComfyInputs in;
    in.checkpoint = "sd15.safetensors";
    in.sampler = "euler_ancestral";
    in.scheduler = "karras";
    return in;
}

TEST(ComfyGraph, Txt2img) {
    const auto g = BuildComfyGraph(Job(), Inputs());
    ExpectLinksResolve(g.prompt);
    const auto nodes = Nodes(g.prompt);
    EXPECT_EQ(nodes.count("CLIPTextEncode"), 2u);
    EXPECT_EQ(nodes.count("KSampler"), 1u);
    EXPECT_EQ(nodes.count("CLIPSetLastLayer"), 0u);
    EXPECT_EQ(nodes.find("CheckpointLoaderSimple")->second.at("ckpt_name").as_string(),
              "sd15.safetensors");
    const auto& latent = nodes.find("EmptyLatentImage")->second;
    EXPECT_EQ(latent.at("width").as_int64(), 640);
    EXPECT_EQ(latent.at("height").as_int64(), 512);
    EXPECT_EQ(latent.at("batch_size").as_int64(), 1);
    const auto& ks = nodes.find("KSampler")->second;
    EXPECT_EQ(ks.at("seed").as_int64(), 99);
    EXPECT_EQ(ks.at("steps").as_int64(), 20);
    EXPECT_EQ(ks.at("sampler_name").as_string(), "euler_ancestral");
    EXPECT_EQ(ks.at("scheduler").as_string(), "karras");
    EXPECT_DOUBLE_EQ(ks.at("denoise").as_double(), 1.0);
    EXPECT_EQ(g.prompt.at(g.output_id).at("class_type").as_string(), "SaveImage");
    // The positive and negative prompts go to the right KSampler inputs.
    const auto text_of = [&](const char* input) {
        const auto& link = ks.at(input).as_array();
        return std::string(g.prompt.at(link[0].as_string()).at("inputs").at("text").as_string());
    };
    EXPECT_EQ(text_of("positive"), "a cat");
    EXPECT_EQ(text_of("negative"), "dogs");
}

TEST(ComfyGraph, ClipSkipHiresFixAndUpscaler) {
    ImageJob job = Job();
    job.clip_skip = 2;
    job.width = 1024;
    job.height = 1024;
    job.hires_fix = true;
    job.hires_fix_denoising_strength = 0.45;
    ComfyInputs in = Inputs();
    in.upscale_models = {"RealESRGAN_x4plus.pth"};
    const auto g = BuildComfyGraph(job, in);
    ExpectLinksResolve(g.prompt);
    const auto nodes = Nodes(g.prompt);
    EXPECT_EQ(nodes.find("CLIPSetLastLayer")->second.at("stop_at_clip_layer").as_int64(), -2);
    EXPECT_EQ(nodes.count("KSampler"), 2u);
    std::set<double> denoise;
    for (auto [it, end] = nodes.equal_range("KSampler"); it != end; ++it) {
        denoise.insert(it->second.at("denoise").as_double());
    }
    EXPECT_EQ(denoise, (std::set<double>{0.45, 1.0}));
    EXPECT_EQ(nodes.find("EmptyLatentImage")->second.at("width").as_int64(), 512);
    EXPECT_EQ(nodes.find("LatentUpscale")->second.at("width").as_int64(), 1024);
    EXPECT_EQ(nodes.find("UpscaleModelLoader")->second.at("model_name").as_string(),
              "RealESRGAN_x4plus.pth");
    EXPECT_EQ(nodes.count("ImageUpscaleWithModel"), 1u);
    // SaveImage takes the upscaled image.
    const auto& save_in = g.prompt.at(g.output_id).at("inputs").at("images").as_array();
    EXPECT_EQ(g.prompt.at(save_in[0].as_string()).at("class_type").as_string(),
              "ImageUpscaleWithModel");
}

TEST(ComfyGraph, Img2imgAndInpainting) {
    ImageJob job = Job();
    job.denoising_strength = 0.35;
    ComfyInputs in = Inputs();
    in.image_name = "src.webp";
    auto g = BuildComfyGraph(job, in);
    ExpectLinksResolve(g.prompt);
    auto nodes = Nodes(g.prompt);
    EXPECT_EQ(nodes.count("EmptyLatentImage"), 0u);
    EXPECT_EQ(nodes.find("LoadImage")->second.at("image").as_string(), "src.webp");
    EXPECT_EQ(nodes.find("ImageScale")->second.at("width").as_int64(), 640);
    EXPECT_EQ(nodes.count("VAEEncode"), 1u);
    EXPECT_EQ(nodes.count("SetLatentNoiseMask"), 0u);
    EXPECT_DOUBLE_EQ(nodes.find("KSampler")->second.at("denoise").as_double(), 0.35);

    in.mask_name = "mask.png";
    g = BuildComfyGraph(job, in);
    ExpectLinksResolve(g.prompt);
    nodes = Nodes(g.prompt);
    EXPECT_EQ(nodes.count("LoadImage"), 2u);
    EXPECT_EQ(nodes.find("ImageToMask")->second.at("channel").as_string(), "red");
    EXPECT_EQ(nodes.count("SetLatentNoiseMask"), 1u);
    // The sampler starts from the masked latent.
    const auto& latent = nodes.find("KSampler")->second.at("latent_image").as_array();
    EXPECT_EQ(g.prompt.at(latent[0].as_string()).at("class_type").as_string(),
              "SetLatentNoiseMask");
}

}  // namespace
}  // namespace horde::bridge
