#include "protocol/job_payload.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "protocol/generate_input.hpp"

namespace horde::protocol {
namespace {

namespace json = boost::json;

domain::Request DecodedImage(std::string_view body) {
    auto input = DecodeImageGenerate(body);
    EXPECT_TRUE(input.has_value()) << input.error().message;
    return input.has_value() ? input->request : domain::Request{};
}

TEST(ImagePopPayload, ParamsPlusJobFields) {
    const domain::Request r = DecodedImage(R"({"prompt": "a cat ### dog",
        "params": {"steps": 25, "n": 3, "seed": "abc", "seed_variation": 2, "width": 768,
                   "junk": 1, "loras": [{"name": "l"}]}})");
    const json::object payload = ImagePopPayload(r, 4242, 2, false);
    EXPECT_EQ(payload.at("prompt").as_string(), "a cat ### dog");
    EXPECT_EQ(payload.at("ddim_steps").as_int64(), 25);
    EXPECT_FALSE(payload.contains("steps"));
    EXPECT_EQ(payload.at("n_iter").as_int64(), 2);
    EXPECT_EQ(payload.at("seed").as_string(), "4242");
    EXPECT_FALSE(payload.contains("use_nsfw_censor"));
    EXPECT_FALSE(payload.contains("n"));
    EXPECT_FALSE(payload.contains("junk"));
    EXPECT_EQ(payload.at("width").as_int64(), 768);
    EXPECT_EQ(payload.at("sampler_name").as_string(), "k_euler_a");
    EXPECT_EQ(payload.at("seed_variation").as_int64(), 2);
    EXPECT_EQ(payload.at("loras").as_array().size(), 1U);
}

TEST(ImagePopPayload, NsfwCensorOnlyWhenTrue) {
    const domain::Request r = DecodedImage(R"({"prompt": "p"})");
    EXPECT_TRUE(ImagePopPayload(r, 1, 1, true).at("use_nsfw_censor").as_bool());
    EXPECT_FALSE(ImagePopPayload(r, 1, 1, false).contains("use_nsfw_censor"));
}

TEST(ImagePopPayload, UnreadableStoredParamsGiveCoreFields) {
    domain::Request r;
    r.prompt = "p";
    r.params_json = "not json";
    r.image.steps = 12;
    const json::object payload = ImagePopPayload(r, 7, 1, false);
    EXPECT_EQ(json::value(payload),
              json::parse(R"({"ddim_steps": 12, "width": 512, "height": 512, "prompt": "p",
                              "n_iter": 1, "seed": "7"})"));
    r.params_json = "[1]";
    EXPECT_EQ(ImagePopPayload(r, 7, 1, false).size(), 6U);
}

TEST(ImagePopPayload, ShapeOverridesStoredSize) {
    // An upfront-kudos downgrade shrinks the request's shape; the payload follows it.
    domain::Request r =
        DecodedImage(R"({"prompt": "p", "params": {"width": 1024, "height": 1024}})");
    r.image.width = 768;
    r.image.height = 640;
    const json::object payload = ImagePopPayload(r, 1, 1, false);
    EXPECT_EQ(payload.at("width").as_int64(), 768);
    EXPECT_EQ(payload.at("height").as_int64(), 640);
}

TEST(TextPopPayload, ParamsPlusPromptAndN) {
    auto input = DecodeTextGenerate(R"({"prompt": "Hello", "softprompt": "sp",
        "params": {"n": 5, "max_length": 100, "temperature": 0.7, "streaming": true}})");
    ASSERT_TRUE(input.has_value());
    const json::object payload = TextPopPayload(input->request);
    EXPECT_EQ(json::value(payload), json::parse(R"({"max_context_length": 2048,
        "max_length": 100, "temperature": 0.7, "prompt": "Hello", "n": 1})"));
}

TEST(SeedToInt, DigitsAreNumbers) {
    EXPECT_EQ(SeedToInt("0"), 0);
    EXPECT_EQ(SeedToInt("123"), 123);
    EXPECT_EQ(SeedToInt("4294967295"), 4294967295);
    // Folded by >> 32 until below 2^32.
    EXPECT_EQ(SeedToInt("4294967296"), 1);
    EXPECT_EQ(SeedToInt("18446744073709551616"), 1);
    EXPECT_EQ(SeedToInt("99999999999999999999"), 5);
}

TEST(SeedToInt, TextIsLittleEndianBytesFolded) {
    EXPECT_EQ(SeedToInt(""), 0);
    EXPECT_EQ(SeedToInt("abc"), 6513249);
    EXPECT_EQ(SeedToInt("abcd"), 1684234849);
    EXPECT_EQ(SeedToInt("abcde"), 101);
    EXPECT_EQ(SeedToInt("-5"), 13613);
    EXPECT_EQ(SeedToInt("h\xC3\xA9llo"), 28524);
    EXPECT_EQ(SeedToInt("the little seed that could"), 25708);
}

}  // namespace
}  // namespace horde::protocol
