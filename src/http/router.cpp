#include "http/router.hpp"

namespace horde::http {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i <= path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos) {
            j = path.size();
        }
        if (j > i) {
            out.push_back(path.substr(i, j - i));
        }
        i = j + 1;
    }
    return out;
}

std::string PercentDecode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '%' && i + 2 < in.size()) {
            auto hex = [](char c) -> int {
                if (c >= '0' && c <= '9') return c - '0';
                if (c >= 'a' && c <= 'f') return c - 'a' + 10;
                if (c >= 'A' && c <= 'F') return c - 'A' + 10;
                return -1;
            };
            const int hi = hex(in[i + 1]);
            const int lo = hex(in[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(in[i]);
    }
    return out;
}

bool IsPlaceholder(const std::string& s) {
    return s.size() >= 2 && s.front() == '{' && s.back() == '}';
}

}  // namespace

void Router::Add(Method method, std::string pattern, Handler handler) {
    Route r{method, {}, std::move(handler)};
    for (auto seg : Split(pattern)) {
        r.segments.emplace_back(seg);
    }
    routes_.push_back(std::move(r));
}

Router::Match Router::Find(Method method, std::string_view path) const {
    const auto parts = Split(path);
    Match result;
    for (const auto& route : routes_) {
        if (route.segments.size() != parts.size()) {
            continue;
        }
        std::vector<std::string> params;
        bool ok = true;
        for (size_t i = 0; i < parts.size() && ok; ++i) {
            if (IsPlaceholder(route.segments[i])) {
                params.push_back(PercentDecode(parts[i]));
            } else if (route.segments[i] != PercentDecode(parts[i])) {
                ok = false;
            }
        }
        if (!ok) {
            continue;
        }
        if (route.method == method) {
            result.kind = MatchKind::kFound;
            result.handler = &route.handler;
            result.params = std::move(params);
            return result;
        }
        result.kind = MatchKind::kWrongMethod;
        result.allowed.push_back(route.method);
    }
    return result;
}

}  // namespace horde::http
