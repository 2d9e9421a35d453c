#include "web/cookies.hpp"

namespace horde::web {

namespace {

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace

std::map<std::string, std::string> ParseCookies(std::string_view header) {
    std::map<std::string, std::string> out;
    while (!header.empty()) {
        const size_t semi = header.find(';');
        std::string_view pair = Trim(header.substr(0, semi));
        header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
        const size_t eq = pair.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            continue;
        }
        std::string_view value = Trim(pair.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
        }
        out.emplace(std::string(Trim(pair.substr(0, eq))), std::string(value));
    }
    return out;
}

std::string FormatSetCookie(const CookieSpec& c) {
    std::string s = c.name + "=" + c.value + "; Path=" + c.path;
    if (c.max_age_s >= 0) {
        s += "; Max-Age=" + std::to_string(c.max_age_s);
    }
    s += "; HttpOnly; SameSite=" + c.same_site;
    if (c.secure) {
        s += "; Secure";
    }
    return s;
}

}  // namespace horde::web
