#include "web/static_files.hpp"

#include <array>
#include <boost/url/decode_view.hpp>
#include <boost/url/pct_string_view.hpp>

namespace horde::web {

namespace {

constexpr size_t kMaxPathBytes = 512;

struct Page {
    std::string_view path;
    std::string_view file;
};
constexpr std::array<Page, 6> kPages{{
    {"/", "index.html"},
    {"/login", "login.html"},
    {"/account", "account.html"},
    {"/transfer", "transfer.html"},
    {"/generate", "generate.html"},
    {"/admin", "admin.html"},
}};

bool SafeSegment(std::string_view seg) {
    if (seg.empty() || seg.front() == '.') {
        return false;  // "", ".", "..", hidden files
    }
    for (const char c : seg) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F || c == '\\' || c == ':') {
            return false;
        }
    }
    return true;
}

}  // namespace

std::optional<std::string> PageFileFor(std::string_view raw_path) {
    if (raw_path.size() > kMaxPathBytes || raw_path.empty() || raw_path.front() != '/') {
        return std::nullopt;
    }
    // Decode once; an invalid escape, or an escaped '/', '\' or '.', is refused outright.
    auto pct = boost::urls::make_pct_string_view(raw_path);
    if (!pct) {
        return std::nullopt;
    }
    const std::string decoded((*pct).decode());
    for (size_t i = 0; i + 2 < raw_path.size(); ++i) {
        if (raw_path[i] == '%') {
            const std::string hex{raw_path[i + 1], raw_path[i + 2]};
            if (hex == "2f" || hex == "2F" || hex == "5c" || hex == "5C" || hex == "2e" ||
                hex == "2E" || hex == "00") {
                return std::nullopt;
            }
        }
    }
    if (decoded.find('\0') != std::string::npos) {
        return std::nullopt;
    }
    for (const auto& page : kPages) {
        if (decoded == page.path || (page.path != "/" && decoded == std::string(page.path) + "/")) {
            return std::string(page.file);
        }
    }
    constexpr std::string_view kInvite = "/invite/";
    if (decoded.starts_with(kInvite)) {
        const std::string_view token = std::string_view(decoded).substr(kInvite.size());
        if (SafeSegment(token) && token.find('/') == std::string_view::npos) {
            return std::string("invite.html");
        }
        return std::nullopt;
    }
    constexpr std::string_view kStatic = "/static/";
    if (!decoded.starts_with(kStatic)) {
        return std::nullopt;
    }
    std::string_view rest = std::string_view(decoded).substr(kStatic.size());
    std::string rel = "static";
    while (!rest.empty()) {
        const size_t slash = rest.find('/');
        const std::string_view seg = rest.substr(0, slash);
        if (!SafeSegment(seg)) {
            return std::nullopt;
        }
        rel += "/";
        rel += seg;
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
        if (slash != std::string_view::npos && rest.empty()) {
            return std::nullopt;  // trailing slash: a folder
        }
    }
    if (rel == "static") {
        return std::nullopt;
    }
    return rel;
}

std::optional<std::string> ContentTypeFor(std::string_view file_name) {
    const size_t dot = file_name.rfind('.');
    if (dot == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view ext = file_name.substr(dot + 1);
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTypes{{
        {"html", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"webp", "image/webp"},
        {"ico", "image/x-icon"},
        {"woff2", "font/woff2"},
        {"txt", "text/plain; charset=utf-8"},
        {"webmanifest", "application/manifest+json"},
    }};
    for (const auto& [e, type] : kTypes) {
        if (e == ext) {
            return std::string(type);
        }
    }
    return std::nullopt;
}

std::string_view PageContentSecurityPolicy() {
    return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
           "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
           "form-action 'self'; frame-ancestors 'none'";
}

std::vector<std::pair<std::string, std::string>> StaticHeaders(std::string_view content_type) {
    std::vector<std::pair<std::string, std::string>> h;
    const bool html = content_type.starts_with("text/html");
    h.emplace_back("Cache-Control", html ? "no-cache" : "public, max-age=300");
    h.emplace_back("X-Content-Type-Options", "nosniff");
    h.emplace_back("X-Frame-Options", "DENY");
    h.emplace_back("Referrer-Policy", "same-origin");
    if (html) {
        h.emplace_back("Content-Security-Policy", std::string(PageContentSecurityPolicy()));
    }
    return h;
}

}  // namespace horde::web
