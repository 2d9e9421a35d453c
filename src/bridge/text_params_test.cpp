#include "bridge/text_params.hpp"

#include <gtest/gtest.h>

namespace horde::bridge {
namespace {

json::object Payload(std::string_view text) { return boost::json::parse(text).as_object(); }

TEST(TextParams, ParseClampsToTheWorkersLimitsAndDropsPromptAndN) {
    const auto job = ParseTextPayload(
        Payload(
            R"({"prompt":"Hi","n":1,"max_length":600,"max_context_length":8192,"rep_pen":1.1})"),
        TextLimits{.max_length = 512, .max_context_length = 4096}, "backend-model", 7);
    EXPECT_EQ(job.prompt, "Hi");
    EXPECT_EQ(job.max_length, 512);
    EXPECT_EQ(job.max_context_length, 4096);
    EXPECT_EQ(job.model, "backend-model");
    EXPECT_EQ(job.seed, 7);
    EXPECT_FALSE(job.params.contains("prompt"));
    EXPECT_FALSE(job.params.contains("n"));
    EXPECT_EQ(job.params.at("max_length").as_int64(), 512);
    EXPECT_DOUBLE_EQ(job.params.at("rep_pen").as_double(), 1.1);
}

TEST(TextParams, ParseUsesTheHordesDefaultsAndNeverAsksMoreThanTheContext) {
    const auto defaults = ParseTextPayload(Payload(R"({"prompt":"x"})"), TextLimits{}, "m", 1);
    EXPECT_EQ(defaults.max_length, 80);
    EXPECT_EQ(defaults.max_context_length, 2048);
    const auto small_ctx = ParseTextPayload(
        Payload(R"({"max_length":300,"max_context_length":200})"), TextLimits{}, "m", 1);
    EXPECT_EQ(small_ctx.max_length, 200);
}

TEST(TextParams, KoboldRequestPassesHordeNamesThroughAndAddsSeedQuietGenkey) {
    auto job =
        ParseTextPayload(Payload(R"({"prompt":"P","n":1,"max_length":50,"temperature":0.7,"top_k":0,
                    "stop_sequence":["\nYou:"],"sampler_order":[6,0,1,3,4,2,5]})"),
                         TextLimits{}, "m", 99);
    const auto body = BuildKoboldRequest(job, "HORDEabc");
    EXPECT_EQ(body.at("prompt").as_string(), "P");
    EXPECT_EQ(body.at("max_length").as_int64(), 50);
    EXPECT_EQ(body.at("max_context_length").as_int64(), 2048);
    EXPECT_DOUBLE_EQ(body.at("temperature").as_double(), 0.7);
    EXPECT_EQ(body.at("top_k").as_int64(), 0);
    EXPECT_EQ(body.at("stop_sequence").as_array().size(), 1u);
    EXPECT_EQ(body.at("sampler_order").as_array().size(), 7u);
    EXPECT_EQ(body.at("sampler_seed").as_int64(), 99);
    EXPECT_TRUE(body.at("quiet").as_bool());
    EXPECT_EQ(body.at("genkey").as_string(), "HORDEabc");
    EXPECT_FALSE(body.contains("n"));
}

TEST(TextParams, OpenAiRequestMapsEveryActiveSampler) {
    auto job = ParseTextPayload(
        Payload(R"({"prompt":"P","max_length":40,"temperature":0.5,"top_p":0.9,"top_k":40,
                    "min_p":0.05,"typical":0.95,"tfs":0.9,"top_a":0.2,"rep_pen":1.08,
                    "rep_pen_range":320,"stop_sequence":["a","","b"],"smoothing_factor":0.3,
                    "dynatemp_range":0.5,"dynatemp_exponent":1.5})"),
        TextLimits{}, "llama", 5);
    const auto b = BuildOpenAiRequest(job);
    EXPECT_EQ(b.at("model").as_string(), "llama");
    EXPECT_EQ(b.at("prompt").as_string(), "P");
    EXPECT_EQ(b.at("max_tokens").as_int64(), 40);
    EXPECT_FALSE(b.at("stream").as_bool());
    EXPECT_EQ(b.at("seed").as_int64(), 5);
    EXPECT_DOUBLE_EQ(b.at("temperature").as_double(), 0.5);
    EXPECT_DOUBLE_EQ(b.at("top_p").as_double(), 0.9);
    EXPECT_EQ(b.at("top_k").as_int64(), 40);
    EXPECT_DOUBLE_EQ(b.at("min_p").as_double(), 0.05);
    EXPECT_DOUBLE_EQ(b.at("typical_p").as_double(), 0.95);
    EXPECT_DOUBLE_EQ(b.at("tfs_z").as_double(), 0.9);
    EXPECT_DOUBLE_EQ(b.at("top_a").as_double(), 0.2);
    EXPECT_DOUBLE_EQ(b.at("repetition_penalty").as_double(), 1.08);
    EXPECT_DOUBLE_EQ(b.at("repeat_penalty").as_double(), 1.08);
    EXPECT_EQ(b.at("repeat_last_n").as_int64(), 320);
    ASSERT_EQ(b.at("stop").as_array().size(), 2u);  // empty sequences are dropped
    EXPECT_EQ(b.at("stop").as_array()[1].as_string(), "b");
    EXPECT_DOUBLE_EQ(b.at("smoothing_factor").as_double(), 0.3);
    EXPECT_DOUBLE_EQ(b.at("dynatemp_range").as_double(), 0.5);
    EXPECT_DOUBLE_EQ(b.at("dynatemp_exponent").as_double(), 1.5);
    EXPECT_FALSE(b.contains("frequency_penalty"));
    EXPECT_FALSE(b.contains("max_context_length"));
}

TEST(TextParams, OpenAiRequestLeavesOutSamplersThatAreOff) {
    auto job =
        ParseTextPayload(Payload(R"({"prompt":"P","top_k":0,"typical":1,"tfs":1,"top_a":0,"min_p":0,
                    "smoothing_factor":0,"dynatemp_range":0,"stop_sequence":[]})"),
                         TextLimits{}, "m", 1);
    const auto b = BuildOpenAiRequest(job);
    for (const char* key : {"top_k", "typical_p", "tfs_z", "top_a", "min_p", "smoothing_factor",
                            "dynatemp_range", "stop", "repetition_penalty", "temperature"}) {
        EXPECT_FALSE(b.contains(key)) << key;
    }
}

TEST(TextParams, FinishTextHonoursSingleline) {
    EXPECT_EQ(FinishText("one\ntwo", Payload(R"({"singleline":true})")), "one");
    EXPECT_EQ(FinishText("\n one\ntwo", Payload(R"({"singleline":true})")), "\n one");
    EXPECT_EQ(FinishText("one\ntwo", Payload(R"({"singleline":false})")), "one\ntwo");
    EXPECT_EQ(FinishText("one\r\ntwo", Payload(R"({"singleline":true})")), "one");
}

}  // namespace
}  // namespace horde::bridge
