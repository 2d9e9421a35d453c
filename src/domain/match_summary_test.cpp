#include "domain/match_summary.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace horde::domain {
namespace {

// Random requests and workers over every field the summary expresses (and a few it does not),
// checked against CanGenerate: the summary may only refuse what CanGenerate refuses.
class Randomizer {
public:
    explicit Randomizer(uint32_t seed) : rng_(seed) {}

    bool Coin(double p = 0.5) { return std::bernoulli_distribution(p)(rng_); }
    int Between(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

    Request MakeRequest(GenKind kind) {
        Request r;
        r.kind = kind;
        r.user = UserId(Between(1, 3));
        r.prompt = "a lighthouse";
        r.nsfw = Coin(0.3);
        r.trusted_workers = Coin(0.2);
        r.safe_ip = !Coin(0.2);
        r.slow_workers = !Coin(0.3);
        r.extra_slow_workers = Coin(0.3);
        r.validated_backends = Coin(0.5);
        r.models = PickModels(kind, Coin(0.2) ? 0 : Between(1, 3));
        if (kind == GenKind::kImage) {
            r.image.width = 64 * Between(4, 24);
            r.image.height = 64 * Between(4, 24);
            r.image.has_source_image = Coin(0.2);
            const char* processing[] = {"img2img", "inpainting", "outpainting"};
            r.image.source_processing = processing[Between(0, 2)];
            if (Coin(0.3)) r.image.post_processing = {"GFPGAN"};
            r.image.lora_count = Coin(0.3) ? 1 : 0;
            if (Coin(0.15)) r.image.control_type = "canny";
            r.image.hires_fix = Coin(0.3);
        } else {
            r.text.max_length = 16 * Between(1, 64);
            r.text.max_context_length = 512 * Between(1, 16);
        }
        return r;
    }

    Worker MakeWorker(GenKind kind) {
        Worker w;
        w.id = WorkerId("11111111-1111-4111-8111-111111111111");
        w.kind = kind;
        w.owner = UserId(9);
        WorkerProfile& p = w.profile;
        p.nsfw = Coin();
        p.allow_unsafe_ipaddr = Coin();
        p.extra_slow_worker = Coin(0.2);
        for (const std::string_view m : PickModels(kind, Coin(0.05) ? 0 : Between(1, 4))) {
            p.models.emplace_back(m);
        }
        if (kind == GenKind::kImage && Coin(0.05)) {
            p.models.emplace_back("horde_special_x");
        }
        if (kind == GenKind::kImage) {
            const char* agents[] = {"AI Horde Worker reGen:1.0.0:x",
                                    "AI Horde Worker reGen:9.0.2:x", "AI Horde Worker:10:x",
                                    "unknown bridge:1:x"};
            p.bridge_agent = agents[Between(0, 3)];
            p.max_pixels = int64_t{64} * 64 * Between(16, 576);
            p.allow_img2img = Coin(0.7);
            p.allow_painting = Coin(0.7);
            p.allow_post_processing = Coin(0.7);
            p.allow_lora = Coin(0.5);
            p.allow_controlnet = Coin(0.5);
        } else {
            const char* agents[] = {"KoboldCppEmbedWorker:3:x", "AI Horde Worker:10:x",
                                    "my own bridge:1:x"};
            p.bridge_agent = agents[Between(0, 2)];
            p.max_length = 16 * Between(1, 64);
            p.max_context_length = 512 * Between(1, 16);
        }
        return w;
    }

    /// `count` distinct names out of a pool of 20 per kind (more than the filter's 15 bits).
    CompactStringList PickModels(GenKind kind, int count) {
        std::vector<std::string> names;
        while (static_cast<int>(names.size()) < count) {
            std::string m = (kind == GenKind::kImage ? "Model " : "koboldcpp/LM-") +
                            std::to_string(Between(0, 19));
            if (std::find(names.begin(), names.end(), m) == names.end()) {
                names.push_back(std::move(m));
            }
        }
        return CompactStringList(names);
    }

private:
    std::mt19937 rng_;
};

SkipReason Generate(const Request& r, const Worker& w, const Capabilities& caps, bool owner_trusted,
                    bool slow, bool requester_trusted, bool models_prechecked = false) {
    const MatchContext ctx{
        .worker = w,
        .caps = caps,
        .owner_trusted = owner_trusted,
        .worker_is_slow = slow,
        .worker_tricked = false,
        .requester_trusted = requester_trusted,
        .requester_is_priority = false,
        .requester_available = Kudos::FromWhole(1000),
        .models = RequestModelTraits{},
        .models_prechecked = models_prechecked,
    };
    return CanGenerate(r, ctx);
}

TEST(MatchSummaryTest, RefusesOnlyWhatCanGenerateRefusesWithTheSameReason) {
    Randomizer rnd(20261126);
    int refused = 0;
    int taken = 0;
    int exact = 0;
    int models_pruned = 0;
    for (int i = 0; i < 20000; ++i) {
        const GenKind kind = rnd.Coin() ? GenKind::kImage : GenKind::kText;
        const Request r = rnd.MakeRequest(kind);
        const Worker w = rnd.MakeWorker(kind);
        const Capabilities caps = ResolveCapabilities(w.profile);
        const bool owner_trusted = rnd.Coin();
        const bool slow = rnd.Coin(0.3);
        const WorkerOffer offer = OfferOf(w, caps, owner_trusted, slow);
        const MatchSummary leaf = Leaf(NeedsOf(r));
        // A trusted requester: the unsafe-IP "untrusted" rule, which the summary leaves to
        // CanGenerate, does not apply, so the first failing rule is one the summary knows.
        const SkipReason expected = Generate(r, w, caps, owner_trusted, slow, true);
        if (!MayTake(leaf, offer)) {
            ++refused;
            models_pruned += (leaf.models & offer.models) == 0 ? 1 : 0;
            ASSERT_NE(expected, SkipReason::kNone) << "iteration " << i;
            // The reason is exact unless the models fail and so does a bit whose filter bits
            // collide; pops count reasons only in the queues of served models.
            const bool models_pass =
                Generate(r, w, caps, owner_trusted, slow, true, true) == expected;
            if (models_pass || (leaf.models & offer.models) == 0) {
                EXPECT_EQ(PrunedReason(leaf, offer), expected) << "iteration " << i;
                ++exact;
            }
            // And for any requester.
            EXPECT_NE(Generate(r, w, caps, owner_trusted, slow, false), SkipReason::kNone);
        } else {
            taken += expected == SkipReason::kNone ? 1 : 0;
        }
    }
    // Both sides were exercised.
    EXPECT_GT(refused, 5000);
    EXPECT_GT(exact, 4000);
    EXPECT_GT(models_pruned, 1000);
    EXPECT_GT(taken, 1000);
}

TEST(MatchSummaryTest, SubtreeRefusedOnlyWhenEveryRequestInItIsRefused) {
    Randomizer rnd(7);
    for (int i = 0; i < 3000; ++i) {
        const GenKind kind = rnd.Coin() ? GenKind::kImage : GenKind::kText;
        const Worker w = rnd.MakeWorker(kind);
        const Capabilities caps = ResolveCapabilities(w.profile);
        const WorkerOffer offer = OfferOf(w, caps, rnd.Coin(), rnd.Coin(0.3));
        MatchSummary subtree;
        bool any = false;
        const int size = rnd.Between(1, 8);
        for (int j = 0; j < size; ++j) {
            const MatchSummary leaf = Leaf(NeedsOf(rnd.MakeRequest(kind)));
            any = any || MayTake(leaf, offer);
            Combine(subtree, leaf);
        }
        EXPECT_EQ(subtree.count, static_cast<uint32_t>(size));
        if (any) {
            EXPECT_TRUE(MayTake(subtree, offer)) << "iteration " << i;
        }
    }
}

TEST(MatchSummaryTest, ModelFilterRefusesOtherModelsAndPassesAnyModel) {
    // Two names whose bits differ (found, not assumed: the filter is a hash).
    std::string served = "Model A";
    std::string other;
    for (int i = 0; other.empty(); ++i) {
        const std::string candidate = "Model " + std::to_string(i);
        if (ModelBit(candidate) != ModelBit(served)) other = candidate;
    }
    Worker w;
    w.kind = GenKind::kImage;
    w.profile.max_pixels = 1024 * 1024;
    w.profile.models = {served};
    const WorkerOffer offer = OfferOf(w, ResolveCapabilities(w.profile), true, false);
    Request r;
    r.kind = GenKind::kImage;
    r.image.width = r.image.height = 512;
    r.models = {other};
    EXPECT_FALSE(MayTake(Leaf(NeedsOf(r)), offer));
    EXPECT_EQ(PrunedReason(Leaf(NeedsOf(r)), offer), SkipReason::kModels);
    r.models = {other, served};
    EXPECT_TRUE(MayTake(Leaf(NeedsOf(r)), offer));
    r.models = {};  // any model
    EXPECT_TRUE(MayTake(Leaf(NeedsOf(r)), offer));
    // A subtree of other-model requests is refused; one any-model request lets it through.
    Request other_only = r;
    other_only.models = {other};
    MatchSummary subtree = Leaf(NeedsOf(other_only));
    EXPECT_FALSE(MayTake(subtree, offer));
    Combine(subtree, Leaf(NeedsOf(r)));
    EXPECT_TRUE(MayTake(subtree, offer));
    // A worker serving nothing still passes any-model requests, and only those.
    w.profile.models.clear();
    const WorkerOffer none = OfferOf(w, ResolveCapabilities(w.profile), true, false);
    EXPECT_TRUE(MayTake(Leaf(NeedsOf(r)), none));
    r.models = {served};
    EXPECT_FALSE(MayTake(Leaf(NeedsOf(r)), none));
}

TEST(MatchSummaryTest, EmptySummaryIsRefusedAndSizesUseTheirOwnReasons) {
    Worker w;
    w.kind = GenKind::kImage;
    w.profile.max_pixels = 512 * 512;
    const Capabilities caps = ResolveCapabilities(w.profile);
    const WorkerOffer offer = OfferOf(w, caps, true, false);
    EXPECT_FALSE(MayTake(MatchSummary{}, offer));

    Request big;
    big.image.width = 1024;
    big.image.height = 1024;
    EXPECT_FALSE(MayTake(Leaf(NeedsOf(big)), offer));
    EXPECT_EQ(PrunedReason(Leaf(NeedsOf(big)), offer), SkipReason::kMaxPixels);

    Request small;  // 512 × 512
    EXPECT_TRUE(MayTake(Leaf(NeedsOf(small)), offer));
    MatchSummary both = Leaf(NeedsOf(big));
    Combine(both, Leaf(NeedsOf(small)));
    EXPECT_TRUE(MayTake(both, offer));
}

TEST(MatchSummaryTest, ExactIndexGivesEachExactBitItsOwnIndexBit) {
    // The exact bits: each maps to a distinct index bit; every other need bit maps to none.
    const NeedBit exact[] = {NeedBit::kNsfw, NeedBit::kTrusted,        NeedBit::kUnsafeIp,
                             NeedBit::kFast, NeedBit::kPostProcessing, NeedBit::kLora};
    uint8_t seen = 0;
    for (int b = 0; b < 16; ++b) {
        const auto single = static_cast<uint16_t>(1u << b);
        const bool is_exact = std::any_of(std::begin(exact), std::end(exact),
                                          [&](NeedBit e) { return static_cast<int>(e) == b; });
        const uint8_t index = ExactIndex(single);
        if (!is_exact) {
            EXPECT_EQ(index, 0) << "need bit " << b;
            continue;
        }
        EXPECT_EQ(std::popcount(index), 1) << "need bit " << b;
        EXPECT_EQ(seen & index, 0) << "need bit " << b << " shares its index bit";
        seen |= index;
    }
    EXPECT_EQ(seen, (1u << std::size(exact)) - 1);
    // A mask's index is the OR of its bits' indexes, for every mask.
    for (uint32_t mask = 0; mask <= 0xFFFF; ++mask) {
        uint8_t expected = 0;
        for (int b = 0; b < 16; ++b) {
            if (mask & (1u << b)) expected |= ExactIndex(static_cast<uint16_t>(1u << b));
        }
        ASSERT_EQ(ExactIndex(static_cast<uint16_t>(mask)), expected) << "mask " << mask;
    }
    // An offer allows exactly the combinations whose exact bits it has.
    Randomizer rnd(20261128);
    for (int i = 0; i < 2000; ++i) {
        const GenKind kind = rnd.Coin() ? GenKind::kImage : GenKind::kText;
        const Worker w = rnd.MakeWorker(kind);
        const WorkerOffer offer =
            OfferOf(w, ResolveCapabilities(w.profile), rnd.Coin(), rnd.Coin());
        for (uint32_t c = 0; c < 64; ++c) {
            uint16_t mask = 0;
            for (size_t b = 0; b < std::size(exact); ++b) {
                if (c & (1u << b)) mask |= static_cast<uint16_t>(1u << static_cast<int>(exact[b]));
            }
            // `exact` lists the bits in their index order (the kExactBits order).
            ASSERT_EQ(ExactIndex(mask), c);
            const bool allowed = (offer.allowed_combos >> c) & 1u;
            ASSERT_EQ(allowed, (mask & ~offer.has) == 0) << "combination " << c;
        }
    }
}

}  // namespace
}  // namespace horde::domain
