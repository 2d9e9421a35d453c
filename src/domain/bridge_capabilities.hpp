#pragma once
// What a worker's bridge can do: parsed from its `bridge_agent` ("name:version:url") through a
// cumulative per-version table (api-contract.md §3.4), or taken from the explicit capability list
// the worker declares at pop (§9.5). Pure values, no I/O.
//
// The tables below are our own restatement. Only the "AI Horde Worker reGen" table follows the
// contract entry by entry; the legacy "AI Horde Worker", "SD-WebUI Stable Horde Worker Bridge" and
// "HordeAutoWebBridge" tables are our approximation of when each feature arrived (those bridges are
// retired; the approximation only has to be plausible and monotone in the version).

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/entities.hpp"

namespace horde::domain {

/// A bridge feature that a request may need.
enum class Capability : uint8_t {
    kImg2Img,
    kInpainting,
    kKarras,
    kPostProcessing,
    kR2,
    kR2Source,
    kControlnet,
    kImageIsControl,
    kReturnControlMap,
    kHiresFix,
    kTiling,
    kClipSkip,
    kLora,
    kTextualInversion,
    kLoraVersions,
    kExtraSourceImages,
    kStableCascade2Pass,
    kQrCode,
    kExtraTexts,
    kWorkflow,
    kLayerDiffuse,
    kFlux,
};
inline constexpr size_t kCapabilityCount = static_cast<size_t>(Capability::kFlux) + 1;

/// The name a worker uses for `c` in a declared capability list ("img2img", "post-processing",
/// "r2_source", ...).
std::string_view CapabilityKey(Capability c);

inline constexpr size_t kKnownPostProcessorCount = 16;
inline constexpr size_t kKnownSamplerCount = 14;

/// Every post-processor a request may name (the 8 classic ones first, then the 8 newer ones).
std::span<const std::string_view> KnownPostProcessors();
/// Every sampler a request may name (the 13 classic ones, then `lcm`).
std::span<const std::string_view> KnownSamplers();

/// A bridge's feature set: flags plus the post-processors and samplers it runs. Only names from
/// KnownPostProcessors()/KnownSamplers() can be held; others are ignored. Plain value type.
class Capabilities {
public:
    bool Has(Capability c) const { return flags_.test(static_cast<size_t>(c)); }
    void Add(Capability c) { flags_.set(static_cast<size_t>(c)); }
    void Add(std::initializer_list<Capability> caps) {
        for (const Capability c : caps) Add(c);
    }

    bool SupportsPostProcessor(std::string_view name) const;
    /// Returns false (and adds nothing) when `name` is not a known post-processor.
    bool AddPostProcessor(std::string_view name);
    bool SupportsSampler(std::string_view name) const;
    /// Returns false (and adds nothing) when `name` is not a known sampler.
    bool AddSampler(std::string_view name);
    /// Adds the known post-processors or samplers with indexes [first, last) in
    /// KnownPostProcessors() / KnownSamplers() (a bridge's table, without a lookup per name).
    void AddPostProcessorRange(size_t first, size_t last);
    void AddSamplerRange(size_t first, size_t last);

    std::vector<std::string_view> PostProcessors() const;
    std::vector<std::string_view> Samplers() const;

    bool operator==(const Capabilities&) const = default;

private:
    std::bitset<kCapabilityCount> flags_;
    std::bitset<kKnownPostProcessorCount> post_processors_;  // indexes into KnownPostProcessors()
    std::bitset<kKnownSamplerCount> samplers_;               // indexes into KnownSamplers()
};

/// `bridge_agent` split into its parts.
struct BridgeAgent {
    std::string name = "unknown";
    int version = 0;  // the leading integer (major) of the version field; 0 if it has none
    std::string url;
    bool operator==(const BridgeAgent&) const = default;
};

/// Parses "name:version:url" (the url may itself contain ':'; it may be missing). A value with no
/// ':' or an empty name is unparsable and gives {"unknown", 0, ""}. A version field that does not
/// start with a digit keeps the name and gives version 0.
BridgeAgent ParseBridgeAgent(std::string_view bridge_agent);

/// The bridge names with a capability table.
inline constexpr std::string_view kBridgeReGen = "AI Horde Worker reGen";
inline constexpr std::string_view kBridgeLegacy = "AI Horde Worker";
inline constexpr std::string_view kBridgeSdWebUi = "SD-WebUI Stable Horde Worker Bridge";
inline constexpr std::string_view kBridgeAutoWeb = "HordeAutoWebBridge";
/// Our own worker: every capability, post-processor and sampler, at any version.
inline constexpr std::string_view kBridgeHordeWorker = "Horde Worker";

/// The cumulative table for a parsed agent. Unknown names get no flags and no post-processors,
/// but the 13 classic samplers (as every bridge does).
Capabilities CapabilitiesForBridge(const BridgeAgent& agent);

/// The capabilities a worker has: its declared list when `capabilities_declared` (§9.5), else the
/// table for its `bridge_agent`.
///
/// A declared list holds capability keys (CapabilityKey; "painting" is accepted for "inpainting"
/// and "post_processing" for "post-processing"), post-processor names and sampler names; other
/// strings are ignored. Naming any post-processor implies "post-processing". A list that names no
/// sampler gets the 13 classic samplers (text workers and minimal image workers need not list
/// them).
Capabilities ResolveCapabilities(const WorkerProfile& profile);

/// Whether text requests with `validated_backends` may go to a bridge of this name.
bool IsValidatedTextBackend(std::string_view bridge_name);

}  // namespace horde::domain
