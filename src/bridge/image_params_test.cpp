#include "bridge/image_params.hpp"

#include <gtest/gtest.h>

namespace horde::bridge {
namespace {

json::object Payload(std::string_view text) { return boost::json::parse(text).as_object(); }

TEST(NegativePrompt, SplitsOnTheLastTripleHashAndTrims) {
    EXPECT_EQ(SplitNegativePrompt("a cat ### dogs"),
              std::make_pair(std::string("a cat"), std::string("dogs")));
    EXPECT_EQ(SplitNegativePrompt("a ### b ### c"),
              std::make_pair(std::string("a ### b"), std::string("c")));
    EXPECT_EQ(SplitNegativePrompt("  just positive  "),
              std::make_pair(std::string("just positive"), std::string()));
    EXPECT_EQ(SplitNegativePrompt("###only negative"),
              std::make_pair(std::string(), std::string("only negative")));
    EXPECT_EQ(SplitNegativePrompt("tail###"), std::make_pair(std::string("tail"), std::string()));
    EXPECT_EQ(SplitNegativePrompt("a ## b"), std::make_pair(std::string("a ## b"), std::string()));
    EXPECT_EQ(SplitNegativePrompt("x ####y"), std::make_pair(std::string("x #"), std::string("y")));
}

TEST(ImagePayload, ReadsTheHordesFieldsWithDefaults) {
    const auto job = ParseImagePayload(
        Payload(R"({"prompt":"p ### n","ddim_steps":25,"sampler_name":"k_dpmpp_2m","karras":true,
                    "cfg_scale":6.5,"width":768,"height":512,"seed":"1234","clip_skip":2,
                    "denoising_strength":0.4,"hires_fix":true,"tiling":true,
                    "post_processing":["GFPGAN","RealESRGAN_x4plus"],"n_iter":1})"),
        99);
    EXPECT_EQ(job.prompt, "p");
    EXPECT_EQ(job.negative_prompt, "n");
    EXPECT_EQ(job.steps, 25);
    EXPECT_EQ(job.sampler, "k_dpmpp_2m");
    EXPECT_TRUE(job.karras);
    EXPECT_DOUBLE_EQ(job.cfg_scale, 6.5);
    EXPECT_EQ(job.width, 768);
    EXPECT_EQ(job.height, 512);
    EXPECT_EQ(job.seed, 1234);
    EXPECT_EQ(job.clip_skip, 2);
    EXPECT_DOUBLE_EQ(job.denoising_strength, 0.4);
    EXPECT_TRUE(job.hires_fix);
    EXPECT_TRUE(job.tiling);
    EXPECT_EQ(job.post_processing.size(), 2u);

    const auto d = ParseImagePayload(Payload(R"({"prompt":"x"})"), 5);
    EXPECT_EQ(d.steps, 30);
    EXPECT_EQ(d.width, 512);
    EXPECT_EQ(d.sampler, "k_euler_a");
    EXPECT_EQ(d.seed, 5);
    EXPECT_FALSE(d.karras);
}

TEST(ImagePayload, SeedsFitIn32BitsAndBadSeedsFallBack) {
    EXPECT_EQ(ParseImagePayload(Payload(R"({"seed":"4294967297"})"), 0).seed, 1);
    EXPECT_EQ(ParseImagePayload(Payload(R"({"seed":-1})"), 0).seed, 4294967295LL);
    EXPECT_EQ(ParseImagePayload(Payload(R"({"seed":"banana"})"), 42).seed, 42);
    EXPECT_EQ(ParseImagePayload(Payload(R"({"seed":77})"), 42).seed, 77);
}

TEST(Samplers, EveryHordeSamplerHasBothBackendNames) {
    EXPECT_EQ(SamplerTable().size(), 14u);
    EXPECT_EQ(A1111SamplerName("k_euler_a"), "Euler a");
    EXPECT_EQ(A1111SamplerName("k_dpmpp_2m"), "DPM++ 2M");
    EXPECT_EQ(A1111SamplerName("k_dpm_2_a"), "DPM2 a");
    EXPECT_EQ(A1111SamplerName("DDIM"), "DDIM");
    EXPECT_EQ(ComfySamplerName("k_euler_a"), "euler_ancestral");
    EXPECT_EQ(ComfySamplerName("k_dpmpp_sde"), "dpmpp_sde");
    EXPECT_EQ(ComfySamplerName("lcm"), "lcm");
    EXPECT_FALSE(A1111SamplerName("k_unknown").has_value());
    for (const auto& s : SamplerTable()) {
        EXPECT_FALSE(s.a1111.empty()) << s.horde;
        EXPECT_FALSE(s.comfyui.empty()) << s.horde;
    }
}

TEST(HiresFix, FirstPassIsNativeSizedAndAMultipleOf64) {
    EXPECT_FALSE(HiresFirstPass(512, 512, NativePixels("stable_diffusion")).has_value());
    EXPECT_EQ(HiresFirstPass(1024, 1024, NativePixels("stable_diffusion")),
              std::make_pair(512, 512));
    EXPECT_EQ(HiresFirstPass(1024, 768, 512 * 512), std::make_pair(576, 384));
    EXPECT_EQ(NativePixels("SDXL 1.0"), 1024 * 1024);
    EXPECT_EQ(NativePixels("Pony Diffusion"), 1024 * 1024);
    EXPECT_FALSE(HiresFirstPass(1024, 1024, NativePixels("AlbedoBase XL (SDXL)")).has_value());
    const auto tall = HiresFirstPass(2048, 256, 512 * 512);
    ASSERT_TRUE(tall.has_value());
    EXPECT_EQ(tall->first % 64, 0);
    EXPECT_GE(tall->second, 64);
}

TEST(PostProcessors, MatchAliasesNamesAndFiles) {
    const std::vector<std::string> a1111 = {"None", "R-ESRGAN 4x+", "R-ESRGAN 4x+ Anime6B",
                                            "4x_NMKD-Siax_200k"};
    EXPECT_EQ(MatchPostProcessor("RealESRGAN_x4plus", a1111), "R-ESRGAN 4x+");
    EXPECT_EQ(MatchPostProcessor("RealESRGAN_x4plus_anime_6B", a1111), "R-ESRGAN 4x+ Anime6B");
    EXPECT_EQ(MatchPostProcessor("NMKD_Siax", a1111), "4x_NMKD-Siax_200k");
    EXPECT_FALSE(MatchPostProcessor("RealESRGAN_x2plus", a1111).has_value());
    const std::vector<std::string> files = {"RealESRGAN_x4plus.pth", "4x-AnimeSharp.pth"};
    EXPECT_EQ(MatchPostProcessor("RealESRGAN_x4plus", files), "RealESRGAN_x4plus.pth");
    EXPECT_EQ(MatchPostProcessor("4x_AnimeSharp", files), "4x-AnimeSharp.pth");
    EXPECT_EQ(MatchPostProcessor("CodeFormers", {"GFPGAN", "CodeFormer"}), "CodeFormer");
    EXPECT_EQ(UpscaleFactor("RealESRGAN_x2plus"), 2);
    EXPECT_EQ(UpscaleFactor("2xModernSpanimationV1"), 2);
    EXPECT_EQ(UpscaleFactor("RealESRGAN_x4plus"), 4);
    EXPECT_TRUE(IsFaceFixer("GFPGAN"));
    EXPECT_TRUE(IsFaceFixer("CodeFormers"));
    EXPECT_FALSE(IsFaceFixer("NMKD_Siax"));
    EXPECT_EQ(HordePostProcessors().size(), 16u);
}

}  // namespace
}  // namespace horde::bridge
