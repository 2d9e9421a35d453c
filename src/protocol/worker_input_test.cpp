#include "protocol/worker_input.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

namespace horde::protocol {
namespace {

namespace json = boost::json;
using domain::GenKind;
using namespace std::string_literals;

template <typename T>
void ExpectCode(const Result<T>& result, ErrorCode code) {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, code) << result.error().message;
}

template <typename T>
void ExpectInvalid(const Result<T>& result, std::string_view field) {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, ErrorCode::kValidationFailed);
    EXPECT_EQ(result.error().field, field) << result.error().message;
    EXPECT_FALSE(result.error().message.empty());
}

PopInput ImagePopOk(std::string_view body) {
    auto result = DecodeImagePop(body);
    EXPECT_TRUE(result.has_value()) << body << " -> " << result.error().message;
    return result.has_value() ? std::move(result).value() : PopInput{};
}

PopInput TextPopOk(std::string_view body) {
    auto result = DecodeTextPop(body);
    EXPECT_TRUE(result.has_value()) << body << " -> " << result.error().message;
    return result.has_value() ? std::move(result).value() : PopInput{};
}

SubmitInput SubmitOk(std::string_view body, GenKind kind) {
    auto result = DecodeSubmit(body, kind);
    EXPECT_TRUE(result.has_value()) << body << " -> " << result.error().message;
    return result.has_value() ? std::move(result).value() : SubmitInput{};
}

/// {"name": "w", <fields>}
std::string Pop(std::string_view fields) { return R"({"name": "w", )" + std::string(fields) + "}"; }

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string StringList(size_t count, std::string_view item) {
    std::string out = "[";
    for (size_t i = 0; i < count; ++i) {
        out += (i == 0 ? "" : ",") + Quoted(item);
    }
    return out + "]";
}

// ---------------------------------------------------------------------------------------------
// Pop.

TEST(ImagePop, MinimalBodyGetsEveryDefault) {
    const PopInput pop = ImagePopOk(R"({"name": "My Worker"})");
    EXPECT_EQ(pop.name, "My Worker");
    EXPECT_EQ(pop.amount, 1);
    const domain::WorkerProfile& p = pop.profile;
    EXPECT_TRUE(p.models.empty());
    EXPECT_EQ(p.bridge_agent, "unknown:0:unknown");
    EXPECT_EQ(p.threads, 1);
    EXPECT_TRUE(p.nsfw);
    EXPECT_FALSE(p.require_upfront_kudos);
    EXPECT_FALSE(p.extra_slow_worker);
    EXPECT_TRUE(p.allow_unsafe_ipaddr);
    EXPECT_TRUE(p.blacklist.empty());
    EXPECT_TRUE(p.priority_usernames.empty());
    EXPECT_EQ(p.max_pixels, 262144);
    EXPECT_TRUE(p.allow_img2img);
    EXPECT_TRUE(p.allow_painting);
    EXPECT_TRUE(p.allow_post_processing);
    EXPECT_FALSE(p.allow_controlnet);
    EXPECT_FALSE(p.allow_sdxl_controlnet);
    EXPECT_FALSE(p.allow_lora);
    EXPECT_FALSE(p.limit_max_steps);
    EXPECT_TRUE(p.capabilities.empty());
    EXPECT_FALSE(p.capabilities_declared);
}

TEST(ImagePop, RegenStylePopWithEveryField) {
    const PopInput pop = ImagePopOk(R"json({
        "name": "dreamer", "priority_usernames": ["db0#1", "someone#42"], "nsfw": false,
        "models": ["AlbedoBase XL (SDXL)", "Deliberate"], "bridge_version": 24,
        "bridge_agent": "AI Horde Worker reGen:9.0.2:https://github.com/Haidra-Org/horde-worker-reGen",
        "threads": 2, "require_upfront_kudos": true, "amount": 4, "extra_slow_worker": true,
        "max_pixels": 4194304, "blacklist": ["badword"], "allow_img2img": false,
        "allow_painting": false, "allow_unsafe_ipaddr": false, "allow_post_processing": false,
        "allow_controlnet": true, "allow_sdxl_controlnet": true, "allow_lora": true,
        "limit_max_steps": true, "allow_unsafe_ip": true, "unknown_future_key": {"x": 1}})json");
    EXPECT_EQ(pop.name, "dreamer");
    EXPECT_EQ(pop.amount, 4);
    const domain::WorkerProfile& p = pop.profile;
    EXPECT_EQ(p.priority_usernames, (std::vector<std::string>{"db0#1", "someone#42"}));
    EXPECT_FALSE(p.nsfw);
    EXPECT_EQ(p.models, (std::vector<std::string>{"AlbedoBase XL (SDXL)", "Deliberate"}));
    EXPECT_EQ(p.bridge_agent,
              "AI Horde Worker reGen:9.0.2:https://github.com/Haidra-Org/horde-worker-reGen");
    EXPECT_EQ(p.threads, 2);
    EXPECT_TRUE(p.require_upfront_kudos);
    EXPECT_TRUE(p.extra_slow_worker);
    EXPECT_EQ(p.max_pixels, 4194304);
    EXPECT_EQ(p.blacklist, std::vector<std::string>{"badword"});
    EXPECT_FALSE(p.allow_img2img);
    EXPECT_FALSE(p.allow_painting);
    EXPECT_FALSE(p.allow_unsafe_ipaddr);
    EXPECT_FALSE(p.allow_post_processing);
    EXPECT_TRUE(p.allow_controlnet);
    EXPECT_TRUE(p.allow_sdxl_controlnet);
    EXPECT_TRUE(p.allow_lora);
    EXPECT_TRUE(p.limit_max_steps);
}

TEST(ImagePop, A1111ExtensionPop) {
    const PopInput pop = ImagePopOk(R"({"name": "a1111", "priority_usernames": [], "nsfw": true,
        "blacklist": [], "models": ["Deliberate"], "bridge_version": 13,
        "bridge_agent": "SD-WebUI Stable Horde Worker Bridge:4:https://x", "threads": 1,
        "max_pixels": 1048576, "allow_img2img": true, "allow_painting": true,
        "allow_unsafe_ipaddr": true})");
    EXPECT_EQ(pop.profile.max_pixels, 1048576);
    EXPECT_EQ(pop.profile.bridge_agent, "SD-WebUI Stable Horde Worker Bridge:4:https://x");
}

TEST(ImagePop, NameRules) {
    ExpectInvalid(DecodeImagePop(R"({})"), "name");
    ExpectInvalid(DecodeImagePop(R"({"name": null})"), "name");
    ExpectInvalid(DecodeImagePop(R"({"name": ""})"), "name");
    ExpectInvalid(DecodeImagePop(R"({"name": "   "})"), "name");
    ExpectInvalid(DecodeImagePop(R"({"name": "<b></b>"})"), "name");
    ExpectInvalid(DecodeImagePop(R"({"name": 5})"), "name");
    EXPECT_EQ(ImagePopOk(R"({"name": "  <b>Bold</b> worker <script>x</script> "})").name,
              "Bold worker x");
    EXPECT_EQ(ImagePopOk(R"({"name": "a < b"})").name, "a < b");
    const std::string hundred(100, 'n');
    EXPECT_EQ(ImagePopOk(R"({"name": ")" + hundred + R"("})").name, hundred);
    EXPECT_EQ(ImagePopOk(R"({"name": " <i>)" + hundred + R"(</i> "})").name, hundred);
    auto too_long = DecodeImagePop(R"({"name": ")" + hundred + R"(n"})");
    ExpectCode(too_long, ErrorCode::kTooLongWorkerName);
    // 100 two-byte characters are 100 characters.
    std::string accented;
    for (int i = 0; i < 100; ++i) {
        accented += "\xC3\xA9";
    }
    EXPECT_EQ(ImagePopOk(R"({"name": ")" + accented + R"("})").name, accented);
}

TEST(ImagePop, PriorityUsernames) {
    EXPECT_EQ(ImagePopOk(Pop(R"("priority_usernames": ["a#b#12", ""])")).profile.priority_usernames,
              std::vector<std::string>{"a#b#12"});
    for (const std::string_view bad : {"db0", "#1", "db0#", "db0#1a", "db0 #x"}) {
        ExpectCode(DecodeImagePop(Pop(R"("priority_usernames": [)" + Quoted(bad) + "]")),
                   ErrorCode::kInvalidPriorityUsername);
    }
    ExpectInvalid(DecodeImagePop(Pop(R"("priority_usernames": "db0#1")")), "priority_usernames");
    ExpectInvalid(DecodeImagePop(Pop(R"("priority_usernames": [1])")), "priority_usernames[0]");
}

TEST(ImagePop, ModelLimits) {
    EXPECT_EQ(ImagePopOk(Pop(R"("models": ["abc"])")).profile.models,
              std::vector<std::string>{"abc"});
    ExpectInvalid(DecodeImagePop(Pop(R"("models": ["ab"])")), "models[0]");
    const std::string name255(255, 'm');
    EXPECT_TRUE(DecodeImagePop(Pop(R"("models": [)" + Quoted(name255) + "]")).has_value());
    ExpectInvalid(DecodeImagePop(Pop(R"("models": [)" + Quoted(name255 + "m") + "]")), "models[0]");
    EXPECT_EQ(ImagePopOk(Pop(R"("models": )" + StringList(300, "model"))).profile.models.size(),
              300U);
    ExpectInvalid(DecodeImagePop(Pop(R"("models": )" + StringList(301, "model"))), "models");
    ExpectInvalid(DecodeImagePop(Pop(R"("models": "model")")), "models");
}

TEST(ImagePop, BridgeAgent) {
    EXPECT_EQ(ImagePopOk(Pop(R"("bridge_agent": "")")).profile.bridge_agent, "unknown:0:unknown");
    const std::string at_max(1000, 'b');
    EXPECT_EQ(ImagePopOk(Pop(R"("bridge_agent": )" + Quoted(at_max))).profile.bridge_agent, at_max);
    ExpectInvalid(DecodeImagePop(Pop(R"("bridge_agent": )" + Quoted(at_max + "b"))),
                  "bridge_agent");
}

TEST(ImagePop, NumberLimits) {
    EXPECT_EQ(ImagePopOk(Pop(R"("threads": 1)")).profile.threads, 1);
    EXPECT_EQ(ImagePopOk(Pop(R"("threads": 50)")).profile.threads, 50);
    ExpectInvalid(DecodeImagePop(Pop(R"("threads": 0)")), "threads");
    ExpectInvalid(DecodeImagePop(Pop(R"("threads": 51)")), "threads");
    ExpectInvalid(DecodeImagePop(Pop(R"("threads": "2")")), "threads");
    EXPECT_EQ(ImagePopOk(Pop(R"("amount": 1)")).amount, 1);
    EXPECT_EQ(ImagePopOk(Pop(R"("amount": 20)")).amount, 20);
    ExpectInvalid(DecodeImagePop(Pop(R"("amount": 0)")), "amount");
    ExpectInvalid(DecodeImagePop(Pop(R"("amount": 21)")), "amount");
    EXPECT_EQ(ImagePopOk(Pop(R"("max_pixels": 0)")).profile.max_pixels, 0);
    ExpectInvalid(DecodeImagePop(Pop(R"("max_pixels": -1)")), "max_pixels");
    ExpectInvalid(DecodeImagePop(Pop(R"("max_pixels": 1.5)")), "max_pixels");
}

TEST(ImagePop, BlacklistIsCappedAndCut) {
    const PopInput pop = ImagePopOk(Pop(
        R"("blacklist": ["", "short", "abcdefghijklmnopqrstuvwxyz", "d\u00e9j\u00e0-vu-de-jour-long"])"));
    EXPECT_EQ(pop.profile.blacklist, (std::vector<std::string>{"short", "abcdefghijklmno",
                                                               "d\xC3\xA9j\xC3\xA0-vu-de-jour"}));
    EXPECT_EQ(ImagePopOk(Pop(R"("blacklist": )" + StringList(250, "w"))).profile.blacklist.size(),
              200U);
    ExpectInvalid(DecodeImagePop(Pop(R"("blacklist": [1])")), "blacklist[0]");
}

TEST(ImagePop, Capabilities) {
    const PopInput declared =
        ImagePopOk(Pop(R"("capabilities": ["img2img", "", "lora", "controlnet"])"));
    EXPECT_TRUE(declared.profile.capabilities_declared);
    EXPECT_EQ(declared.profile.capabilities,
              (std::vector<std::string>{"img2img", "lora", "controlnet"}));
    const PopInput none = ImagePopOk(Pop(R"("capabilities": [])"));
    EXPECT_TRUE(none.profile.capabilities_declared);
    EXPECT_TRUE(none.profile.capabilities.empty());
    EXPECT_FALSE(ImagePopOk(Pop(R"("capabilities": null)")).profile.capabilities_declared);
    ExpectInvalid(DecodeImagePop(Pop(R"("capabilities": "lora")")), "capabilities");
}

TEST(ImagePop, WrongTypesAndBadBodies) {
    ExpectInvalid(DecodeImagePop(Pop(R"("nsfw": "yes")")), "nsfw");
    ExpectInvalid(DecodeImagePop(Pop(R"("allow_lora": 1)")), "allow_lora");
    ExpectCode(DecodeImagePop("{\"name\": \"w"), ErrorCode::kBadRequest);
    ExpectCode(DecodeImagePop("[1]"), ErrorCode::kBadRequest);
    ExpectCode(DecodeImagePop(R"({"name": "w\u0000"})"), ErrorCode::kNulByteInPayload);
    ExpectCode(DecodeImagePop("{\"name\": \"w\", \"models\": [\"a\0b\"]}"s),
               ErrorCode::kNulByteInPayload);
}

TEST(TextPop, DefaultsAndTextFields) {
    const PopInput pop = TextPopOk(R"({"name": "scribe"})");
    EXPECT_EQ(pop.profile.max_length, 512);
    EXPECT_EQ(pop.profile.max_context_length, 2048);
    EXPECT_TRUE(pop.profile.softprompts.empty());
    EXPECT_TRUE(pop.profile.nsfw);
    EXPECT_EQ(pop.amount, 1);

    const PopInput koboldcpp = TextPopOk(R"({"name": "kcpp", "models": ["koboldcpp/Llama-3"],
        "max_length": 512, "max_context_length": 8192, "priority_usernames": [],
        "softprompts": [""], "bridge_agent": "KoboldCppEmbedWorker:2:https://github.com/LostRuins/koboldcpp"})");
    EXPECT_EQ(koboldcpp.profile.max_context_length, 8192);
    EXPECT_TRUE(koboldcpp.profile.softprompts.empty());
    EXPECT_EQ(koboldcpp.profile.models, std::vector<std::string>{"koboldcpp/Llama-3"});

    EXPECT_EQ(TextPopOk(Pop(R"("softprompts": ["a", "", "b"])")).profile.softprompts,
              (std::vector<std::string>{"a", "b"}));
    ExpectInvalid(DecodeTextPop(Pop(R"("max_length": 0)")), "max_length");
    ExpectInvalid(DecodeTextPop(Pop(R"("max_context_length": "big")")), "max_context_length");
    ExpectInvalid(DecodeTextPop(Pop(R"("softprompts": [3])")), "softprompts[0]");
}

TEST(TextPop, ImageOnlyKeysAreIgnored) {
    const PopInput pop = TextPopOk(Pop(R"("max_pixels": "junk", "allow_lora": "x",
        "bridge_version": 1, "threads": 3, "amount": 2)"));
    EXPECT_EQ(pop.profile.threads, 3);
    EXPECT_EQ(pop.amount, 2);
    EXPECT_EQ(pop.profile.max_pixels, 262144);
}

// ---------------------------------------------------------------------------------------------
// Submit.

constexpr std::string_view kJobId = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

std::string Submit(std::string_view fields) {
    return R"({"id": ")" + std::string(kJobId) + R"(", )" + std::string(fields) + "}";
}

TEST(Submit, RegenImageSubmit) {
    const SubmitInput s = SubmitOk(Submit(R"("generation": "R2", "seed": 3735928559,
        "state": "ok", "censored": false,
        "gen_metadata": [{"type": "batch_index", "value": "see_ref", "ref": "1"},
                         {"type": "lora", "value": "download_failed", "ref": "1234", "x": 1}])"),
                                   GenKind::kImage);
    EXPECT_EQ(s.id.value(), kJobId);
    EXPECT_EQ(s.generation, "R2");
    EXPECT_EQ(s.seed, 3735928559);
    EXPECT_EQ(s.state, "ok");
    EXPECT_FALSE(s.censored);
    EXPECT_EQ(json::parse(s.gen_metadata_json), json::parse(R"([
        {"type": "batch_index", "value": "see_ref", "ref": "1"},
        {"type": "lora", "value": "download_failed", "ref": "1234"}])"));
}

TEST(Submit, Defaults) {
    const SubmitInput s = SubmitOk(Submit(R"("generation": "text")"), GenKind::kText);
    EXPECT_EQ(s.state, "ok");
    EXPECT_EQ(s.seed, 0);
    EXPECT_FALSE(s.censored);
    EXPECT_EQ(s.gen_metadata_json, "[]");
}

TEST(Submit, IdIsRequiredButNotChecked) {
    ExpectInvalid(DecodeSubmit(R"({"generation": "x", "seed": 1})", GenKind::kImage), "id");
    ExpectInvalid(DecodeSubmit(R"({"id": 5, "generation": "x", "seed": 1})", GenKind::kImage),
                  "id");
    EXPECT_EQ(SubmitOk(R"({"id": "not-a-uuid", "generation": "x", "seed": 1})", GenKind::kImage)
                  .id.value(),
              "not-a-uuid");
}

TEST(Submit, GenerationRequiredUnlessFaulted) {
    ExpectInvalid(DecodeSubmit(Submit(R"("seed": 1)"), GenKind::kImage), "generation");
    ExpectInvalid(DecodeSubmit(Submit(R"("state": "ok")"), GenKind::kText), "generation");
    ExpectInvalid(DecodeSubmit(Submit(R"("generation": 5, "seed": 1)"), GenKind::kImage),
                  "generation");
    // The A1111 extension's fault report carries neither generation nor seed.
    const SubmitInput a1111 = SubmitOk(Submit(R"("state": "faulted")"), GenKind::kImage);
    EXPECT_EQ(a1111.state, "faulted");
    EXPECT_EQ(a1111.generation, "");
    EXPECT_EQ(a1111.seed, 0);
    // The legacy worker's text fault report.
    const SubmitInput legacy =
        SubmitOk(Submit(R"("state": "faulted", "generation": "faulted")"), GenKind::kText);
    EXPECT_EQ(legacy.generation, "faulted");
}

TEST(Submit, States) {
    for (const std::string_view state : {"ok", "censored", "faulted", "csam"}) {
        EXPECT_EQ(SubmitOk(Submit(R"("generation": "x", "seed": 1, "state": ")" +
                                  std::string(state) + "\""),
                           GenKind::kImage)
                      .state,
                  state);
    }
    EXPECT_EQ(
        SubmitOk(Submit(R"("generation": "x", "seed": 1, "state": "")"), GenKind::kImage).state,
        "ok");
    ExpectInvalid(
        DecodeSubmit(Submit(R"("generation": "x", "seed": 1, "state": "done")"), GenKind::kImage),
        "state");
}

TEST(Submit, Seed) {
    ExpectInvalid(DecodeSubmit(Submit(R"("generation": "R2")"), GenKind::kImage), "seed");
    EXPECT_EQ(SubmitOk(Submit(R"("generation": "R2", "seed": "123")"), GenKind::kImage).seed, 123);
    EXPECT_EQ(SubmitOk(Submit(R"("generation": "R2", "seed": " -5 ")"), GenKind::kImage).seed, -5);
    EXPECT_EQ(SubmitOk(Submit(R"("generation": "R2", "seed": 7.0)"), GenKind::kImage).seed, 7);
    for (const std::string_view bad :
         {R"("abc")", R"("")", R"("12x")", R"("99999999999999999999")", "1.5", "true", "[1]"}) {
        ExpectInvalid(DecodeSubmit(Submit(R"("generation": "R2", "seed": )" + std::string(bad)),
                                   GenKind::kImage),
                      "seed");
    }
    EXPECT_EQ(SubmitOk(Submit(R"("generation": "t", "seed": 99)"), GenKind::kText).seed, 99);
    ExpectInvalid(DecodeSubmit(Submit(R"("generation": "t", "seed": "x")"), GenKind::kText),
                  "seed");
}

TEST(Submit, Censored) {
    EXPECT_TRUE(
        SubmitOk(Submit(R"("generation": "R2", "seed": 1, "censored": true)"), GenKind::kImage)
            .censored);
    ExpectInvalid(DecodeSubmit(Submit(R"("generation": "R2", "seed": 1, "censored": "yes")"),
                               GenKind::kImage),
                  "censored");
}

TEST(Submit, GenMetadataLimits) {
    auto entries = [](size_t count) {
        std::string out = "[";
        for (size_t i = 0; i < count; ++i) {
            out += (i == 0 ? "" : ",") + R"({"type": "information", "value": "see_ref"})"s;
        }
        return out + "]";
    };
    const std::string base = R"("generation": "R2", "seed": 1, "gen_metadata": )";
    EXPECT_EQ(json::parse(SubmitOk(Submit(base + entries(50)), GenKind::kImage).gen_metadata_json)
                  .as_array()
                  .size(),
              50U);
    ExpectInvalid(DecodeSubmit(Submit(base + entries(51)), GenKind::kImage), "gen_metadata");
    ExpectInvalid(DecodeSubmit(Submit(base + R"("x")"), GenKind::kImage), "gen_metadata");
    ExpectInvalid(DecodeSubmit(Submit(base + R"(["x"])"), GenKind::kImage), "gen_metadata[0]");
    ExpectInvalid(
        DecodeSubmit(Submit(base + R"([{"type": "bogus", "value": "csam"}])"), GenKind::kImage),
        "gen_metadata[0].type");
    ExpectInvalid(DecodeSubmit(Submit(base + R"([{"type": "censorship", "value": "bogus"}])"),
                               GenKind::kImage),
                  "gen_metadata[0].value");
    ExpectInvalid(DecodeSubmit(Submit(base + R"([{"value": "csam"}])"), GenKind::kImage),
                  "gen_metadata[0].type");
    ExpectInvalid(DecodeSubmit(Submit(base + R"([{"type": "censorship"}])"), GenKind::kImage),
                  "gen_metadata[0].value");
    const std::string ref255(255, 'r');
    EXPECT_TRUE(DecodeSubmit(Submit(base + R"([{"type": "ti", "value": "parse_failed", "ref": )" +
                                    Quoted(ref255) + "}]"),
                             GenKind::kImage)
                    .has_value());
    ExpectInvalid(DecodeSubmit(Submit(base + R"([{"type": "ti", "value": "parse_failed", "ref": )" +
                                      Quoted(ref255 + "r") + "}]"),
                               GenKind::kImage),
                  "gen_metadata[0].ref");
    const SubmitInput empty_ref = SubmitOk(
        Submit(base + R"([{"type": "censorship", "value": "nsfw", "ref": ""}])"), GenKind::kImage);
    EXPECT_EQ(json::parse(empty_ref.gen_metadata_json),
              json::parse(R"([{"type": "censorship", "value": "nsfw"}])"));
}

TEST(Submit, EveryMetadataTypeAndValue) {
    for (const std::string_view type :
         {"lora", "ti", "censorship", "source_image", "source_mask", "extra_source_images",
          "batch_index", "information", "aesthetic_score"}) {
        for (const std::string_view value :
             {"download_failed", "parse_failed", "baseline_mismatch", "csam", "nsfw", "see_ref"}) {
            EXPECT_TRUE(
                DecodeSubmit(Submit(R"("generation": "x", "seed": 1, "gen_metadata": [{"type": )" +
                                    Quoted(type) + R"(, "value": )" + Quoted(value) + "}]"),
                             GenKind::kImage)
                    .has_value())
                << type << " " << value;
        }
    }
}

TEST(Submit, BadBodies) {
    ExpectCode(DecodeSubmit("", GenKind::kImage), ErrorCode::kBadRequest);
    ExpectCode(DecodeSubmit(Submit(R"("generation": "a\u0000", "seed": 1)"), GenKind::kImage),
               ErrorCode::kNulByteInPayload);
}

}  // namespace
}  // namespace horde::protocol
