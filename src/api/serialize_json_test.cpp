// SerializeJson: Boost.JSON's text with doubles in their shortest plain form.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/api.hpp"

namespace horde::api {
namespace {

namespace json = boost::json;

TEST(SerializeJson, DoublesInPlainForm) {
    EXPECT_EQ(SerializeJson(json::value(7.61)), "7.61");
    EXPECT_EQ(SerializeJson(json::value(-0.5)), "-0.5");
    EXPECT_EQ(SerializeJson(json::value(3.0)), "3.0");
    EXPECT_EQ(SerializeJson(json::value(1e300)), "1e+300");
    EXPECT_EQ(SerializeJson(json::array{1.25, 2, -3, 0.1}), "[1.25,2,-3,0.1]");
}

TEST(SerializeJson, WithoutDoublesTheTextIsBoostsOwn) {
    const json::value v = json::parse(R"({"a":[1,-2,3000000000],"b":"x","c":null,"d":true})");
    EXPECT_EQ(SerializeJson(v), json::serialize(v));
}

TEST(SerializeJson, NumbersInsideStringsAreLeftAlone) {
    json::object o;
    o["prompt"] = "a 1E5 \"quoted 2.5E0\" back\\slash 7E1";
    o["cfg_scale"] = 7.5;
    o["steps"] = 30;
    o["tail"] = "\\";
    const std::string text = SerializeJson(o);
    EXPECT_EQ(json::parse(text), json::value(o));
    EXPECT_NE(text.find(R"("a 1E5 \"quoted 2.5E0\" back\\slash 7E1")"), std::string::npos);
    EXPECT_NE(text.find(R"("cfg_scale":7.5)"), std::string::npos);
    EXPECT_NE(text.find(R"("tail":"\\")"), std::string::npos);
    // The only exponent form left is the quoted one.
    EXPECT_EQ(text.find("E0"), text.find("2.5E0") + 3);
    EXPECT_EQ(text.find("E0", text.find("2.5E0") + 5), std::string::npos) << text;
}

TEST(SerializeJson, EveryDoubleOfANestedBodyIsRewritten) {
    const json::value v = json::parse(
        R"({"payload":{"cfg_scale":7.5,"denoising_strength":0.75,"loras":[{"strength":1.0}]},
            "kudos":12.25,"ids":["x"]})");
    const std::string text = SerializeJson(v);
    EXPECT_EQ(text.find_first_of("E"), std::string::npos) << text;
    EXPECT_EQ(json::parse(text), v);
    EXPECT_NE(text.find(R"("strength":1.0)"), std::string::npos) << text;
}

TEST(SerializeJson, ObjectsAndArraysGiveTheTextOfTheirValue) {
    const json::value v = json::parse(R"({"kudos":12.25,"list":[0.5,{"x":"1E3"}],"n":3})");
    EXPECT_EQ(SerializeJson(v.as_object()), SerializeJson(v));
    EXPECT_EQ(SerializeJson(v.at("list").as_array()), SerializeJson(v.at("list")));
    EXPECT_EQ(JsonResponse(200, v.as_object()).body, SerializeJson(v));
    EXPECT_EQ(JsonResponse(201, v.at("list").as_array()).status, 201);
    EXPECT_EQ(JsonResponse(200, v.at("list").as_array()).body, R"([0.5,{"x":"1E3"}])");
}

}  // namespace
}  // namespace horde::api
