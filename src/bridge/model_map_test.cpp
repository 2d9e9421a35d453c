#include "bridge/model_map.hpp"

#include <gtest/gtest.h>

namespace horde::bridge {
namespace {

TEST(ModelMap, ParsesEntries) {
    const auto e = ParseModelEntries({"A", " B = b.safetensors ", "", "C=*", "=x"});
    ASSERT_EQ(e.size(), 3u);
    EXPECT_EQ(e[0], (ModelEntry{"A", ""}));
    EXPECT_EQ(e[1], (ModelEntry{"B", "b.safetensors"}));
    EXPECT_EQ(e[2], (ModelEntry{"C", "*"}));
}

TEST(ModelMap, DefaultHordeNames) {
    EXPECT_EQ(DefaultHordeName("v1-5-pruned-emaonly.safetensors [6ce0161689]"),
              "v1-5-pruned-emaonly");
    EXPECT_EQ(DefaultHordeName("/models/llama-2-7b.Q4_K_M.gguf"), "llama-2-7b.Q4_K_M");
    EXPECT_EQ(DefaultHordeName("SD1.5\\dreamshaper_8.ckpt"), "dreamshaper_8");
    EXPECT_EQ(DefaultHordeName("koboldcpp/Tiefighter-13B"), "koboldcpp/Tiefighter-13B");
    EXPECT_EQ(DefaultHordeName("meta-llama/Llama-3.1-8B-Instruct"),
              "meta-llama/Llama-3.1-8B-Instruct");
}

TEST(ModelMap, WithoutConfigEveryBackendModelIsServed) {
    const auto s = ResolveModels({}, {"a.safetensors", "b"});
    ASSERT_EQ(s.served.size(), 2u);
    EXPECT_EQ(s.served[0], std::make_pair(std::string("a"), std::string("a.safetensors")));
    EXPECT_EQ(s.BackendNameFor("b"), "b");
    EXPECT_TRUE(s.missing.empty());
}

TEST(ModelMap, OnlyModelsTheBackendHas) {
    const std::vector<std::string> backend = {"sd15/dreamshaper_8.safetensors",
                                              "koboldcpp/Tiefighter", "Stable_Diffusion"};
    const auto s =
        ResolveModels(ParseModelEntries({"dreamshaper_8", "Tiefighter=koboldcpp/Tiefighter",
                                         "stable_diffusion", "Missing", "X=nope"}),
                      backend);
    EXPECT_EQ(s.HordeNames(),
              (std::vector<std::string>{"dreamshaper_8", "Tiefighter", "stable_diffusion"}));
    EXPECT_EQ(s.BackendNameFor("dreamshaper_8"), "sd15/dreamshaper_8.safetensors");
    EXPECT_EQ(s.BackendNameFor("stable_diffusion"), "Stable_Diffusion");
    EXPECT_EQ(s.missing, (std::vector<std::string>{"Missing", "X"}));
    EXPECT_EQ(s.BackendNameFor("Missing"), "");
}

TEST(ModelMap, StarServesWhateverIsLoaded) {
    const auto s = ResolveModels(ParseModelEntries({"My Model=*"}), {"/m/x.gguf"});
    EXPECT_EQ(s.BackendNameFor("My Model"), "/m/x.gguf");
    const auto none = ResolveModels(ParseModelEntries({"My Model=*"}), {});
    EXPECT_TRUE(none.served.empty());
    EXPECT_EQ(none.missing.size(), 1u);
}

}  // namespace
}  // namespace horde::bridge
