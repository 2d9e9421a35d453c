#include "protocol/json_util.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <random>
#include <string>

namespace horde::protocol {
namespace {

namespace json = boost::json;
using namespace std::string_literals;

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

void ExpectValidation(const Error& error, std::string_view field) {
    EXPECT_EQ(error.code, ErrorCode::kValidationFailed);
    EXPECT_EQ(error.field, field);
    EXPECT_FALSE(error.message.empty());
}

TEST(ParseJsonObject, AcceptsAnObject) {
    auto result = ParseJsonObject(R"({"a": 1, "b": [true, null]})");
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->at("a").as_int64(), 1);
}

TEST(ParseJsonObject, MalformedJsonIsBadRequest) {
    for (const std::string_view body : {"", "{", "{\"a\":1,}", "{\"a\":1} x", "nope", "{'a':1}"}) {
        auto result = ParseJsonObject(body);
        ASSERT_FALSE(result.has_value()) << body;
        EXPECT_EQ(result.error().code, ErrorCode::kBadRequest) << body;
        EXPECT_TRUE(result.error().message.starts_with("Malformed JSON body: ")) << body;
    }
}

TEST(ParseJsonObject, NonObjectIsBadRequest) {
    for (const std::string_view body : {"[]", "1", "\"text\"", "null", "true"}) {
        auto result = ParseJsonObject(body);
        ASSERT_FALSE(result.has_value()) << body;
        EXPECT_EQ(result.error().code, ErrorCode::kBadRequest) << body;
        EXPECT_EQ(result.error().message, "Malformed JSON body: expected a JSON object");
    }
}

TEST(ParseJsonObject, RawNulByteAnywhereIsRejected) {
    const std::string inside_string = "{\"prompt\": \"a\0b\"}"s;
    const std::string outside = "{\"a\": 1}\0"s;
    const std::string leading = "\0{}"s;
    for (const std::string& body : {inside_string, outside, leading}) {
        auto result = ParseJsonObject(body);
        ASSERT_FALSE(result.has_value());
        EXPECT_EQ(result.error().code, ErrorCode::kNulByteInPayload);
    }
}

TEST(ParseJsonObject, EscapedNulInAnyStringIsRejected) {
    for (const std::string_view body :
         {R"({"prompt": "a\u0000b"})", R"({"params": {"seed": "\u0000"}})",
          R"({"models": ["x", "y\u0000"]})", R"({"a\u0000": 1})",
          R"({"deep": [{"deeper": {"k": ["\u0000"]}}]})"}) {
        auto result = ParseJsonObject(body);
        ASSERT_FALSE(result.has_value()) << body;
        EXPECT_EQ(result.error().code, ErrorCode::kNulByteInPayload) << body;
    }
}

TEST(ParseJsonObject, OtherEscapesAreFine) {
    auto result = ParseJsonObject(R"({"a": "\u0001\n\u00e9"})");
    ASSERT_TRUE(result.has_value());
}

TEST(Utf8, LengthCountsCodePoints) {
    EXPECT_EQ(Utf8Length(""), 0U);
    EXPECT_EQ(Utf8Length("abc"), 3U);
    EXPECT_EQ(Utf8Length("h\xC3\xA9llo"), 5U);      // é
    EXPECT_EQ(Utf8Length("\xF0\x9F\x98\x80"), 1U);  // emoji
}

TEST(Utf8, LengthOfLongTextMatchesAByteCount) {
    // Eight bytes at a time plus a tail: multi-byte characters across the word boundaries, and
    // every byte value, against counting the bytes that do not continue a character.
    EXPECT_EQ(Utf8Length("h\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x98\x80 \xE2\x82\xAC!"), 16U);
    std::mt19937 rng(20261128);
    for (int round = 0; round < 2000; ++round) {
        std::string text(static_cast<size_t>(rng() % 70), '\0');
        for (char& c : text) c = static_cast<char>(rng() & 0xFF);
        size_t expected = 0;
        for (const char c : text) {
            expected += (static_cast<unsigned char>(c) & 0xC0U) != 0x80U ? 1 : 0;
        }
        ASSERT_EQ(Utf8Length(text), expected) << "round " << round;
    }
}

TEST(Utf8, PrefixKeepsWholeCodePoints) {
    EXPECT_EQ(Utf8Prefix("abcdef", 3), "abc");
    EXPECT_EQ(Utf8Prefix("ab", 3), "ab");
    EXPECT_EQ(Utf8Prefix("\xC3\xA9\xC3\xA9\xC3\xA9", 2), "\xC3\xA9\xC3\xA9");
    EXPECT_EQ(Utf8Prefix("abc", 0), "");
}

TEST(TrimAscii, Trims) {
    EXPECT_EQ(TrimAscii("  a b \n\t"), "a b");
    EXPECT_EQ(TrimAscii(" \n "), "");
    EXPECT_EQ(TrimAscii(""), "");
}

TEST(FieldReader, NullIsAbsent) {
    const auto o = Obj(R"({"a": null})");
    const FieldReader r(o);
    EXPECT_FALSE(r.Has("a"));
    EXPECT_FALSE(r.Has("missing"));
    EXPECT_EQ(r.Int("a", 7).value(), 7);
    EXPECT_EQ(r.String("a", "x").value(), "x");
    EXPECT_TRUE(r.Bool("a", true).value());
    EXPECT_EQ(r.OptObject("a").value(), nullptr);
    EXPECT_FALSE(r.OptStringArray("a").value().has_value());
}

TEST(FieldReader, IntAcceptsIntegralNumbers) {
    const auto o = Obj(R"({"i": 30, "d": 30.0, "neg": -2, "big": 1e3})");
    const FieldReader r(o);
    EXPECT_EQ(r.Int("i", 0).value(), 30);
    EXPECT_EQ(r.Int("d", 0).value(), 30);
    EXPECT_EQ(r.Int("neg", 0).value(), -2);
    EXPECT_EQ(r.Int("big", 0).value(), 1000);
}

TEST(FieldReader, IntRejectsWrongTypes) {
    const auto o = Obj(R"({"s": "30", "f": 30.5, "b": true, "a": [1], "o": {}, "huge": 1e30,
                          "u": 18446744073709551615})");
    const FieldReader r(o, "params");
    for (const std::string_view key : {"s", "f", "b", "a", "o", "huge", "u"}) {
        auto result = r.Int(key, 0, 1, 500);
        ASSERT_FALSE(result.has_value()) << key;
        ExpectValidation(result.error(), "params." + std::string(key));
    }
}

TEST(FieldReader, IntRangeIsInclusive) {
    const auto o = Obj(R"({"lo": 1, "hi": 500, "below": 0, "above": 501})");
    const FieldReader r(o, "params");
    EXPECT_EQ(r.Int("lo", 0, 1, 500).value(), 1);
    EXPECT_EQ(r.Int("hi", 0, 1, 500).value(), 500);
    auto below = r.Int("below", 0, 1, 500);
    ASSERT_FALSE(below.has_value());
    EXPECT_EQ(below.error().message, "'below' must be an integer between 1 and 500");
    EXPECT_EQ(below.error().field, "params.below");
    EXPECT_FALSE(r.Int("above", 0, 1, 500).has_value());
}

TEST(FieldReader, DoubleAcceptsIntegersAndChecksRange) {
    const auto o = Obj(R"({"i": 1, "d": 0.5, "lo": 0.01, "under": 0.009, "s": "0.5",
                          "inf": 1e400})");
    const FieldReader r(o);
    EXPECT_DOUBLE_EQ(r.Double("i", 0, 0, 1).value(), 1.0);
    EXPECT_DOUBLE_EQ(r.Double("d", 0, 0, 1).value(), 0.5);
    EXPECT_DOUBLE_EQ(r.Double("lo", 0, 0.01, 1).value(), 0.01);
    auto under = r.Double("under", 0, 0.01, 1);
    ASSERT_FALSE(under.has_value());
    EXPECT_EQ(under.error().message, "'under' must be a number between 0.01 and 1");
    ExpectValidation(r.Double("s", 0, 0, 1).error(), "s");
    ExpectValidation(r.Double("inf", 0).error(), "inf");
}

TEST(FieldReader, BoolIsStrict) {
    const auto o = Obj(R"({"t": true, "f": false, "s": "true", "n": 1})");
    const FieldReader r(o);
    EXPECT_TRUE(r.Bool("t", false).value());
    EXPECT_FALSE(r.Bool("f", true).value());
    ExpectValidation(r.Bool("s", false).error(), "s");
    ExpectValidation(r.Bool("n", false).error(), "n");
}

TEST(FieldReader, StringLengthAndEmptyAsUnset) {
    const auto o = Obj(R"({"e": "", "ok": "abc", "long": "abcdef", "num": 5})");
    const FieldReader r(o);
    EXPECT_EQ(r.String("e", "def", {.empty_is_unset = true}).value(), "def");
    EXPECT_EQ(r.String("e", "def").value(), "");
    ExpectValidation(r.String("e", "def", {.min_chars = 1}).error(), "e");
    EXPECT_EQ(r.String("ok", "", {.min_chars = 3, .max_chars = 3}).value(), "abc");
    auto too_long = r.String("long", "", {.min_chars = 1, .max_chars = 5});
    ASSERT_FALSE(too_long.has_value());
    EXPECT_EQ(too_long.error().message, "'long' must be between 1 and 5 characters");
    ExpectValidation(r.String("num", "").error(), "num");
    ExpectValidation(r.RequiredString("missing").error(), "missing");
    ExpectValidation(r.RequiredString("e", {.empty_is_unset = true}).error(), "e");
}

TEST(FieldReader, EnumTreatsEmptyAsUnset) {
    constexpr std::string_view kAllowed[] = {"a", "b"};
    const auto o = Obj(R"({"e": "", "a": "a", "c": "c", "n": 1})");
    const FieldReader r(o);
    EXPECT_FALSE(r.OptEnum("e", kAllowed).value().has_value());
    EXPECT_EQ(r.OptEnum("a", kAllowed).value(), "a");
    auto bad = r.OptEnum("c", kAllowed);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().message, "'c' must be one of: a, b");
    ExpectValidation(r.OptEnum("n", kAllowed).error(), "n");
}

TEST(FieldReader, StringArrays) {
    const auto o = Obj(R"({"ok": ["a", "bb"], "mixed": ["a", 1], "notarr": "a",
                          "empties": ["", "x", ""], "three": ["a", "b", "c"]})");
    const FieldReader r(o, "p");
    EXPECT_EQ(r.OptStringArray("ok").value(), (std::vector<std::string>{"a", "bb"}));
    ExpectValidation(r.OptStringArray("mixed").error(), "p.mixed[1]");
    ExpectValidation(r.OptStringArray("notarr").error(), "p.notarr");
    EXPECT_EQ(r.OptStringArray("empties", {.drop_empty = true}).value(),
              (std::vector<std::string>{"x"}));
    ExpectValidation(r.OptStringArray("empties", {.min_chars = 1}).error(), "p.empties[0]");
    EXPECT_TRUE(r.OptStringArray("three", {.max_items = 3}).has_value());
    ExpectValidation(r.OptStringArray("three", {.max_items = 2}).error(), "p.three");
    ExpectValidation(r.OptStringArray("ok", {.max_chars = 1}).error(), "p.ok[1]");
}

TEST(FieldReader, IntArrays) {
    const auto o = Obj(R"({"ok": [1, 2.0, 3], "bad": [1, "2"]})");
    const FieldReader r(o);
    EXPECT_EQ(r.OptIntArray("ok").value(), (std::vector<int64_t>{1, 2, 3}));
    ExpectValidation(r.OptIntArray("bad").error(), "bad[1]");
    ExpectValidation(r.OptIntArray("ok", 2).error(), "ok");
}

TEST(FieldReader, ObjectsAndArrays) {
    const auto o = Obj(R"({"o": {"x": 1}, "a": [1], "s": "x"})");
    const FieldReader r(o);
    ASSERT_NE(r.OptObject("o").value(), nullptr);
    ExpectValidation(r.OptObject("a").error(), "a");
    ASSERT_NE(r.OptArray("a").value(), nullptr);
    ExpectValidation(r.OptArray("s").error(), "s");
}

}  // namespace
}  // namespace horde::protocol
