#include "bridge/a1111_request.hpp"

#include <gtest/gtest.h>

namespace horde::bridge {
namespace {

const std::vector<std::string> kModern = {"Euler a", "Euler", "DPM++ 2M", "DDIM"};
const std::vector<std::string> kLegacy = {"Euler a", "DPM++ 2M", "DPM++ 2M Karras", "LMS"};

TEST(A1111Sampler, NewWebUiUsesTheSchedulerField) {
    const auto s = ChooseA1111Sampler("k_dpmpp_2m", true, kModern, true);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->sampler_name, "DPM++ 2M");
    EXPECT_EQ(s->scheduler, "Karras");
    EXPECT_EQ(ChooseA1111Sampler("k_euler_a", false, kModern, true)->scheduler, "Automatic");
    EXPECT_FALSE(ChooseA1111Sampler("k_lms", false, kModern, true).has_value());
}

TEST(A1111Sampler, OldWebUiUsesKarrasSamplerNames) {
    const auto karras = ChooseA1111Sampler("k_dpmpp_2m", true, kLegacy, false);
    ASSERT_TRUE(karras.has_value());
    EXPECT_EQ(karras->sampler_name, "DPM++ 2M Karras");
    EXPECT_FALSE(karras->scheduler.has_value());
    // No Karras variant: the plain sampler.
    EXPECT_EQ(ChooseA1111Sampler("k_euler_a", true, kLegacy, false)->sampler_name, "Euler a");
    EXPECT_FALSE(ChooseA1111Sampler("k_heun", false, kLegacy, false).has_value());
}

ImageJob Job() {
    ImageJob job;
    job.prompt = "a cat";
    job.negative_prompt = "dogs";
    job.width = 768;
    job.height = 512;
    job.steps = 20;
    job.cfg_scale = 7;
    job.seed = 1234;
    job.clip_skip = 2;
    job.horde_model = "stable_diffusion";
    return job;
}

TEST(A1111Request, Txt2img) {
    const auto body =
        BuildA1111Request(Job(), A1111Inputs{.checkpoint_title = "sd15.safetensors [abc]",
                                             .sampler = {"Euler a", "Automatic"},
                                             .init_image_b64 = {},
                                             .mask_b64 = {}});
    EXPECT_EQ(body.at("prompt").as_string(), "a cat");
    EXPECT_EQ(body.at("negative_prompt").as_string(), "dogs");
    EXPECT_EQ(body.at("seed").as_int64(), 1234);
    EXPECT_EQ(body.at("steps").as_int64(), 20);
    EXPECT_EQ(body.at("width").as_int64(), 768);
    EXPECT_EQ(body.at("height").as_int64(), 512);
    EXPECT_EQ(body.at("sampler_name").as_string(), "Euler a");
    EXPECT_EQ(body.at("scheduler").as_string(), "Automatic");
    EXPECT_EQ(body.at("batch_size").as_int64(), 1);
    EXPECT_FALSE(body.at("save_images").as_bool());
    const auto& overrides = body.at("override_settings").as_object();
    EXPECT_EQ(overrides.at("sd_model_checkpoint").as_string(), "sd15.safetensors [abc]");
    EXPECT_EQ(overrides.at("CLIP_stop_at_last_layers").as_int64(), 2);
    EXPECT_FALSE(body.contains("init_images"));
    EXPECT_FALSE(body.contains("enable_hr"));
}

TEST(A1111Request, HiresFixGeneratesSmallThenUpscales) {
    ImageJob job = Job();
    job.width = 1024;
    job.height = 1024;
    job.hires_fix = true;
    job.hires_fix_denoising_strength = 0.55;
    const auto body = BuildA1111Request(job, A1111Inputs{.checkpoint_title = "x",
                                                         .sampler = {"Euler", std::nullopt},
                                                         .init_image_b64 = {},
                                                         .mask_b64 = {}});
    EXPECT_TRUE(body.at("enable_hr").as_bool());
    EXPECT_EQ(body.at("width").as_int64(), 512);
    EXPECT_EQ(body.at("hr_resize_x").as_int64(), 1024);
    EXPECT_EQ(body.at("hr_resize_y").as_int64(), 1024);
    EXPECT_DOUBLE_EQ(body.at("denoising_strength").as_double(), 0.55);
    EXPECT_FALSE(body.contains("scheduler"));
}

TEST(A1111Request, Img2imgAndInpainting) {
    ImageJob job = Job();
    job.denoising_strength = 0.3;
    const auto img2img = BuildA1111Request(job, A1111Inputs{.checkpoint_title = "x",
                                                            .sampler = {"Euler", std::nullopt},
                                                            .init_image_b64 = "SU1H",
                                                            .mask_b64 = {}});
    EXPECT_EQ(img2img.at("init_images").as_array().at(0).as_string(), "SU1H");
    EXPECT_DOUBLE_EQ(img2img.at("denoising_strength").as_double(), 0.3);
    EXPECT_FALSE(img2img.contains("mask"));
    const auto inpaint = BuildA1111Request(job, A1111Inputs{.checkpoint_title = "x",
                                                            .sampler = {"Euler", std::nullopt},
                                                            .init_image_b64 = "SU1H",
                                                            .mask_b64 = "TUFTSw=="});
    EXPECT_EQ(inpaint.at("mask").as_string(), "TUFTSw==");
    EXPECT_EQ(inpaint.at("inpainting_fill").as_int64(), 1);
    EXPECT_EQ(inpaint.at("inpainting_mask_invert").as_int64(), 0);
}

TEST(A1111Request, ExtrasMapUpscalerAndFaceFixers) {
    ImageJob job = Job();
    job.post_processing = {"CodeFormers", "RealESRGAN_x2plus", "RealESRGAN_x4plus"};
    job.facefixer_strength = 0.6;
    const auto body =
        BuildA1111Extras(job, "IMG", {"R-ESRGAN 4x+", "R-ESRGAN 2x+"}, {"CodeFormer", "GFPGAN"});
    ASSERT_TRUE(body.has_value());
    EXPECT_EQ(body->at("image").as_string(), "IMG");
    EXPECT_EQ(body->at("upscaler_1").as_string(), "R-ESRGAN 2x+");  // only the first upscaler
    EXPECT_EQ(body->at("upscaling_resize").as_int64(), 2);
    EXPECT_DOUBLE_EQ(body->at("codeformer_visibility").as_double(), 0.6);
    EXPECT_FALSE(body->contains("gfpgan_visibility"));

    job.post_processing = {"GFPGAN"};
    const auto faces = BuildA1111Extras(job, "IMG", {}, {"GFPGAN"});
    ASSERT_TRUE(faces.has_value());
    EXPECT_DOUBLE_EQ(faces->at("gfpgan_visibility").as_double(), 0.6);
    EXPECT_EQ(faces->at("upscaling_resize").as_int64(), 1);

    job.post_processing = {"strip_background"};
    EXPECT_FALSE(BuildA1111Extras(job, "IMG", {"R-ESRGAN 4x+"}, {"GFPGAN"}).has_value());
}

}  // namespace
}  // namespace horde::bridge
