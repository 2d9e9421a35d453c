// The static pages under the web folder (docs/web.md): safe path mapping, content types and the
// security headers, for GET and HEAD of any non-API path the router does not know.

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "api/api.hpp"
#include "api/error_mapping.hpp"
#include "web/static_files.hpp"

namespace horde::api {

namespace {

constexpr uintmax_t kMaxStaticBytes = 8 * 1024 * 1024;

/// The file's bytes, when it is a regular file inside `root` (symlinks may not lead out either).
std::optional<std::string> ReadInside(const std::filesystem::path& root, const std::string& rel) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path file = fs::canonical(root / rel, ec);
    if (ec) {
        return std::nullopt;
    }
    const auto [root_end, file_it] =
        std::mismatch(root.begin(), root.end(), file.begin(), file.end());
    if (root_end != root.end() || !fs::is_regular_file(file, ec) ||
        fs::file_size(file, ec) > kMaxStaticBytes || ec) {
        return std::nullopt;
    }
    std::ifstream in(file, std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    if (!in) {
        return std::nullopt;
    }
    return body.str();
}

}  // namespace

http::Response Api::StaticFile(const http::Request& req) const {
    if (settings_.web_dir.empty()) {
        return ErrorResponse(MakeError(ErrorCode::kNotFound));
    }
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path root = fs::canonical(settings_.web_dir, ec);
    if (ec) {
        return ErrorResponse(MakeError(ErrorCode::kNotFound));
    }
    const auto rel = web::PageFileFor(req.path);
    if (rel && req.method != http::Method::kGet && req.method != http::Method::kHead) {
        return ErrorResponse(MakeError(ErrorCode::kMethodNotAllowed));
    }
    const auto type = rel ? web::ContentTypeFor(*rel) : std::nullopt;
    const auto body = type ? ReadInside(root, *rel) : std::nullopt;
    if (!body) {
        // A person who mistyped a page address gets a page; everything else the JSON 404.
        const bool browser = req.Header("accept").find("text/html") != std::string::npos;
        const bool page_path = !req.path.starts_with("/static/") && !req.path.starts_with("/auth/");
        if (browser && page_path &&
            (req.method == http::Method::kGet || req.method == http::Method::kHead)) {
            if (auto page = ReadInside(root, "404.html")) {
                http::Response resp;
                resp.status = 404;
                resp.content_type = "text/html; charset=utf-8";
                resp.body = std::move(*page);
                resp.headers = web::StaticHeaders(resp.content_type);
                return resp;
            }
        }
        return ErrorResponse(MakeError(ErrorCode::kNotFound));
    }
    http::Response resp;
    resp.status = 200;
    resp.content_type = *type;
    resp.body = *body;
    resp.headers = web::StaticHeaders(*type);
    return resp;
}

}  // namespace horde::api
