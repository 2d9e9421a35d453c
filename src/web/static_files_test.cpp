#include "web/static_files.hpp"

#include <gtest/gtest.h>

namespace horde::web {
namespace {

TEST(StaticFiles, MapsPages) {
    EXPECT_EQ(PageFileFor("/"), "index.html");
    EXPECT_EQ(PageFileFor("/login"), "login.html");
    EXPECT_EQ(PageFileFor("/account/"), "account.html");
    EXPECT_EQ(PageFileFor("/invite/abcDEF-_1"), "invite.html");
    EXPECT_EQ(PageFileFor("/static/js/app.js"), "static/js/app.js");
    EXPECT_EQ(PageFileFor("/static/my%20icon.svg"), "static/my icon.svg");
}

TEST(StaticFiles, RefusesTraversalAndOddPaths) {
    for (const char* bad :
         {"/static/../README.md", "/static/%2e%2e/x", "/static/%2E%2E%2Fx", "/static/..%2fx",
          "/static/a%5cb", "/static/a%00.js", "/static/.env", "/static/", "/static//etc/passwd",
          "/static/a\\b.js", "/static/%zz", "/static/a/", "/invite/a/b", "/invite/..", "/nope",
          "/../x", "", "static/x.js", "/static/c:x.js"}) {
        EXPECT_FALSE(PageFileFor(bad).has_value()) << bad;
    }
}

TEST(StaticFiles, ContentTypesAndHeaders) {
    EXPECT_EQ(ContentTypeFor("a.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(ContentTypeFor("index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(ContentTypeFor("x.svg"), "image/svg+xml");
    EXPECT_FALSE(ContentTypeFor("x.sh").has_value());
    EXPECT_FALSE(ContentTypeFor("Makefile").has_value());
    auto html = StaticHeaders("text/html; charset=utf-8");
    bool csp = false;
    for (const auto& [k, v] : html) {
        csp = csp || (k == "Content-Security-Policy" && v.find("script-src 'self'") != v.npos);
    }
    EXPECT_TRUE(csp);
    for (const auto& [k, v] : StaticHeaders("text/css; charset=utf-8")) {
        EXPECT_NE(k, "Content-Security-Policy");
    }
}

}  // namespace
}  // namespace horde::web
