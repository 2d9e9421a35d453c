#include "domain/bridge_capabilities.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace horde::domain {
namespace {

using enum Capability;

Capabilities ForBridge(std::string_view name, int version) {
    return CapabilitiesForBridge(
        BridgeAgent{.name = std::string(name), .version = version, .url = ""});
}

WorkerProfile Declaring(std::vector<std::string> list, std::string bridge_agent) {
    WorkerProfile p;
    p.bridge_agent = std::move(bridge_agent);
    p.capabilities = std::move(list);
    p.capabilities_declared = true;
    return p;
}

// ---- ParseBridgeAgent
// ------------------------------------------------------------------------------

TEST(BridgeAgentTest, ParsesNameVersionAndUrlWithColons) {
    const BridgeAgent a =
        ParseBridgeAgent("AI Horde Worker reGen:9.0.2:https://github.com/Haidra-Org/x");
    EXPECT_EQ(a.name, "AI Horde Worker reGen");
    EXPECT_EQ(a.version, 9);
    EXPECT_EQ(a.url, "https://github.com/Haidra-Org/x");
}

TEST(BridgeAgentTest, PlainIntegerVersion) {
    const BridgeAgent a = ParseBridgeAgent("AI Horde Worker:23:https://x");
    EXPECT_EQ(a.name, "AI Horde Worker");
    EXPECT_EQ(a.version, 23);
}

TEST(BridgeAgentTest, MissingUrlIsAccepted) {
    const BridgeAgent a = ParseBridgeAgent("TabbyAPI:2");
    EXPECT_EQ(a.name, "TabbyAPI");
    EXPECT_EQ(a.version, 2);
    EXPECT_EQ(a.url, "");
}

TEST(BridgeAgentTest, DefaultAgentIsUnknownZero) {
    EXPECT_EQ(ParseBridgeAgent("unknown:0:unknown"),
              (BridgeAgent{.name = "unknown", .version = 0, .url = "unknown"}));
}

TEST(BridgeAgentTest, UnparsableGivesUnknownZero) {
    EXPECT_EQ(ParseBridgeAgent("no colons here"), BridgeAgent{});
    EXPECT_EQ(ParseBridgeAgent(":5:url"), BridgeAgent{});
    EXPECT_EQ(ParseBridgeAgent(""), BridgeAgent{});
    EXPECT_EQ(BridgeAgent{}.name, "unknown");
    EXPECT_EQ(BridgeAgent{}.version, 0);
}

TEST(BridgeAgentTest, NonNumericVersionKeepsNameWithVersionZero) {
    const BridgeAgent a = ParseBridgeAgent("AI Horde Worker reGen:beta:url");
    EXPECT_EQ(a.name, "AI Horde Worker reGen");
    EXPECT_EQ(a.version, 0);
    EXPECT_EQ(ParseBridgeAgent("x:-3:u").version, 0);
    EXPECT_EQ(ParseBridgeAgent("x:99999999999999999999:u").version, 0);
}

// ---- Capabilities value -------------------------------------------------------------------------

TEST(BridgeCapabilitiesTest, KeysAreTheWireNames) {
    EXPECT_EQ(CapabilityKey(kImg2Img), "img2img");
    EXPECT_EQ(CapabilityKey(kPostProcessing), "post-processing");
    EXPECT_EQ(CapabilityKey(kR2Source), "r2_source");
    EXPECT_EQ(CapabilityKey(kStableCascade2Pass), "stable_cascade_2pass");
    EXPECT_EQ(CapabilityKey(kFlux), "flux");
}

TEST(BridgeCapabilitiesTest, OnlyKnownNamesCanBeAdded) {
    Capabilities caps;
    EXPECT_TRUE(caps.AddPostProcessor("GFPGAN"));
    EXPECT_FALSE(caps.AddPostProcessor("MadeUpScaler"));
    EXPECT_TRUE(caps.AddSampler("lcm"));
    EXPECT_FALSE(caps.AddSampler("uni_pc"));
    EXPECT_TRUE(caps.SupportsPostProcessor("GFPGAN"));
    EXPECT_FALSE(caps.SupportsPostProcessor("MadeUpScaler"));
    EXPECT_FALSE(caps.SupportsPostProcessor("CodeFormers"));
    EXPECT_EQ(caps.PostProcessors(), std::vector<std::string_view>{"GFPGAN"});
    EXPECT_EQ(caps.Samplers(), std::vector<std::string_view>{"lcm"});
    EXPECT_EQ(KnownPostProcessors().size(), 16u);
    EXPECT_EQ(KnownSamplers().size(), 14u);
}

// ---- Tables
// ---------------------------------------------------------------------------------------

TEST(BridgeCapabilitiesTest, ReGen1HasTheBaseSetOnly) {
    const Capabilities c = ForBridge(kBridgeReGen, 1);
    for (const Capability cap :
         {kImg2Img, kInpainting, kKarras, kPostProcessing, kR2, kR2Source, kControlnet,
          kImageIsControl, kReturnControlMap, kHiresFix, kTiling, kClipSkip}) {
        EXPECT_TRUE(c.Has(cap)) << CapabilityKey(cap);
    }
    EXPECT_FALSE(c.Has(kLora));
    EXPECT_FALSE(c.Has(kTextualInversion));
    EXPECT_EQ(c.PostProcessors().size(), 8u);
    EXPECT_TRUE(c.SupportsPostProcessor("strip_background"));
    EXPECT_FALSE(c.SupportsPostProcessor("4xNomos8kSC"));
    EXPECT_TRUE(c.SupportsSampler("k_euler_a"));
    EXPECT_FALSE(c.SupportsSampler("lcm"));
}

TEST(BridgeCapabilitiesTest, ReGen2AddsLoraAndTi) {
    const Capabilities c = ForBridge(kBridgeReGen, 2);
    EXPECT_TRUE(c.Has(kLora));
    EXPECT_TRUE(c.Has(kTextualInversion));
    EXPECT_FALSE(c.Has(kLoraVersions));
    EXPECT_EQ(c.Samplers().size(), 13u);
    EXPECT_FALSE(c.SupportsSampler("lcm"));
}

TEST(BridgeCapabilitiesTest, ReGen3AddsLoraVersionsAndLcm) {
    const Capabilities c = ForBridge(kBridgeReGen, 3);
    EXPECT_TRUE(c.Has(kLoraVersions));
    EXPECT_TRUE(c.SupportsSampler("lcm"));
    EXPECT_FALSE(c.Has(kExtraSourceImages));
}

TEST(BridgeCapabilitiesTest, ReGenIsCumulative) {
    EXPECT_FALSE(ForBridge(kBridgeReGen, 4).Has(kExtraSourceImages));
    EXPECT_TRUE(ForBridge(kBridgeReGen, 5).Has(kExtraSourceImages));
    EXPECT_FALSE(ForBridge(kBridgeReGen, 5).Has(kStableCascade2Pass));
    EXPECT_TRUE(ForBridge(kBridgeReGen, 6).Has(kStableCascade2Pass));
    EXPECT_FALSE(ForBridge(kBridgeReGen, 6).Has(kQrCode));
    const Capabilities v7 = ForBridge(kBridgeReGen, 7);
    EXPECT_TRUE(v7.Has(kQrCode) && v7.Has(kExtraTexts) && v7.Has(kWorkflow));
    EXPECT_FALSE(v7.Has(kLayerDiffuse));
    EXPECT_TRUE(ForBridge(kBridgeReGen, 8).Has(kLayerDiffuse));
    EXPECT_FALSE(ForBridge(kBridgeReGen, 8).Has(kFlux));
}

TEST(BridgeCapabilitiesTest, ReGen9HasEverythingButTheNewerPostProcessors) {
    const Capabilities c = ForBridge(kBridgeReGen, 9);
    EXPECT_TRUE(c.Has(kFlux));
    EXPECT_TRUE(c.Has(kLora));
    EXPECT_TRUE(c.Has(kLayerDiffuse));
    EXPECT_FALSE(c.SupportsPostProcessor("RestoreFormer"));
    EXPECT_EQ(c.PostProcessors().size(), 8u);
}

TEST(BridgeCapabilitiesTest, ReGen13AddsTheNewerPostProcessors) {
    const Capabilities c = ForBridge(kBridgeReGen, 13);
    for (const std::string_view pp : KnownPostProcessors()) {
        EXPECT_TRUE(c.SupportsPostProcessor(pp)) << pp;
    }
}

TEST(BridgeCapabilitiesTest, ReGenZeroHasNoFlags) {
    const Capabilities c = ForBridge(kBridgeReGen, 0);
    EXPECT_FALSE(c.Has(kImg2Img));
    EXPECT_TRUE(c.SupportsSampler("k_euler"));
}

TEST(BridgeCapabilitiesTest, LegacyWorkerTable) {
    EXPECT_FALSE(ForBridge(kBridgeLegacy, 2).Has(kImg2Img));
    const Capabilities v3 = ForBridge(kBridgeLegacy, 3);
    EXPECT_TRUE(v3.Has(kImg2Img) && v3.Has(kInpainting) && v3.Has(kKarras));
    EXPECT_TRUE(v3.SupportsPostProcessor("GFPGAN"));
    EXPECT_FALSE(v3.SupportsPostProcessor("strip_background"));
    EXPECT_FALSE(v3.Has(kR2));
    EXPECT_TRUE(ForBridge(kBridgeLegacy, 9).Has(kR2));
    EXPECT_FALSE(ForBridge(kBridgeLegacy, 10).Has(kHiresFix));
    EXPECT_TRUE(ForBridge(kBridgeLegacy, 11).Has(kHiresFix));
    EXPECT_FALSE(ForBridge(kBridgeLegacy, 13).Has(kControlnet));
    EXPECT_TRUE(ForBridge(kBridgeLegacy, 14).Has(kControlnet));
    EXPECT_TRUE(ForBridge(kBridgeLegacy, 17).Has(kR2Source));
    const Capabilities v21 = ForBridge(kBridgeLegacy, 21);
    EXPECT_TRUE(v21.Has(kReturnControlMap));
    EXPECT_TRUE(v21.SupportsPostProcessor("strip_background"));
    EXPECT_FALSE(v21.Has(kLora));
    const Capabilities v24 = ForBridge(kBridgeLegacy, 24);
    EXPECT_TRUE(v24.Has(kLora) && v24.Has(kTextualInversion));
    EXPECT_FALSE(v24.Has(kFlux));
    EXPECT_FALSE(v24.SupportsSampler("lcm"));
}

TEST(BridgeCapabilitiesTest, SdWebUiTable) {
    EXPECT_FALSE(ForBridge(kBridgeSdWebUi, 1).Has(kImg2Img));
    EXPECT_TRUE(ForBridge(kBridgeSdWebUi, 1).Has(kKarras));
    const Capabilities v2 = ForBridge(kBridgeSdWebUi, 2);
    EXPECT_TRUE(v2.Has(kImg2Img) && v2.Has(kInpainting) && v2.Has(kR2));
    EXPECT_FALSE(v2.Has(kTiling));
    EXPECT_TRUE(ForBridge(kBridgeSdWebUi, 4).Has(kTiling));
}

TEST(BridgeCapabilitiesTest, AutoWebBridge) {
    const Capabilities c = ForBridge(kBridgeAutoWeb, 1);
    EXPECT_TRUE(c.Has(kImg2Img) && c.Has(kInpainting) && c.Has(kKarras) && c.Has(kTiling));
    EXPECT_FALSE(c.Has(kR2));
    EXPECT_FALSE(c.Has(kPostProcessing));
}

TEST(BridgeCapabilitiesTest, OurWorkerHasEverything) {
    const Capabilities c = ForBridge(kBridgeHordeWorker, 0);
    for (size_t i = 0; i < kCapabilityCount; ++i) {
        EXPECT_TRUE(c.Has(static_cast<Capability>(i)));
    }
    EXPECT_EQ(c.PostProcessors().size(), KnownPostProcessors().size());
    EXPECT_EQ(c.Samplers().size(), KnownSamplers().size());
}

TEST(BridgeCapabilitiesTest, UnknownBridgeHasOnlyClassicSamplers) {
    const Capabilities c = ForBridge("koboldcpp", 5);
    for (size_t i = 0; i < kCapabilityCount; ++i) {
        EXPECT_FALSE(c.Has(static_cast<Capability>(i)));
    }
    EXPECT_TRUE(c.PostProcessors().empty());
    EXPECT_EQ(c.Samplers().size(), 13u);
    EXPECT_TRUE(c.SupportsSampler("DDIM"));
    EXPECT_FALSE(c.SupportsSampler("lcm"));
}

// ---- ResolveCapabilities
// --------------------------------------------------------------------------

TEST(BridgeCapabilitiesTest, ResolveUsesTheTableByDefault) {
    WorkerProfile p;
    p.bridge_agent = "AI Horde Worker reGen:2.1.0:https://x";
    EXPECT_EQ(ResolveCapabilities(p), ForBridge(kBridgeReGen, 2));
    p.bridge_agent = "garbage";
    EXPECT_EQ(ResolveCapabilities(p), ForBridge("unknown", 0));
}

TEST(BridgeCapabilitiesTest, UndeclaredListIsIgnored) {
    WorkerProfile p = Declaring({"flux"}, "AI Horde Worker reGen:1:x");
    p.capabilities_declared = false;
    EXPECT_FALSE(ResolveCapabilities(p).Has(kFlux));
}

TEST(BridgeCapabilitiesTest, DeclaredListOverridesTheTable) {
    const Capabilities c = ResolveCapabilities(
        Declaring({"img2img", "r2", "GFPGAN", "k_euler", "nonsense"}, "AI Horde Worker reGen:9:x"));
    EXPECT_TRUE(c.Has(kImg2Img));
    EXPECT_TRUE(c.Has(kR2));
    EXPECT_FALSE(c.Has(kLora));  // reGen 9 would have it
    EXPECT_FALSE(c.Has(kControlnet));
    EXPECT_TRUE(c.Has(kPostProcessing));  // implied by naming a post-processor
    EXPECT_TRUE(c.SupportsPostProcessor("GFPGAN"));
    EXPECT_FALSE(c.SupportsPostProcessor("CodeFormers"));
    EXPECT_EQ(c.Samplers(), std::vector<std::string_view>{"k_euler"});
}

TEST(BridgeCapabilitiesTest, DeclaredListGrantsWhatTheTableWouldNot) {
    const Capabilities c = ResolveCapabilities(Declaring(
        {"lora", "r2_source", "painting", "post_processing", "lcm"}, "unknown:0:unknown"));
    EXPECT_TRUE(c.Has(kLora));
    EXPECT_TRUE(c.Has(kR2Source));
    EXPECT_TRUE(c.Has(kInpainting));
    EXPECT_TRUE(c.Has(kPostProcessing));
    EXPECT_TRUE(c.SupportsSampler("lcm"));
    EXPECT_FALSE(c.SupportsSampler("k_euler"));
}

TEST(BridgeCapabilitiesTest, DeclaredListWithoutSamplersGetsClassicSamplers) {
    const Capabilities c = ResolveCapabilities(Declaring({"img2img"}, "AI Horde Worker reGen:9:x"));
    EXPECT_EQ(c.Samplers().size(), 13u);
    EXPECT_FALSE(c.SupportsSampler("lcm"));
    const Capabilities empty = ResolveCapabilities(Declaring({}, "AI Horde Worker reGen:9:x"));
    EXPECT_FALSE(empty.Has(kImg2Img));
    EXPECT_EQ(empty.Samplers().size(), 13u);
}

TEST(BridgeCapabilitiesTest, ValidatedTextBackends) {
    for (const std::string_view name :
         {"AI Horde Worker", "AI Horde Worker~aphrodite~oai", "AI Horde Worker~aphrodite~kai",
          "KoboldCppEmbedWorker", "TabbyAPI", "Horde Worker"}) {
        EXPECT_TRUE(IsValidatedTextBackend(name)) << name;
    }
    EXPECT_FALSE(IsValidatedTextBackend("KoboldCpp"));
    EXPECT_FALSE(IsValidatedTextBackend("unknown"));
    EXPECT_FALSE(IsValidatedTextBackend("ai horde worker"));
    EXPECT_FALSE(IsValidatedTextBackend("AI Horde Worker reGen"));
}

}  // namespace
}  // namespace horde::domain
