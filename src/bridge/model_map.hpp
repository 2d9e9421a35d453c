#pragma once
// Which horde model names this worker advertises, and which backend model serves each one.
// Pure functions, unit tested.
//
// Config entries (`models`):
//   "Name"          serve horde model "Name" when the backend has a model called Name (compared
//                   case-insensitively, also against the backend name's file stem);
//   "Name=backend"  serve horde model "Name" with the backend's model "backend";
//   "Name=*"        serve horde model "Name" with whatever the backend has loaded (single-model
//                   servers such as KoboldCpp or llama.cpp).
// With no entries at all, every backend model is served under its default name (DefaultHordeName).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace horde::bridge {

struct ModelEntry {
    std::string horde_name;
    std::string backend_name;  // empty: find `horde_name` on the backend; "*": anything loaded
    bool operator==(const ModelEntry&) const = default;
};

std::vector<ModelEntry> ParseModelEntries(const std::vector<std::string>& config);

/// A backend model's horde name when the config names none: the A1111 " [hash]" suffix and, for
/// file names (.safetensors, .ckpt, .gguf, ...), the folders and the extension are removed.
/// "v1-5-pruned-emaonly.safetensors [6ce0161689]" -> "v1-5-pruned-emaonly";
/// "/models/llama-2-7b.Q4_K_M.gguf" -> "llama-2-7b.Q4_K_M"; "koboldcpp/Tiefighter" unchanged.
std::string DefaultHordeName(std::string_view backend_name);

struct ServedModels {
    /// (horde name, backend name), in config order (or backend order without config).
    std::vector<std::pair<std::string, std::string>> served;
    /// Config entries the backend does not have.
    std::vector<std::string> missing;

    /// The backend name for a horde model name; empty when not served.
    std::string BackendNameFor(std::string_view horde_name) const;
    std::vector<std::string> HordeNames() const;
};

ServedModels ResolveModels(const std::vector<ModelEntry>& wanted,
                           const std::vector<std::string>& backend_models);

}  // namespace horde::bridge
