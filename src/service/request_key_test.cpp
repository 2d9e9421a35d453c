#include "service/request_key.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <unordered_set>

#include "common/random.hpp"

namespace horde::service {
namespace {

TEST(RequestKeyTest, UuidTextBecomesItsBits) {
    const RequestKey k = KeyOf("01912345-6789-7abc-8def-0123456789ab");
    EXPECT_EQ(k.hi, 0x0191234567897abcULL);
    EXPECT_EQ(k.lo, 0x8def0123456789abULL);
    EXPECT_EQ(KeyOf("01912345-6789-7ABC-8DEF-0123456789AB"), k);
}

TEST(RequestKeyTest, DistinctIdsGetDistinctKeys) {
    std::set<std::pair<uint64_t, uint64_t>> seen;
    std::unordered_set<size_t> hashes;
    for (int i = 0; i < 20000; ++i) {
        const RequestKey k = KeyOf(i % 2 ? NewUuid() : NewUuidV7(1'700'000'000'000 + i / 4));
        EXPECT_TRUE(seen.insert({k.hi, k.lo}).second);
        hashes.insert(RequestKeyHash{}(k));
    }
    EXPECT_GT(hashes.size(), 19990u);  // the hash spreads time-ordered ids too
}

TEST(RequestKeyTest, OtherTextHashesWithoutMeetingUuids) {
    EXPECT_EQ(KeyOf("not-a-uuid"), KeyOf("not-a-uuid"));
    EXPECT_FALSE(KeyOf("not-a-uuid") == KeyOf("not-a-uuiD"));
    EXPECT_FALSE(KeyOf("") == RequestKey{});
    // 36 characters with the dashes in place but one non-hex digit is not a UUID.
    EXPECT_FALSE(KeyOf("01912345-6789-7abc-8def-0123456789ag") ==
                 KeyOf("01912345-6789-7abc-8def-0123456789a0"));
}

}  // namespace
}  // namespace horde::service
