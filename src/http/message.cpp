#include "http/message.hpp"

namespace horde::http {

std::string_view MethodName(Method m) {
    switch (m) {
        case Method::kGet:
            return "GET";
        case Method::kPost:
            return "POST";
        case Method::kPut:
            return "PUT";
        case Method::kPatch:
            return "PATCH";
        case Method::kDelete:
            return "DELETE";
        case Method::kOptions:
            return "OPTIONS";
        case Method::kHead:
            return "HEAD";
        case Method::kOther:
            return "OTHER";
    }
    return "OTHER";
}

const std::string& Request::Header(const std::string& name) const {
    static const std::string kEmpty;
    auto it = headers.find(name);
    return it == headers.end() ? kEmpty : it->second;
}

std::string Request::Query(const std::string& name, std::string fallback) const {
    auto it = query.find(name);
    return it == query.end() ? fallback : it->second;
}

}  // namespace horde::http
