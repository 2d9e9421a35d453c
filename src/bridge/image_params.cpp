#include "bridge/image_params.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "common/ascii.hpp"
#include "domain/bridge_capabilities.hpp"

namespace horde::bridge {

namespace {

constexpr int64_t kSeedModulus = 4294967296LL;  // 2^32
constexpr int kDimensionStep = 64;

std::string Trim(std::string_view s) {
    const size_t start = s.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) {
        return {};
    }
    const size_t end = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(start, end - start + 1));
}

/// Known aliases of horde post-processors in AUTOMATIC1111 (its built-in upscaler names).
struct PostProcessorAlias {
    std::string_view horde;
    std::string_view backend;
};
constexpr PostProcessorAlias kPostProcessorAliases[] = {
    {"RealESRGAN_x4plus", "R-ESRGAN 4x+"},
    {"RealESRGAN_x4plus_anime_6B", "R-ESRGAN 4x+ Anime6B"},
    {"RealESRGAN_x2plus", "R-ESRGAN 2x+"},
    {"GFPGAN", "GFPGAN"},
    {"GFPGANv1.3", "GFPGAN"},
    {"CodeFormers", "CodeFormer"},
};

}  // namespace

std::pair<std::string, std::string> SplitNegativePrompt(std::string_view prompt) {
    const size_t at = prompt.rfind("###");
    if (at == std::string_view::npos) {
        return {Trim(prompt), ""};
    }
    return {Trim(prompt.substr(0, at)), Trim(prompt.substr(at + 3))};
}

ImageJob ParseImagePayload(const json::object& p, int64_t seed_fallback) {
    ImageJob job;
    auto [positive, negative] = SplitNegativePrompt(json::String(p, "prompt"));
    job.prompt = std::move(positive);
    job.negative_prompt = std::move(negative);
    job.width = static_cast<int>(std::clamp<int64_t>(json::Int(p, "width", 512), 64, 8192));
    job.height = static_cast<int>(std::clamp<int64_t>(json::Int(p, "height", 512), 64, 8192));
    const int64_t steps = json::OptInt(p, "ddim_steps").value_or(json::Int(p, "steps", 30));
    job.steps = static_cast<int>(std::clamp<int64_t>(steps, 1, 500));
    job.cfg_scale = json::Double(p, "cfg_scale", 7.5);
    job.sampler = json::String(p, "sampler_name", "k_euler_a");
    job.karras = json::Bool(p, "karras", false);
    const int64_t seed = json::OptInt(p, "seed").value_or(seed_fallback);
    job.seed = ((seed % kSeedModulus) + kSeedModulus) % kSeedModulus;
    job.denoising_strength = std::clamp(json::Double(p, "denoising_strength", 0.75), 0.01, 1.0);
    job.clip_skip = static_cast<int>(std::clamp<int64_t>(json::Int(p, "clip_skip", 1), 1, 12));
    job.tiling = json::Bool(p, "tiling", false);
    job.hires_fix = json::Bool(p, "hires_fix", false);
    job.hires_fix_denoising_strength =
        std::clamp(json::Double(p, "hires_fix_denoising_strength", 0.65), 0.01, 1.0);
    job.post_processing = json::Strings(p, "post_processing");
    job.facefixer_strength = std::clamp(json::Double(p, "facefixer_strength", 0.75), 0.0, 1.0);
    return job;
}

const std::vector<SamplerNames>& SamplerTable() {
    static const std::vector<SamplerNames> kTable = {
        {"k_lms", "LMS", "lms"},
        {"k_heun", "Heun", "heun"},
        {"k_euler", "Euler", "euler"},
        {"k_euler_a", "Euler a", "euler_ancestral"},
        {"k_dpm_2", "DPM2", "dpm_2"},
        {"k_dpm_2_a", "DPM2 a", "dpm_2_ancestral"},
        {"k_dpm_fast", "DPM fast", "dpm_fast"},
        {"k_dpm_adaptive", "DPM adaptive", "dpm_adaptive"},
        {"k_dpmpp_2s_a", "DPM++ 2S a", "dpmpp_2s_ancestral"},
        {"k_dpmpp_2m", "DPM++ 2M", "dpmpp_2m"},
        {"dpmsolver", "DPM++ 2M", "dpmpp_2m"},
        {"k_dpmpp_sde", "DPM++ SDE", "dpmpp_sde"},
        {"DDIM", "DDIM", "ddim"},
        {"lcm", "LCM", "lcm"},
    };
    return kTable;
}

std::optional<std::string_view> A1111SamplerName(std::string_view horde) {
    for (const auto& s : SamplerTable()) {
        if (s.horde == horde) {
            return s.a1111;
        }
    }
    return std::nullopt;
}

std::optional<std::string_view> ComfySamplerName(std::string_view horde) {
    for (const auto& s : SamplerTable()) {
        if (s.horde == horde) {
            return s.comfyui;
        }
    }
    return std::nullopt;
}

int64_t NativePixels(std::string_view model_name) {
    const std::string lower = AsciiLower(model_name);
    for (const std::string_view marker : {"xl", "pony", "illustrious", "flux"}) {
        if (lower.find(marker) != std::string::npos) {
            return 1024LL * 1024LL;
        }
    }
    return 512LL * 512LL;
}

std::optional<std::pair<int, int>> HiresFirstPass(int width, int height, int64_t native_pixels) {
    const int64_t target = static_cast<int64_t>(width) * height;
    if (target <= native_pixels) {
        return std::nullopt;
    }
    const double scale =
        std::sqrt(static_cast<double>(native_pixels) / static_cast<double>(target));
    auto down = [&](int v) {
        const int scaled =
            static_cast<int>(std::floor(v * scale / kDimensionStep)) * kDimensionStep;
        return std::max(kDimensionStep, scaled);
    };
    return std::make_pair(down(width), down(height));
}

const std::vector<std::string>& HordePostProcessors() {
    // The horde's names, from the one list the server's capability table uses too.
    static const std::vector<std::string> kNames = [] {
        std::vector<std::string> names;
        for (std::string_view n : domain::KnownPostProcessors()) {
            names.emplace_back(n);
        }
        return names;
    }();
    return kNames;
}

std::string NormalizeName(std::string_view name) {
    std::string out;
    for (const char c : name) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
            out.push_back(AsciiLower(c));
        }
    }
    return out;
}

int UpscaleFactor(std::string_view horde_name) {
    const std::string lower = AsciiLower(horde_name);
    if (lower.find("x2") != std::string::npos || lower.find("2x") != std::string::npos) {
        return 2;
    }
    return 4;
}

bool IsFaceFixer(std::string_view horde_name) {
    const std::string lower = AsciiLower(horde_name);
    return lower.starts_with("gfpgan") || lower.starts_with("codeformer") ||
           lower.starts_with("restoreformer");
}

std::optional<std::string> MatchPostProcessor(std::string_view horde_name,
                                              const std::vector<std::string>& available) {
    for (const auto& alias : kPostProcessorAliases) {
        if (alias.horde != horde_name) {
            continue;
        }
        for (const auto& name : available) {
            if (name == alias.backend) {
                return name;
            }
        }
    }
    const std::string wanted = NormalizeName(horde_name);
    if (wanted.empty()) {
        return std::nullopt;
    }
    auto stem = [](const std::string& name) {
        const size_t dot = name.rfind('.');
        return NormalizeName(dot == std::string::npos ? std::string_view(name)
                                                      : std::string_view(name).substr(0, dot));
    };
    for (const auto& name : available) {
        if (stem(name) == wanted) {
            return name;
        }
    }
    for (const auto& name : available) {
        if (stem(name).find(wanted) != std::string::npos) {
            return name;
        }
    }
    return std::nullopt;
}

}  // namespace horde::bridge
