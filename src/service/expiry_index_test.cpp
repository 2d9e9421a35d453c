#include "service/expiry_index.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <set>

namespace horde::service {
namespace {

using std::chrono::milliseconds;

std::set<const domain::Request*> Due(const ExpiryIndex& index, TimePoint now) {
    std::set<const domain::Request*> out;
    index.ForEachDue(now, [&](const domain::Request& r) { EXPECT_TRUE(out.insert(&r).second); });
    return out;
}

TEST(ExpiryIndexTest, FindsExactlyTheRequestsDueAcrossRandomAddsAndRemoves) {
    std::mt19937 rng(7);
    const TimePoint base = TimePoint(std::chrono::seconds(1'700'000'000));
    std::deque<domain::Request> requests(3000);  // stable addresses, like State::requests
    std::set<const domain::Request*> indexed;
    ExpiryIndex index;
    for (auto& r : requests) {
        // Many in the same second, some in the same millisecond.
        r.expiry = base + milliseconds(std::uniform_int_distribution<int>(0, 20'000)(rng));
        index.Add(r);
        indexed.insert(&r);
    }
    for (int round = 0; round < 4000; ++round) {
        auto& r = requests[std::uniform_int_distribution<size_t>(0, requests.size() - 1)(rng)];
        if (indexed.contains(&r)) {
            index.Remove(r);
            indexed.erase(&r);
            if (rng() % 2 == 0) {  // an update: back with another expiry
                r.expiry = base + milliseconds(std::uniform_int_distribution<int>(0, 20'000)(rng));
                index.Add(r);
                indexed.insert(&r);
            }
        }
    }
    EXPECT_EQ(index.size(), indexed.size());
    for (const int ms : {0, 1, 999, 1000, 1001, 7'500, 19'999, 20'000, 20'001}) {
        const TimePoint now = base + milliseconds(ms);
        std::set<const domain::Request*> want;
        for (const auto* r : indexed) {
            if (r->expiry < now) {
                want.insert(r);
            }
        }
        EXPECT_EQ(Due(index, now), want) << "at +" << ms << " ms";
    }
    for (const auto* r : indexed) {
        index.Remove(*r);
    }
    EXPECT_EQ(index.size(), 0u);
    EXPECT_TRUE(Due(index, base + std::chrono::hours(1)).empty());
}

TEST(ExpiryIndexTest, RemovingWhatIsNotThereChangesNothing) {
    domain::Request a;
    domain::Request b;
    a.expiry = b.expiry = TimePoint(std::chrono::seconds(100));
    ExpiryIndex index;
    index.Add(a);
    index.Remove(b);
    EXPECT_EQ(index.size(), 1u);
    EXPECT_EQ(Due(index, TimePoint(std::chrono::seconds(101))).size(), 1u);
}

TEST(ExpiryIndexTest, AStaleSlotIsLookedUp) {
    std::deque<domain::Request> requests(3);
    ExpiryIndex index;
    for (auto& r : requests) {
        r.expiry = TimePoint(std::chrono::seconds(100));
        index.Add(r);
    }
    requests[2].expiry_slot = 0;  // wrong: another request's place
    index.Remove(requests[2]);
    EXPECT_EQ(Due(index, TimePoint(std::chrono::seconds(101))),
              (std::set<const domain::Request*>{&requests[0], &requests[1]}));
    index.Remove(requests[0]);  // its slot still right; the last one moved into it
    index.Remove(requests[1]);
    EXPECT_EQ(index.size(), 0u);
}

}  // namespace
}  // namespace horde::service
