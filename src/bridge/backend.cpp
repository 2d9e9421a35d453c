#include "bridge/backend.hpp"

#include <cctype>

#include "common/ascii.hpp"

namespace horde::bridge {

Result<TextOutput> Backend::GenerateText(const TextJob& /*job*/, const CancelToken& /*cancel*/) {
    return MakeError(ErrorCode::kInternal, Name() + " does not generate text");
}

Result<ImageOutput> Backend::GenerateImage(const ImageJob& /*job*/, const CancelToken& /*cancel*/) {
    return MakeError(ErrorCode::kInternal, Name() + " does not generate images");
}

std::shared_ptr<Backend> MakeBackend(const BackendSettings& settings) {
    switch (settings.type) {
        case BackendType::kKobold:
            return MakeKoboldBackend(settings);
        case BackendType::kOpenAi:
            return MakeOpenAiBackend(settings);
        case BackendType::kA1111:
            return MakeA1111Backend(settings);
        case BackendType::kComfyUi:
            return MakeComfyUiBackend(settings);
    }
    return nullptr;
}

std::string DefaultBackendUrl(BackendType type) {
    switch (type) {
        case BackendType::kKobold:
            return "http://127.0.0.1:5001";
        case BackendType::kOpenAi:
            return "http://127.0.0.1:8080";
        case BackendType::kA1111:
            return "http://127.0.0.1:7860";
        case BackendType::kComfyUi:
            return "http://127.0.0.1:8188";
    }
    return {};
}

Result<BackendType> ParseBackendType(std::string_view name) {
    std::string lower;
    for (const char c : name) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
            lower.push_back(AsciiLower(c));
        }
    }
    for (const std::string_view n : {"kobold", "koboldcpp", "koboldai", "kai"}) {
        if (lower == n) return BackendType::kKobold;
    }
    for (const std::string_view n :
         {"openai", "oai", "llamacpp", "vllm", "aphrodite", "tabbyapi", "tabby", "ollama"}) {
        if (lower == n) return BackendType::kOpenAi;
    }
    for (const std::string_view n :
         {"a1111", "automatic1111", "sdwebui", "webui", "forge", "sdnext"}) {
        if (lower == n) return BackendType::kA1111;
    }
    for (const std::string_view n : {"comfyui", "comfy"}) {
        if (lower == n) return BackendType::kComfyUi;
    }
    return MakeError(ErrorCode::kBadRequest, "unknown backend '" + std::string(name) +
                                                 "' (one of: kobold, openai, a1111, comfyui)");
}

const char* BackendTypeName(BackendType type) {
    switch (type) {
        case BackendType::kKobold:
            return "kobold";
        case BackendType::kOpenAi:
            return "openai";
        case BackendType::kA1111:
            return "a1111";
        case BackendType::kComfyUi:
            return "comfyui";
    }
    return "?";
}

std::vector<std::string> DefaultCensorWords() {
    return {"nsfw",   "nude",     "nudity", "naked",   "porn",     "pornographic", "sex",
            "sexual", "explicit", "hentai", "nipples", "genitals", "topless",      "erotic"};
}

std::string BridgeAgent() {
    return std::string(kWorkerName) + ":" + kWorkerVersion + ":" + kWorkerUrl;
}

}  // namespace horde::bridge
