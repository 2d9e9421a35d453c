#pragma once
// The model server a worker drives. One interface for the four supported APIs (KoboldAI/KoboldCpp,
// OpenAI-compatible, AUTOMATIC1111/Forge, ComfyUI); text backends implement GenerateText, image
// backends GenerateImage.
//
// Thread-safety: every Backend is safe for concurrent use: job threads generate while the health
// monitor probes.

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bridge/cancel.hpp"
#include "bridge/settings.hpp"
#include "common/result.hpp"

namespace horde::bridge {

/// One text job as the backend sees it.
struct TextJob {
    std::string prompt;
    /// The horde's text parameters (KoboldAI names: max_length, rep_pen, top_k, stop_sequence, ...)
    /// without prompt and n; max_length and max_context_length already clamped to the worker.
    boost::json::object params;
    std::string model;  // the backend's name for the model
    int64_t seed = 0;   // sampler seed chosen by the worker (reported back to the horde)
    int max_length = 80;
    int max_context_length = 2048;
};

struct TextOutput {
    std::string text;
};

/// One image as the backend sees it (the horde payload, decoded and defaulted).
struct ImageJob {
    std::string prompt;           // positive part (before the last ###)
    std::string negative_prompt;  // after the last ###
    int width = 512;
    int height = 512;
    int steps = 30;
    double cfg_scale = 7.5;
    std::string sampler = "k_euler_a";  // horde name
    bool karras = false;
    int64_t seed = 0;
    double denoising_strength = 0.75;
    int clip_skip = 1;
    bool tiling = false;
    bool hires_fix = false;
    double hires_fix_denoising_strength = 0.65;
    std::vector<std::string> post_processing;  // horde names, in order
    double facefixer_strength = 0.75;
    /// "" (txt2img), "img2img" or "inpainting" (outpainting is inpainting with a mask).
    std::string source_processing;
    std::string source_image;  // bytes (PNG/WebP/JPEG) when img2img or inpainting
    std::string source_mask;   // bytes (white = repaint) when inpainting
    std::string model;         // the backend's name for the checkpoint
    std::string horde_model;   // the horde's name (for native-resolution guesses)
};

struct ImageOutput {
    std::string bytes;  // PNG or WebP
    int64_t seed = 0;   // the seed the backend used
};

/// What an image backend can do, in horde terms.
struct ImageFeatures {
    bool img2img = false;
    bool inpainting = false;
    bool karras = false;
    bool tiling = false;
    bool hires_fix = false;
    bool clip_skip = false;
    std::vector<std::string> samplers;         // horde sampler names it runs
    std::vector<std::string> post_processors;  // horde post-processor names it runs
};

/// What a health probe learned.
struct BackendInfo {
    std::string version;              // e.g. "KoboldCpp 1.75"
    std::vector<std::string> models;  // the backend's model names
    int max_context_length = 0;       // text: 0 = unknown
    ImageFeatures features;           // image only
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual JobKind kind() const = 0;
    /// "KoboldAI", "OpenAI-compatible", "AUTOMATIC1111", "ComfyUI".
    virtual std::string Name() const = 0;
    /// Reachable and ready? Lists models and features. Quick (short timeouts).
    virtual Result<BackendInfo> Probe() = 0;
    virtual Result<TextOutput> GenerateText(const TextJob& job, const CancelToken& cancel);
    virtual Result<ImageOutput> GenerateImage(const ImageJob& job, const CancelToken& cancel);
    /// Best effort: stop whatever this worker started on the backend (shutdown, ttl).
    virtual void Interrupt() {}
};

/// The adapter for `settings.type`.
std::shared_ptr<Backend> MakeBackend(const BackendSettings& settings);
std::shared_ptr<Backend> MakeKoboldBackend(const BackendSettings& settings);
std::shared_ptr<Backend> MakeOpenAiBackend(const BackendSettings& settings);
std::shared_ptr<Backend> MakeA1111Backend(const BackendSettings& settings);
std::shared_ptr<Backend> MakeComfyUiBackend(const BackendSettings& settings);

/// The default URL of each backend type (KoboldCpp 5001, llama.cpp 8080, A1111 7860, ComfyUI
/// 8188, all on 127.0.0.1).
std::string DefaultBackendUrl(BackendType type);

/// Parses "kobold"/"koboldcpp"/"koboldai", "openai"/"llamacpp"/"vllm"/..., "a1111"/"forge"/
/// "sdnext", "comfyui"/"comfy".
Result<BackendType> ParseBackendType(std::string_view name);
const char* BackendTypeName(BackendType type);

}  // namespace horde::bridge
