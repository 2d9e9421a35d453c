#include "common/random.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

#include "common/ids.hpp"

namespace horde {
namespace {

TEST(RandomTest, UuidV4HasItsVersionAndVariant) {
    const std::string id = NewUuid();
    EXPECT_TRUE(IsUuid(id));
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
}

TEST(RandomTest, UuidV7CarriesTheTimeAndSortsByIt) {
    const int64_t ms = 0x0191'2345'6789;  // 2024-08
    const std::string id = NewUuidV7(ms);
    EXPECT_TRUE(IsUuid(id));
    EXPECT_EQ(id.substr(0, 13), "01912345-6789");
    EXPECT_EQ(id[14], '7');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
    // Later milliseconds sort later as strings (what a text primary key index sees).
    EXPECT_LT(NewUuidV7(ms), NewUuidV7(ms + 1));
    EXPECT_LT(NewUuidV7(ms + 1), NewUuidV7(ms + 1000 * 3600));
}

TEST(RandomTest, UuidV7IsUniqueWithinOneMillisecond) {
    std::set<std::string> ids;
    for (int i = 0; i < 1000; ++i) {
        ids.insert(NewUuidV7(1'700'000'000'000));
    }
    EXPECT_EQ(ids.size(), 1000u);
}

TEST(RandomTest, UuidV7FromSeveralThreadsAreAllDistinct) {
    std::vector<std::vector<std::string>> made(4);
    std::vector<std::thread> threads;
    for (auto& out : made) {
        threads.emplace_back([&out] {
            for (int i = 0; i < 500; ++i) {
                out.push_back(NewUuidV7(1'700'000'000'000));
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    std::set<std::string> ids;
    for (const auto& out : made) {
        ids.insert(out.begin(), out.end());
    }
    EXPECT_EQ(ids.size(), 2000u);
}

TEST(RandomTest, RandomBelowStaysInRangeAndHitsEveryValue) {
    EXPECT_EQ(RandomBelow(0), 0u);
    EXPECT_EQ(RandomBelow(1), 0u);
    // 7 does not divide 2^32: the rejection keeps the draws uniform. 70,000 draws: each value
    // expects 10,000 (sd ~93); 9,400..10,600 is over 6 sd either way.
    std::vector<int> counts(7, 0);
    for (int i = 0; i < 70'000; ++i) {
        const uint32_t v = RandomBelow(7);
        ASSERT_LT(v, 7u);
        ++counts[v];
    }
    for (int c : counts) {
        EXPECT_GT(c, 9'400);
        EXPECT_LT(c, 10'600);
    }
    // The whole 32-bit range minus one (an image seed): values spread over it.
    uint32_t high = 0;
    for (int i = 0; i < 1000; ++i) {
        const uint32_t v = RandomBelow(4'294'967'295u);
        EXPECT_LT(v, 4'294'967'295u);
        high = std::max(high, v);
    }
    EXPECT_GT(high, 3'000'000'000u);
}

}  // namespace
}  // namespace horde
