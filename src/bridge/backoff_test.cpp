#include "bridge/backoff.hpp"

#include <gtest/gtest.h>

#include "bridge/cancel.hpp"

namespace horde::bridge {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, GrowsExponentiallyToTheCap) {
    Backoff b({.initial_ms = 100, .max_ms = 1000, .factor = 2.0}, [] { return 1.0; });
    EXPECT_EQ(b.Next(), milliseconds(100));
    EXPECT_EQ(b.Next(), milliseconds(200));
    EXPECT_EQ(b.Next(), milliseconds(400));
    EXPECT_EQ(b.Next(), milliseconds(800));
    EXPECT_EQ(b.Next(), milliseconds(1000));
    EXPECT_EQ(b.Next(), milliseconds(1000));
    b.Reset();
    EXPECT_EQ(b.Next(), milliseconds(100));
}

TEST(Backoff, JitterStaysInTheUpperHalf) {
    Backoff low({.initial_ms = 1000, .max_ms = 8000, .factor = 2.0}, [] { return 0.0; });
    EXPECT_EQ(low.Next(), milliseconds(500));
    EXPECT_EQ(low.Next(), milliseconds(1000));
    Backoff real({.initial_ms = 1000, .max_ms = 4000, .factor = 2.0});
    for (int i = 0; i < 50; ++i) {
        const auto d = real.Next();
        EXPECT_GE(d, milliseconds(500));
        EXPECT_LE(d, milliseconds(4000));
    }
}

TEST(CancelToken, DeadlineAndAbort) {
    auto clock = MakeFakeClock();
    auto abort = std::make_shared<std::atomic<bool>>(false);
    const CancelToken token(clock, clock.Now() + std::chrono::seconds(10), abort);
    EXPECT_FALSE(token.Cancelled());
    EXPECT_EQ(token.RemainingMs(), 10'000);
    EXPECT_EQ(token.RemainingMs(1'000, 5'000), 5'000);
    clock.Advance(milliseconds(9'500));
    EXPECT_EQ(token.RemainingMs(), 1'000);  // never below the floor
    clock.Advance(milliseconds(1'000));
    EXPECT_TRUE(token.Expired());
    EXPECT_EQ(token.Reason(), "deadline");
    EXPECT_FALSE(token.SleepFor(milliseconds(10)));

    const CancelToken other(clock, TimePoint::max(), abort);
    EXPECT_FALSE(other.Cancelled());
    abort->store(true);
    EXPECT_TRUE(other.Aborted());
    EXPECT_EQ(other.Reason(), "shutdown");
}

}  // namespace
}  // namespace horde::bridge
