#include "domain/match_summary.hpp"

#include <algorithm>
#include <array>
#include <bit>

#include "domain/pricing.hpp"

namespace horde::domain {

namespace {

constexpr uint16_t Bit(NeedBit b) { return static_cast<uint16_t>(1u << static_cast<int>(b)); }

/// The bits tracked exactly, in the order of their index bits.
constexpr NeedBit kExactBits[] = {NeedBit::kNsfw, NeedBit::kTrusted,        NeedBit::kUnsafeIp,
                                  NeedBit::kFast, NeedBit::kPostProcessing, NeedBit::kLora};

uint32_t ClampU32(int64_t v) {
    return static_cast<uint32_t>(std::clamp<int64_t>(v, 0, std::numeric_limits<uint32_t>::max()));
}

}  // namespace

uint16_t ModelBit(std::string_view model) {
    uint32_t h = 2166136261u;  // FNV-1a: stable across runs and builds
    for (const char c : model) {
        h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    }
    return static_cast<uint16_t>(1u << (h % 15));
}

MatchNeeds NeedsOf(const Request& r) {
    MatchNeeds n;
    uint16_t m = 0;
    if (r.nsfw) m |= Bit(NeedBit::kNsfw);
    if (r.trusted_workers) m |= Bit(NeedBit::kTrusted);
    if (!r.safe_ip) m |= Bit(NeedBit::kUnsafeIp);
    if (!r.slow_workers) m |= Bit(NeedBit::kFast);
    if (r.kind == GenKind::kImage) {
        const ImageShape& im = r.image;
        n.size = ClampU32(static_cast<int64_t>(im.width) * im.height);
        if (!r.extra_slow_workers) m |= Bit(NeedBit::kNotExtraSlow);
        if (im.has_source_image) {
            m |= Bit(NeedBit::kImg2Img);
            if (im.source_processing == "inpainting" || im.source_processing == "outpainting") {
                m |= Bit(NeedBit::kPainting);
            }
        }
        if (!im.post_processing.empty()) m |= Bit(NeedBit::kPostProcessing);
        if (im.lora_count > 0) m |= Bit(NeedBit::kLora);
        if (!im.control_type.empty()) m |= Bit(NeedBit::kControlnet);
        if (im.hires_fix) m |= Bit(NeedBit::kHiresFix);
    } else {
        n.size = ClampU32(r.text.max_length);
        n.size2 = ClampU32(r.text.max_context_length);
        if (r.validated_backends) m |= Bit(NeedBit::kValidated);
    }
    n.mask = m;
    if (!r.models.empty()) {
        n.models = 0;
        for (const std::string_view model : r.models) n.models |= ModelBit(model);
    }
    return n;
}

namespace {

/// ExactIndex by table lookups, one per byte of the mask (every queue-tree update and skipped
/// count computes a leaf's index, so a loop over the exact bits was ~8k instructions a pop).
struct ExactIndexTables {
    std::array<uint8_t, 256> low{};
    std::array<uint8_t, 256> high{};
};

constexpr ExactIndexTables MakeExactIndexTables() {
    ExactIndexTables t;
    for (unsigned byte = 0; byte < 256; ++byte) {
        for (size_t i = 0; i < std::size(kExactBits); ++i) {
            const unsigned bit = static_cast<unsigned>(kExactBits[i]);
            const auto index_bit = static_cast<uint8_t>(1u << i);
            if (bit < 8 && ((byte >> bit) & 1u) != 0) t.low[byte] |= index_bit;
            if (bit >= 8 && ((byte >> (bit - 8)) & 1u) != 0) t.high[byte] |= index_bit;
        }
    }
    return t;
}

constexpr ExactIndexTables kExactIndexTables = MakeExactIndexTables();

}  // namespace

uint8_t ExactIndex(uint16_t mask) {
    return static_cast<uint8_t>(kExactIndexTables.low[mask & 0xFFu] |
                                kExactIndexTables.high[mask >> 8]);
}

WorkerOffer OfferOf(const Worker& w, const Capabilities& caps, bool owner_trusted,
                    bool worker_is_slow) {
    using enum Capability;
    const WorkerProfile& p = w.profile;
    WorkerOffer o;
    o.text = w.kind == GenKind::kText;
    o.size = o.text ? ClampU32(p.max_length) : ClampU32(p.max_pixels);
    o.size2 = o.text ? ClampU32(p.max_context_length) : 0;
    for (const std::string& model : p.models) o.models |= ModelBit(model);
    auto offer = [&](NeedBit bit, bool has, SkipReason reason) {
        if (has) o.has |= Bit(bit);
        o.bit_reason[static_cast<int>(bit)] = reason;
    };
    // A flag the worker refuses gives its own reason; a bridge that lacks the capability gives
    // kBridgeVersion (CanGenerate's order).
    auto feature = [&](NeedBit bit, bool allowed, SkipReason refused, bool bridge) {
        offer(bit, allowed && bridge, allowed ? SkipReason::kBridgeVersion : refused);
    };
    offer(NeedBit::kNsfw, p.nsfw, SkipReason::kNsfw);
    offer(NeedBit::kTrusted, owner_trusted, SkipReason::kUntrusted);
    offer(NeedBit::kUnsafeIp, p.allow_unsafe_ipaddr, SkipReason::kUnsafeIp);
    offer(NeedBit::kFast, !worker_is_slow, SkipReason::kPerformance);
    offer(NeedBit::kNotExtraSlow, o.text || !p.extra_slow_worker, SkipReason::kPerformance);
    feature(NeedBit::kImg2Img, p.allow_img2img, SkipReason::kImg2Img, caps.Has(kImg2Img));
    feature(NeedBit::kPainting, p.allow_painting, SkipReason::kPainting, caps.Has(kInpainting));
    feature(NeedBit::kPostProcessing, p.allow_post_processing, SkipReason::kPostProcessing,
            caps.Has(kPostProcessing));
    feature(NeedBit::kLora, p.allow_lora, SkipReason::kLora, caps.Has(kLora));
    feature(NeedBit::kControlnet, p.allow_controlnet, SkipReason::kControlnet,
            caps.Has(kControlnet));
    feature(NeedBit::kHiresFix, true, SkipReason::kBridgeVersion, caps.Has(kHiresFix));
    feature(NeedBit::kValidated, true, SkipReason::kBridgeVersion,
            IsValidatedTextBackend(ParseBridgeAgent(p.bridge_agent).name));
    // A combination is allowed when its exact bits are all offered: a subset of the offer's own.
    const uint32_t offered = ExactIndex(o.has);
    for (uint32_t c = 0; c < 64; ++c) {
        if ((c & ~offered) == 0) o.allowed_combos |= uint64_t{1} << c;
    }
    return o;
}

SkipReason PrunedReason(const MatchSummary& s, const WorkerOffer& o) {
    auto first = [&](uint16_t bits) {
        return o.bit_reason[std::countr_zero(static_cast<unsigned>(bits))];
    };
    if ((s.models & o.models) == 0) return SkipReason::kModels;  // CanGenerate checks it first
    const auto missing = static_cast<uint16_t>(~o.has);
    const uint16_t all_miss = s.and_mask & missing;
    if (all_miss & kNeedBitsBeforeSize) return first(all_miss);
    if (s.min_size > o.size) return o.text ? SkipReason::kMaxLength : SkipReason::kMaxPixels;
    if (o.text && s.min_size2 > o.size2) return SkipReason::kMaxContextLength;
    if (all_miss) return first(all_miss);
    if (const uint16_t any_miss = s.or_mask & missing) return first(any_miss);
    return SkipReason::kModels;  // unreachable for a refused, non-empty subtree
}

}  // namespace horde::domain
