#pragma once
// Everything a worker is configured with: the horde, the backend, what to serve and how to behave.
// Filled by apps/horde-worker from a config file, flags and the environment; plain value types.

#include <string>
#include <vector>

namespace horde::bridge {

/// The version this worker reports in its bridge_agent ("Horde Worker:<version>:<url>").
inline constexpr const char* kWorkerVersion = "0.1.0";
inline constexpr const char* kWorkerName = "Horde Worker";
/// Where to read about this worker; the third field of bridge_agent is informational.
inline constexpr const char* kWorkerUrl = "docs/worker.md";

enum class JobKind { kText, kImage };

enum class BackendType { kKobold, kOpenAi, kA1111, kComfyUi };

/// The kind of work a backend type serves.
inline JobKind KindOf(BackendType type) {
    return type == BackendType::kKobold || type == BackendType::kOpenAi ? JobKind::kText
                                                                        : JobKind::kImage;
}

/// How to reach the model server.
struct BackendSettings {
    BackendType type = BackendType::kKobold;
    std::string url;      // base URL, e.g. http://127.0.0.1:5001 (no trailing path needed)
    std::string api_key;  // OpenAI: Bearer token; A1111: "user:password" for --api-auth
    int webp_quality = 95;
};

/// What the worker asks the horde for and how it behaves. Durations are in milliseconds.
struct WorkerSettings {
    std::string horde_url = "http://localhost:7001";  // with or without /api/v2
    std::string api_key;
    std::string name;
    /// "horde name" or "horde name=backend name" (backend name `*` = whatever is loaded).
    std::vector<std::string> models;
    int threads = 1;
    bool nsfw = true;
    std::vector<std::string> blacklist;
    std::vector<std::string> priority_usernames;
    bool require_upfront_kudos = false;
    bool extra_slow_worker = false;
    // Text.
    int max_length = 512;
    int max_context_length = 4096;
    // Image.
    int max_pixels = 512 * 512;
    int max_batch = 1;
    bool allow_img2img = true;
    bool allow_painting = true;
    bool allow_post_processing = true;
    bool allow_unsafe_ipaddr = true;
    bool limit_max_steps = false;
    /// Words that mark a prompt as NSFW when a job asks for censoring (no image classifier).
    std::vector<std::string> censor_words;
    // Loop.
    int backoff_initial_ms = 500;
    int backoff_max_ms = 5'000;
    int health_interval_ms = 15'000;
    /// How long past a job's ttl the worker keeps retrying its upload/submit.
    int submit_grace_ms = 600'000;
    /// After SIGINT/SIGTERM, how long held jobs may run before they are reported faulted.
    int shutdown_timeout_ms = 60'000;
    int status_interval_ms = 60'000;
    BackendSettings backend;
};

/// The words used for censor_words when the config names none.
std::vector<std::string> DefaultCensorWords();

/// "Horde Worker:<version>:<url>"
std::string BridgeAgent();

}  // namespace horde::bridge
