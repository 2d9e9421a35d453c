#include "web/login_state.hpp"

#include <sodium.h>

#include <boost/json.hpp>

#include "web/base64url.hpp"

namespace horde::web {

namespace json = boost::json;

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
    return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string SealLoginState(const LoginState& s, const MacFn& mac) {
    json::object o{{"p", s.provider}, {"s", s.state},     {"v", s.verifier},
                   {"n", s.nonce},    {"r", s.return_to}, {"e", s.expires_unix}};
    const std::string payload = Base64UrlEncode(json::serialize(o));
    return payload + "." + mac(payload);
}

std::optional<LoginState> OpenLoginState(std::string_view cookie, const MacFn& mac,
                                         int64_t now_unix) {
    if (cookie.size() > 4096) {
        return std::nullopt;
    }
    const size_t dot = cookie.rfind('.');
    if (dot == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view payload = cookie.substr(0, dot);
    if (!ConstantTimeEqual(mac(payload), cookie.substr(dot + 1))) {
        return std::nullopt;
    }
    const auto text = Base64UrlDecode(payload);
    if (!text) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    const json::value v = json::parse(*text, ec);
    if (ec || !v.is_object()) {
        return std::nullopt;
    }
    const json::object& o = v.as_object();
    auto str = [&](const char* k) -> std::optional<std::string> {
        const json::value* f = o.if_contains(k);
        if (f == nullptr || !f->is_string()) {
            return std::nullopt;
        }
        return std::string(f->as_string());
    };
    const json::value* e = o.if_contains("e");
    auto p = str("p");
    auto s = str("s");
    auto ver = str("v");
    auto n = str("n");
    auto r = str("r");
    if (!p || !s || !ver || !n || !r || e == nullptr || !e->is_int64()) {
        return std::nullopt;
    }
    LoginState out{.provider = *p,
                   .state = *s,
                   .verifier = *ver,
                   .nonce = *n,
                   .return_to = *r,
                   .expires_unix = e->as_int64()};
    if (out.expires_unix < now_unix) {
        return std::nullopt;
    }
    return out;
}

bool IsSafeReturnTo(std::string_view path) {
    if (path.empty() || path.size() > 512 || path[0] != '/') {
        return false;
    }
    if (path.size() > 1 && (path[1] == '/' || path[1] == '\\')) {
        return false;
    }
    for (const char c : path) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F || c == '\\') {
            return false;
        }
    }
    return true;
}

}  // namespace horde::web
