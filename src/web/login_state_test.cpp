#include "web/login_state.hpp"

#include <gtest/gtest.h>

#include "web/base64url.hpp"
#include "web/cookies.hpp"
#include "web/oauth_client.hpp"

namespace horde::web {
namespace {

std::string FakeMac(std::string_view m) { return "mac(" + std::string(m.substr(0, 8)) + ")"; }

LoginState Sample() {
    return {.provider = "oidc",
            .state = "s",
            .verifier = "v",
            .nonce = "n",
            .return_to = "/account",
            .expires_unix = 1000};
}

TEST(LoginState, RoundTrips) {
    const std::string sealed = SealLoginState(Sample(), FakeMac);
    auto back = OpenLoginState(sealed, FakeMac, 999);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->verifier, "v");
    EXPECT_EQ(back->return_to, "/account");
}

TEST(LoginState, RefusesExpiredTamperedOrForeign) {
    const std::string sealed = SealLoginState(Sample(), FakeMac);
    EXPECT_FALSE(OpenLoginState(sealed, FakeMac, 1001).has_value());
    std::string tampered = sealed;
    tampered[2] = tampered[2] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(OpenLoginState(tampered, FakeMac, 999).has_value());
    EXPECT_FALSE(OpenLoginState(
                     sealed, [](std::string_view) { return std::string("x"); }, 999)
                     .has_value());
    EXPECT_FALSE(OpenLoginState("garbage", FakeMac, 999).has_value());
    EXPECT_FALSE(OpenLoginState("", FakeMac, 999).has_value());
}

TEST(ReturnTo, OnlySameSitePaths) {
    EXPECT_TRUE(IsSafeReturnTo("/"));
    EXPECT_TRUE(IsSafeReturnTo("/account?tab=keys"));
    EXPECT_FALSE(IsSafeReturnTo("//evil.example"));
    EXPECT_FALSE(IsSafeReturnTo("/\\evil.example"));
    EXPECT_FALSE(IsSafeReturnTo("https://evil.example/"));
    EXPECT_FALSE(IsSafeReturnTo("account"));
    EXPECT_FALSE(IsSafeReturnTo(""));
    EXPECT_FALSE(IsSafeReturnTo("/a\r\nSet-Cookie: x=y"));
    EXPECT_FALSE(IsSafeReturnTo("/" + std::string(600, 'a')));
}

TEST(Cookies, ParsesAndFormats) {
    auto c = ParseCookies("a=1; horde_session=tok; b=\"q\"; bad; =x; a=2");
    EXPECT_EQ(c["a"], "1");
    EXPECT_EQ(c["horde_session"], "tok");
    EXPECT_EQ(c["b"], "q");
    EXPECT_FALSE(c.contains("bad"));
    EXPECT_EQ(FormatSetCookie({.name = "n", .value = "v", .max_age_s = 60, .secure = true}),
              "n=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure");
}

TEST(IdToken, ChecksNonceAudienceIssuer) {
    auto jwt = [](const std::string& claims) {
        return Base64UrlEncode(R"({"alg":"RS256"})") + "." + Base64UrlEncode(claims) + ".sig";
    };
    const std::string good = jwt(R"({"sub":"u1","nonce":"n","aud":"cid","iss":"https://i"})");
    auto sub = CheckIdTokenClaims(good, "n", "cid", "https://i");
    ASSERT_TRUE(sub.has_value());
    EXPECT_EQ(*sub, "u1");
    EXPECT_FALSE(CheckIdTokenClaims(good, "other", "cid", "https://i").has_value());
    EXPECT_FALSE(CheckIdTokenClaims(good, "n", "cid2", "https://i").has_value());
    EXPECT_FALSE(CheckIdTokenClaims(good, "n", "cid", "https://j").has_value());
    EXPECT_TRUE(
        CheckIdTokenClaims(jwt(R"({"sub":"u","nonce":"n","aud":["x","cid"]})"), "n", "cid", "")
            .has_value());
    EXPECT_FALSE(CheckIdTokenClaims("not.a-jwt", "n", "cid", "").has_value());
}

}  // namespace
}  // namespace horde::web
