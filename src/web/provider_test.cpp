#include "web/provider.hpp"

#include <gtest/gtest.h>

#include <boost/url.hpp>
#include <map>

#include "web/oauth_client.hpp"
#include "web/pkce.hpp"

namespace horde::web {
namespace {

std::map<std::string, std::string> QueryOf(const std::string& url) {
    auto u = boost::urls::parse_uri(url);
    EXPECT_TRUE(u.has_value()) << url;
    std::map<std::string, std::string> out;
    for (auto p : u->params()) {
        out[std::string(p.key)] = std::string(p.value);
    }
    return out;
}

std::string AuthorizeUrl(const ProviderConfig& p, const std::string& nonce = "n0nce") {
    Endpoints e{.issuer = p.issuer,
                .authorize_url = p.authorize_url,
                .token_url = p.token_url,
                .userinfo_url = p.userinfo_url};
    auto url = BuildAuthorizeUrl(p, e,
                                 {.redirect_uri = "https://horde.example/auth/callback/" + p.id,
                                  .state = "st4te",
                                  .code_challenge = PkceChallengeS256("verifier"),
                                  .nonce = nonce});
    EXPECT_TRUE(url.has_value());
    return *url;
}

TEST(Presets, GitHubUsesItsDocumentedEndpointsAndScope) {
    const auto p = GitHubPreset("gh-id", "gh-secret");
    EXPECT_EQ(p.token_url, "https://github.com/login/oauth/access_token");
    EXPECT_EQ(p.userinfo_url, "https://api.github.com/user");
    const std::string url = AuthorizeUrl(p);
    EXPECT_TRUE(url.starts_with("https://github.com/login/oauth/authorize?")) << url;
    auto q = QueryOf(url);
    EXPECT_EQ(q["scope"], "read:user");
    EXPECT_EQ(q["client_id"], "gh-id");
    EXPECT_EQ(q["response_type"], "code");
    EXPECT_EQ(q["state"], "st4te");
    EXPECT_EQ(q["code_challenge_method"], "S256");
    EXPECT_EQ(q["redirect_uri"], "https://horde.example/auth/callback/github");
    EXPECT_FALSE(q.contains("nonce"));  // not OpenID Connect
    EXPECT_EQ(url.find("gh-secret"), std::string::npos);
}

TEST(Presets, DiscordUsesItsDocumentedEndpointsAndScope) {
    const auto p = DiscordPreset("d-id", "d-secret");
    EXPECT_EQ(p.token_url, "https://discord.com/api/oauth2/token");
    EXPECT_EQ(p.userinfo_url, "https://discord.com/api/users/@me");
    const std::string url = AuthorizeUrl(p);
    EXPECT_TRUE(url.starts_with("https://discord.com/oauth2/authorize?")) << url;
    auto q = QueryOf(url);
    EXPECT_EQ(q["scope"], "identify");
    EXPECT_EQ(q["client_id"], "d-id");
    EXPECT_FALSE(q.contains("nonce"));
}

TEST(Presets, GoogleIsOpenIdConnect) {
    const auto p = GooglePreset("g-id", "g-secret");
    EXPECT_EQ(p.token_url, "https://oauth2.googleapis.com/token");
    EXPECT_EQ(p.userinfo_url, "https://openidconnect.googleapis.com/v1/userinfo");
    const std::string url = AuthorizeUrl(p);
    EXPECT_TRUE(url.starts_with("https://accounts.google.com/o/oauth2/v2/auth?")) << url;
    auto q = QueryOf(url);
    EXPECT_EQ(q["scope"], "openid profile email");
    EXPECT_EQ(q["nonce"], "n0nce");
    EXPECT_EQ(q["code_challenge"], PkceChallengeS256("verifier"));
}

TEST(Presets, AuthorizeUrlKeepsAnExistingQuery) {
    ProviderConfig p;
    p.id = "corp";
    p.authorize_url = "https://sso.example/authorize?tenant=a%20b";
    p.client_id = "id with space";
    p.scopes = "openid profile";
    auto q = QueryOf(AuthorizeUrl(p));
    EXPECT_EQ(q["tenant"], "a b");
    EXPECT_EQ(q["client_id"], "id with space");
    EXPECT_EQ(q["scope"], "openid profile");
}

TEST(UserInfo, GitHubIdAndLogin) {
    auto id = ParseUserInfo(ProviderKind::kGitHub,
                            R"({"login":"octocat","id":583231,"name":"The Octocat"})");
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(id->subject, "583231");
    EXPECT_EQ(id->name, "octocat");
}

TEST(UserInfo, DiscordPrefersGlobalName) {
    auto id =
        ParseUserInfo(ProviderKind::kDiscord,
                      R"({"id":"80351110224678912","username":"nelly","global_name":"Nelly"})");
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(id->subject, "80351110224678912");
    EXPECT_EQ(id->name, "Nelly");
    auto plain = ParseUserInfo(ProviderKind::kDiscord,
                               R"({"id":"1","username":"nelly","global_name":null})");
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(plain->name, "nelly");
}

TEST(UserInfo, GoogleSubAndName) {
    auto id = ParseUserInfo(ProviderKind::kGoogle,
                            R"({"sub":"10769150350006150715113082367","name":"Jane Doe",
                                "email":"jane@example.com"})");
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(id->subject, "10769150350006150715113082367");
    EXPECT_EQ(id->name, "Jane Doe");
    auto email_only = ParseUserInfo(ProviderKind::kOidc, R"({"sub":"x","email":"joe@ex.org"})");
    ASSERT_TRUE(email_only.has_value());
    EXPECT_EQ(email_only->name, "joe");
}

TEST(UserInfo, MissingIdOrBadJsonFails) {
    EXPECT_FALSE(ParseUserInfo(ProviderKind::kGitHub, R"({"login":"x"})").has_value());
    EXPECT_FALSE(ParseUserInfo(ProviderKind::kOidc, R"({"name":"x"})").has_value());
    EXPECT_FALSE(ParseUserInfo(ProviderKind::kDiscord, "not json").has_value());
    EXPECT_FALSE(ParseUserInfo(ProviderKind::kGoogle, "[]").has_value());
}

TEST(Pkce, S256OfTheRfcExample) {
    // RFC 7636 appendix B.
    EXPECT_EQ(PkceChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
              "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    const auto v = NewPkceVerifier();
    EXPECT_GE(v.size(), 43u);
    EXPECT_LE(v.size(), 128u);
    EXPECT_NE(v, NewPkceVerifier());
}

TEST(Discovery, ReadsTheEndpoints) {
    auto e = ParseDiscovery(R"({"issuer":"https://id.example","authorization_endpoint":
        "https://id.example/auth","token_endpoint":"https://id.example/token",
        "userinfo_endpoint":"https://id.example/me"})");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->token_url, "https://id.example/token");
    EXPECT_EQ(e->userinfo_url, "https://id.example/me");
    EXPECT_FALSE(ParseDiscovery(R"({"issuer":"x"})").has_value());
}

TEST(Tokens, ErrorAnswerFails) {
    EXPECT_FALSE(ParseTokenResponse(R"({"error":"invalid_grant"})").has_value());
    auto t = ParseTokenResponse(R"({"access_token":"abc","token_type":"Bearer"})");
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->access_token, "abc");
}

}  // namespace
}  // namespace horde::web
