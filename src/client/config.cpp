#include "client/config.hpp"

#include <fstream>
#include <sstream>

namespace horde::client {

namespace {

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

/// Reads a quoted string starting at s[0] (a quote); sets `rest` to what follows it.
bool ReadQuoted(std::string_view s, std::string& out, std::string_view& rest) {
    const char quote = s.front();
    size_t i = 1;
    for (; i < s.size(); ++i) {
        const char c = s[i];
        if (c == quote) {
            rest = s.substr(i + 1);
            return true;
        }
        if (c == '\\' && quote == '"' && i + 1 < s.size()) {
            const char e = s[++i];
            switch (e) {
                case 'n':
                    out += '\n';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'r':
                    out += '\r';
                    break;
                default:
                    out += e;  // \" \\ and anything else taken literally
                    break;
            }
            continue;
        }
        out += c;
    }
    return false;
}

}  // namespace

ApiResult<ConfigValues> ParseConfig(std::string_view text) {
    ConfigValues values;
    int line_no = 0;
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        ++line_no;
        line = Trim(line);
        if (line.empty() || line.front() == '#' || line.front() == '[') {
            continue;
        }
        const size_t eq = line.find('=');
        auto bad = [&](const char* why) {
            return MakeApiError(ErrorKind::kInvalidArgument,
                                "config line " + std::to_string(line_no) + ": " + why);
        };
        if (eq == std::string_view::npos) {
            return bad("expected key = value");
        }
        std::string key(Trim(line.substr(0, eq)));
        if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'') &&
            key.back() == key.front()) {
            key = key.substr(1, key.size() - 2);
        }
        if (key.empty()) {
            return bad("empty key");
        }
        std::string_view raw = Trim(line.substr(eq + 1));
        std::string value;
        if (!raw.empty() && (raw.front() == '"' || raw.front() == '\'')) {
            std::string_view rest;
            if (!ReadQuoted(raw, value, rest)) {
                return bad("unterminated string");
            }
            rest = Trim(rest);
            if (!rest.empty() && rest.front() != '#') {
                return bad("unexpected text after the value");
            }
        } else {
            const size_t hash = raw.find('#');
            value = std::string(Trim(raw.substr(0, hash)));
            if (value.empty()) {
                return bad("missing value");
            }
        }
        values[key] = value;
    }
    return values;
}

ApiResult<ConfigValues> LoadConfigFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return MakeApiError(ErrorKind::kIo, "cannot read config file " + path);
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto parsed = ParseConfig(text.str());
    if (!parsed) {
        ApiError e = std::move(parsed).error();
        e.message = path + ": " + e.message;
        return e;
    }
    return parsed;
}

}  // namespace horde::client
