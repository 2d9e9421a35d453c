// horde: the AI Horde from the command line (text and image generation, account, status).
// Built on horde::client::HordeClient; see docs/client.md.

#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/json.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "client/base64.hpp"
#include "client/config.hpp"
#include "client/horde_client.hpp"
#include "client/json_codec.hpp"

namespace {

namespace hc = horde::client;
namespace fs = std::filesystem;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNetwork = 3;
constexpr int kExitAuth = 4;
constexpr int kExitRejected = 5;
constexpr int kExitFailed = 6;
constexpr int kExitInterrupted = 130;

constexpr double kDefaultWaitS = 1170;  // the horde forgets unserved requests after 20 min
constexpr double kPlainLineRepeatS = 30;

constexpr const char* kExitCodesHelp =
    "Exit codes:\n"
    "  0    success\n"
    "  1    other error (server error, unexpected answer, local file error)\n"
    "  2    usage error (bad arguments or config file)\n"
    "  3    network error: the horde could not be reached\n"
    "  4    authentication error: the API key is wrong or not allowed (HTTP 401/403)\n"
    "  5    request rejected by the horde (other HTTP 4xx; its rc and message are shown)\n"
    "  6    request faulted, or not done within --timeout\n"
    "  130  interrupted (Ctrl-C); a request being waited for is cancelled on the horde\n"
    "\n"
    "Settings: --url / HORDE_URL / config `url` (default http://127.0.0.1:7001);\n"
    "--api-key / HORDE_API_KEY / config `api_key` (default: anonymous 0000000000);\n"
    "config file: --config FILE, else $XDG_CONFIG_HOME/horde/config.toml or\n"
    "~/.config/horde/config.toml (TOML: url = \"...\", api_key = \"...\", timeout = 600).";

// ---------------------------------------------------------------------------------------------
// Signals

/// Ctrl-C handling without code in a signal handler: SIGINT and SIGTERM are blocked in every
/// thread and received by one watcher thread (sigwait). While a request is being waited for,
/// the first signal stops the wait, which cancels the request on the horde; otherwise, or on a
/// second signal, the process exits at once with 130.
/// Thread-safety: all members are atomics or std::stop_source (safe for concurrent use).
struct Signals {
    std::stop_source stop;
    std::atomic<bool> cancellable{false};
    std::atomic<int> received{0};

    /// Blocks the signals in the calling thread (call it before any thread starts; threads
    /// inherit the mask) and starts the watcher. The state lives as long as the process.
    static std::shared_ptr<Signals> Install() {
        auto state = std::make_shared<Signals>();
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
        std::thread([state, set] {
            for (;;) {
                int sig = 0;
                if (sigwait(&set, &sig) != 0) {
                    continue;
                }
                const int count = ++state->received;
                if (count == 1 && state->cancellable.load()) {
                    static constexpr char kMsg[] = "\ninterrupted: cancelling the request\n";
                    (void)!write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
                    state->stop.request_stop();
                    continue;
                }
                std::_Exit(kExitInterrupted);
            }
        }).detach();
        return state;
    }
};

// ---------------------------------------------------------------------------------------------
// Formatting

std::string Num(double v) {
    std::string s = fmt::format("{:.2f}", v);
    while (s.find('.') != std::string::npos && (s.back() == '0' || s.back() == '.')) {
        const bool dot = s.back() == '.';
        s.pop_back();
        if (dot) {
            break;
        }
    }
    return s == "-0" ? "0" : s;
}

std::string Duration(int64_t seconds) {
    if (seconds < 60) {
        return fmt::format("{}s", seconds);
    }
    if (seconds < 3600) {
        return fmt::format("{}m{:02}s", seconds / 60, seconds % 60);
    }
    return fmt::format("{}h{:02}m", seconds / 3600, (seconds % 3600) / 60);
}

std::string YesNo(bool b) { return b ? "yes" : "no"; }

std::string Json(const boost::json::value& v) {
    return hc::NormalizeJson(boost::json::serialize(v));
}

boost::json::value ParseJson(const std::string& text) {
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    return ec ? boost::json::value(nullptr) : v;
}

/// A file-name-safe version of `s` (seeds are digits; anything else becomes '_').
std::string SafeName(const std::string& s) {
    std::string out;
    for (char c : s) {
        const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                        (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
        out += ok ? c : '_';
    }
    return out.empty() ? "noseed" : out;
}

// ---------------------------------------------------------------------------------------------
// Progress display (stderr; stdout carries only results)

class ProgressView {
public:
    enum class Mode { kLive, kLines, kQuiet };

    ProgressView(Mode mode, int expected_n) : mode_(mode), expected_n_(expected_n) {}

    void Submitted(const hc::AsyncResponse& a) {
        if (mode_ == Mode::kQuiet) {
            return;
        }
        std::cerr << "request " << a.id << " queued (" << Num(a.kudos) << " kudos per job)\n";
        for (const auto& w : a.warnings) {
            std::cerr << "warning: " << w.code << ": " << w.message << "\n";
        }
        if (a.warnings.empty() && !a.message.empty()) {
            std::cerr << "note: " << a.message << "\n";
        }
        std::cerr.flush();
    }

    void Update(const hc::Progress& p) {
        if (mode_ == Mode::kQuiet) {
            return;
        }
        const std::string state = Describe(p.status);
        const std::string line =
            fmt::format("[{:>4}] {}", Duration(static_cast<int64_t>(p.elapsed_s)), state);
        if (mode_ == Mode::kLive) {
            std::cerr << "\r\x1b[2K" << line << std::flush;
            drawn_ = true;
            return;
        }
        if (state != last_state_ || p.elapsed_s - last_print_s_ >= kPlainLineRepeatS) {
            std::cerr << line << "\n" << std::flush;
            last_state_ = state;
            last_print_s_ = p.elapsed_s;
        }
    }

    /// Ends the live line (before any other output).
    void Finish() {
        if (drawn_) {
            std::cerr << "\r\x1b[2K" << std::flush;
            drawn_ = false;
        }
    }

private:
    std::string Describe(const hc::RequestStatus& s) const {
        const int total =
            expected_n_ > 0 ? expected_n_ : std::max(1, s.finished + s.processing + s.waiting);
        std::string out;
        if (s.faulted) {
            out = "faulted";
        } else if (s.done) {
            out = "done";
        } else if (s.queue_position > 0) {
            out = fmt::format("queue position {}", s.queue_position);
        } else if (s.processing > 0) {
            out = "generating";
        } else {
            out = "waiting";
        }
        if (!s.done && s.wait_time_s > 0 && s.is_possible) {
            out += ", ETA " + Duration(s.wait_time_s);
        }
        out += fmt::format(", {}/{} done", s.finished, total);
        if (s.processing > 0) {
            out += fmt::format(", {} generating", s.processing);
        }
        if (s.restarted > 0) {
            out += fmt::format(", {} restarted", s.restarted);
        }
        out += ", " + Num(s.kudos) + " kudos spent";
        if (!s.is_possible && !s.done) {
            out += " (no worker can serve it right now)";
        }
        return out;
    }

    Mode mode_;
    int expected_n_;
    bool drawn_ = false;
    std::string last_state_;
    double last_print_s_ = -1e9;
};

// ---------------------------------------------------------------------------------------------
// Context shared by the commands

struct Context {
    hc::HordeClient client;
    std::string url;
    bool json = false;
    bool quiet = false;
    double timeout_s = kDefaultWaitS;
    std::shared_ptr<Signals> signals;

    ProgressView::Mode ViewMode() const {
        if (quiet) {
            return ProgressView::Mode::kQuiet;
        }
        if (isatty(STDOUT_FILENO) != 0 && isatty(STDERR_FILENO) != 0) {
            return ProgressView::Mode::kLive;
        }
        return json ? ProgressView::Mode::kQuiet : ProgressView::Mode::kLines;
    }

    hc::WaitOptions Wait(ProgressView& view) const {
        hc::WaitOptions o;
        o.timeout_s = timeout_s;
        o.poll_interval_ms = 0;  // as often as ClientSettings::min_poll_interval_ms allows
        o.stop = signals->stop.get_token();
        o.on_progress = [&view](const hc::Progress& p) { view.Update(p); };
        o.on_submitted = [&view](const hc::AsyncResponse& a) { view.Submitted(a); };
        return o;
    }
};

int ExitCodeOf(const hc::ApiError& e) {
    switch (e.kind) {
        case hc::ErrorKind::kNetwork:
            return kExitNetwork;
        case hc::ErrorKind::kAuth:
            return kExitAuth;
        case hc::ErrorKind::kRejected:
        case hc::ErrorKind::kNotFound:
        case hc::ErrorKind::kRateLimited:
            return kExitRejected;
        case hc::ErrorKind::kFaulted:
        case hc::ErrorKind::kTimeout:
            return kExitFailed;
        case hc::ErrorKind::kCancelled:
            return kExitInterrupted;
        case hc::ErrorKind::kInvalidArgument:
            return kExitUsage;
        case hc::ErrorKind::kServer:
        case hc::ErrorKind::kInvalidResponse:
        case hc::ErrorKind::kIo:
            return kExitError;
    }
    return kExitError;
}

int Fail(const Context& ctx, const hc::ApiError& e) {
    std::cerr << "horde: error: " << e.ToString() << "\n";
    switch (e.kind) {
        case hc::ErrorKind::kNetwork:
            std::cerr << "hint: is a horde running at " << ctx.url
                      << "? (set it with --url or HORDE_URL)\n";
            break;
        case hc::ErrorKind::kAuth:
            std::cerr << "hint: check the API key (--api-key, HORDE_API_KEY or the config "
                         "file)\n";
            break;
        default:
            break;
    }
    return ExitCodeOf(e);
}

/// Exit code for a finished wait: a cancelled one ends with 130 (the watcher printed why).
int FailWait(const Context& ctx, const hc::ApiError& e) {
    if (e.kind == hc::ErrorKind::kCancelled || ctx.signals->received.load() > 0) {
        std::cerr << "horde: " << e.message << "\n";
        return kExitInterrupted;
    }
    return Fail(ctx, e);
}

hc::ApiResult<std::string> ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return hc::MakeApiError(hc::ErrorKind::kIo, "cannot read " + path);
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// A source image argument: an http(s) URL is sent as it is, a file is sent as base64.
hc::ApiResult<std::string> ImageArgument(const std::string& arg) {
    if (arg.starts_with("http://") || arg.starts_with("https://")) {
        return arg;
    }
    auto bytes = ReadFile(arg);
    if (!bytes) {
        return std::move(bytes).error();
    }
    return hc::Base64Encode(*bytes);
}

std::string ReadPrompt(const std::string& prompt) {
    if (prompt != "-") {
        return prompt;
    }
    std::ostringstream s;
    s << std::cin.rdbuf();
    return s.str();
}

// ---------------------------------------------------------------------------------------------
// text

struct TextArgs {
    std::string prompt;
    std::vector<std::string> models;
    std::optional<int> max_length;
    std::optional<int> context;
    std::optional<double> temperature;
    std::optional<double> top_p;
    std::optional<int> top_k;
    std::optional<double> rep_pen;
    std::vector<std::string> stop;
    std::optional<int> n;
    std::vector<std::string> workers;
    bool trusted_workers = false;
    std::string softprompt;
};

int RunText(Context& ctx, const TextArgs& a) {
    hc::TextRequest req;
    req.prompt = ReadPrompt(a.prompt);
    if (!a.models.empty()) {
        req.models = a.models;
    }
    req.params.max_length = a.max_length;
    req.params.max_context_length = a.context;
    req.params.temperature = a.temperature;
    req.params.top_p = a.top_p;
    req.params.top_k = a.top_k;
    req.params.rep_pen = a.rep_pen;
    if (!a.stop.empty()) {
        req.params.stop_sequence = a.stop;
    }
    req.params.n = a.n;
    if (!a.workers.empty()) {
        req.workers = a.workers;
    }
    if (a.trusted_workers) {
        req.trusted_workers = true;
    }
    if (!a.softprompt.empty()) {
        req.softprompt = a.softprompt;
    }
    ProgressView view(ctx.ViewMode(), a.n.value_or(1));
    ctx.signals->cancellable = true;
    auto done = ctx.client.GenerateText(req, ctx.Wait(view));
    ctx.signals->cancellable = false;
    view.Finish();
    if (!done) {
        return FailWait(ctx, done.error());
    }
    if (done->generations.empty()) {
        std::cerr << "horde: error: request " << done->id
                  << " ended without any text (cancelled or expired on the horde)\n";
        return kExitFailed;
    }
    if (ctx.json) {
        std::cout << hc::ToJson(*done) << "\n";
        return kExitOk;
    }
    for (size_t i = 0; i < done->generations.size(); ++i) {
        if (i > 0) {
            std::cout << "\n";
        }
        std::cout << done->generations[i].text << "\n";
    }
    return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// image

struct ImageArgs {
    std::string prompt;
    std::string negative;
    std::optional<int> n;
    std::optional<int> width;
    std::optional<int> height;
    std::optional<int> steps;
    std::vector<std::string> models;
    std::optional<std::string> seed;
    std::optional<int> seed_variation;
    std::optional<std::string> sampler;
    std::optional<double> cfg;
    std::optional<double> denoise;
    std::optional<int> clip_skip;
    std::vector<std::string> post_processing;
    bool karras = false;
    bool no_karras = false;
    bool hires_fix = false;
    bool tiling = false;
    bool sfw = false;
    std::string source_image;
    std::string source_mask;
    std::optional<std::string> source_processing;
    bool no_r2 = false;
    bool trusted_workers = false;
    std::vector<std::string> workers;
    std::string out_dir = ".";
};

hc::ApiResult<hc::ImageRequest> BuildImageRequest(const ImageArgs& a) {
    hc::ImageRequest req;
    req.prompt = ReadPrompt(a.prompt);
    req.negative_prompt = a.negative;
    auto& p = req.params;
    p.n = a.n;
    p.width = a.width;
    p.height = a.height;
    p.steps = a.steps;
    p.seed = a.seed;
    p.seed_variation = a.seed_variation;
    p.sampler_name = a.sampler;
    p.cfg_scale = a.cfg;
    p.denoising_strength = a.denoise;
    p.clip_skip = a.clip_skip;
    if (!a.post_processing.empty()) {
        p.post_processing = a.post_processing;
    }
    if (a.karras || a.no_karras) {
        p.karras = a.karras;
    }
    if (a.hires_fix) {
        p.hires_fix = true;
    }
    if (a.tiling) {
        p.tiling = true;
    }
    if (!a.models.empty()) {
        req.models = a.models;
    }
    if (a.sfw) {
        req.nsfw = false;
        req.censor_nsfw = true;
    }
    if (!a.source_image.empty()) {
        auto img = ImageArgument(a.source_image);
        if (!img) {
            return std::move(img).error();
        }
        req.source_image = std::move(*img);
    }
    if (!a.source_mask.empty()) {
        auto mask = ImageArgument(a.source_mask);
        if (!mask) {
            return std::move(mask).error();
        }
        req.source_mask = std::move(*mask);
    }
    req.source_processing = a.source_processing;
    if (a.no_r2) {
        req.r2 = false;
    }
    if (a.trusted_workers) {
        req.trusted_workers = true;
    }
    if (!a.workers.empty()) {
        req.workers = a.workers;
    }
    return req;
}

int RunImage(Context& ctx, const ImageArgs& a) {
    auto req = BuildImageRequest(a);
    if (!req) {
        return Fail(ctx, req.error());
    }
    std::error_code ec;
    fs::create_directories(a.out_dir, ec);
    if (ec) {
        return Fail(ctx, hc::MakeApiError(hc::ErrorKind::kIo, "cannot create directory " +
                                                                  a.out_dir + ": " + ec.message()));
    }
    ProgressView view(ctx.ViewMode(), a.n.value_or(1));
    ctx.signals->cancellable = true;
    auto done = ctx.client.GenerateImage(*req, ctx.Wait(view));
    ctx.signals->cancellable = false;
    view.Finish();
    if (!done) {
        return FailWait(ctx, done.error());
    }
    if (done->generations.empty()) {
        std::cerr << "horde: error: request " << done->id
                  << " ended without any image (cancelled or expired on the horde)\n";
        return kExitFailed;
    }
    boost::json::array images;
    std::set<std::string> used;
    int rc = kExitOk;
    for (const auto& g : done->generations) {
        std::string stem = done->id + "_" + SafeName(g.seed);
        std::string name = stem + ".webp";
        for (int k = 2; used.contains(name); ++k) {
            name = fmt::format("{}_{}.webp", stem, k);
        }
        used.insert(name);
        const std::string path = (fs::path(a.out_dir) / name).string();
        auto bytes = ctx.client.FetchImage(g);
        if (!bytes) {
            rc = Fail(ctx, bytes.error());
            continue;
        }
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
        out.close();
        if (!out) {
            rc = Fail(ctx, hc::MakeApiError(hc::ErrorKind::kIo, "cannot write " + path));
            continue;
        }
        if (ctx.json) {
            images.emplace_back(boost::json::object{{"path", path},
                                                    {"seed", g.seed},
                                                    {"id", g.id},
                                                    {"model", g.model},
                                                    {"worker_id", g.worker_id},
                                                    {"worker_name", g.worker_name},
                                                    {"censored", g.censored},
                                                    {"bytes", bytes->size()}});
        } else {
            std::cout << path << "\n";
        }
    }
    if (ctx.json) {
        std::cout << Json(boost::json::object{
                         {"id", done->id}, {"kudos", done->kudos}, {"images", std::move(images)}})
                  << "\n";
    }
    return rc;
}

// ---------------------------------------------------------------------------------------------
// account and status

int RunUser(Context& ctx) {
    auto u = ctx.client.FindUser();
    if (!u) {
        return Fail(ctx, u.error());
    }
    if (ctx.json) {
        std::cout << u->raw_json << "\n";
        return kExitOk;
    }
    const auto& r = u->records;
    std::cout << u->username << "\n";
    std::cout << "  kudos          " << Num(u->kudos) << "\n";
    if (u->evaluating_kudos && *u->evaluating_kudos != 0) {
        std::cout << "  evaluating     " << Num(*u->evaluating_kudos) << "\n";
    }
    std::cout << "  concurrency    " << u->concurrency << "\n";
    std::cout << "  trusted        " << YesNo(u->trusted) << "\n";
    std::cout << "  moderator      " << YesNo(u->moderator) << "\n";
    std::cout << "  workers        " << u->worker_count << "\n";
    std::cout << "  requested      " << r.request_image << " images, " << r.request_text
              << " texts\n";
    std::cout << "  generated      " << r.fulfillment_image << " images, " << r.fulfillment_text
              << " texts\n";
    std::cout << "  account age    " << Duration(u->account_age_s) << "\n";
    const size_t active = u->active_image_requests.size() + u->active_text_requests.size();
    if (active > 0) {
        std::cout << "  active         " << active << " requests\n";
    }
    return kExitOk;
}

int RunTransfer(Context& ctx, const std::string& user, double amount) {
    auto t = ctx.client.TransferKudos(user, amount);
    if (!t) {
        return Fail(ctx, t.error());
    }
    if (ctx.json) {
        std::cout << Json(boost::json::object{{"username", user}, {"transferred", t->transferred}})
                  << "\n";
    } else {
        std::cout << "transferred " << Num(t->transferred) << " kudos to " << user << "\n";
    }
    return kExitOk;
}

int RunWorkers(Context& ctx, const std::string& type, const std::string& name) {
    auto list = ctx.client.ListWorkers(type, name);
    if (!list) {
        return Fail(ctx, list.error());
    }
    if (ctx.json) {
        boost::json::array a;
        for (const auto& w : *list) {
            a.push_back(ParseJson(w.raw_json));
        }
        std::cout << Json(a) << "\n";
        return kExitOk;
    }
    if (list->empty()) {
        std::cout << "no workers online\n";
        return kExitOk;
    }
    std::cout << fmt::format("{:<28} {:<6} {:<7} {:>7} {:>9}  {:<34} {}\n", "NAME", "TYPE",
                             "ONLINE", "THREADS", "FULFILLED", "PERFORMANCE", "MODELS");
    for (const auto& w : *list) {
        std::string models;
        for (size_t i = 0; i < w.models.size(); ++i) {
            models += (i > 0 ? ", " : "") + w.models[i];
        }
        std::cout << fmt::format("{:<28} {:<6} {:<7} {:>7} {:>9}  {:<34} {}\n", w.name, w.type,
                                 w.maintenance_mode ? "maint." : YesNo(w.online), w.threads,
                                 w.requests_fulfilled, w.performance, models);
    }
    return kExitOk;
}

int RunModels(Context& ctx, const std::string& type) {
    auto list = ctx.client.ListModels(type);
    if (!list) {
        return Fail(ctx, list.error());
    }
    if (ctx.json) {
        std::cout << hc::ToJson(*list) << "\n";
        return kExitOk;
    }
    if (list->empty()) {
        std::cout << "no " << type << " models served or queued\n";
        return kExitOk;
    }
    const char* unit = type == "text" ? "tokens" : "MPS";
    std::cout << fmt::format("{:<44} {:>7} {:>6} {:>12} {:>8} {:>12}\n", "MODEL", "WORKERS", "JOBS",
                             std::string("QUEUED ") + unit, "ETA", "PERFORMANCE");
    for (const auto& m : *list) {
        std::cout << fmt::format("{:<44} {:>7} {:>6} {:>12} {:>8} {:>12}\n", m.name, m.count,
                                 Num(m.jobs), Num(m.queued), Duration(m.eta_s), Num(m.performance));
    }
    return kExitOk;
}

int RunStatus(Context& ctx) {
    auto hb = ctx.client.GetHeartbeat();
    if (!hb) {
        return Fail(ctx, hb.error());
    }
    auto perf = ctx.client.GetPerformance();
    if (!perf) {
        return Fail(ctx, perf.error());
    }
    auto modes = ctx.client.GetModes();  // optional: older hordes may not serve it
    if (ctx.json) {
        boost::json::object o{{"url", ctx.url},
                              {"heartbeat", ParseJson(hc::ToJson(*hb))},
                              {"performance", ParseJson(perf->raw_json)}};
        if (modes) {
            o["modes"] = ParseJson(hc::ToJson(*modes));
        }
        std::cout << Json(o) << "\n";
        return kExitOk;
    }
    const auto& p = *perf;
    std::cout << "horde " << ctx.url << ": " << hb->message << " (version " << hb->version << ")\n";
    std::cout << fmt::format(
        "  image: {} workers ({} threads), {} requests queued ({} megapixelsteps), {} "
        "megapixelsteps in the last minute\n",
        p.worker_count, p.thread_count, p.queued_requests, Num(p.queued_megapixelsteps),
        Num(p.past_minute_megapixelsteps));
    std::cout << fmt::format(
        "  text:  {} workers ({} threads), {} requests queued ({} tokens), {} tokens in the "
        "last minute\n",
        p.text_worker_count, p.text_thread_count, p.queued_text_requests, Num(p.queued_tokens),
        Num(p.past_minute_tokens));
    if (modes) {
        std::cout << "  maintenance " << (modes->maintenance_mode ? "on" : "off")
                  << ", invite-only " << (modes->invite_only_mode ? "on" : "off") << "\n";
    }
    return kExitOk;
}

int RunCancel(Context& ctx, const std::string& id, bool text) {
    hc::ApiResult<hc::RequestStatus> r = hc::MakeApiError(hc::ErrorKind::kInvalidArgument, "");
    if (text) {
        auto s = ctx.client.CancelText(id);
        r = s ? hc::ApiResult<hc::RequestStatus>(static_cast<hc::RequestStatus>(*s))
              : hc::ApiResult<hc::RequestStatus>(std::move(s).error());
    } else {
        auto s = ctx.client.CancelImage(id);
        r = s ? hc::ApiResult<hc::RequestStatus>(static_cast<hc::RequestStatus>(*s))
              : hc::ApiResult<hc::RequestStatus>(std::move(s).error());
    }
    if (!r) {
        return Fail(ctx, r.error());
    }
    if (ctx.json) {
        std::cout << hc::ToJson(*r) << "\n";
    } else {
        std::cout << "cancelled " << id << " (" << r->finished << " generations finished)\n";
    }
    return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// Settings: flag > environment > config file > default

std::string Env(const char* name) {
    const char* v = std::getenv(name);
    return v == nullptr ? std::string() : std::string(v);
}

std::string DefaultConfigPath() {
    const std::string xdg = Env("XDG_CONFIG_HOME");
    if (!xdg.empty()) {
        return xdg + "/horde/config.toml";
    }
    const std::string home = Env("HOME");
    return home.empty() ? std::string() : home + "/.config/horde/config.toml";
}

std::string Pick(const std::string& flag, const char* env, const hc::ConfigValues& cfg,
                 std::initializer_list<const char*> keys, const std::string& fallback) {
    if (!flag.empty()) {
        return flag;
    }
    if (std::string e = Env(env); !e.empty()) {
        return e;
    }
    for (const char* key : keys) {
        if (auto it = cfg.find(key); it != cfg.end() && !it->second.empty()) {
            return it->second;
        }
    }
    return fallback;
}

/// A number > 0 (CLI11's PositiveNumber prints the whole double range in its message).
CLI::Validator Positive() {
    return CLI::Validator(
        [](std::string& input) -> std::string {
            char* end = nullptr;
            const double v = std::strtod(input.c_str(), &end);
            if (end == input.c_str() || *end != '\0' || !(v > 0)) {
                return "must be a positive number, not '" + input + "'";
            }
            return {};
        },
        "POSITIVE");
}

/// For vector options: one value per occurrence (`--model a --model b`), so that a positional
/// prompt after them is not taken as another value.
CLI::Option* Repeatable(CLI::Option* o) { return o->allow_extra_args(false); }

}  // namespace

int main(int argc, char** argv) {
    auto signals = Signals::Install();

    CLI::App app{"horde: generate text and images on an AI Horde, and manage your account."};
    app.footer(kExitCodesHelp);
    app.require_subcommand(1);
    app.fallthrough();
    app.set_version_flag("--version", std::string("horde ") + hc::kLibraryVersion);

    std::string url_flag;
    std::string key_flag;
    std::string config_flag;
    std::string agent_flag;
    double timeout_flag = 0;
    bool json = false;
    bool quiet = false;
    app.add_option("--url", url_flag,
                   "horde address (env HORDE_URL; default http://127.0.0.1:7001)");
    app.add_option("--api-key", key_flag, "API key (env HORDE_API_KEY; default anonymous)");
    app.add_option("--config", config_flag, "config file (default ~/.config/horde/config.toml)");
    app.add_option("--client-agent", agent_flag, "Client-Agent header (name:version:contact)");
    app.add_option("--timeout", timeout_flag,
                   "seconds to wait for a generation before cancelling it (default 1170)")
        ->check(Positive());
    app.add_flag("--json", json, "machine-readable JSON output on stdout");
    app.add_flag("-q,--quiet", quiet, "no progress output");

    // text
    TextArgs text;
    auto* text_cmd = app.add_subcommand("text", "generate text and print it");
    text_cmd->add_option("prompt", text.prompt, "the prompt (- reads it from stdin)")->required();
    Repeatable(text_cmd->add_option("-m,--model", text.models, "model to use (repeatable)"));
    text_cmd->add_option("--max-length", text.max_length, "tokens to generate (16..4096)");
    text_cmd->add_option("--context", text.context, "max context length (80..1048576)");
    text_cmd->add_option("--temperature", text.temperature, "sampling temperature (0..5)");
    text_cmd->add_option("--top-p", text.top_p, "top-p sampling (0.001..1)");
    text_cmd->add_option("--top-k", text.top_k, "top-k sampling (0..200)");
    text_cmd->add_option("--rep-pen", text.rep_pen, "repetition penalty (1..3)");
    Repeatable(text_cmd->add_option("--stop", text.stop, "stop sequence (repeatable)"));
    text_cmd->add_option("-n", text.n, "number of generations (1..20)");
    Repeatable(text_cmd->add_option("--worker", text.workers, "only this worker id (repeatable)"));
    text_cmd->add_flag("--trusted-workers", text.trusted_workers, "only trusted workers");
    text_cmd->add_option("--softprompt", text.softprompt, "soft prompt name");

    // image
    ImageArgs image;
    auto* image_cmd = app.add_subcommand(
        "image", "generate images, save them as <request-id>_<seed>.webp and print their paths");
    image_cmd->add_option("prompt", image.prompt, "the prompt (- reads it from stdin)")->required();
    image_cmd->add_option("--negative", image.negative, "negative prompt");
    image_cmd->add_option("-n", image.n, "number of images (1..20)");
    image_cmd->add_option("--width", image.width, "width in pixels (64..3072, multiple of 64)");
    image_cmd->add_option("--height", image.height, "height in pixels (64..3072, multiple of 64)");
    image_cmd->add_option("--steps", image.steps, "sampling steps (1..500)");
    Repeatable(image_cmd->add_option("-m,--model", image.models, "model to use (repeatable)"));
    image_cmd->add_option("--seed", image.seed, "seed (default random)");
    image_cmd->add_option("--seed-variation", image.seed_variation,
                          "seed increment between images (1..1000)");
    image_cmd->add_option("--sampler", image.sampler, "sampler, e.g. k_euler_a, k_dpmpp_2m");
    image_cmd->add_option("--cfg", image.cfg, "CFG scale (0..100)");
    image_cmd->add_option("--denoise", image.denoise, "denoising strength for img2img (0.01..1)");
    image_cmd->add_option("--clip-skip", image.clip_skip, "CLIP skip (1..12)");
    Repeatable(image_cmd->add_option("--post-processing", image.post_processing,
                                     "post-processor, e.g. GFPGAN (repeatable)"));
    image_cmd->add_flag("--karras", image.karras, "karras noise schedule (the default)");
    image_cmd->add_flag("--no-karras", image.no_karras, "no karras noise schedule");
    image_cmd->add_flag("--hires-fix", image.hires_fix, "high-resolution fix");
    image_cmd->add_flag("--tiling", image.tiling, "tileable images");
    image_cmd->add_flag("--sfw", image.sfw, "ask for safe-for-work workers and censoring");
    image_cmd->add_option("--source-image", image.source_image, "img2img source: file or URL");
    image_cmd->add_option("--source-mask", image.source_mask, "inpainting mask: file or URL");
    image_cmd->add_option("--source-processing", image.source_processing,
                          "img2img, inpainting, outpainting or remix");
    image_cmd->add_flag("--no-r2", image.no_r2, "receive images inline (base64) not as URLs");
    image_cmd->add_flag("--trusted-workers", image.trusted_workers, "only trusted workers");
    Repeatable(
        image_cmd->add_option("--worker", image.workers, "only this worker id (repeatable)"));
    image_cmd->add_option("-o,--output", image.out_dir, "directory for the images (default .)");

    auto* user_cmd = app.add_subcommand("user", "show the account of the API key");

    std::string transfer_to;
    double transfer_amount = 0;
    auto* transfer_cmd = app.add_subcommand("transfer", "send kudos to another user");
    transfer_cmd->add_option("user", transfer_to, "recipient, as name#id")->required();
    transfer_cmd->add_option("amount", transfer_amount, "kudos to send")
        ->required()
        ->check(Positive());

    std::string workers_type;
    std::string workers_name;
    auto* workers_cmd = app.add_subcommand("workers", "list the online workers");
    workers_cmd->add_option("--type", workers_type, "image, text or interrogation")
        ->check(CLI::IsMember({"image", "text", "interrogation"}));
    workers_cmd->add_option("--name", workers_name, "only the worker with this name");

    std::string models_type = "image";
    auto* models_cmd = app.add_subcommand("models", "list the models served or queued");
    models_cmd->add_option("--type", models_type, "image (default) or text")
        ->check(CLI::IsMember({"image", "text"}));

    auto* status_cmd = app.add_subcommand("status", "show the horde's status and load");

    std::string cancel_id;
    bool cancel_text = false;
    auto* cancel_cmd = app.add_subcommand("cancel", "cancel a request by id");
    cancel_cmd->add_option("id", cancel_id, "request id")->required();
    cancel_cmd->add_flag("--text", cancel_text, "the request is a text request");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? kExitOk : kExitUsage;
    }

    hc::ConfigValues cfg;
    const std::string config_path = config_flag.empty() ? DefaultConfigPath() : config_flag;
    if (!config_path.empty() && (!config_flag.empty() || fs::exists(config_path))) {
        auto loaded = hc::LoadConfigFile(config_path);
        if (!loaded) {
            std::cerr << "horde: error: " << loaded.error().message << "\n";
            return kExitUsage;
        }
        cfg = std::move(*loaded);
    }

    double timeout_s = timeout_flag;
    if (timeout_s <= 0) {
        const std::string t = Pick("", "HORDE_TIMEOUT", cfg, {"timeout"}, "");
        timeout_s = t.empty() ? kDefaultWaitS : std::atof(t.c_str());
        if (timeout_s <= 0) {
            std::cerr << "horde: error: the timeout must be a positive number of seconds\n";
            return kExitUsage;
        }
    }

    hc::ClientSettings settings;
    settings.base_url = Pick(url_flag, "HORDE_URL", cfg, {"url"}, hc::kDefaultBaseUrl);
    settings.api_key =
        Pick(key_flag, "HORDE_API_KEY", cfg, {"api_key", "apikey"}, hc::kAnonymousApiKey);
    settings.client_agent = Pick(agent_flag, "HORDE_CLIENT_AGENT", cfg, {"client_agent"},
                                 std::string("horde-cli:") + hc::kLibraryVersion + ":unknown");
    settings.request_timeout_ms = static_cast<int>(std::min(30.0, timeout_s) * 1000);
    const std::string poll = Env("HORDE_MIN_POLL_MS");  // for tests against a private horde
    if (!poll.empty()) {
        settings.min_poll_interval_ms = std::max(50, std::atoi(poll.c_str()));
    }

    Context ctx{hc::HordeClient(settings), settings.base_url, json, quiet, timeout_s, signals};

    if (app.got_subcommand(text_cmd)) {
        return RunText(ctx, text);
    }
    if (app.got_subcommand(image_cmd)) {
        return RunImage(ctx, image);
    }
    if (app.got_subcommand(user_cmd)) {
        return RunUser(ctx);
    }
    if (app.got_subcommand(transfer_cmd)) {
        return RunTransfer(ctx, transfer_to, transfer_amount);
    }
    if (app.got_subcommand(workers_cmd)) {
        return RunWorkers(ctx, workers_type, workers_name);
    }
    if (app.got_subcommand(models_cmd)) {
        return RunModels(ctx, models_type);
    }
    if (app.got_subcommand(status_cmd)) {
        return RunStatus(ctx);
    }
    if (app.got_subcommand(cancel_cmd)) {
        return RunCancel(ctx, cancel_id, cancel_text);
    }
    std::cerr << app.help();
    return kExitUsage;
}
