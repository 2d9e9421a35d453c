#include "bridge/json_read.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace horde::bridge::json {

namespace {

std::optional<double> NumberFromString(std::string_view text) {
    while (!text.empty() && text.front() == ' ') {
        text.remove_prefix(1);
    }
    while (!text.empty() && text.back() == ' ') {
        text.remove_suffix(1);
    }
    if (text.empty()) {
        return std::nullopt;
    }
    const std::string copy(text);
    char* end = nullptr;
    const double v = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size() || !std::isfinite(v)) {
        return std::nullopt;
    }
    return v;
}

std::optional<int64_t> IntFromString(std::string_view text) {
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc() && end == text.data() + text.size()) {
        return v;
    }
    if (const auto d = NumberFromString(text)) {
        return static_cast<int64_t>(*d);
    }
    return std::nullopt;
}

const object& EmptyObject() {
    static const object kEmpty;
    return kEmpty;
}

}  // namespace

const value* Find(const object& o, std::string_view key) {
    const value* v = o.if_contains(key);
    return v == nullptr || v->is_null() ? nullptr : v;
}

std::optional<double> OptDouble(const object& o, std::string_view key) {
    const value* v = Find(o, key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_double()) {
        return v->get_double();
    }
    if (v->is_int64()) {
        return static_cast<double>(v->get_int64());
    }
    if (v->is_uint64()) {
        return static_cast<double>(v->get_uint64());
    }
    if (v->is_string()) {
        return NumberFromString(v->get_string());
    }
    return std::nullopt;
}

std::optional<int64_t> OptInt(const object& o, std::string_view key) {
    const value* v = Find(o, key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_int64()) {
        return v->get_int64();
    }
    if (v->is_uint64()) {
        return static_cast<int64_t>(v->get_uint64());
    }
    if (v->is_double()) {
        return static_cast<int64_t>(v->get_double());
    }
    if (v->is_string()) {
        return IntFromString(v->get_string());
    }
    return std::nullopt;
}

std::optional<std::string> OptString(const object& o, std::string_view key) {
    const value* v = Find(o, key);
    if (v == nullptr || !v->is_string()) {
        return std::nullopt;
    }
    return std::string(v->get_string());
}

std::optional<bool> OptBool(const object& o, std::string_view key) {
    const value* v = Find(o, key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_bool()) {
        return v->get_bool();
    }
    if (v->is_string()) {
        const std::string_view s = v->get_string();
        if (s == "true" || s == "True" || s == "1") {
            return true;
        }
        if (s == "false" || s == "False" || s == "0") {
            return false;
        }
    }
    return std::nullopt;
}

double Double(const object& o, std::string_view key, double fallback) {
    return OptDouble(o, key).value_or(fallback);
}

int64_t Int(const object& o, std::string_view key, int64_t fallback) {
    return OptInt(o, key).value_or(fallback);
}

std::string String(const object& o, std::string_view key, std::string fallback) {
    return OptString(o, key).value_or(std::move(fallback));
}

bool Bool(const object& o, std::string_view key, bool fallback) {
    return OptBool(o, key).value_or(fallback);
}

std::vector<std::string> Strings(const object& o, std::string_view key) {
    std::vector<std::string> out;
    const value* v = Find(o, key);
    if (v == nullptr || !v->is_array()) {
        return out;
    }
    for (const value& item : v->get_array()) {
        if (item.is_string()) {
            out.emplace_back(item.get_string());
        }
    }
    return out;
}

const object& Object(const object& o, std::string_view key) {
    const value* v = Find(o, key);
    return v != nullptr && v->is_object() ? v->get_object() : EmptyObject();
}

Result<value> Parse(std::string_view text, std::string_view what) {
    boost::system::error_code ec;
    value v = boost::json::parse(text, ec);
    if (ec) {
        return MakeError(ErrorCode::kInternal, std::string(what) + " is not JSON (" + ec.message() +
                                                   "): " + Excerpt(text));
    }
    return v;
}

std::string Excerpt(std::string_view body, size_t max_chars) {
    std::string out;
    for (const char c : body) {
        if (out.size() >= max_chars) {
            out += "...";
            break;
        }
        out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
    }
    return out;
}

}  // namespace horde::bridge::json
