#pragma once
// Static pages: which URL path maps to which file under the web folder, safely, and the headers
// each kind of file is served with.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace horde::web {

/// The file (relative to the web folder) for a raw (still percent-encoded) URL path, or nullopt
/// when the path is not a page or is unsafe: "..", "." segments, NUL, backslashes, encoded
/// slashes or dots tricks, bad percent-encoding. Pages: "/" index.html, "/login", "/account",
/// "/transfer", "/generate", "/admin" → <name>.html, "/invite/<token>" → invite.html,
/// "/static/<path>" → static/<path>.
std::optional<std::string> PageFileFor(std::string_view raw_path);

/// Content-Type for a file name by extension; nullopt for types we do not serve.
std::optional<std::string> ContentTypeFor(std::string_view file_name);

/// Headers for a static answer: caching, nosniff, frame denial, and for HTML the CSP.
std::vector<std::pair<std::string, std::string>> StaticHeaders(std::string_view content_type);

/// The Content-Security-Policy sent with every HTML page (no inline scripts or styles).
std::string_view PageContentSecurityPolicy();

}  // namespace horde::web
