#pragma once
// A conservative summary of what a request needs from a worker, for pruning the pop's queue walk.
// Pure values. The invariant (tested against CanGenerate in match_summary_test.cpp): when
// MayTake(Leaf(NeedsOf(r)), offer) is false, CanGenerate(r, ctx) is not kNone for every context
// built from the same worker, capabilities, owner trust and slowness. The converse does not hold:
// what the summary cannot express (worker lists, samplers, post-processor names, blacklist,
// upfront kudos, ...) is left to CanGenerate.
//
// Subtree summaries combine leaves, so a queue tree whose nodes carry them can skip every subtree
// holding no request a worker may take: the first match in queue order costs O(log n) per pruned
// region instead of a visit per request.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string_view>

#include "domain/bridge_capabilities.hpp"
#include "domain/entities.hpp"
#include "domain/matching.hpp"

namespace horde::domain {

/// One bit per requirement a worker meets or not regardless of the requester. Ordered as
/// CanGenerate checks them, so the lowest failing bit is the reason it would report.
enum class NeedBit : uint8_t {
    kNsfw,            // request nsfw → worker nsfw
    kTrusted,         // trusted_workers → owner trusted
    kUnsafeIp,        // request from an unsafe IP → allow_unsafe_ipaddr
    kFast,            // slow_workers=false → worker not slow
    kNotExtraSlow,    // image, extra_slow_workers=false → worker not extra slow
    kImg2Img,         // source image → allow_img2img and bridge img2img
    kPainting,        // in/outpainting → allow_painting and bridge inpainting
    kPostProcessing,  // post-processing → allow_post_processing and bridge post-processing
    kLora,            // loras → allow_lora and bridge lora
    kControlnet,      // control_type → allow_controlnet and bridge controlnet
    kHiresFix,        // hires_fix → bridge hires_fix
    kValidated,       // text, validated_backends → a validated backend
};
inline constexpr int kNeedBitCount = static_cast<int>(NeedBit::kValidated) + 1;
/// The bits that come before the size check in CanGenerate's order.
inline constexpr uint16_t kNeedBitsBeforeSize = (1u << 5) - 1;

/// A model's bit in a 16-bit filter: one of bits 0-14 by a hash of its name. A request's filter
/// is the OR of its models' bits (kAnyModelBits when it lists none); a worker's is the OR of the
/// models it serves plus kOfferAnyModelBit. No shared bit: no shared model, so the request fails
/// on models; a shared bit may be a collision, which CanGenerate then decides.
uint16_t ModelBit(std::string_view model);
inline constexpr uint16_t kAnyModelBits = 0xFFFF;
/// Set in every worker's filter and in no listed model's: "any model" requests always pass.
inline constexpr uint16_t kOfferAnyModelBit = 0x8000;

/// What one request needs: sizes, required bits and the filter of its models.
struct MatchNeeds {
    uint32_t size = 0;                // image: width × height; text: max_length
    uint32_t size2 = 0;               // text: max_context_length; image: 0
    uint16_t mask = 0;                // NeedBit bits
    uint16_t models = kAnyModelBits;  // ModelBit filter of the request's models
};

MatchNeeds NeedsOf(const Request& r);

/// A subtree's summary: how many requests, their smallest sizes, the bits all of them need, the
/// bits any of them needs, and which combinations of the "exact" bits occur.
struct MatchSummary {
    uint32_t count = 0;
    uint32_t min_size = std::numeric_limits<uint32_t>::max();
    uint32_t min_size2 = std::numeric_limits<uint32_t>::max();
    uint16_t and_mask = 0xFFFF;
    uint16_t or_mask = 0;
    uint64_t combos = 0;    // bit c set: some request's exact bits (ExactIndex) equal c
    uint32_t deferred = 0;  // entries marked deferred by the queue that holds them
    uint16_t models = 0;    // OR of the requests' model filters
};

/// The six most common bits, whose combinations a summary tracks exactly.
uint8_t ExactIndex(uint16_t mask);
/// The summary of one entry; `deferred`: the queue holding it counts it apart (see the service).
/// Inline, as Combine: a queue tree's node update calls both on every rebalanced node.
inline MatchSummary Leaf(const MatchNeeds& n, bool deferred = false) {
    return MatchSummary{.count = 1,
                        .min_size = n.size,
                        .min_size2 = n.size2,
                        .and_mask = n.mask,
                        .or_mask = n.mask,
                        .combos = uint64_t{1} << ExactIndex(n.mask),
                        .deferred = deferred ? 1u : 0u,
                        .models = n.models};
}
/// Folds `child` into `into`.
inline void Combine(MatchSummary& into, const MatchSummary& child) {
    into.count += child.count;
    into.min_size = std::min(into.min_size, child.min_size);
    into.min_size2 = std::min(into.min_size2, child.min_size2);
    into.and_mask &= child.and_mask;
    into.or_mask |= child.or_mask;
    into.combos |= child.combos;
    into.deferred += child.deferred;
    into.models |= child.models;
}

/// What one worker offers, computed once per pop.
struct WorkerOffer {
    uint32_t size = 0;                    // image: max_pixels; text: max_length
    uint32_t size2 = 0;                   // text: max_context_length
    uint16_t has = 0;                     // NeedBit bits this worker meets
    uint16_t models = kOfferAnyModelBit;  // ModelBit filter of the served models
    uint64_t allowed_combos = 0;          // exact-bit combinations contained in `has`
    bool text = false;
    SkipReason bit_reason[kNeedBitCount] = {};  // reported when the bit is missing
};

WorkerOffer OfferOf(const Worker& w, const Capabilities& caps, bool owner_trusted,
                    bool worker_is_slow);

/// False when no request summarised by `s` can be taken by the worker offering `o`.
inline bool MayTake(const MatchSummary& s, const WorkerOffer& o) {
    return s.count > 0 && (s.models & o.models) != 0 && s.min_size <= o.size &&
           (!o.text || s.min_size2 <= o.size2) && (s.and_mask & ~o.has) == 0 &&
           (s.combos & o.allowed_combos) != 0;
}

/// The reason to count the requests of a subtree that MayTake refused: models when none of them
/// lists a model the worker serves, else the first bit all of them miss, else the size, else the
/// first bit any of them misses. Exact when the subtree fails for one reason; otherwise one of the
/// reasons its requests fail on.
SkipReason PrunedReason(const MatchSummary& s, const WorkerOffer& o);

}  // namespace horde::domain
