#pragma once
// A route table: (method, pattern) -> handler. Patterns are literal segments and `{name}`
// placeholders that match one segment. Built once at start, then read-only (safe for concurrent
// lookups).

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "http/message.hpp"
#include "http/reply.hpp"

namespace horde::http {

/// Answers through the Reply, at once or later.
using Handler = std::function<void(Request&, const Reply&)>;

class Router {
public:
    void Add(Method method, std::string pattern, Handler handler);

    enum class MatchKind { kFound, kNoPath, kWrongMethod };
    struct Match {
        MatchKind kind = MatchKind::kNoPath;
        const Handler* handler = nullptr;
        std::vector<std::string> params;
        std::vector<Method> allowed;  // for kWrongMethod
    };
    Match Find(Method method, std::string_view path) const;

private:
    struct Route {
        Method method;
        std::vector<std::string> segments;
        Handler handler;
    };
    std::vector<Route> routes_;
};

}  // namespace horde::http
