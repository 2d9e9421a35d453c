#include "client/api_error.hpp"

#include <gtest/gtest.h>

#include "client/config.hpp"

namespace horde::client {
namespace {

TEST(ErrorFromHttp, KindsByStatusAndRc) {
    EXPECT_EQ(ErrorFromHttp(401, R"({"message":"m","rc":"InvalidAPIKey"})").kind, ErrorKind::kAuth);
    EXPECT_EQ(ErrorFromHttp(403, R"({"message":"m","rc":"AnonForbidden"})").kind, ErrorKind::kAuth);
    EXPECT_EQ(ErrorFromHttp(403, R"({"message":"m","rc":"WrongCredentials"})").kind,
              ErrorKind::kAuth);
    EXPECT_EQ(ErrorFromHttp(403, R"({"message":"m","rc":"KudosUpfront"})").kind,
              ErrorKind::kRejected);
    EXPECT_EQ(ErrorFromHttp(400, R"({"message":"m","rc":"MissingPrompt"})").kind,
              ErrorKind::kRejected);
    EXPECT_EQ(ErrorFromHttp(404, R"({"message":"m","rc":"RequestNotFound"})").kind,
              ErrorKind::kNotFound);
    EXPECT_EQ(ErrorFromHttp(429, R"({"message":"m","rc":"TooManyPrompts"})").kind,
              ErrorKind::kRateLimited);
    EXPECT_EQ(ErrorFromHttp(500, R"({"message":"Internal Server Error"})").kind,
              ErrorKind::kServer);
}

TEST(ErrorFromHttp, ValidationErrorsWithoutRc) {
    auto e = ErrorFromHttp(400, R"({"errors":{"params.width":"100 is not a multiple of 64"},)"
                                R"("message":"Input payload validation failed"})");
    EXPECT_EQ(e.kind, ErrorKind::kRejected);
    EXPECT_TRUE(e.rc.empty());
    EXPECT_EQ(e.field_errors.at("params.width"), "100 is not a multiple of 64");
    EXPECT_EQ(e.ToString(),
              "HTTP 400: Input payload validation failed; params.width: 100 is not a multiple "
              "of 64");
}

TEST(ErrorFromHttp, HtmlAndEmptyBodies) {
    auto html =
        ErrorFromHttp(404, "<!doctype html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>");
    EXPECT_EQ(html.kind, ErrorKind::kNotFound);
    EXPECT_EQ(html.message, "404 Not Found");
    auto empty = ErrorFromHttp(502, "");
    EXPECT_EQ(empty.kind, ErrorKind::kServer);
    EXPECT_EQ(empty.message, "the server answered with HTTP status 502");
}

TEST(RetryAfter, SecondsAndDates) {
    const auto now = std::chrono::system_clock::from_time_t(1445412480);  // 07:28:00 GMT
    EXPECT_EQ(ParseRetryAfter("3", now), 3.0);
    EXPECT_EQ(ParseRetryAfter("1.5", now), 1.5);
    EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:10 GMT", now), 10.0);
    EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now), 0.0);
    EXPECT_FALSE(ParseRetryAfter("", now));
    EXPECT_FALSE(ParseRetryAfter("soon", now));
    EXPECT_FALSE(ParseRetryAfter("-1", now));
    auto e = ErrorFromHttp(429, "", "7", now);
    EXPECT_EQ(e.retry_after_s, 7.0);
    EXPECT_FALSE(ErrorFromHttp(429, "", "", now).retry_after_s.has_value());
}

TEST(Config, ParsesTheTomlSubset) {
    auto c = ParseConfig(
        "# horde client\n"
        "url = \"http://127.0.0.1:7001\"  # local\n"
        "api_key='abc#def'\n"
        "\n"
        "[extra]\n"
        "timeout = 600\n"
        "\"client_agent\" = \"app:1:\\\"me\\\"\"\n");
    ASSERT_TRUE(c) << c.error().ToString();
    EXPECT_EQ(c->at("url"), "http://127.0.0.1:7001");
    EXPECT_EQ(c->at("api_key"), "abc#def");
    EXPECT_EQ(c->at("timeout"), "600");
    EXPECT_EQ(c->at("client_agent"), "app:1:\"me\"");
}

TEST(Config, ReportsTheBadLine) {
    auto c = ParseConfig("url = \"x\"\nnonsense\n");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().kind, ErrorKind::kInvalidArgument);
    EXPECT_NE(c.error().message.find("line 2"), std::string::npos);
    EXPECT_FALSE(ParseConfig("url = \"x"));
    auto missing = LoadConfigFile("/nonexistent/horde.toml");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().kind, ErrorKind::kIo);
}

}  // namespace
}  // namespace horde::client
