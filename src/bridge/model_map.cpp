#include "bridge/model_map.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/ascii.hpp"

namespace horde::bridge {

namespace {

constexpr std::array<std::string_view, 9> kModelFileExtensions = {
    ".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf", ".ggml", ".sft", ".onnx"};

std::string_view Trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
        s.remove_suffix(1);
    }
    return s;
}

bool Matches(std::string_view wanted, std::string_view backend_name) {
    const std::string w = AsciiLower(wanted);
    return w == AsciiLower(backend_name) || w == AsciiLower(DefaultHordeName(backend_name)) ||
           AsciiLower(DefaultHordeName(wanted)) == AsciiLower(DefaultHordeName(backend_name));
}

}  // namespace

std::vector<ModelEntry> ParseModelEntries(const std::vector<std::string>& config) {
    std::vector<ModelEntry> out;
    for (const auto& raw : config) {
        const std::string_view text = Trim(raw);
        if (text.empty()) {
            continue;
        }
        const size_t eq = text.find('=');
        ModelEntry entry;
        if (eq == std::string_view::npos) {
            entry.horde_name = std::string(text);
        } else {
            entry.horde_name = std::string(Trim(text.substr(0, eq)));
            entry.backend_name = std::string(Trim(text.substr(eq + 1)));
        }
        if (!entry.horde_name.empty()) {
            out.push_back(std::move(entry));
        }
    }
    return out;
}

std::string DefaultHordeName(std::string_view name) {
    // A1111 titles end with " [hash]".
    if (name.ends_with("]")) {
        const size_t open = name.rfind(" [");
        if (open != std::string_view::npos) {
            name = name.substr(0, open);
        }
    }
    const std::string lower = AsciiLower(name);
    for (const auto ext : kModelFileExtensions) {
        if (lower.ends_with(ext)) {
            name.remove_suffix(ext.size());
            const size_t slash = name.find_last_of("/\\");
            if (slash != std::string_view::npos) {
                name.remove_prefix(slash + 1);
            }
            break;
        }
    }
    return std::string(name);
}

std::string ServedModels::BackendNameFor(std::string_view horde_name) const {
    for (const auto& [horde, backend] : served) {
        if (horde == horde_name) {
            return backend;
        }
    }
    return {};
}

std::vector<std::string> ServedModels::HordeNames() const {
    std::vector<std::string> out;
    out.reserve(served.size());
    for (const auto& entry : served) {
        out.push_back(entry.first);
    }
    return out;
}

ServedModels ResolveModels(const std::vector<ModelEntry>& wanted,
                           const std::vector<std::string>& backend_models) {
    ServedModels out;
    auto add = [&](std::string horde, std::string backend) {
        const bool seen = std::any_of(out.served.begin(), out.served.end(),
                                      [&](const auto& s) { return s.first == horde; });
        if (!seen) {
            out.served.emplace_back(std::move(horde), std::move(backend));
        }
    };
    if (wanted.empty()) {
        for (const auto& m : backend_models) {
            add(DefaultHordeName(m), m);
        }
        return out;
    }
    for (const auto& entry : wanted) {
        if (entry.backend_name == "*") {
            if (backend_models.empty()) {
                out.missing.push_back(entry.horde_name);
            } else {
                add(entry.horde_name, backend_models.front());
            }
            continue;
        }
        const std::string& target =
            entry.backend_name.empty() ? entry.horde_name : entry.backend_name;
        const auto it = std::find_if(backend_models.begin(), backend_models.end(),
                                     [&](const std::string& m) { return m == target; });
        const auto fuzzy =
            it != backend_models.end()
                ? it
                : std::find_if(backend_models.begin(), backend_models.end(),
                               [&](const std::string& m) { return Matches(target, m); });
        if (fuzzy == backend_models.end()) {
            out.missing.push_back(entry.horde_name);
        } else {
            add(entry.horde_name, *fuzzy);
        }
    }
    return out;
}

}  // namespace horde::bridge
