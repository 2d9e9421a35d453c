#pragma once
// ASCII case folding, the one place for it: header names, model, worker and sampler names and
// bridge agents compare case-insensitively in ASCII only. (The C library's tolower is a call per
// character and would follow a locale; these fold only A-Z.)

#include <algorithm>
#include <string>
#include <string_view>

namespace horde {

constexpr char AsciiLower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

/// `s` with A-Z folded to a-z.
inline std::string AsciiLower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = AsciiLower(c);
    }
    return out;
}

/// Whether `haystack` contains `needle`, ignoring ASCII case.
constexpr bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
    return needle.empty() || std::search(haystack.begin(), haystack.end(), needle.begin(),
                                         needle.end(), [](char a, char b) {
                                             return AsciiLower(a) == AsciiLower(b);
                                         }) != haystack.end();
}

}  // namespace horde
