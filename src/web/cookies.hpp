#pragma once
// Cookie header parsing and Set-Cookie formatting (RFC 6265 subset: the cookies we set ourselves).

#include <map>
#include <string>
#include <string_view>

namespace horde::web {

/// name → value from a `Cookie:` request header. The first of duplicate names wins; malformed
/// pairs are skipped.
std::map<std::string, std::string> ParseCookies(std::string_view header);

struct CookieSpec {
    std::string name;
    std::string value;
    std::string path = "/";
    int max_age_s = -1;  // −1: session cookie; 0: delete now
    bool secure = false;
    std::string same_site = "Lax";
};

/// The value of a Set-Cookie header: always HttpOnly.
std::string FormatSetCookie(const CookieSpec& c);

}  // namespace horde::web
