#include "common/compact_string.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace horde {
namespace {

TEST(CompactStringTest, IsOnePointerAndEmptyByDefault) {
    static_assert(sizeof(CompactString) == sizeof(void*));
    static_assert(sizeof(InternedString) == sizeof(void*));
    CompactString s;
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(s.size(), 0u);
    EXPECT_EQ(s.view(), "");
    EXPECT_STREQ(s.data(), "");
}

TEST(CompactStringTest, KeepsBytesIncludingNulsAndLongValues) {
    const std::string with_nul("a\0b", 3);
    CompactString a(with_nul);
    EXPECT_EQ(a.size(), 3u);
    EXPECT_EQ(a.view(), std::string_view(with_nul));
    const std::string long_value(100000, 'x');
    CompactString b = long_value;
    EXPECT_EQ(b.str(), long_value);
}

TEST(CompactStringTest, CopiesAndMovesAreIndependent) {
    CompactString a = "seed-123";
    CompactString b = a;
    EXPECT_EQ(a, b);
    EXPECT_NE(a.data(), b.data());
    a = "other";
    EXPECT_EQ(b, "seed-123");
    CompactString c = std::move(b);
    EXPECT_EQ(c, "seed-123");
    EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
    c = c;                   // self-assignment keeps the value
    EXPECT_EQ(c, "seed-123");
    c = std::string();
    EXPECT_TRUE(c.empty());
    std::vector<CompactString> many(100, CompactString("v"));
    many.resize(1000);  // reallocation moves them
    EXPECT_EQ(many[42], "v");
    EXPECT_TRUE(many[500].empty());
}

TEST(CompactStringTest, ComparesLikeItsText) {
    CompactString a = "abc";
    EXPECT_TRUE(a == "abc");
    EXPECT_TRUE(a == std::string("abc"));
    EXPECT_FALSE(a == "abd");
    EXPECT_LT(a, CompactString("abd"));
    EXPECT_TRUE(a.view().starts_with("ab"));
}

TEST(CompactStringListTest, KeepsOrderDuplicatesAndEmptyEntries) {
    static_assert(sizeof(CompactStringList) == sizeof(void*));
    CompactStringList none;
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(none.size(), 0u);
    EXPECT_EQ(none.begin(), none.end());
    EXPECT_TRUE(none.ToVector().empty());

    const std::vector<std::string> names = {"stable_diffusion_xl_turbo", "", "AlbedoBase XL (SDXL)",
                                            "stable_diffusion_xl_turbo", std::string(300, 'm')};
    CompactStringList l = names;
    EXPECT_EQ(l.size(), names.size());
    EXPECT_EQ(l.ToVector(), names);
    EXPECT_EQ(l.front(), "stable_diffusion_xl_turbo");
    EXPECT_EQ(l[2], "AlbedoBase XL (SDXL)");
    EXPECT_EQ(l[4].size(), 300u);
    EXPECT_TRUE(l.contains(""));
    EXPECT_FALSE(l.contains("stable_diffusion"));
    size_t n = 0;
    for (const std::string_view v : l) {
        EXPECT_EQ(v, names[n++]);
    }
    EXPECT_EQ(n, names.size());
    EXPECT_EQ(std::distance(l.begin(), l.end()), 5);
}

TEST(CompactStringListTest, CopiesMovesAndComparesByValue) {
    CompactStringList a = {"a", "bc"};
    CompactStringList b = a;
    EXPECT_EQ(a, b);
    b = CompactStringList{"a", "b", "c"};
    EXPECT_FALSE(a == b);
    EXPECT_FALSE(a == (CompactStringList{"ab", "c"}));  // same bytes, other split
    CompactStringList c = std::move(b);
    EXPECT_EQ(c.size(), 3u);
    EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
    c = a;
    EXPECT_EQ(c, a);
    c = CompactStringList();
    EXPECT_TRUE(c.empty());
    EXPECT_EQ(c, CompactStringList(std::vector<std::string>{}));
}

TEST(InternedStringTest, EqualValuesShareOneCopy) {
    const size_t before = InternedCount();
    InternedString a = std::string("k_dpmpp_2m_test_only");
    InternedString b("k_dpmpp_2m_test_only");
    EXPECT_EQ(a.data(), b.data());
    EXPECT_EQ(a, b);
    EXPECT_EQ(a, "k_dpmpp_2m_test_only");
    EXPECT_EQ(InternedCount(), before + 1);
    InternedString c("k_euler_test_only");
    EXPECT_FALSE(a == c);
    EXPECT_EQ(InternedCount(), before + 2);
    InternedString empty("");
    EXPECT_TRUE(empty.empty());
    EXPECT_EQ(empty.str(), "");
    EXPECT_EQ(InternedCount(), before + 2);
}

}  // namespace
}  // namespace horde
