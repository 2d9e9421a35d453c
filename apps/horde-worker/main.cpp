// horde-worker: serves the horde from a model server the volunteer runs (KoboldAI/KoboldCpp,
// an OpenAI-compatible server, AUTOMATIC1111/Forge or ComfyUI). Composition root: options ->
// backend + horde API -> Worker; then waits for SIGINT/SIGTERM and shuts down gracefully.

#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>

#include "bridge/backend.hpp"
#include "bridge/horde_api.hpp"
#include "bridge/worker.hpp"
#include "common/clock.hpp"

namespace {

using horde::bridge::WorkerSettings;

struct Options {
    WorkerSettings settings;
    std::string backend = "kobold";
    std::string log_level = "info";
    double backoff_max_s = 5;
    double health_interval_s = 15;
    double submit_grace_s = 600;
    double shutdown_timeout_s = 60;
    double status_interval_s = 60;
    bool check = false;
    bool print_config = false;
};

void AddOptions(CLI::App& app, Options& o) {
    WorkerSettings& s = o.settings;
    const auto group_horde = "Horde";
    app.add_option("--horde-url", s.horde_url,
                   "The horde to serve: its base URL, with or without /api/v2 "
                   "(e.g. https://aihorde.net or http://localhost:7001)")
        ->envname("HORDE_URL")
        ->capture_default_str()
        ->group(group_horde);
    app.add_option("--api-key", s.api_key,
                   "Your API key on that horde (the worker's owner earns its kudos)")
        ->envname("HORDE_API_KEY")
        ->group(group_horde);
    app.add_option("--name", s.name,
                   "The worker's name on the horde: unique, and the same across restarts")
        ->envname("HORDE_WORKER_NAME")
        ->group(group_horde);
    app.add_option("--priority-usernames", s.priority_usernames,
                   "Users (alias#id) whose requests this worker takes first; comma-separated")
        ->envname("HORDE_WORKER_PRIORITY_USERNAMES")
        ->delimiter(',')
        ->group(group_horde);
    app.add_option("--require-upfront-kudos", s.require_upfront_kudos,
                   "Only take requests from users who have the kudos to pay for them upfront")
        ->default_str(s.require_upfront_kudos ? "true" : "false")
        ->envname("HORDE_WORKER_REQUIRE_UPFRONT_KUDOS")
        ->group(group_horde);
    app.add_option("--extra-slow-worker", s.extra_slow_worker,
                   "Tell the horde this worker is very slow (it gets 3x the time per job)")
        ->default_str(s.extra_slow_worker ? "true" : "false")
        ->envname("HORDE_WORKER_EXTRA_SLOW_WORKER")
        ->group(group_horde);

    const auto group_backend = "Backend";
    app.add_option("--backend", o.backend,
                   "The model server's API: kobold (KoboldAI, KoboldCpp), openai (llama.cpp "
                   "server, vLLM, Aphrodite, TabbyAPI, Ollama), a1111 (AUTOMATIC1111, Forge, "
                   "SD.Next) or comfyui")
        ->envname("HORDE_WORKER_BACKEND")
        ->capture_default_str()
        ->group(group_backend);
    app.add_option("--backend-url", s.backend.url,
                   "The model server's base URL (default: the backend's usual local port: "
                   "kobold 5001, openai 8080, a1111 7860, comfyui 8188)")
        ->envname("HORDE_WORKER_BACKEND_URL")
        ->group(group_backend);
    app.add_option("--backend-api-key", s.backend.api_key,
                   "Credentials for the model server: a Bearer token (openai, kobold, comfyui) "
                   "or user:password for A1111's --api-auth")
        ->envname("HORDE_WORKER_BACKEND_API_KEY")
        ->group(group_backend);

    const auto group_work = "What to serve";
    app.add_option("--models", s.models,
                   "Models to offer, comma-separated: 'Name' (a model the backend has), "
                   "'Name=backend-name' (offer the backend's model under another name) or "
                   "'Name=*' (whatever the backend has loaded). Default: every model the backend "
                   "has, under its own name. Only models the backend really has are offered.")
        ->envname("HORDE_WORKER_MODELS")
        ->delimiter(',')
        ->group(group_work);
    app.add_option("--threads", s.threads, "Jobs to run at once (1..50)")
        ->envname("HORDE_WORKER_THREADS")
        ->check(CLI::Range(1, 50))
        ->capture_default_str()
        ->group(group_work);
    app.add_option("--nsfw", s.nsfw,
                   "Accept requests that allow NSFW content (true/false; false: safe-for-work "
                   "requests only)")
        ->default_str(s.nsfw ? "true" : "false")
        ->envname("HORDE_WORKER_NSFW")
        ->group(group_work);
    app.add_option("--blacklist", s.blacklist,
                   "Words: requests whose prompt contains one are never sent here; comma-separated")
        ->envname("HORDE_WORKER_BLACKLIST")
        ->delimiter(',')
        ->group(group_work);

    const auto group_text = "Text workers";
    app.add_option("--max-length", s.max_length, "Most tokens to generate per job")
        ->envname("HORDE_WORKER_MAX_LENGTH")
        ->check(CLI::Range(16, 16384))
        ->capture_default_str()
        ->group(group_text);
    app.add_option("--max-context-length", s.max_context_length,
                   "Largest prompt + generation in tokens; lowered to the backend's own context "
                   "size when it reports one")
        ->envname("HORDE_WORKER_MAX_CONTEXT_LENGTH")
        ->check(CLI::Range(80, 1048576))
        ->capture_default_str()
        ->group(group_text);

    const auto group_image = "Image workers";
    app.add_option("--max-pixels", s.max_pixels,
                   "Largest image (width x height) to take; 262144 = 512x512, 1048576 = "
                   "1024x1024")
        ->envname("HORDE_WORKER_MAX_PIXELS")
        ->check(CLI::Range(64 * 64, 8192 * 8192))
        ->capture_default_str()
        ->group(group_image);
    app.add_option("--max-batch", s.max_batch, "Most images of one request to take at once")
        ->envname("HORDE_WORKER_MAX_BATCH")
        ->check(CLI::Range(1, 20))
        ->capture_default_str()
        ->group(group_image);
    app.add_option("--allow-img2img", s.allow_img2img,
                   "Take img2img requests (a source image) (true/false)")
        ->default_str(s.allow_img2img ? "true" : "false")
        ->envname("HORDE_WORKER_ALLOW_IMG2IMG")
        ->group(group_image);
    app.add_option("--allow-painting", s.allow_painting,
                   "Take inpainting and outpainting requests (true/false)")
        ->default_str(s.allow_painting ? "true" : "false")
        ->envname("HORDE_WORKER_ALLOW_PAINTING")
        ->group(group_image);
    app.add_option("--allow-post-processing", s.allow_post_processing,
                   "Take requests with post-processors (upscalers, face fixers) the backend has "
                   "(true/false)")
        ->default_str(s.allow_post_processing ? "true" : "false")
        ->envname("HORDE_WORKER_ALLOW_POST_PROCESSING")
        ->group(group_image);
    app.add_option(
           "--allow-unsafe-ipaddr", s.allow_unsafe_ipaddr,
           "Take img2img requests from IP addresses the horde considers unsafe (VPNs) (true/false)")
        ->default_str(s.allow_unsafe_ipaddr ? "true" : "false")
        ->envname("HORDE_WORKER_ALLOW_UNSAFE_IPADDR")
        ->group(group_image);
    app.add_option("--limit-max-steps", s.limit_max_steps,
                   "Ask the horde not to send requests with unusually many steps")
        ->default_str(s.limit_max_steps ? "true" : "false")
        ->envname("HORDE_WORKER_LIMIT_MAX_STEPS")
        ->group(group_image);
    app.add_option("--censor-words", s.censor_words,
                   "When a request asks for censored results, a prompt with one of these words "
                   "gets a black image marked censored (this worker has no image classifier); "
                   "comma-separated; default: a built-in list of explicit words")
        ->envname("HORDE_WORKER_CENSOR_WORDS")
        ->delimiter(',')
        ->group(group_image);
    app.add_option("--webp-quality", s.backend.webp_quality, "WebP quality of results (1..100)")
        ->envname("HORDE_WORKER_WEBP_QUALITY")
        ->check(CLI::Range(1, 100))
        ->capture_default_str()
        ->group(group_image);

    const auto group_loop = "Behaviour";
    app.add_option("--backoff-max", o.backoff_max_s,
                   "Longest wait in seconds between pops when there is no work or the horde "
                   "fails (waits grow exponentially with jitter up to this)")
        ->envname("HORDE_WORKER_BACKOFF_MAX")
        ->check(CLI::Range(0.1, 600.0))
        ->capture_default_str()
        ->group(group_loop);
    app.add_option("--health-interval", o.health_interval_s,
                   "Seconds between backend health checks while it is up (while it is down: "
                   "every 2 s)")
        ->envname("HORDE_WORKER_HEALTH_INTERVAL")
        ->check(CLI::Range(0.5, 3600.0))
        ->capture_default_str()
        ->group(group_loop);
    app.add_option("--submit-grace", o.submit_grace_s,
                   "How long past a job's deadline (ttl) to keep retrying its upload and submit "
                   "while the horde is unreachable, in seconds")
        ->envname("HORDE_WORKER_SUBMIT_GRACE")
        ->check(CLI::Range(0.0, 86400.0))
        ->capture_default_str()
        ->group(group_loop);
    app.add_option("--shutdown-timeout", o.shutdown_timeout_s,
                   "After SIGINT/SIGTERM, seconds to let jobs in hand finish before they are "
                   "reported faulted (a second signal gives them up at once)")
        ->envname("HORDE_WORKER_SHUTDOWN_TIMEOUT")
        ->check(CLI::Range(0.0, 86400.0))
        ->capture_default_str()
        ->group(group_loop);
    app.add_option("--status-interval", o.status_interval_s,
                   "Seconds between status lines (jobs done, kudos, backend state)")
        ->envname("HORDE_WORKER_STATUS_INTERVAL")
        ->check(CLI::Range(1.0, 86400.0))
        ->capture_default_str()
        ->group(group_loop);
    app.add_option("--log-level", o.log_level, "trace, debug, info, warn or error")
        ->envname("HORDE_WORKER_LOG_LEVEL")
        ->capture_default_str()
        ->group(group_loop);
    app.add_flag("--print-config", o.print_config,
                 "Print the effective options as a TOML config file and exit")
        ->configurable(false)
        ->group(group_loop);
    app.add_flag("--check", o.check,
                 "Probe the backend, print what would be offered to the horde, and exit "
                 "(0 when it can serve)")
        ->configurable(false)
        ->group(group_loop);
}

int Milliseconds(double seconds) { return static_cast<int>(seconds * 1000.0); }

/// Waits for SIGINT/SIGTERM/SIGHUP up to `timeout`; returns the signal or 0.
int WaitSignal(const sigset_t& set, std::chrono::milliseconds timeout) {
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    ts.tv_nsec = static_cast<long>((timeout.count() % 1000) * 1'000'000);
    const int sig = sigtimedwait(&set, nullptr, &ts);
    return sig > 0 ? sig : 0;
}

int RunCheck(horde::bridge::Worker& worker, const WorkerSettings& settings,
             horde::bridge::JobKind kind) {
    const auto state = worker.health().ProbeNow();
    if (!state.healthy) {
        std::cout << "backend: DOWN: " << state.error << "\n";
        return 1;
    }
    std::cout << "backend: " << state.info.version << "\n";
    std::cout << "backend models:";
    for (const auto& m : state.info.models) {
        std::cout << " '" << m << "'";
    }
    std::cout << "\n";
    for (const auto& missing : state.models.missing) {
        std::cout << "not on the backend (not offered): " << missing << "\n";
    }
    std::cout << "pop body: "
              << boost::json::serialize(horde::bridge::BuildPopBody(settings, state, kind)) << "\n";
    return state.Usable() ? 0 : 1;
}

int Serve(horde::bridge::Worker& worker, const Options& o, const sigset_t& signals) {
    worker.Start();
    while (WaitSignal(signals, std::chrono::milliseconds(1000)) == 0) {
    }
    const auto busy = worker.Stats().busy;
    spdlog::info(
        "stopping: no more jobs; {} job(s) in hand will finish (up to {:g} s; signal "
        "again to give them up)",
        busy, o.shutdown_timeout_s);
    worker.StopPopping();
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(Milliseconds(o.shutdown_timeout_s));
    bool finished = false;
    while (!finished && std::chrono::steady_clock::now() < deadline) {
        finished = worker.WaitFinished(std::chrono::milliseconds(100));
        if (!finished && WaitSignal(signals, std::chrono::milliseconds(100)) != 0) {
            spdlog::warn("second signal: giving up the jobs in hand");
            break;
        }
    }
    if (!finished && !worker.Abort(std::chrono::milliseconds(10'000))) {
        spdlog::warn("a backend call is still running; exiting anyway");
        spdlog::info("{}", worker.StatusLine());
        spdlog::shutdown();
        std::_Exit(0);
    }
    spdlog::info("{}", worker.StatusLine());
    spdlog::info("horde-worker stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "horde-worker: serve an AI Horde with your own model server.\n"
        "Options come from flags, environment variables (shown as ENV) or a config file "
        "(--config, TOML or INI, keys are the long option names, e.g. horde-url = \"...\")."};
    app.set_config("--config", "", "Read options from this TOML/INI file", false);
    app.get_formatter()->column_width(36);
    Options o;
    AddOptions(app, o);
    CLI11_PARSE(app, argc, argv);
    if (o.print_config) {
        std::cout << app.config_to_str(true, true);
        return 0;
    }

    auto type = horde::bridge::ParseBackendType(o.backend);
    if (!type) {
        std::cerr << "horde-worker: " << type.error().message << "\n";
        return 2;
    }
    WorkerSettings& s = o.settings;
    for (auto* list : {&s.models, &s.blacklist, &s.priority_usernames, &s.censor_words}) {
        std::erase_if(*list, [](const std::string& item) { return item.empty(); });
    }
    if (s.censor_words.empty()) {
        s.censor_words = horde::bridge::DefaultCensorWords();
    }
    s.backend.type = *type;
    if (s.backend.url.empty()) {
        s.backend.url = horde::bridge::DefaultBackendUrl(*type);
    }
    s.backoff_max_ms = std::max(100, Milliseconds(o.backoff_max_s));
    s.backoff_initial_ms = std::min(s.backoff_initial_ms, s.backoff_max_ms);
    s.health_interval_ms = Milliseconds(o.health_interval_s);
    s.submit_grace_ms = Milliseconds(o.submit_grace_s);
    s.shutdown_timeout_ms = Milliseconds(o.shutdown_timeout_s);
    s.status_interval_ms = Milliseconds(o.status_interval_s);
    if (!o.check && (s.api_key.empty() || s.name.empty())) {
        std::cerr << "horde-worker: --api-key (HORDE_API_KEY) and --name (HORDE_WORKER_NAME) "
                     "are required; see --help\n";
        return 2;
    }

    spdlog::set_level(spdlog::level::from_str(o.log_level));
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");

    // Signals are taken synchronously by main; every thread started later inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    horde::SystemClock clock;
    auto backend = horde::bridge::MakeBackend(s.backend);
    auto api = std::make_shared<horde::bridge::HttpHordeApi>(s.horde_url, s.api_key);
    const auto kind = backend->kind();
    horde::bridge::Worker worker(s, backend, api, clock);
    if (o.check) {
        return RunCheck(worker, s, kind);
    }
    spdlog::info("horde-worker {}: worker '{}' on {} with {} at {}, {} thread(s)",
                 horde::bridge::kWorkerVersion, s.name, api->api_base(), backend->Name(),
                 s.backend.url, s.threads);
    return Serve(worker, o, signals);
}
