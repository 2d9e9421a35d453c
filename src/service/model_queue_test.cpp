#include "service/model_queue.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace horde::service {
namespace {

std::map<int64_t, uint64_t> Contents(const DeferredQueue& q) {
    std::map<int64_t, uint64_t> out;
    for (const DeferredRef& d : q) {
        EXPECT_TRUE(out.emplace(d.key.seq, d.listed_before).second) << "twice: " << d.key.seq;
    }
    return out;
}

TEST(DeferredQueueTest, HoldsExactlyWhatWasAddedAndNotRemovedAcrossRandomOperations) {
    std::mt19937 rng(11);
    DeferredQueue q;
    std::map<int64_t, uint64_t> expected;
    for (int step = 0; step < 5000; ++step) {
        const int64_t seq = std::uniform_int_distribution<int64_t>(0, 300)(rng);
        const QueueKey key{-seq % 7, seq};
        if (std::bernoulli_distribution(0.55)(rng)) {
            const uint64_t tag = rng();
            q.Add(DeferredRef{key, QueuedRef{}, tag});
            expected.emplace(seq, tag);  // a key already there keeps its first entry
        } else {
            q.Remove(key);  // also a key that is not there
            expected.erase(seq);
        }
        if (step % 97 == 0) {
            ASSERT_EQ(Contents(q), expected) << "step " << step;
        }
    }
    ASSERT_EQ(Contents(q), expected);
    for (const auto& [seq, tag] : std::map<int64_t, uint64_t>(expected)) {
        q.Remove(QueueKey{-seq % 7, seq});
    }
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.size(), 0u);
}

TEST(ModelNameHashTest, WideBitIsOneBitOfTheHash) {
    for (const char* m : {"", "stable_diffusion", "koboldcpp/Llama-3-8B", "SDXL 1.0"}) {
        const uint64_t bit = WideModelBit(m);
        EXPECT_EQ(bit & (bit - 1), 0u) << m;
        EXPECT_EQ(bit, uint64_t{1} << (ModelNameHash(m) & 63)) << m;
        EXPECT_EQ(ModelNameHash(m), ModelNameHash(std::string(m))) << m;
    }
    EXPECT_NE(ModelNameHash("model_a"), ModelNameHash("model_b"));
}

}  // namespace
}  // namespace horde::service
