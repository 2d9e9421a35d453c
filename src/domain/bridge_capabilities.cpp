#include "domain/bridge_capabilities.hpp"

#include <array>
#include <charconv>
#include <optional>

namespace horde::domain {
namespace {

constexpr std::array<std::string_view, kKnownPostProcessorCount> kPostProcessorNames = {
    // classic (reGen 1)
    "GFPGAN",
    "RealESRGAN_x4plus",
    "RealESRGAN_x2plus",
    "RealESRGAN_x4plus_anime_6B",
    "NMKD_Siax",
    "4x_AnimeSharp",
    "CodeFormers",
    "strip_background",
    // newer (reGen 13)
    "4xNomos8kSC",
    "4xLSDIRplus",
    "4xNomosWebPhoto_RealPLKSR",
    "4xNomos2_realplksr_dysample",
    "4xNomos2_hq_dat2",
    "2xModernSpanimationV1",
    "GFPGANv1.3",
    "RestoreFormer",
};
constexpr size_t kClassicPostProcessorCount = 8;

constexpr std::array<std::string_view, kKnownSamplerCount> kSamplerNames = {
    "k_lms",     "k_heun",      "k_euler",        "k_euler_a",    "k_dpm_2",
    "k_dpm_2_a", "k_dpm_fast",  "k_dpm_adaptive", "k_dpmpp_2s_a", "k_dpmpp_2m",
    "dpmsolver", "k_dpmpp_sde", "DDIM",           "lcm",
};
constexpr size_t kClassicSamplerCount = 13;

constexpr std::array<std::string_view, kCapabilityCount> kCapabilityKeys = {
    "img2img",
    "inpainting",
    "karras",
    "post-processing",
    "r2",
    "r2_source",
    "controlnet",
    "image_is_control",
    "return_control_map",
    "hires_fix",
    "tiling",
    "clip_skip",
    "lora",
    "textual_inversion",
    "lora_versions",
    "extra_source_images",
    "stable_cascade_2pass",
    "qr_code",
    "extra_texts",
    "workflow",
    "layer_diffuse",
    "flux",
};

constexpr std::array<std::string_view, 6> kValidatedTextBackends = {
    "AI Horde Worker",
    "AI Horde Worker~aphrodite~oai",
    "AI Horde Worker~aphrodite~kai",
    "KoboldCppEmbedWorker",
    "TabbyAPI",
    kBridgeHordeWorker,
};

template <size_t N>
std::optional<size_t> IndexOf(const std::array<std::string_view, N>& names, std::string_view name) {
    for (size_t i = 0; i < N; ++i) {
        if (names[i] == name) return i;
    }
    return std::nullopt;
}

std::optional<Capability> CapabilityFromKey(std::string_view key) {
    if (key == "painting") return Capability::kInpainting;
    if (key == "post_processing") return Capability::kPostProcessing;
    if (const auto i = IndexOf(kCapabilityKeys, key)) return static_cast<Capability>(*i);
    return std::nullopt;
}

void AddClassicSamplers(Capabilities& caps) { caps.AddSamplerRange(0, kClassicSamplerCount); }

void AddClassicPostProcessors(Capabilities& caps) {
    caps.AddPostProcessorRange(0, kClassicPostProcessorCount);
}

void AddNewerPostProcessors(Capabilities& caps) {
    caps.AddPostProcessorRange(kClassicPostProcessorCount, kPostProcessorNames.size());
}

// "AI Horde Worker reGen": the contract's table (§3.4), cumulative.
void AddReGen(int v, Capabilities& caps) {
    using enum Capability;
    if (v >= 1) {
        caps.Add({kImg2Img, kInpainting, kKarras, kPostProcessing, kR2, kR2Source, kControlnet,
                  kImageIsControl, kReturnControlMap, kHiresFix, kTiling, kClipSkip});
        AddClassicPostProcessors(caps);
    }
    if (v >= 2) caps.Add({kLora, kTextualInversion});
    if (v >= 3) {
        caps.Add(kLoraVersions);
        caps.AddSampler("lcm");
    }
    if (v >= 5) caps.Add(kExtraSourceImages);
    if (v >= 6) caps.Add(kStableCascade2Pass);
    if (v >= 7) caps.Add({kQrCode, kExtraTexts, kWorkflow});
    if (v >= 8) caps.Add(kLayerDiffuse);
    if (v >= 9) caps.Add(kFlux);
    if (v >= 13) AddNewerPostProcessors(caps);
}

// Legacy "AI Horde Worker" (versions 3..24): our approximation.
void AddLegacy(int v, Capabilities& caps) {
    using enum Capability;
    if (v >= 3) {
        caps.Add({kImg2Img, kInpainting, kKarras, kPostProcessing});
        for (const std::string_view pp : {"GFPGAN", "RealESRGAN_x4plus", "CodeFormers"}) {
            caps.AddPostProcessor(pp);
        }
    }
    if (v >= 9) caps.Add(kR2);
    if (v >= 10) {
        for (const std::string_view pp :
             {"RealESRGAN_x4plus_anime_6B", "NMKD_Siax", "4x_AnimeSharp"}) {
            caps.AddPostProcessor(pp);
        }
    }
    if (v >= 11) caps.Add({kTiling, kHiresFix, kClipSkip});
    if (v >= 14) caps.Add(kControlnet);
    if (v >= 15) caps.Add(kImageIsControl);
    if (v >= 17) caps.Add(kR2Source);
    if (v >= 21) {
        caps.Add(kReturnControlMap);
        caps.AddPostProcessor("strip_background");
        caps.AddPostProcessor("RealESRGAN_x2plus");
    }
    if (v >= 23) caps.Add({kLora, kTextualInversion});
}

// "SD-WebUI Stable Horde Worker Bridge" (versions 1..4): our approximation.
void AddSdWebUi(int v, Capabilities& caps) {
    using enum Capability;
    if (v >= 1) caps.Add(kKarras);
    if (v >= 2) caps.Add({kImg2Img, kInpainting, kR2});
    if (v >= 3) {
        caps.Add(kPostProcessing);
        for (const std::string_view pp : {"GFPGAN", "RealESRGAN_x4plus", "CodeFormers"}) {
            caps.AddPostProcessor(pp);
        }
    }
    if (v >= 4) caps.Add({kHiresFix, kTiling, kClipSkip});
}

void AddEverything(Capabilities& caps) {
    for (size_t i = 0; i < kCapabilityCount; ++i) caps.Add(static_cast<Capability>(i));
    for (const std::string_view pp : kPostProcessorNames) caps.AddPostProcessor(pp);
    for (const std::string_view s : kSamplerNames) caps.AddSampler(s);
}

}  // namespace

std::string_view CapabilityKey(Capability c) { return kCapabilityKeys[static_cast<size_t>(c)]; }

std::span<const std::string_view> KnownPostProcessors() { return kPostProcessorNames; }
std::span<const std::string_view> KnownSamplers() { return kSamplerNames; }

bool Capabilities::SupportsPostProcessor(std::string_view name) const {
    const auto i = IndexOf(kPostProcessorNames, name);
    return i.has_value() && post_processors_.test(*i);
}

bool Capabilities::AddPostProcessor(std::string_view name) {
    const auto i = IndexOf(kPostProcessorNames, name);
    if (!i) return false;
    post_processors_.set(*i);
    return true;
}

void Capabilities::AddPostProcessorRange(size_t first, size_t last) {
    for (size_t i = first; i < last && i < kPostProcessorNames.size(); ++i) {
        post_processors_.set(i);
    }
}

void Capabilities::AddSamplerRange(size_t first, size_t last) {
    for (size_t i = first; i < last && i < kSamplerNames.size(); ++i) samplers_.set(i);
}

bool Capabilities::SupportsSampler(std::string_view name) const {
    const auto i = IndexOf(kSamplerNames, name);
    return i.has_value() && samplers_.test(*i);
}

bool Capabilities::AddSampler(std::string_view name) {
    const auto i = IndexOf(kSamplerNames, name);
    if (!i) return false;
    samplers_.set(*i);
    return true;
}

std::vector<std::string_view> Capabilities::PostProcessors() const {
    std::vector<std::string_view> out;
    for (size_t i = 0; i < kPostProcessorNames.size(); ++i) {
        if (post_processors_.test(i)) out.push_back(kPostProcessorNames[i]);
    }
    return out;
}

std::vector<std::string_view> Capabilities::Samplers() const {
    std::vector<std::string_view> out;
    for (size_t i = 0; i < kSamplerNames.size(); ++i) {
        if (samplers_.test(i)) out.push_back(kSamplerNames[i]);
    }
    return out;
}

BridgeAgent ParseBridgeAgent(std::string_view bridge_agent) {
    const size_t first = bridge_agent.find(':');
    if (first == std::string_view::npos || first == 0) return BridgeAgent{};
    BridgeAgent agent;
    agent.name = std::string(bridge_agent.substr(0, first));
    std::string_view rest = bridge_agent.substr(first + 1);
    const size_t second = rest.find(':');
    if (second != std::string_view::npos) {
        agent.url = std::string(rest.substr(second + 1));
        rest = rest.substr(0, second);
    }
    int version = 0;
    const std::from_chars_result parsed =
        std::from_chars(rest.data(), rest.data() + rest.size(), version);
    agent.version = parsed.ec == std::errc{} && version >= 0 ? version : 0;
    return agent;
}

Capabilities CapabilitiesForBridge(const BridgeAgent& agent) {
    Capabilities caps;
    AddClassicSamplers(caps);
    if (agent.name == kBridgeReGen) {
        AddReGen(agent.version, caps);
    } else if (agent.name == kBridgeLegacy) {
        AddLegacy(agent.version, caps);
    } else if (agent.name == kBridgeSdWebUi) {
        AddSdWebUi(agent.version, caps);
    } else if (agent.name == kBridgeAutoWeb) {
        caps.Add({Capability::kImg2Img, Capability::kInpainting, Capability::kKarras,
                  Capability::kTiling});
    } else if (agent.name == kBridgeHordeWorker) {
        AddEverything(caps);
    }
    return caps;
}

Capabilities ResolveCapabilities(const WorkerProfile& profile) {
    if (!profile.capabilities_declared) {
        return CapabilitiesForBridge(ParseBridgeAgent(profile.bridge_agent));
    }
    Capabilities caps;
    bool any_sampler = false;
    for (const std::string& entry : profile.capabilities) {
        if (const auto c = CapabilityFromKey(entry)) {
            caps.Add(*c);
        } else if (caps.AddPostProcessor(entry)) {
            caps.Add(Capability::kPostProcessing);
        } else if (caps.AddSampler(entry)) {
            any_sampler = true;
        }
    }
    if (!any_sampler) AddClassicSamplers(caps);
    return caps;
}

bool IsValidatedTextBackend(std::string_view bridge_name) {
    return IndexOf(kValidatedTextBackends, bridge_name).has_value();
}

}  // namespace horde::domain
