#include "common/ids.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace horde {
namespace {

TEST(IdsTest, HexDigitValueOfEveryByte) {
    for (int c = 0; c < 256; ++c) {
        const char ch = static_cast<char>(c);
        if (std::isxdigit(c) == 0) {
            EXPECT_EQ(HexDigitValue(ch), -1) << c;
            continue;
        }
        EXPECT_EQ(HexDigitValue(ch), std::stoi(std::string(1, ch), nullptr, 16)) << c;
    }
}

TEST(IdsTest, UuidIsHexInItsGroupsInEitherCase) {
    EXPECT_TRUE(IsUuid("0191a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b"));
    EXPECT_TRUE(IsUuid("0191A2B3-C4D5-7E6F-8A9B-0C1D2E3F4A5B"));
    EXPECT_FALSE(IsUuid(""));
    EXPECT_FALSE(IsUuid("0191a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5"));    // one short
    EXPECT_FALSE(IsUuid("0191a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b0"));  // one long
    EXPECT_FALSE(IsUuid("0191a2b3c-4d5-7e6f-8a9b-0c1d2e3f4a5b"));   // a dash moved
    EXPECT_FALSE(IsUuid("0191a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5g"));   // not hex
    EXPECT_FALSE(IsUuid("0191a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5-"));   // a dash out of place
    EXPECT_FALSE(IsUuid(std::string_view("0191a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5\0", 36)));
}

}  // namespace
}  // namespace horde
