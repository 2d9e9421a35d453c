// The static pages under the web folder (docs/web.md): safe path mapping, content types and the
// security headers, for GET and HEAD of any non-API path the router does not know.

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/api.hpp"
#include "api/error_mapping.hpp"
#include "web/static_files.hpp"

namespace horde::api {

namespace {

constexpr uintmax_t kMaxStaticBytes = 8 * 1024 * 1024;

}  // namespace

http::Response Api::StaticFile(const http::Request& req) const {
    if (settings_.web_dir.empty()) {
        return ErrorResponse(MakeError(ErrorCode::kNotFound));
    }
    const auto rel = web::PageFileFor(req.path);
    if (!rel) {
        return ErrorResponse(MakeError(ErrorCode::kNotFound));
    }
    if (req.method != http::Method::kGet && req.method != http::Method::kHead) {
        return ErrorResponse(MakeError(ErrorCode::kMethodNotAllowed));
    }
    const auto type = web::ContentTypeFor(*rel);
    if (!type) {
        return ErrorResponse(MakeError(ErrorCode::kNotFound));
    }
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path root = fs::canonical(settings_.web_dir, ec);
    if (ec) {
        return ErrorResponse(MakeError(ErrorCode::kNotFound));
    }
    const fs::path file = fs::canonical(root / *rel, ec);
    // Symlinks may not lead outside the folder either.
    const auto [root_end, file_it] =
        std::mismatch(root.begin(), root.end(), file.begin(), file.end());
    if (ec || root_end != root.end() || !fs::is_regular_file(file, ec) ||
        fs::file_size(file, ec) > kMaxStaticBytes) {
        return ErrorResponse(MakeError(ErrorCode::kNotFound));
    }
    std::ifstream in(file, std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    if (!in) {
        return ErrorResponse(MakeError(ErrorCode::kNotFound));
    }
    http::Response resp;
    resp.status = 200;
    resp.content_type = *type;
    resp.body = body.str();
    resp.headers = web::StaticHeaders(*type);
    return resp;
}

}  // namespace horde::api
