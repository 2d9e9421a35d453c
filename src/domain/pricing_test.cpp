#include "domain/pricing.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace horde::domain {
namespace {

// Expected values are computed by hand from the formulas in pricing.hpp; the arithmetic is in
// the comments. Kudos are compared exactly, in milli-kudos.

ImageShape Shape(int width, int height, int steps, std::string sampler) {
    ImageShape shape;
    shape.width = width;
    shape.height = height;
    shape.steps = steps;
    shape.sampler_name = std::move(sampler);
    return shape;
}

/// Reference calibration points: |ours / reference - 1| must stay within `tolerance`.
void ExpectNear(Kudos ours, double reference, double tolerance) {
    EXPECT_LE(std::abs(ours.ToDouble() / reference - 1.0), tolerance)
        << "ours " << ours.ToDouble() << " vs reference " << reference;
}

// ---- AccurateSteps ------------------------------------------------------------------------------

TEST(AccurateStepsTest, FirstOrderSecondOrderAndAdaptive) {
    EXPECT_EQ(AccurateSteps(Shape(512, 512, 30, "k_euler_a")), 30);
    EXPECT_EQ(AccurateSteps(Shape(512, 512, 30, "k_heun")), 60);          // 30 × 2
    EXPECT_EQ(AccurateSteps(Shape(512, 512, 25, "k_dpmpp_sde")), 50);     // 25 × 2
    EXPECT_EQ(AccurateSteps(Shape(512, 512, 10, "k_dpm_2_a")), 20);       // 10 × 2
    EXPECT_EQ(AccurateSteps(Shape(512, 512, 12, "k_dpm_adaptive")), 40);  // always 40
    EXPECT_EQ(AccurateSteps(Shape(512, 512, 30, "k_dpmpp_2m")), 30);
}

// ---- ImageBasePrice: calibration
// ------------------------------------------------------------------

TEST(ImageBasePriceTest, BasisJobIsElevenKudos) {
    ImageShape basis = Shape(512, 512, 50, "k_euler");
    basis.cfg_scale = 7.5;
    // t = (1.475 + 0.0995 × 50) × p(1) = 6.45 s; K = 6.45 × 11 / 6.45 = 11.00.
    EXPECT_EQ(ImageBasePrice(basis), Kudos::FromMilli(11000));
    ExpectNear(ImageBasePrice(basis), 11.00, 0.05);
}

TEST(ImageBasePriceTest, Basis1024) {
    ImageShape shape = Shape(1024, 1024, 50, "k_euler");
    shape.cfg_scale = 7.5;
    // mp = 4, p = 0.515 + 0.465×4 + 0.02×16 = 2.695; t = 6.45 × 2.695 = 17.383;
    // K = 17.383 × 1.70543 = 29.645 → 29.65 (reference 29.03, +2.1%).
    EXPECT_EQ(ImageBasePrice(shape), Kudos::FromMilli(29650));
    ExpectNear(ImageBasePrice(shape), 29.03, 0.05);
}

TEST(ImageBasePriceTest, DefaultRequest) {
    ImageShape shape;  // 512², 30 steps, k_euler_a, karras, cfg 5
    // t = 1.475 + 0.0995 × 30 = 4.46 s; K = 4.46 × 11 / 6.45 = 7.606 → 7.61.
    EXPECT_EQ(ImageBasePrice(shape), Kudos::FromMilli(7610));
    ExpectNear(ImageBasePrice(shape), 7.61, 0.05);
}

TEST(ImageBasePriceTest, Default1024) {
    ImageShape shape = Shape(1024, 1024, 30, "k_euler_a");
    // t = 4.46 × 2.695 = 12.0197; K = 20.499 → 20.50 (reference 20.99, -2.3%).
    EXPECT_EQ(ImageBasePrice(shape), Kudos::FromMilli(20500));
    ExpectNear(ImageBasePrice(shape), 20.99, 0.05);
}

TEST(ImageBasePriceTest, Img2ImgWithControlNet) {
    ImageShape shape = Shape(768, 512, 30, "k_dpmpp_2m");
    shape.cfg_scale = 8.5;
    shape.has_source_image = true;
    shape.source_processing = "img2img";
    shape.control_type = "canny";
    shape.denoising_strength = 0.42;
    // mp = 1.5, p = 0.515 + 0.6975 + 0.045 = 1.2575; t = 4.46 × 1.2575 × 1.05 × 1.5 = 8.8333;
    // K = 15.064 → 15.06 (reference 15.13, -0.5%).
    EXPECT_EQ(ImageBasePrice(shape), Kudos::FromMilli(15060));
    ExpectNear(ImageBasePrice(shape), 15.13, 0.15);
}

TEST(ImageBasePriceTest, PostProcessors) {
    ImageShape shape = Shape(512, 512, 35, "uni_pc");
    shape.post_processing = {"GFPGAN", "RealESRGAN_x4plus"};
    // t = 1.475 + 0.0995 × 35 = 4.9575, + (2 + 8) × 1 = 14.9575 s; K = 25.509 → 25.51
    // (reference 25.46, +0.2%).
    EXPECT_EQ(ImageBasePrice(shape), Kudos::FromMilli(25510));
    ExpectNear(ImageBasePrice(shape), 25.46, 0.15);
}

TEST(ImageBasePriceTest, HiresFixAddsASecondPass) {
    ImageShape shape;
    shape.hires_fix = true;
    // t = 4.46 + 0.0995 × 30 × 0.5 = 5.9525 s; K = 10.152 → 10.15.
    EXPECT_EQ(ImageBasePrice(shape), Kudos::FromMilli(10150));
}

TEST(ImageBasePriceTest, LorasAndTextualInversions) {
    ImageShape shape;
    shape.lora_count = 2;
    EXPECT_EQ(ImageBasePrice(shape), Kudos::FromMilli(13610));  // 7.61 + 3 × 2
    shape.ti_count = 3;
    EXPECT_EQ(ImageBasePrice(shape), Kudos::FromMilli(14610));  // + 1 for any TIs
}

TEST(ImageBasePriceTest, SecondOrderSamplerCostsDoubleSteps) {
    // k_heun 25 steps = 50 accurate steps = the basis job's 11.00.
    EXPECT_EQ(ImageBasePrice(Shape(512, 512, 25, "k_heun")), Kudos::FromMilli(11000));
}

TEST(ImageBasePriceTest, MonotonicInStepsAndPixels) {
    Kudos previous;
    for (int steps = 1; steps <= 150; ++steps) {
        const Kudos price = ImageBasePrice(Shape(512, 512, steps, "k_euler"));
        EXPECT_GT(price, previous) << steps;
        previous = price;
    }
    previous = Kudos();
    for (int side = 64; side <= 3072; side += 64) {
        const Kudos price = ImageBasePrice(Shape(side, side, 30, "k_euler"));
        EXPECT_GT(price, previous) << side;
        previous = price;
    }
    EXPECT_LT(ImageBasePrice(Shape(512, 512, 30, "k_euler")),
              ImageBasePrice(Shape(768, 512, 30, "k_euler")));
}

// ---- Job TTL ------------------------------------------------------------------------------------

TEST(ImageJobTtlTest, FormulaFloorAndMultipliers) {
    // 30 + 30 × 2 × 1 = 90 → floor 150; extra-slow ×3 = 450.
    EXPECT_EQ(ImageJobTtlSeconds(ImageShape{}, false, false), 150);
    EXPECT_EQ(ImageJobTtlSeconds(ImageShape{}, false, true), 450);
    // Heavy: 90 × 3 = 270; extra-slow 810.
    EXPECT_EQ(ImageJobTtlSeconds(ImageShape{}, true, false), 270);
    EXPECT_EQ(ImageJobTtlSeconds(ImageShape{}, true, true), 810);
    ImageShape big = Shape(1024, 1024, 50, "k_euler");
    EXPECT_EQ(ImageJobTtlSeconds(big, false, false), 430);  // 30 + 50 × 2 × 4
    big.control_type = "canny";
    EXPECT_EQ(ImageJobTtlSeconds(big, false, false), 860);  // × 2
    EXPECT_EQ(ImageJobTtlSeconds(big, true, true), 7740);   // × 3 × 3
    // k_heun 25 = 50 accurate steps at mp 1.5: 30 + 50 × 2 × 1.5 = 180.
    EXPECT_EQ(ImageJobTtlSeconds(Shape(768, 512, 25, "k_heun"), false, false), 180);
    EXPECT_EQ(kTextJobTtlSeconds, 150);
}

// ---- Baselines and multipliers ------------------------------------------------------------------

TEST(ImageModelBaselineTest, TableAndHeuristics) {
    EXPECT_EQ(ImageModelBaseline("stable_diffusion"), kBaselineSd1);
    EXPECT_EQ(ImageModelBaseline("Deliberate"), kBaselineSd1);
    EXPECT_EQ(ImageModelBaseline("stable_diffusion_2.1"), kBaselineSd2);
    EXPECT_EQ(ImageModelBaseline("AlbedoBase XL (SDXL)"), kBaselineSdxl);
    EXPECT_EQ(ImageModelBaseline("SDXL 1.0"), kBaselineSdxl);
    EXPECT_EQ(ImageModelBaseline("Flux.1-Schnell fp8 (Compact)"), kBaselineFlux);
    EXPECT_EQ(ImageModelBaseline("Stable Cascade 1.0"), kBaselineCascade);
    // Heuristics for names not in the table.
    EXPECT_EQ(ImageModelBaseline("My Custom XL Merge"), kBaselineSdxl);
    EXPECT_EQ(ImageModelBaseline("some-sdxl-turbo"), kBaselineSdxl);
    EXPECT_EQ(ImageModelBaseline("FLUX.1 [dev] finetune"), kBaselineFlux);
    EXPECT_EQ(ImageModelBaseline("Qwen Image Edit"), kBaselineQwen);
    EXPECT_EQ(ImageModelBaseline("Pixel Art Diffusion"), kBaselineSd1);  // "xel" is not "XL"
    EXPECT_EQ(ImageModelBaseline(""), kBaselineSd1);
    EXPECT_TRUE(IsHeavyModelFamily(kBaselineFlux));
    EXPECT_TRUE(IsHeavyModelFamily(kBaselineQwen));
    EXPECT_TRUE(IsHeavyModelFamily(kBaselineZImage));
    EXPECT_FALSE(IsHeavyModelFamily(kBaselineSdxl));
}

TEST(MultiplierTest, RewardByBaseline) {
    ImageShape plain;
    ImageShape qr;
    qr.workflow = "qr_code";
    ImageShape hires;
    hires.hires_fix = true;
    EXPECT_EQ(BaselineRewardMultiplier(kBaselineSd1, plain), 1.0);
    EXPECT_EQ(BaselineRewardMultiplier(kBaselineSd2, plain), 1.0);
    EXPECT_EQ(BaselineRewardMultiplier(kBaselineSdxl, plain), 2.0);
    EXPECT_EQ(BaselineRewardMultiplier(kBaselineSdxl, qr), 4.0);
    EXPECT_EQ(BaselineRewardMultiplier(kBaselineCascade, plain), 4.0);
    EXPECT_EQ(BaselineRewardMultiplier(kBaselineCascade, hires), 7.0);
    EXPECT_EQ(BaselineRewardMultiplier(kBaselineFlux, plain), 8.0);
    EXPECT_EQ(BaselineRewardMultiplier(kBaselineZImage, plain), 8.0);
    EXPECT_EQ(BaselineRewardMultiplier(kBaselineQwen, plain), 12.0);
    EXPECT_EQ(BaselineRewardMultiplier(kBaselineSd1, hires),
              1.0);  // hires only matters for Cascade
}

TEST(MultiplierTest, EstimateByFamily) {
    EXPECT_EQ(FamilyEstimateMultiplier(kBaselineSd1), 1.0);
    EXPECT_EQ(FamilyEstimateMultiplier(kBaselineSdxl), 2.0);
    EXPECT_EQ(FamilyEstimateMultiplier(kBaselineCascade), 4.0);
    EXPECT_EQ(FamilyEstimateMultiplier(kBaselineFlux), 8.0);
    EXPECT_EQ(FamilyEstimateMultiplier(kBaselineZImage), 8.0);
    EXPECT_EQ(FamilyEstimateMultiplier(kBaselineQwen), 12.0);
}

TEST(MultiplierTest, Bridge) {
    EXPECT_EQ(BridgeRewardMultiplier("AI Horde Worker reGen", 13), 1.0);
    EXPECT_EQ(BridgeRewardMultiplier("AI Horde Worker reGen", 14), 1.0);
    EXPECT_EQ(BridgeRewardMultiplier("AI Horde Worker reGen", 9), 0.9);
    EXPECT_EQ(BridgeRewardMultiplier("AI Horde Worker", 24), 1.0);
    EXPECT_EQ(BridgeRewardMultiplier("AI Horde Worker", 23), 0.9);
    EXPECT_EQ(BridgeRewardMultiplier("Horde Worker", 1), 1.0);
    EXPECT_EQ(BridgeRewardMultiplier("SD-WebUI Stable Horde Worker Bridge", 5), 0.75);
    EXPECT_EQ(BridgeRewardMultiplier("unknown", 0), 0.75);
}

// ---- Requester charges and estimates ------------------------------------------------------------

TEST(ImageJobChargeTest, Burn) {
    const std::vector<std::string> none;
    // (7.61 + 1) = 8.61.
    EXPECT_EQ(ImageJobCharge(Kudos::FromMilli(7610), false, none, true, false, false),
              Kudos::FromMilli(8610));
    // 10 × 1.3 = 13; × 1.05 (upscaler; GFPGAN ×1) = 13.65; + 1 = 14.65; × 1.2 = 17.58;
    // × 1.1 = 19.338 → 19.34.
    EXPECT_EQ(ImageJobCharge(Kudos::FromWhole(10), true, {"RealESRGAN_x4plus", "GFPGAN"}, false,
                             true, false),
              Kudos::FromMilli(19340));
    // Two upscalers: 20 × 1.05 × 1.05 = 22.05; + 1 = 23.05.
    EXPECT_EQ(ImageJobCharge(Kudos::FromWhole(20), false, {"RealESRGAN_x4plus", "4x_AnimeSharp"},
                             true, false, false),
              Kudos::FromMilli(23050));
    // Censored: burn(0) = (0 + 1) × 1.2 = 1.20.
    EXPECT_EQ(ImageJobCharge(Kudos::FromWhole(10), true, none, false, false, true),
              Kudos::FromMilli(1200));
}

TEST(ImageEstimateTest, BurnTimesJobsTimesFamilyPlusOne) {
    const std::vector<std::string> none;
    // burn(7.61) = 8.61; × 4 jobs × 2 (SDXL) = 68.88; + 1 = 69.88.
    EXPECT_EQ(ImageEstimate(Kudos::FromMilli(7610), 4, 2.0, false, none, true, false),
              Kudos::FromMilli(69880));
    // burn(7.61) with fast workers = 8.61 × 1.2 = 10.332; + 1 = 11.332 → 11.33.
    EXPECT_EQ(ImageEstimate(Kudos::FromMilli(7610), 1, 1.0, false, none, false, false),
              Kudos::FromMilli(11330));
}

TEST(ActivationTaxTest, ExtrasAndForeignStyle) {
    EXPECT_EQ(ActivationTax(0, false), Kudos::FromWhole(1));
    EXPECT_EQ(ActivationTax(0, true), Kudos::FromWhole(3));   // 1 + 2
    EXPECT_EQ(ActivationTax(2, true), Kudos::FromWhole(13));  // 1 + 5 × 2 + 2
}

// ---- Upfront
// --------------------------------------------------------------------------------------

TEST(UpfrontTest, ImageMaxResolution) {
    EXPECT_EQ(ImageMaxResolution(0, 0, kBaselineSd1), 1024);
    EXPECT_EQ(ImageMaxResolution(10, 0, kBaselineSd1), 1024);   // 1124 capped at 1024
    EXPECT_EQ(ImageMaxResolution(0, 100, kBaselineSd1), 934);   // 1024 − 90
    EXPECT_EQ(ImageMaxResolution(0, 5, kBaselineSd1), 1020);    // round(4.5) = 4 (half to even)
    EXPECT_EQ(ImageMaxResolution(0, 15, kBaselineSd1), 1010);   // round(13.5) = 14
    EXPECT_EQ(ImageMaxResolution(0, 1000, kBaselineSd1), 576);  // 124 → floor 576
    EXPECT_EQ(ImageMaxResolution(0, 1000, kBaselineSd2), 768);
    EXPECT_EQ(ImageMaxResolution(0, 1000, kBaselineSdxl), 1024);
    EXPECT_EQ(ImageMaxResolution(0, 1000, kBaselineCascade), 1024);
    EXPECT_EQ(ImageMaxResolution(0, 1000, kBaselineFlux), 1024);
}

TEST(UpfrontTest, ImageNeedsUpfront) {
    const ImageShape plain;  // 512², 30 k_euler_a steps
    EXPECT_FALSE(ImageNeedsUpfront(plain, true, kDefaultModelMaxSteps, 1024));
    EXPECT_TRUE(ImageNeedsUpfront(plain, false, kDefaultModelMaxSteps, 1024));  // fast workers
    // Steps: 50 > 40; k_heun 25 = 50 accurate > 40 but ≤ a model's 60.
    EXPECT_TRUE(ImageNeedsUpfront(Shape(512, 512, 50, "k_euler"), true, 40, 1024));
    EXPECT_TRUE(ImageNeedsUpfront(Shape(512, 512, 25, "k_heun"), true, 40, 1024));
    EXPECT_FALSE(ImageNeedsUpfront(Shape(512, 512, 25, "k_heun"), true, 60, 1024));
    // LCM: > 10 accurate steps.
    EXPECT_TRUE(ImageNeedsUpfront(Shape(512, 512, 12, "lcm"), true, 40, 1024));
    EXPECT_FALSE(ImageNeedsUpfront(Shape(512, 512, 8, "lcm"), true, 40, 1024));
    EXPECT_TRUE(ImageNeedsUpfront(Shape(512, 512, 12, "k_euler_a"), true, 40, 1024, true));
    // Resolution: 1024² > 1020².
    EXPECT_TRUE(ImageNeedsUpfront(Shape(1024, 1024, 30, "k_euler_a"), true, 40, 1020));
    EXPECT_FALSE(ImageNeedsUpfront(Shape(1024, 1024, 30, "k_euler_a"), true, 40, 1024));
    // ControlNet: > 20 accurate steps.
    ImageShape control = Shape(512, 512, 25, "k_euler");
    control.control_type = "canny";
    EXPECT_TRUE(ImageNeedsUpfront(control, true, 40, 1024));
    control.steps = 20;
    EXPECT_FALSE(ImageNeedsUpfront(control, true, 40, 1024));
}

TEST(UpfrontTest, Text) {
    EXPECT_EQ(TextMaxTokens(0, 0), 512);
    EXPECT_EQ(TextMaxTokens(20, 0), 512);   // 612 capped
    EXPECT_EQ(TextMaxTokens(0, 100), 422);  // 512 − 90
    EXPECT_EQ(TextMaxTokens(0, 400), 256);  // 152 → floor 256
    EXPECT_FALSE(TextNeedsUpfront(true, 512, 0, 0));
    EXPECT_TRUE(TextNeedsUpfront(true, 513, 0, 0));
    EXPECT_TRUE(TextNeedsUpfront(false, 80, 0, 0));
    EXPECT_TRUE(TextNeedsUpfront(true, 450, 0, 100));  // 450 > 422
    EXPECT_FALSE(TextNeedsUpfront(true, 400, 0, 100));
}

// ---- Text pricing
// -----------------------------------------------------------------------------------

TEST(TextModelParamsTest, ParsesSizesFromNames) {
    EXPECT_EQ(TextModelParamsBillions("koboldcpp/LLaMA2-13B-Tiefighter"), 13.0);
    EXPECT_EQ(TextModelParamsBillions("aphrodite/NousResearch/Hermes-3-Llama-3.1-8B"), 8.0);
    EXPECT_EQ(TextModelParamsBillions("mistralai/Mixtral-8x7B-Instruct-v0.1"), 56.0);
    EXPECT_EQ(TextModelParamsBillions("Qwen/Qwen2.5-0.5B-Instruct"), 0.5);
    EXPECT_EQ(TextModelParamsBillions("Qwen2.5-1.5B"), 1.5);
    EXPECT_EQ(TextModelParamsBillions("meta-llama/Llama-3.3-70B-Instruct::my-alias"), 70.0);
    EXPECT_EQ(TextModelParamsBillions("TheBloke/Llama-2-7b-chat-Q4_K_M"), 7.0);
    EXPECT_EQ(TextModelParamsBillions("Llama-2-13b-chat.Q4_K_M.gguf"), 13.0);
    EXPECT_EQ(TextModelParamsBillions("llama3.1:8b"), 8.0);
    EXPECT_EQ(TextModelParamsBillions("Qwen3-30B-A3B"), 30.0);
    EXPECT_EQ(TextModelParamsBillions("facebook/opt-350m"), 0.35);
    EXPECT_EQ(TextModelParamsBillions("Mistral-Nemo::13B"), std::nullopt);  // alias ignored
    EXPECT_EQ(TextModelParamsBillions("Phi-3.5-mini-instruct"), std::nullopt);
    EXPECT_EQ(TextModelParamsBillions("some-model-4bit"), std::nullopt);
    EXPECT_EQ(TextModelParamsBillions("mystery-Q8_0"), std::nullopt);
}

TEST(TextPricingTest, ContextAndBonus) {
    EXPECT_DOUBLE_EQ(TextContextMultiplier(1024), 2.2);       // 1.2 + 2.2^0
    EXPECT_DOUBLE_EQ(TextContextMultiplier(2048), 3.4);       // 1.2 + 2.2^1
    EXPECT_NEAR(TextContextMultiplier(4096), 6.04, 1e-12);    // 1.2 + 2.2^2
    EXPECT_NEAR(TextContextMultiplier(512), 1.654545, 1e-6);  // 1.2 + 1/2.2
    EXPECT_DOUBLE_EQ(TextContextMultiplier(1 << 30), 30.0);   // clamped
    EXPECT_DOUBLE_EQ(TextSizeBonus(7), 1.0);
    EXPECT_DOUBLE_EQ(TextSizeBonus(13), 1.0);
    EXPECT_NEAR(TextSizeBonus(70), 1.400332, 1e-6);  // (70/13)^0.2
}

TEST(TextPricingTest, JobReward) {
    // P 13, 400 chars → 100 tokens; prompt 4096 chars → 1024 tokens, ctx 2.2 (not capped by
    // max_length 200: our fix). k = 100 × 1 × 13 / 125 = 10.4; R = 10.4 × 2.2 = 22.88.
    EXPECT_EQ(TextJobReward(13.0, 400, 4096, 200, true, false), Kudos::FromMilli(22880));
    // Unvalidated backend: 10.4 × 0.3 × 2.2 = 6.864 → 6.86.
    EXPECT_EQ(TextJobReward(13.0, 400, 4096, 200, false, false), Kudos::FromMilli(6860));
    // Floor of 20 tokens (10 chars → 3): P 7, k = 20 × 7 / 125 = 1.12; prompt 8192 chars →
    // ctx(2048) 3.4; R = 3.808 → 3.81.
    EXPECT_EQ(TextJobReward(7.0, 10, 8192, 80, true, false), Kudos::FromMilli(3810));
    // Cap at max_length: 1000 chars → 250 tokens, capped 80; 80 × 13 / 125 = 8.32 × 2.2 = 18.30.
    EXPECT_EQ(TextJobReward(13.0, 1000, 4096, 80, true, false), Kudos::FromMilli(18300));
    // Big model: 100 × 1.400332 × 70 / 125 = 78.4186; × 2.2 = 172.52.
    EXPECT_EQ(TextJobReward(70.0, 400, 4096, 200, true, false), Kudos::FromMilli(172520));
    // Unknown model: untrusted owner gets ctx = 2.20; trusted gets 100 × 2.2 × 0.027 = 5.94.
    EXPECT_EQ(TextJobReward(std::nullopt, 400, 4096, 200, true, false), Kudos::FromMilli(2200));
    EXPECT_EQ(TextJobReward(std::nullopt, 400, 4096, 200, true, true), Kudos::FromMilli(5940));
}

TEST(TextPricingTest, ChargeEstimateAndUpfront) {
    EXPECT_EQ(TextJobCharge(Kudos::FromMilli(5940), false), Kudos::FromMilli(6940));
    EXPECT_EQ(TextJobCharge(Kudos::FromMilli(5940), true), Kudos::FromWhole(1));
    // P 13: 80 × 1 × 13 × ctx(2048) 3.4 / 100 = 35.36; + 1 = 36.36; × 2 + 1 = 73.72.
    EXPECT_EQ(TextPerJobBase(13.0, false, 80, 2048), Kudos::FromMilli(36360));
    EXPECT_EQ(TextEstimate(13.0, false, 80, 2048, 2), Kudos::FromMilli(73720));
    // P 7 (no bonus below 13): 80 × 7 × 3.4 / 100 = 19.04; + 1 = 20.04.
    EXPECT_EQ(TextPerJobBase(7.0, false, 80, 2048), Kudos::FromMilli(20040));
    // No models or unknown first model: 100 × 13 × 2.2 / 100 = 28.6; + 1 = 29.6; × 3 + 1 = 89.8.
    EXPECT_EQ(TextPerJobBase(std::nullopt, true, 100, 1024), Kudos::FromMilli(29600));
    EXPECT_EQ(TextPerJobBase(13.0, true, 100, 1024), Kudos::FromMilli(29600));
    EXPECT_EQ(TextEstimate(std::nullopt, false, 100, 1024, 3), Kudos::FromMilli(89800));
    // Upfront: 512 × 13 / 21 = 316.952 → 316.95; × 2 = 633.90. None: 20 × 3 = 60.
    EXPECT_EQ(TextUpfrontAmount(13.0, 512, 2), Kudos::FromMilli(633900));
    EXPECT_EQ(TextUpfrontAmount(std::nullopt, 512, 3), Kudos::FromWhole(60));
}

}  // namespace
}  // namespace horde::domain
