#include "protocol/generate_input.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

namespace horde::protocol {
namespace {

namespace json = boost::json;
using namespace std::string_literals;

constexpr std::string_view kUuid1 = "11111111-2222-3333-4444-555555555555";
constexpr std::string_view kUuid2 = "21111111-2222-3333-4444-555555555555";
constexpr std::string_view kUuid3 = "31111111-2222-3333-4444-555555555555";
constexpr std::string_view kUuid4 = "41111111-2222-3333-4444-555555555555";
constexpr std::string_view kUuid5 = "51111111-2222-3333-4444-555555555555";
constexpr std::string_view kUuid6 = "61111111-2222-3333-4444-555555555555";

/// An image body {"prompt": "a cat", "params": {<params>}, <extra>}.
std::string ImageBody(std::string_view params, std::string_view extra = "") {
    std::string body = R"({"prompt": "a cat", "params": {)" + std::string(params) + "}";
    if (!extra.empty()) {
        body += ", " + std::string(extra);
    }
    return body + "}";
}

json::object ParamsOf(const GenerateInput& in) {
    return json::parse(in.request.params_json.view()).as_object();
}

void ExpectCode(const Result<GenerateInput>& result, ErrorCode code) {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, code) << result.error().message;
}

void ExpectInvalid(const Result<GenerateInput>& result, std::string_view field) {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, ErrorCode::kValidationFailed);
    EXPECT_EQ(result.error().field, field) << result.error().message;
    EXPECT_FALSE(result.error().message.empty());
}

GenerateInput ImageOk(std::string_view body) {
    auto result = DecodeImageGenerate(body);
    EXPECT_TRUE(result.has_value())
        << body << " -> " << result.error().message << " " << result.error().field;
    return result.has_value() ? std::move(result).value() : GenerateInput{};
}

GenerateInput TextOk(std::string_view body) {
    auto result = DecodeTextGenerate(body);
    EXPECT_TRUE(result.has_value())
        << body << " -> " << result.error().message << " " << result.error().field;
    return result.has_value() ? std::move(result).value() : GenerateInput{};
}

std::string Repeat(std::string_view unit, size_t count, std::string_view separator = "") {
    std::string out;
    for (size_t i = 0; i < count; ++i) {
        if (i > 0) {
            out += separator;
        }
        out += unit;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Image: defaults.

TEST(ImageGenerate, MinimalBodyGetsEveryDefault) {
    const GenerateInput in = ImageOk(R"({"prompt": "a cat"})");
    const domain::Request& r = in.request;
    EXPECT_EQ(r.kind, domain::GenKind::kImage);
    EXPECT_EQ(r.prompt, "a cat");
    EXPECT_EQ(r.models, std::vector<std::string>{"stable_diffusion"});
    EXPECT_TRUE(r.workers.empty());
    EXPECT_FALSE(r.worker_blacklist);
    EXPECT_TRUE(r.nsfw);
    EXPECT_TRUE(r.censor_nsfw);
    EXPECT_FALSE(r.trusted_workers);
    EXPECT_FALSE(r.validated_backends);
    EXPECT_TRUE(r.slow_workers);
    EXPECT_FALSE(r.extra_slow_workers);
    EXPECT_TRUE(r.r2);
    EXPECT_FALSE(r.shared);
    EXPECT_FALSE(r.disable_batching);
    EXPECT_EQ(r.webhook, "");
    EXPECT_EQ(r.seed, "");
    EXPECT_FALSE(r.seed_variation.has_value());
    EXPECT_EQ(r.jobs, 1);
    EXPECT_EQ(r.n, 1);
    EXPECT_EQ(r.things, 512 * 512 * 30);
    EXPECT_FALSE(in.dry_run);
    EXPECT_FALSE(in.allow_downgrade);
    EXPECT_TRUE(in.replacement_filter);
    EXPECT_EQ(in.source_image, "");
    EXPECT_EQ(in.source_mask, "");
    EXPECT_TRUE(in.extra_source_images.empty());
    EXPECT_EQ(in.style, "");
    EXPECT_EQ(in.proxied_account, "");

    const domain::ImageShape& s = r.image;
    EXPECT_EQ(s.width, 512);
    EXPECT_EQ(s.height, 512);
    EXPECT_EQ(s.steps, 30);
    EXPECT_DOUBLE_EQ(s.cfg_scale, 5.0);
    EXPECT_EQ(s.sampler_name, "k_euler_a");
    EXPECT_TRUE(s.karras);
    EXPECT_FALSE(s.hires_fix);
    EXPECT_FALSE(s.tiling);
    EXPECT_FALSE(s.transparent);
    EXPECT_FALSE(s.image_is_control);
    EXPECT_FALSE(s.return_control_map);
    EXPECT_FALSE(s.denoising_strength.has_value());
    EXPECT_EQ(s.clip_skip, 1);
    EXPECT_EQ(s.control_type, "");
    EXPECT_EQ(s.workflow, "");
    EXPECT_TRUE(s.post_processing.empty());
    EXPECT_EQ(s.lora_count, 0);
    EXPECT_FALSE(s.lora_versions);
    EXPECT_EQ(s.ti_count, 0);
    EXPECT_FALSE(s.has_source_image);
    EXPECT_FALSE(s.has_source_mask);
    EXPECT_EQ(s.source_processing, "img2img");
    EXPECT_EQ(s.extra_source_images, 0);

    const json::value expected = json::parse(R"({
        "sampler_name": "k_euler_a", "cfg_scale": 5.0, "height": 512, "width": 512,
        "post_processing": [], "karras": true, "tiling": false, "hires_fix": false,
        "image_is_control": false, "return_control_map": false, "transparent": false,
        "steps": 30})");
    EXPECT_EQ(json::value(ParamsOf(in)), expected) << r.params_json;
}

TEST(ImageGenerate, NullParamsAndNullFieldsMeanDefaults) {
    const GenerateInput in = ImageOk(
        R"({"prompt": "a cat", "params": null, "nsfw": null, "models": null, "workers": null})");
    EXPECT_TRUE(in.request.nsfw);
    EXPECT_EQ(in.request.models, std::vector<std::string>{"stable_diffusion"});
    EXPECT_EQ(in.request.image.steps, 30);
}

TEST(ImageGenerate, EveryTopLevelFlagCanBeSet) {
    const GenerateInput in = ImageOk(R"({"prompt": "p", "nsfw": false, "censor_nsfw": false,
        "trusted_workers": true, "validated_backends": true, "slow_workers": false,
        "extra_slow_workers": true, "worker_blacklist": true, "r2": false, "shared": true,
        "disable_batching": true, "dry_run": true, "allow_downgrade": true,
        "replacement_filter": false, "style": "abc", "proxied_account": "someone"})");
    const domain::Request& r = in.request;
    EXPECT_FALSE(r.nsfw);
    EXPECT_FALSE(r.censor_nsfw);
    EXPECT_TRUE(r.trusted_workers);
    EXPECT_TRUE(r.validated_backends);
    EXPECT_FALSE(r.slow_workers);
    EXPECT_TRUE(r.extra_slow_workers);
    EXPECT_TRUE(r.worker_blacklist);
    EXPECT_FALSE(r.r2);
    EXPECT_TRUE(r.shared);
    EXPECT_TRUE(r.disable_batching);
    EXPECT_TRUE(in.dry_run);
    EXPECT_TRUE(in.allow_downgrade);
    EXPECT_FALSE(in.replacement_filter);
    EXPECT_EQ(in.style, "abc");
    EXPECT_EQ(in.proxied_account, "someone");
}

TEST(ImageGenerate, WrongTypesForTopLevelFieldsAreValidationErrors) {
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "nsfw": "yes"})"), "nsfw");
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "r2": 1})"), "r2");
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "models": "sd"})"), "models");
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "models": [1]})"), "models[0]");
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "params": "x"})"), "params");
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "params": []})"), "params");
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": 5})"), "prompt");
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "source_image": 5})"), "source_image");
}

TEST(ImageGenerate, MalformedAndNulBodies) {
    ExpectCode(DecodeImageGenerate("{\"prompt\": "), ErrorCode::kBadRequest);
    ExpectCode(DecodeImageGenerate("[]"), ErrorCode::kBadRequest);
    ExpectCode(DecodeImageGenerate("{\"prompt\": \"a\0b\"}"s), ErrorCode::kNulByteInPayload);
    ExpectCode(DecodeImageGenerate(R"({"prompt": "a\u0000b"})"), ErrorCode::kNulByteInPayload);
    ExpectCode(DecodeImageGenerate(R"({"prompt": "a", "params": {"seed": "\u0000"}})"),
               ErrorCode::kNulByteInPayload);
}

// ---------------------------------------------------------------------------------------------
// Image: prompt, models, workers, webhook.

TEST(ImageGenerate, PromptMissingOrBlankIsMissingPrompt) {
    ExpectCode(DecodeImageGenerate(R"({})"), ErrorCode::kMissingPrompt);
    ExpectCode(DecodeImageGenerate(R"({"prompt": null})"), ErrorCode::kMissingPrompt);
    ExpectCode(DecodeImageGenerate(R"({"prompt": ""})"), ErrorCode::kMissingPrompt);
    ExpectCode(DecodeImageGenerate(R"({"prompt": "  \n\t "})"), ErrorCode::kMissingPrompt);
}

TEST(ImageGenerate, PromptWordLimit) {
    const std::string at_limit = Repeat("w", 7500, " ");
    const std::string over = Repeat("w", 7501, "  \\n");
    EXPECT_EQ(ImageOk(R"({"prompt": ")" + at_limit + R"("})").request.prompt, at_limit);
    ExpectCode(DecodeImageGenerate(R"({"prompt": ")" + over + R"("})"),
               ErrorCode::kInvalidPromptSize);
}

TEST(ImageGenerate, PromptKeptVerbatimWithNegative) {
    EXPECT_EQ(ImageOk(R"({"prompt": " a cat ### dog "})").request.prompt, " a cat ### dog ");
}

TEST(ImageGenerate, ModelsEmptyMeansAny) {
    EXPECT_TRUE(ImageOk(R"({"prompt": "p", "models": []})").request.models.empty());
    EXPECT_EQ(ImageOk(R"({"prompt": "p", "models": ["a", "b"]})").request.models,
              (std::vector<std::string>{"a", "b"}));
}

TEST(ImageGenerate, ModelLimits) {
    const std::string name255(255, 'm');
    const std::string name256(256, 'm');
    EXPECT_EQ(ImageOk(R"({"prompt": "p", "models": [")" + name255 + R"("]})").request.models[0],
              name255);
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "models": [")" + name256 + R"("]})"),
                  "models[0]");
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "models": [""]})"), "models[0]");
    const std::string two_hundred = "[" + Repeat(R"("m")", 200, ",") + "]";
    const std::string two_hundred_one = "[" + Repeat(R"("m")", 201, ",") + "]";
    EXPECT_EQ(ImageOk(R"({"prompt": "p", "models": )" + two_hundred + "}").request.models.size(),
              200U);
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "models": )" + two_hundred_one + "}"),
                  "models");
}

TEST(ImageGenerate, WorkersKeepFirstFiveLowercased) {
    const std::string body = R"({"prompt": "p", "workers": [")" + std::string(kUuid1) +
                             R"(", "", ")" + std::string(kUuid2) + R"(", ")" + std::string(kUuid3) +
                             R"(", ")" + std::string(kUuid4) + R"(", ")" +
                             "51111111-2222-3333-4444-AAAAAAAAAAAA" + R"(", ")" +
                             std::string(kUuid6) + R"(", "not-a-uuid"]})";
    const GenerateInput in = ImageOk(body);
    ASSERT_EQ(in.request.workers.size(), 5U);
    EXPECT_EQ(in.request.workers[0].value(), kUuid1);
    EXPECT_EQ(in.request.workers[3].value(), kUuid4);
    EXPECT_EQ(in.request.workers[4].value(), "51111111-2222-3333-4444-aaaaaaaaaaaa");
    (void)kUuid5;
}

TEST(ImageGenerate, WorkersMustBeUuids) {
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "workers": ["worker-name"]})"),
                  "workers[0]");
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "workers": [5]})"), "workers[0]");
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "workers": "x"})"), "workers");
}

TEST(ImageGenerate, WebhookLimits) {
    EXPECT_EQ(ImageOk(R"({"prompt": "p", "webhook": "https://a."})").request.webhook,
              "https://a.");  // 10 characters
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "webhook": "https://a"})"), "webhook");
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "webhook": "http://example.com/x"})"),
                  "webhook");
    const std::string at_max = "https://" + std::string(1016, 'a');
    const std::string over_max = at_max + "a";
    EXPECT_EQ(ImageOk(R"({"prompt": "p", "webhook": ")" + at_max + R"("})").request.webhook,
              at_max);
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "webhook": ")" + over_max + R"("})"),
                  "webhook");
    EXPECT_EQ(ImageOk(R"({"prompt": "p", "webhook": ""})").request.webhook, "");
}

TEST(ImageGenerate, StyleLimits) {
    EXPECT_EQ(ImageOk(R"({"prompt": "p", "style": ""})").style, "");
    ExpectInvalid(DecodeImageGenerate(R"({"prompt": "p", "style": "ab"})"), "style");
}

// ---------------------------------------------------------------------------------------------
// Image params: scalars.

TEST(ImageParams, EverySamplerIsAccepted) {
    for (const std::string_view sampler :
         {"k_lms", "k_heun", "k_euler", "k_euler_a", "k_dpm_2", "k_dpm_2_a", "k_dpm_fast",
          "k_dpm_adaptive", "k_dpmpp_2s_a", "k_dpmpp_2m", "dpmsolver", "k_dpmpp_sde", "DDIM",
          "lcm"}) {
        const GenerateInput in =
            ImageOk(ImageBody(R"("sampler_name": ")" + std::string(sampler) + "\""));
        EXPECT_EQ(in.request.image.sampler_name, sampler);
        EXPECT_EQ(ParamsOf(in).at("sampler_name").as_string(), sampler);
    }
    EXPECT_EQ(ImageOk(ImageBody(R"("sampler_name": "")")).request.image.sampler_name, "k_euler_a");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("sampler_name": "k_bogus")")),
                  "params.sampler_name");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("sampler_name": 3)")), "params.sampler_name");
}

TEST(ImageParams, CfgScaleRangeAndDecimals) {
    EXPECT_DOUBLE_EQ(ImageOk(ImageBody(R"("cfg_scale": 0)")).request.image.cfg_scale, 0.0);
    EXPECT_DOUBLE_EQ(ImageOk(ImageBody(R"("cfg_scale": 100)")).request.image.cfg_scale, 100.0);
    EXPECT_DOUBLE_EQ(ImageOk(ImageBody(R"("cfg_scale": 7.25)")).request.image.cfg_scale, 7.25);
    EXPECT_DOUBLE_EQ(ImageOk(ImageBody(R"("cfg_scale": 7.1)")).request.image.cfg_scale, 7.1);
    EXPECT_DOUBLE_EQ(ImageOk(ImageBody(R"("cfg_scale": 0.29)")).request.image.cfg_scale, 0.29);
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("cfg_scale": -0.01)")), "params.cfg_scale");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("cfg_scale": 100.01)")), "params.cfg_scale");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("cfg_scale": "7")")), "params.cfg_scale");
    ExpectCode(DecodeImageGenerate(ImageBody(R"("cfg_scale": 7.125)")), ErrorCode::kBadCfgDecimals);
    ExpectCode(DecodeImageGenerate(ImageBody(R"("cfg_scale": 0.001)")), ErrorCode::kBadCfgDecimals);
}

TEST(ImageParams, WidthAndHeightLimits) {
    for (const std::string_view side : {"width", "height"}) {
        const std::string key = "\"" + std::string(side) + "\": ";
        const std::string field = "params." + std::string(side);
        EXPECT_TRUE(DecodeImageGenerate(ImageBody(key + "64")).has_value());
        EXPECT_TRUE(DecodeImageGenerate(ImageBody(key + "3072")).has_value());
        EXPECT_TRUE(DecodeImageGenerate(ImageBody(key + "1024.0")).has_value());
        ExpectInvalid(DecodeImageGenerate(ImageBody(key + "0")), field);
        ExpectInvalid(DecodeImageGenerate(ImageBody(key + "63")), field);
        ExpectInvalid(DecodeImageGenerate(ImageBody(key + "3136")), field);
        ExpectInvalid(DecodeImageGenerate(ImageBody(key + "100")), field);
        ExpectInvalid(DecodeImageGenerate(ImageBody(key + "\"512\"")), field);
    }
    const GenerateInput in = ImageOk(ImageBody(R"("width": 1024, "height": 768)"));
    EXPECT_EQ(in.request.image.width, 1024);
    EXPECT_EQ(in.request.image.height, 768);
    EXPECT_EQ(in.request.things, 1024 * 768 * 30);
    EXPECT_EQ(ParamsOf(in).at("width").as_int64(), 1024);
}

TEST(ImageParams, StepsLimitsAndDefaults) {
    EXPECT_EQ(ImageOk(ImageBody(R"("steps": 1)")).request.image.steps, 1);
    EXPECT_EQ(ImageOk(ImageBody(R"("steps": 500)")).request.image.steps, 500);
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("steps": 0)")), "params.steps");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("steps": 501)")), "params.steps");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("steps": "30")")), "params.steps");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("steps": 30.5)")), "params.steps");
    auto bad = DecodeImageGenerate(ImageBody(R"("steps": 501)"));
    EXPECT_EQ(bad.error().message, "'steps' must be an integer between 1 and 500");
}

TEST(ImageParams, ControlNetStepsDefaultAndCap) {
    const std::string source = R"("source_image": "aGVsbG8=")";
    const GenerateInput by_default = ImageOk(ImageBody(R"("control_type": "canny")", source));
    EXPECT_EQ(by_default.request.image.steps, 20);
    EXPECT_EQ(ParamsOf(by_default).at("steps").as_int64(), 20);
    const GenerateInput capped =
        ImageOk(ImageBody(R"("control_type": "canny", "steps": 50)", source));
    EXPECT_EQ(capped.request.image.steps, 40);
    EXPECT_EQ(capped.request.things, 512 * 512 * 40);
    EXPECT_EQ(
        ImageOk(ImageBody(R"("control_type": "depth", "steps": 35)", source)).request.image.steps,
        35);
    EXPECT_EQ(ImageOk(ImageBody(R"("control_type": "", "steps": 50)")).request.image.steps, 50);
}

TEST(ImageParams, NLimitsAndNotInParams) {
    const GenerateInput four = ImageOk(ImageBody(R"("n": 4)"));
    EXPECT_EQ(four.request.jobs, 4);
    EXPECT_EQ(four.request.n, 4);
    EXPECT_FALSE(ParamsOf(four).contains("n"));
    EXPECT_EQ(ImageOk(ImageBody(R"("n": 1)")).request.n, 1);
    EXPECT_EQ(ImageOk(ImageBody(R"("n": 20)")).request.n, 20);
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("n": 0)")), "params.n");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("n": 21)")), "params.n");
}

TEST(ImageParams, Seed) {
    const GenerateInput empty = ImageOk(ImageBody(R"("seed": "")"));
    EXPECT_EQ(empty.request.seed, "");
    EXPECT_FALSE(ParamsOf(empty).contains("seed"));
    const GenerateInput text = ImageOk(ImageBody(R"("seed": "the little seed")"));
    EXPECT_EQ(text.request.seed, "the little seed");
    EXPECT_EQ(ParamsOf(text).at("seed").as_string(), "the little seed");
    EXPECT_EQ(ImageOk(ImageBody(R"("seed": 1234)")).request.seed, "1234");
    EXPECT_EQ(ImageOk(ImageBody(R"("seed": -5)")).request.seed, "-5");
    EXPECT_EQ(ImageOk(ImageBody(R"("seed": 42.0)")).request.seed, "42");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("seed": 1.5)")), "params.seed");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("seed": true)")), "params.seed");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("seed": ["1"])")), "params.seed");
    const std::string at_max(1024, '7');
    EXPECT_EQ(ImageOk(ImageBody(R"("seed": ")" + at_max + "\"")).request.seed, at_max);
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("seed": ")" + at_max + "7\"")), "params.seed");
}

TEST(ImageParams, SeedVariationLimits) {
    EXPECT_EQ(ImageOk(ImageBody(R"("seed_variation": 1)")).request.seed_variation, 1);
    const GenerateInput max = ImageOk(ImageBody(R"("seed_variation": 1000)"));
    EXPECT_EQ(max.request.seed_variation, 1000);
    EXPECT_EQ(ParamsOf(max).at("seed_variation").as_int64(), 1000);
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("seed_variation": 0)")),
                  "params.seed_variation");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("seed_variation": 1001)")),
                  "params.seed_variation");
}

TEST(ImageParams, ClipSkipLimits) {
    EXPECT_EQ(ImageOk(ImageBody(R"("clip_skip": 1)")).request.image.clip_skip, 1);
    const GenerateInput twelve = ImageOk(ImageBody(R"("clip_skip": 12)"));
    EXPECT_EQ(twelve.request.image.clip_skip, 12);
    EXPECT_EQ(ParamsOf(twelve).at("clip_skip").as_int64(), 12);
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("clip_skip": 0)")), "params.clip_skip");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("clip_skip": 13)")), "params.clip_skip");
}

TEST(ImageParams, StrengthLimits) {
    for (const std::string_view key : {"denoising_strength", "hires_fix_denoising_strength"}) {
        const std::string k = "\"" + std::string(key) + "\": ";
        const std::string field = "params." + std::string(key);
        EXPECT_TRUE(DecodeImageGenerate(ImageBody(k + "0.01")).has_value());
        EXPECT_TRUE(DecodeImageGenerate(ImageBody(k + "1")).has_value());
        ExpectInvalid(DecodeImageGenerate(ImageBody(k + "0.009")), field);
        ExpectInvalid(DecodeImageGenerate(ImageBody(k + "0")), field);
        ExpectInvalid(DecodeImageGenerate(ImageBody(k + "1.01")), field);
    }
    const GenerateInput in = ImageOk(ImageBody(R"("denoising_strength": 0.75)"));
    EXPECT_DOUBLE_EQ(in.request.image.denoising_strength.value(), 0.75);
    EXPECT_DOUBLE_EQ(ParamsOf(in).at("denoising_strength").as_double(), 0.75);

    EXPECT_TRUE(DecodeImageGenerate(ImageBody(R"("facefixer_strength": 0)")).has_value());
    EXPECT_TRUE(DecodeImageGenerate(ImageBody(R"("facefixer_strength": 1)")).has_value());
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("facefixer_strength": -0.1)")),
                  "params.facefixer_strength");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("facefixer_strength": 1.1)")),
                  "params.facefixer_strength");
}

TEST(ImageParams, BooleanFlags) {
    const GenerateInput in = ImageOk(ImageBody(
        R"("karras": false, "tiling": true, "hires_fix": true, "transparent": true,
           "image_is_control": true)"));
    const domain::ImageShape& s = in.request.image;
    EXPECT_FALSE(s.karras);
    EXPECT_TRUE(s.tiling);
    EXPECT_TRUE(s.hires_fix);
    EXPECT_TRUE(s.transparent);
    EXPECT_TRUE(s.image_is_control);
    const json::object params = ParamsOf(in);
    EXPECT_FALSE(params.at("karras").as_bool());
    EXPECT_TRUE(params.at("tiling").as_bool());
    EXPECT_TRUE(params.at("hires_fix").as_bool());
    EXPECT_TRUE(params.at("transparent").as_bool());
    EXPECT_TRUE(params.at("image_is_control").as_bool());
    EXPECT_TRUE(
        ImageOk(ImageBody(R"("return_control_map": true)")).request.image.return_control_map);
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("karras": "false")")), "params.karras");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("tiling": 0)")), "params.tiling");
}

// ---------------------------------------------------------------------------------------------
// Image params: lists.

TEST(ImageParams, PostProcessing) {
    const GenerateInput in = ImageOk(
        ImageBody(R"("post_processing": ["GFPGAN", "", "RealESRGAN_x4plus", "strip_background",
                                          "CodeFormers"])"));
    const std::vector<std::string> expected = {"GFPGAN", "RealESRGAN_x4plus", "strip_background",
                                               "CodeFormers"};
    EXPECT_EQ(in.request.image.post_processing, expected);
    EXPECT_EQ(ParamsOf(in).at("post_processing").as_array().size(), 4U);
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("post_processing": ["Bogus"])")),
                  "params.post_processing");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("post_processing": ["GFPGAN", "GFPGAN"])")),
                  "params.post_processing");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("post_processing": "GFPGAN")")),
                  "params.post_processing");
    ExpectCode(DecodeImageGenerate(
                   ImageBody(R"("post_processing": ["RealESRGAN_x2plus", "4x_AnimeSharp"])")),
               ErrorCode::kTooManyUpscalers);
    for (const std::string_view name :
         {"GFPGAN", "RealESRGAN_x4plus", "RealESRGAN_x2plus", "RealESRGAN_x4plus_anime_6B",
          "NMKD_Siax", "4x_AnimeSharp", "CodeFormers", "strip_background", "4xNomos8kSC",
          "4xLSDIRplus", "4xNomosWebPhoto_RealPLKSR", "4xNomos2_realplksr_dysample",
          "4xNomos2_hq_dat2", "2xModernSpanimationV1", "GFPGANv1.3", "RestoreFormer"}) {
        EXPECT_TRUE(
            DecodeImageGenerate(ImageBody(R"("post_processing": [")" + std::string(name) + "\"]"))
                .has_value())
            << name;
    }
}

std::string Loras(size_t count, std::string_view entry) {
    return R"("loras": [)" + Repeat(entry, count, ",") + "]";
}

TEST(ImageParams, LorasNormalizedAndLimited) {
    const GenerateInput in = ImageOk(ImageBody(
        R"("loras": [{"name": "123", "model": -5, "clip": 5, "inject_trigger": "any",
                      "is_version": true, "original_name": "junk"},
                     {"name": "styleA", "inject_trigger": ""}])"));
    EXPECT_EQ(in.request.image.lora_count, 2);
    EXPECT_TRUE(in.request.image.lora_versions);
    const json::value expected = json::parse(R"([
        {"name": "123", "model": -5.0, "clip": 5.0, "inject_trigger": "any", "is_version": true},
        {"name": "styleA", "model": 1.0, "clip": 1.0, "is_version": false}])");
    EXPECT_EQ(ParamsOf(in).at("loras"), expected);

    EXPECT_TRUE(DecodeImageGenerate(ImageBody(Loras(5, R"({"name": "x"})"))).has_value());
    ExpectCode(DecodeImageGenerate(ImageBody(Loras(6, R"({"name": "x"})"))),
               ErrorCode::kTooManyLoras);
    ExpectCode(DecodeImageGenerate(ImageBody(R"("loras": [{"name": "abc", "is_version": true}])")),
               ErrorCode::kBadLoraVersion);
    EXPECT_FALSE(ParamsOf(ImageOk(ImageBody(R"("loras": [])"))).contains("loras"));
}

TEST(ImageParams, LoraFieldLimits) {
    const std::string name255(255, 'n');
    EXPECT_TRUE(
        DecodeImageGenerate(ImageBody(R"("loras": [{"name": ")" + name255 + "\"}]")).has_value());
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("loras": [{"name": ")" + name255 + "n\"}]")),
                  "params.loras[0].name");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("loras": [{"name": ""}])")),
                  "params.loras[0].name");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("loras": [{"model": 1}])")),
                  "params.loras[0].name");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("loras": [{"name": "x", "model": 5.01}])")),
                  "params.loras[0].model");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("loras": [{"name": "x", "clip": -5.01}])")),
                  "params.loras[0].clip");
    const std::string trigger30(30, 't');
    EXPECT_TRUE(DecodeImageGenerate(ImageBody(R"("loras": [{"name": "x", "inject_trigger": ")" +
                                              trigger30 + "\"}]"))
                    .has_value());
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("loras": [{"name": "x", "inject_trigger": ")" +
                                                trigger30 + "t\"}]")),
                  "params.loras[0].inject_trigger");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("loras": [{"name": "x"}, "y"])")),
                  "params.loras[1]");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("loras": {"name": "x"})")), "params.loras");
}

TEST(ImageParams, TisNormalizedAndLimited) {
    const GenerateInput in = ImageOk(ImageBody(
        R"("tis": [{"name": "ti1", "inject_ti": "negprompt", "strength": -5},
                   {"name": "ti2", "inject_ti": ""}])"));
    EXPECT_EQ(in.request.image.ti_count, 2);
    const json::value expected = json::parse(R"([
        {"name": "ti1", "inject_ti": "negprompt", "strength": -5.0},
        {"name": "ti2", "strength": 1.0}])");
    EXPECT_EQ(ParamsOf(in).at("tis"), expected);
    const std::string twenty = R"("tis": [)" + Repeat(R"({"name": "t"})", 20, ",") + "]";
    const std::string twenty_one = R"("tis": [)" + Repeat(R"({"name": "t"})", 21, ",") + "]";
    EXPECT_TRUE(DecodeImageGenerate(ImageBody(twenty)).has_value());
    ExpectCode(DecodeImageGenerate(ImageBody(twenty_one)), ErrorCode::kTooManyTis);
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("tis": [{"name": "t", "inject_ti": "x"}])")),
                  "params.tis[0].inject_ti");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("tis": [{"name": "t", "strength": 5.5}])")),
                  "params.tis[0].strength");
}

TEST(ImageParams, WorkflowExtraTextsAndSpecial) {
    const GenerateInput in = ImageOk(ImageBody(
        R"("workflow": "qr_code", "extra_texts": [{"text": "https://x", "reference": "qr_text"}],
           "special": {"anything": [1, 2]})"));
    EXPECT_EQ(in.request.image.workflow, "qr_code");
    EXPECT_TRUE(in.request.disable_batching);
    const json::object params = ParamsOf(in);
    EXPECT_EQ(params.at("workflow").as_string(), "qr_code");
    EXPECT_EQ(params.at("extra_texts"),
              json::parse(R"([{"text": "https://x", "reference": "qr_text"}])"));
    EXPECT_EQ(params.at("special"), json::parse(R"({"anything": [1, 2]})"));

    const GenerateInput unset = ImageOk(ImageBody(R"("workflow": "")"));
    EXPECT_EQ(unset.request.image.workflow, "");
    EXPECT_FALSE(unset.request.disable_batching);
    EXPECT_FALSE(ParamsOf(unset).contains("workflow"));
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("workflow": "other")")), "params.workflow");
    ExpectInvalid(
        DecodeImageGenerate(ImageBody(R"("extra_texts": [{"text": "t", "reference": "ab"}])")),
        "params.extra_texts[0].reference");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("extra_texts": [{"reference": "abc"}])")),
                  "params.extra_texts[0].text");
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("special": "x")")), "params.special");
}

// ---------------------------------------------------------------------------------------------
// Image: source images and ControlNet.

TEST(ImageSource, SourceFields) {
    const GenerateInput in = ImageOk(ImageBody(
        "",
        R"("source_image": "aW1n", "source_mask": "bWFzaw==", "source_processing": "inpainting")"));
    EXPECT_EQ(in.source_image, "aW1n");
    EXPECT_EQ(in.source_mask, "bWFzaw==");
    EXPECT_TRUE(in.request.image.has_source_image);
    EXPECT_TRUE(in.request.image.has_source_mask);
    EXPECT_EQ(in.request.image.source_processing, "inpainting");
    for (const std::string_view processing : {"img2img", "outpainting", "remix"}) {
        EXPECT_EQ(ImageOk(ImageBody("", R"("source_image": "x", "source_processing": ")" +
                                            std::string(processing) + "\""))
                      .request.image.source_processing,
                  processing);
    }
    EXPECT_EQ(ImageOk(ImageBody("", R"("source_processing": "")")).request.image.source_processing,
              "img2img");
    ExpectInvalid(DecodeImageGenerate(ImageBody("", R"("source_processing": "txt2img")")),
                  "source_processing");
    EXPECT_EQ(ImageOk(ImageBody("", R"("source_image": "", "source_mask": "")")).source_image, "");
}

TEST(ImageSource, MaskWithoutImage) {
    ExpectCode(DecodeImageGenerate(ImageBody("", R"("source_mask": "bWFzaw==")")),
               ErrorCode::kSourceMaskUnnecessary);
}

TEST(ImageSource, ExtraSourceImages) {
    const GenerateInput in =
        ImageOk(ImageBody("", R"("source_image": "x", "source_processing": "remix",
               "extra_source_images": [{"image": "a"}, {"image": "b", "strength": 0.5}])"));
    ASSERT_EQ(in.extra_source_images.size(), 2U);
    EXPECT_EQ(in.extra_source_images[0].first, "a");
    EXPECT_DOUBLE_EQ(in.extra_source_images[0].second, 1.0);
    EXPECT_DOUBLE_EQ(in.extra_source_images[1].second, 0.5);
    EXPECT_EQ(in.request.image.extra_source_images, 2);

    const std::string five = Repeat(R"({"image": "a"})", 5, ",");
    const std::string six = Repeat(R"({"image": "a"})", 6, ",");
    EXPECT_TRUE(DecodeImageGenerate(ImageBody("", R"("source_processing": "remix",
        "source_image": "x", "extra_source_images": [)" +
                                                      five + "]"))
                    .has_value());
    ExpectCode(DecodeImageGenerate(ImageBody("", R"("source_processing": "remix",
        "source_image": "x", "extra_source_images": [)" +
                                                     six + "]")),
               ErrorCode::kTooManyExtraSourceImages);
    ExpectCode(DecodeImageGenerate(ImageBody("", R"("source_image": "x",
        "extra_source_images": [{"image": "a"}])")),
               ErrorCode::kInvalidExtraSourceImages);
    EXPECT_TRUE(DecodeImageGenerate(ImageBody("", R"("extra_source_images": [])")).has_value());
    ExpectInvalid(DecodeImageGenerate(ImageBody("", R"("extra_source_images": [{"strength": 1}])")),
                  "extra_source_images[0].image");
}

TEST(ImageSource, ExtraSourceImagesCheckedBeforePrompt) {
    ExpectCode(DecodeImageGenerate(R"({"prompt": "", "extra_source_images": [{"image": "a"}]})"),
               ErrorCode::kInvalidExtraSourceImages);
}

TEST(ImageSource, ControlNetRules) {
    for (const std::string_view type : {"canny", "hed", "depth", "normal", "openpose", "seg",
                                        "scribble", "fakescribbles", "hough"}) {
        const GenerateInput in = ImageOk(
            ImageBody(R"("control_type": ")" + std::string(type) + "\"", R"("source_image": "x")"));
        EXPECT_EQ(in.request.image.control_type, type);
        EXPECT_EQ(ParamsOf(in).at("control_type").as_string(), type);
    }
    ExpectInvalid(DecodeImageGenerate(ImageBody(R"("control_type": "mlsd")")),
                  "params.control_type");
    ExpectCode(DecodeImageGenerate(ImageBody(R"("control_type": "canny")")),
               ErrorCode::kControlNetSourceMissing);
    ExpectCode(
        DecodeImageGenerate(ImageBody(
            R"("control_type": "canny")",
            R"("source_image": "x", "source_mask": "y", "source_processing": "inpainting")")),
        ErrorCode::kControlNetInpaintingMismatch);
    ExpectCode(
        DecodeImageGenerate(ImageBody(R"("image_is_control": true, "return_control_map": true)")),
        ErrorCode::kControlNetInvalidPayload);
    // ArtBot sends control_type "" when unused.
    const GenerateInput artbot = ImageOk(ImageBody(R"("control_type": "")"));
    EXPECT_EQ(artbot.request.image.control_type, "");
    EXPECT_FALSE(ParamsOf(artbot).contains("control_type"));
}

TEST(ImageSource, ParamsRulesComeBeforeSourceRules) {
    ExpectCode(DecodeImageGenerate(ImageBody(R"("cfg_scale": 7.123, "control_type": "canny")")),
               ErrorCode::kBadCfgDecimals);
    ExpectCode(DecodeImageGenerate(ImageBody(R"("steps": 0, "control_type": "canny")")),
               ErrorCode::kValidationFailed);
}

// ---------------------------------------------------------------------------------------------
// Image: real client bodies.

TEST(ImageClients, KoboldLiteBody) {
    const GenerateInput in = ImageOk(R"({"prompt": "a castle ### blurry",
        "params": {"cfg_scale": 7, "sampler_name": "k_euler_a", "height": 512, "width": 512,
                   "steps": 20, "karras": false, "n": 1, "seed": "", "post_processing": [],
                   "scheduler": "karras", "clip_skip": 1},
        "models": ["AlbedoBase XL"], "nsfw": false, "censor_nsfw": true,
        "trusted_workers": false, "replacement_filter": true, "r2": false})");
    EXPECT_FALSE(in.request.r2);
    EXPECT_FALSE(in.request.nsfw);
    EXPECT_EQ(in.request.seed, "");
    const json::object params = ParamsOf(in);
    EXPECT_FALSE(params.contains("scheduler"));
    EXPECT_FALSE(params.contains("seed"));
    EXPECT_DOUBLE_EQ(params.at("cfg_scale").as_double(), 7.0);
}

TEST(ImageClients, JunkKeysAreIgnoredEverywhere) {
    const GenerateInput in = ImageOk(R"({"prompt": "p", "junk": {"a": 1}, "use_gfpgan": true,
        "params": {"use_gfpgan": true, "toggles": [1, 4], "unknown": null, "steps": 25,
                   "loras": [{"name": "l", "original_name": "Lora Name", "civitai": 5}]},
        "models": ["sd"]})");
    const json::object params = ParamsOf(in);
    EXPECT_FALSE(params.contains("use_gfpgan"));
    EXPECT_FALSE(params.contains("toggles"));
    EXPECT_FALSE(params.contains("unknown"));
    EXPECT_FALSE(params.at("loras").as_array()[0].as_object().contains("original_name"));
    EXPECT_EQ(params.at("steps").as_int64(), 25);
}

TEST(ImageClients, GodotAndArtBotBody) {
    const GenerateInput in = ImageOk(R"({"prompt": "cat",
        "params": {"n": 2, "width": 768, "height": 512, "steps": 30, "sampler_name": "k_dpmpp_2m",
                   "karras": true, "hires_fix": false, "cfg_scale": 6.5, "seed": "",
                   "post_processing": ["CodeFormers"], "clip_skip": 2, "transparent": false,
                   "control_type": "", "image_is_control": false, "return_control_map": false,
                   "denoising_strength": 0.5, "tis": [], "loras": []},
        "nsfw": true, "censor_nsfw": false, "trusted_workers": false, "models": [],
        "r2": true, "shared": true, "dry_run": false, "workers": [], "worker_blacklist": false,
        "allow_downgrade": true, "replacement_filter": true, "slow_workers": true})");
    EXPECT_EQ(in.request.n, 2);
    EXPECT_TRUE(in.request.models.empty());
    EXPECT_TRUE(in.request.workers.empty());
    EXPECT_EQ(in.request.image.clip_skip, 2);
    EXPECT_EQ(in.request.things, 768 * 512 * 30);
}

// ---------------------------------------------------------------------------------------------
// Text.

TEST(TextGenerate, MinimalBodyGetsEveryDefault) {
    const GenerateInput in = TextOk(R"({"prompt": "Once upon a time"})");
    const domain::Request& r = in.request;
    EXPECT_EQ(r.kind, domain::GenKind::kText);
    EXPECT_TRUE(r.models.empty());
    EXPECT_FALSE(r.nsfw);
    EXPECT_FALSE(r.censor_nsfw);
    EXPECT_FALSE(r.extra_slow_workers);
    EXPECT_FALSE(r.trusted_workers);
    EXPECT_FALSE(r.validated_backends);
    EXPECT_TRUE(r.slow_workers);
    EXPECT_FALSE(r.disable_batching);
    EXPECT_EQ(r.jobs, 1);
    EXPECT_EQ(r.n, 1);
    EXPECT_EQ(r.things, 80);
    EXPECT_EQ(r.text.max_length, 80);
    EXPECT_EQ(r.text.max_context_length, 2048);
    EXPECT_EQ(r.text.softprompt, "");
    EXPECT_EQ(r.text.prompt_chars, 16);
    EXPECT_EQ(json::parse(r.params_json.view()),
              json::parse(R"({"max_context_length": 2048, "max_length": 80})"));
}

TEST(TextGenerate, ImageOnlyFlagsAreAcceptedButNotStored) {
    const GenerateInput in =
        TextOk(R"({"prompt": "p", "nsfw": true, "censor_nsfw": true, "extra_slow_workers": true})");
    EXPECT_FALSE(in.request.nsfw);
    EXPECT_FALSE(in.request.censor_nsfw);
    EXPECT_FALSE(in.request.extra_slow_workers);
    ExpectInvalid(DecodeTextGenerate(R"({"prompt": "p", "nsfw": "x"})"), "nsfw");
}

TEST(TextGenerate, PromptRules) {
    ExpectCode(DecodeTextGenerate(R"({"params": {}})"), ErrorCode::kMissingPrompt);
    ExpectCode(DecodeTextGenerate(R"({"prompt": " "})"), ErrorCode::kMissingPrompt);
    ExpectCode(DecodeTextGenerate(R"({"prompt": ")" + Repeat("w", 7501, " ") + R"("})"),
               ErrorCode::kInvalidPromptSize);
    EXPECT_EQ(TextOk(R"({"prompt": "h\u00e9llo"})").request.text.prompt_chars, 5);
}

TEST(TextGenerate, Softprompt) {
    EXPECT_EQ(TextOk(R"({"prompt": "p", "softprompt": ""})").request.text.softprompt, "");
    EXPECT_EQ(TextOk(R"({"prompt": "p", "softprompt": "sp"})").request.text.softprompt, "sp");
    ExpectInvalid(DecodeTextGenerate(R"({"prompt": "p", "softprompt": 1})"), "softprompt");
}

TEST(TextGenerate, ExtraSourceImagesRejected) {
    ExpectCode(DecodeTextGenerate(R"({"prompt": "p", "extra_source_images": [{"image": "a"}]})"),
               ErrorCode::kInvalidExtraSourceImages);
    EXPECT_TRUE(DecodeTextGenerate(R"({"prompt": "p", "extra_source_images": []})").has_value());
}

std::string TextBody(std::string_view params) {
    return R"({"prompt": "p", "params": {)" + std::string(params) + "}}";
}

TEST(TextParams, LengthLimits) {
    EXPECT_TRUE(DecodeTextGenerate(TextBody(R"("n": 1)")).has_value());
    EXPECT_TRUE(DecodeTextGenerate(TextBody(R"("n": 20)")).has_value());
    ExpectInvalid(DecodeTextGenerate(TextBody(R"("n": 0)")), "params.n");
    ExpectInvalid(DecodeTextGenerate(TextBody(R"("n": 21)")), "params.n");
    EXPECT_TRUE(
        DecodeTextGenerate(TextBody(R"("max_context_length": 80, "max_length": 16)")).has_value());
    ExpectInvalid(DecodeTextGenerate(TextBody(R"("max_context_length": 79)")),
                  "params.max_context_length");
    ExpectInvalid(DecodeTextGenerate(TextBody(R"("max_context_length": 1048577)")),
                  "params.max_context_length");
    EXPECT_TRUE(DecodeTextGenerate(TextBody(R"("max_length": 4096, "max_context_length": 4096)"))
                    .has_value());
    ExpectInvalid(DecodeTextGenerate(TextBody(R"("max_length": 15)")), "params.max_length");
    ExpectInvalid(DecodeTextGenerate(TextBody(R"("max_length": 4097)")), "params.max_length");
    ExpectInvalid(DecodeTextGenerate(TextBody(R"("max_length": "80")")), "params.max_length");

    const GenerateInput in =
        TextOk(TextBody(R"("n": 3, "max_length": 200, "max_context_length": 4096)"));
    EXPECT_EQ(in.request.jobs, 3);
    EXPECT_EQ(in.request.n, 3);
    EXPECT_EQ(in.request.things, 200);
    EXPECT_EQ(in.request.text.max_length, 200);
    EXPECT_EQ(in.request.text.max_context_length, 4096);
    EXPECT_FALSE(ParamsOf(in).contains("n"));
}

TEST(TextParams, TokenOverflow) {
    ExpectCode(DecodeTextGenerate(TextBody(R"("max_context_length": 100, "max_length": 101)")),
               ErrorCode::kTokenOverflow);
    EXPECT_TRUE(DecodeTextGenerate(TextBody(R"("max_context_length": 100, "max_length": 100)"))
                    .has_value());
}

TEST(TextParams, NumberLimits) {
    struct Case {
        std::string_view key;
        std::string_view min;
        std::string_view max;
        std::string_view below;
        std::string_view above;
    };
    const Case cases[] = {
        {"rep_pen", "1", "3", "0.99", "3.01"},
        {"rep_pen_range", "0", "4096", "-1", "4097"},
        {"rep_pen_slope", "0", "10", "-0.1", "10.1"},
        {"temperature", "0", "5", "-0.01", "5.01"},
        {"tfs", "0", "1", "-0.01", "1.01"},
        {"top_a", "0", "1", "-0.01", "1.01"},
        {"typical", "0", "1", "-0.01", "1.01"},
        {"min_p", "0", "1", "-0.01", "1.01"},
        {"top_k", "0", "200", "-1", "201"},
        {"top_p", "0.001", "1", "0", "1.01"},
        {"smoothing_factor", "0", "10", "-0.01", "10.01"},
        {"dynatemp_range", "0", "5", "-0.01", "5.01"},
        {"dynatemp_exponent", "0", "5", "-0.01", "5.01"},
    };
    for (const Case& c : cases) {
        const std::string k = "\"" + std::string(c.key) + "\": ";
        const std::string field = "params." + std::string(c.key);
        const GenerateInput at_min = TextOk(TextBody(k + std::string(c.min)));
        EXPECT_TRUE(ParamsOf(at_min).contains(c.key)) << c.key;
        EXPECT_TRUE(DecodeTextGenerate(TextBody(k + std::string(c.max))).has_value()) << c.key;
        ExpectInvalid(DecodeTextGenerate(TextBody(k + std::string(c.below))), field);
        ExpectInvalid(DecodeTextGenerate(TextBody(k + std::string(c.above))), field);
        ExpectInvalid(DecodeTextGenerate(TextBody(k + "\"1\"")), field);
    }
    ExpectInvalid(DecodeTextGenerate(TextBody(R"("top_k": 1.5)")), "params.top_k");
}

TEST(TextParams, Booleans) {
    const GenerateInput in = TextOk(TextBody(
        R"("frmtadsnsp": true, "frmtrmblln": false, "frmtrmspch": true, "frmttriminc": false,
           "singleline": true, "use_default_badwordsids": false)"));
    const json::object params = ParamsOf(in);
    EXPECT_TRUE(params.at("frmtadsnsp").as_bool());
    EXPECT_FALSE(params.at("frmtrmblln").as_bool());
    EXPECT_TRUE(params.at("frmtrmspch").as_bool());
    EXPECT_FALSE(params.at("frmttriminc").as_bool());
    EXPECT_TRUE(params.at("singleline").as_bool());
    EXPECT_FALSE(params.at("use_default_badwordsids").as_bool());
    ExpectInvalid(DecodeTextGenerate(TextBody(R"("singleline": "true")")), "params.singleline");
}

TEST(TextParams, SamplerOrder) {
    const GenerateInput in = TextOk(TextBody(R"("sampler_order": [6, 0, 1, 3, 4, 2, 5])"));
    EXPECT_EQ(ParamsOf(in).at("sampler_order"), json::parse("[6, 0, 1, 3, 4, 2, 5]"));
    ExpectCode(DecodeTextGenerate(TextBody(R"("sampler_order": [6, 0, 1, 3, 4, 2])")),
               ErrorCode::kMissingFullSamplerOrder);
    ExpectCode(DecodeTextGenerate(TextBody(R"("sampler_order": [0, 0, 1, 3, 4, 2, 5])")),
               ErrorCode::kMissingFullSamplerOrder);
    ExpectCode(DecodeTextGenerate(TextBody(R"("sampler_order": [])")),
               ErrorCode::kMissingFullSamplerOrder);
    ExpectInvalid(DecodeTextGenerate(TextBody(R"("sampler_order": ["0"])")),
                  "params.sampler_order[0]");
    ExpectInvalid(DecodeTextGenerate(TextBody(R"("sampler_order": 1)")), "params.sampler_order");
}

TEST(TextParams, StopSequences) {
    const GenerateInput in =
        TextOk(TextBody(R"("stop_sequence": ["\nUser:", "", "\nUser:", "###"])"));
    EXPECT_EQ(ParamsOf(in).at("stop_sequence"), json::parse(R"(["\nUser:", "###"])"));

    std::vector<std::string> distinct;
    for (int i = 0; i < 129; ++i) {
        distinct.push_back("\"s" + std::to_string(i) + "\"");
    }
    auto list = [&](size_t count) {
        std::string out = R"("stop_sequence": [)";
        for (size_t i = 0; i < count; ++i) {
            out += (i == 0 ? "" : ",") + distinct[i];
        }
        return out + "]";
    };
    EXPECT_TRUE(DecodeTextGenerate(TextBody(list(128))).has_value());
    ExpectCode(DecodeTextGenerate(TextBody(list(129))), ErrorCode::kTooManyStopSequences);
    // Repeats do not count towards the limit.
    EXPECT_TRUE(
        DecodeTextGenerate(TextBody(R"("stop_sequence": [)" + Repeat(R"("x")", 200, ",") + "]"))
            .has_value());

    const std::string chars2000 = R"("stop_sequence": [")" + std::string(1000, 'a') + R"(", ")" +
                                  std::string(1000, 'b') + R"("])";
    const std::string chars2001 = R"("stop_sequence": [")" + std::string(1000, 'a') + R"(", ")" +
                                  std::string(1001, 'b') + R"("])";
    EXPECT_TRUE(DecodeTextGenerate(TextBody(chars2000)).has_value());
    ExpectCode(DecodeTextGenerate(TextBody(chars2001)), ErrorCode::kExcessiveStopSequence);
    ExpectInvalid(DecodeTextGenerate(TextBody(R"("stop_sequence": [1])")),
                  "params.stop_sequence[0]");
}

TEST(TextParams, SamplerSeedAnyInteger) {
    EXPECT_EQ(ParamsOf(TextOk(TextBody(R"("sampler_seed": 1234)"))).at("sampler_seed").as_int64(),
              1234);
    EXPECT_EQ(ParamsOf(TextOk(TextBody(R"("sampler_seed": -1)"))).at("sampler_seed").as_int64(),
              -1);
    ExpectInvalid(DecodeTextGenerate(TextBody(R"("sampler_seed": "1")")), "params.sampler_seed");
}

TEST(TextClients, SillyTavernParamsWithJunk) {
    const GenerateInput in = TextOk(R"({"prompt": "You are a helpful assistant.\nUser: hi",
        "params": {"n": 1, "max_context_length": 4096, "max_length": 250, "rep_pen": 1.1,
                   "rep_pen_range": 600, "rep_pen_slope": 0, "temperature": 0.7, "tfs": 1,
                   "top_a": 0, "top_k": 40, "top_p": 0.92, "typical": 1, "min_p": 0.05,
                   "dynatemp_range": 0, "dynatemp_exponent": 1, "smoothing_factor": 0,
                   "sampler_order": [6, 0, 1, 3, 4, 2, 5], "use_default_badwordsids": false,
                   "stop_sequence": ["\nUser:", "\n***"], "singleline": false,
                   "sampler_seed": 7, "frmtadsnsp": false, "frmtrmblln": false,
                   "frmtrmspch": false, "frmttriminc": false,
                   "mirostat": 0, "mirostat_tau": 5, "mirostat_eta": 0.1, "grammar": "",
                   "gui_settings": false, "can_abort": true, "streaming": false,
                   "use_world_info": false, "quiet": true, "memory": "", "banned_tokens": [],
                   "dry_multiplier": 0, "xtc_probability": 0, "logit_bias": {}},
        "trusted_workers": false, "models": ["koboldcpp/Mistral-7B"]})");
    const json::object params = ParamsOf(in);
    for (const std::string_view junk :
         {"mirostat", "mirostat_tau", "mirostat_eta", "grammar", "gui_settings", "can_abort",
          "streaming", "use_world_info", "quiet", "memory", "banned_tokens", "dry_multiplier",
          "xtc_probability", "logit_bias", "n"}) {
        EXPECT_FALSE(params.contains(junk)) << junk;
    }
    for (const std::string_view known : {"max_context_length",
                                         "max_length",
                                         "rep_pen",
                                         "rep_pen_range",
                                         "rep_pen_slope",
                                         "temperature",
                                         "tfs",
                                         "top_a",
                                         "top_k",
                                         "top_p",
                                         "typical",
                                         "min_p",
                                         "dynatemp_range",
                                         "dynatemp_exponent",
                                         "smoothing_factor",
                                         "sampler_order",
                                         "use_default_badwordsids",
                                         "stop_sequence",
                                         "singleline",
                                         "sampler_seed",
                                         "frmtadsnsp",
                                         "frmtrmblln",
                                         "frmtrmspch",
                                         "frmttriminc"}) {
        EXPECT_TRUE(params.contains(known)) << known;
    }
    EXPECT_EQ(params.size(), 24U);
    EXPECT_EQ(in.request.text.max_length, 250);
    EXPECT_EQ(in.request.models, std::vector<std::string>{"koboldcpp/Mistral-7B"});
}

TEST(TextClients, KoboldLiteBody) {
    const GenerateInput in = TextOk(R"({"prompt": "p", "params": {"n": 1,
        "max_context_length": 2048, "max_length": 120, "rep_pen": 1.07, "temperature": 0.75,
        "top_p": 0.92, "top_k": 100, "top_a": 0, "typical": 1, "tfs": 1, "rep_pen_range": 360,
        "rep_pen_slope": 0.7, "sampler_order": [6, 0, 1, 3, 4, 2, 5],
        "use_default_badwordsids": false, "stop_sequence": [], "min_p": 0,
        "dynatemp_range": 0, "dynatemp_exponent": 1, "smoothing_factor": 0,
        "banned_tokens": [], "render_special": false, "logprobs": false},
        "models": [], "workers": []})");
    EXPECT_EQ(in.request.text.max_length, 120);
    EXPECT_EQ(ParamsOf(in).at("stop_sequence"), json::array());
    EXPECT_FALSE(ParamsOf(in).contains("render_special"));
}

}  // namespace
}  // namespace horde::protocol
