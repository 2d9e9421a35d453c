#include "bridge/worker.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "bridge/backoff.hpp"
#include "bridge/image_codec.hpp"
#include "bridge/image_params.hpp"
#include "bridge/text_params.hpp"
#include "common/ascii.hpp"
#include "common/random.hpp"

namespace horde::bridge {

namespace {

/// A job's ttl when the pop names none (the horde's text ttl and image floor).
constexpr int64_t kDefaultTtlS = 150;
/// How long past its ttl a job may still run on the backend: the horde aborts late jobs only
/// on its periodic sweep, so a result slightly late is usually still taken.
constexpr auto kDeadlineSlack = std::chrono::seconds(15);
constexpr uint32_t kSeedMax = 0x7fffffffU;
/// Submits tried per job once the worker is aborting.
constexpr int kAbortSubmitAttempts = 2;
/// Log a repeated pop/submit problem once, then every Nth time.
constexpr int kRepeatLogEvery = 20;

std::string ShortId(const std::string& id) { return id.substr(0, 8); }

std::string SkippedSummary(const json::object& pop) {
    std::string out;
    for (const auto& [key, value] : json::Object(pop, "skipped")) {
        const int64_t n = value.is_int64()    ? value.get_int64()
                          : value.is_double() ? static_cast<int64_t>(value.get_double())
                                              : 0;
        if (n > 0) {
            out += (out.empty() ? "" : ", ") + std::string(key) + " " + std::to_string(n);
        }
    }
    return out;
}

double Seconds(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

/// Why a submit or pop answer is not a success, for logs: "HTTP 400 AbortedGen: message".
std::string Describe(const ApiReply& reply) {
    std::string out = "HTTP " + std::to_string(reply.status);
    if (!reply.rc.empty()) {
        out += " " + reply.rc;
    }
    if (!reply.message.empty()) {
        out += ": " + reply.message;
    }
    if (reply.body.is_object()) {
        if (const json::value* errors = json::Find(reply.body.get_object(), "errors")) {
            out += " " + boost::json::serialize(*errors);
        }
    }
    return out;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Pop body and capabilities

std::vector<std::string> DeclaredCapabilities(const WorkerSettings& settings,
                                              const ImageFeatures& f) {
    std::vector<std::string> caps = {"r2", "r2_source"};
    if (settings.allow_img2img && f.img2img) caps.emplace_back("img2img");
    if (settings.allow_painting && f.inpainting) caps.emplace_back("inpainting");
    if (f.karras) caps.emplace_back("karras");
    if (f.tiling) caps.emplace_back("tiling");
    if (f.hires_fix) caps.emplace_back("hires_fix");
    if (f.clip_skip) caps.emplace_back("clip_skip");
    if (settings.allow_post_processing && !f.post_processors.empty()) {
        caps.emplace_back("post-processing");
        caps.insert(caps.end(), f.post_processors.begin(), f.post_processors.end());
    }
    caps.insert(caps.end(), f.samplers.begin(), f.samplers.end());
    return caps;
}

json::object BuildPopBody(const WorkerSettings& s, const BackendState& state, JobKind kind) {
    json::object body;
    body["name"] = s.name;
    json::array models;
    for (const auto& name : state.models.HordeNames()) {
        models.emplace_back(name);
    }
    body["models"] = std::move(models);
    body["bridge_agent"] = BridgeAgent();
    body["nsfw"] = s.nsfw;
    body["threads"] = std::clamp(s.threads, 1, 50);
    body["require_upfront_kudos"] = s.require_upfront_kudos;
    body["extra_slow_worker"] = s.extra_slow_worker;
    json::array priority;
    for (const auto& p : s.priority_usernames) {
        priority.emplace_back(p);
    }
    body["priority_usernames"] = std::move(priority);
    json::array blacklist;
    for (const auto& w : s.blacklist) {
        blacklist.emplace_back(w);
    }
    body["blacklist"] = std::move(blacklist);
    if (kind == JobKind::kText) {
        int context = s.max_context_length;
        if (state.info.max_context_length > 0) {
            context = std::min(context, state.info.max_context_length);
        }
        body["max_length"] = std::min(s.max_length, context);
        body["max_context_length"] = context;
        body["softprompts"] = json::array();
        body["amount"] = 1;
        return body;
    }
    const ImageFeatures& f = state.info.features;
    body["max_pixels"] = s.max_pixels;
    body["amount"] = std::clamp(s.max_batch, 1, 20);
    body["allow_img2img"] = s.allow_img2img && f.img2img;
    body["allow_painting"] = s.allow_painting && f.inpainting;
    body["allow_post_processing"] = s.allow_post_processing && !f.post_processors.empty();
    body["allow_unsafe_ipaddr"] = s.allow_unsafe_ipaddr;
    body["allow_controlnet"] = false;
    body["allow_sdxl_controlnet"] = false;
    body["allow_lora"] = false;
    body["limit_max_steps"] = s.limit_max_steps;
    json::array caps;
    for (const auto& c : DeclaredCapabilities(s, f)) {
        caps.emplace_back(c);
    }
    body["capabilities"] = std::move(caps);
    return body;
}

bool PromptHasCensoredWord(std::string_view prompt, const std::vector<std::string>& words) {
    std::vector<std::string> tokens;
    std::string current;
    for (const char c : prompt) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
            current.push_back(AsciiLower(c));
        } else if (!current.empty()) {
            tokens.push_back(std::move(current));
            current.clear();
        }
    }
    if (!current.empty()) {
        tokens.push_back(std::move(current));
    }
    for (const auto& word : words) {
        const std::string w = AsciiLower(word);
        if (std::find(tokens.begin(), tokens.end(), w) != tokens.end()) {
            return true;
        }
    }
    return false;
}

// ------------------------------------------------------------------------------------------------
// Lifecycle

Worker::Worker(WorkerSettings settings, std::shared_ptr<Backend> backend,
               std::shared_ptr<HordeApi> api, const Clock& clock)
    : settings_(std::move(settings)),
      kind_(backend->kind()),
      backend_(backend),
      api_(std::move(api)),
      clock_(clock),
      health_(backend, ParseModelEntries(settings_.models),
              std::chrono::milliseconds(settings_.health_interval_ms)),
      abort_(std::make_shared<std::atomic<bool>>(false)) {}

Worker::~Worker() {
    stopping_ = true;
    cv_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) {
            t.join();
        }
    }
    if (status_thread_.joinable()) {
        status_thread_.join();
    }
    health_.Stop();
}

void Worker::Start() {
    health_.Start();
    const int n = std::clamp(settings_.threads, 1, 50);
    {
        std::lock_guard lock(mu_);
        running_ = n;
    }
    for (int i = 0; i < n; ++i) {
        threads_.emplace_back([this, i] { JobThread(i); });
    }
    status_thread_ = std::thread([this] { StatusThread(); });
}

void Worker::StopPopping() {
    stopping_ = true;
    cv_.notify_all();
}

bool Worker::WaitFinished(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return running_ == 0; });
}

bool Worker::Abort(std::chrono::milliseconds timeout) {
    stopping_ = true;
    abort_->store(true);
    cv_.notify_all();
    backend_->Interrupt();
    // Threads blocked in a backend call that ignores the interrupt would hold their jobs until
    // the call's timeout: report those jobs faulted from here.
    const bool finished = WaitFinished(timeout / 2);
    std::vector<std::string> unreported;
    {
        std::lock_guard lock(mu_);
        for (auto& [id, job] : held_) {
            if (!job.reported) {
                job.reported = true;
                unreported.push_back(id);
            }
        }
    }
    const TimePoint now = clock_.Now();
    for (const auto& id : unreported) {
        const auto outcome = SubmitFault(kind_, id, JobTimes{now, now, now});
        spdlog::warn("job {}: reported faulted at shutdown ({})", ShortId(id),
                     outcome.status == SubmitStatus::kAccepted ? "the horde will requeue it"
                                                               : outcome.detail);
    }
    return finished || WaitFinished(timeout / 2);
}

WorkerStats Worker::Stats() const {
    std::lock_guard lock(mu_);
    return stats_;
}

std::string Worker::StatusLine() const {
    const WorkerStats s = Stats();
    const BackendState b = health_.Current();
    std::string line = fmt::format(
        "status: {} done, {} censored, {} faulted, {} dropped, {:.2f} kudos; {}/{} busy; ",
        s.jobs_ok, s.jobs_censored, s.jobs_faulted, s.jobs_dropped, s.kudos, s.busy,
        std::clamp(settings_.threads, 1, 50));
    if (!b.healthy) {
        line += "backend down (" + b.error + ")";
    } else {
        line += "backend " + b.info.version + ", " + std::to_string(b.models.served.size()) +
                " model(s)";
    }
    if (!s.last_skipped.empty()) {
        line += "; last empty pop skipped: " + s.last_skipped;
    }
    return line;
}

void Worker::StatusThread() {
    std::unique_lock lock(mu_);
    const auto interval = std::chrono::milliseconds(std::max(1'000, settings_.status_interval_ms));
    while (!cv_.wait_for(lock, interval, [this] { return running_ == 0; })) {
        lock.unlock();
        spdlog::info("{}", StatusLine());
        lock.lock();
    }
}

bool Worker::PauseUnlessStopping(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return stopping_.load(); });
}

CancelToken Worker::TokenFor(TimePoint deadline) const {
    return CancelToken(clock_, deadline, abort_);
}

// ------------------------------------------------------------------------------------------------
// The pop loop

void Worker::JobThread(int index) {
    Backoff idle({settings_.backoff_initial_ms, settings_.backoff_max_ms, 2.0});
    Backoff errors({settings_.backoff_initial_ms * 2, settings_.backoff_max_ms, 2.0});
    int failures = 0;
    spdlog::debug("job thread {} started", index);
    while (!stopping_) {
        auto state = health_.WaitUsable([this] { return stopping_.load(); });
        if (!state) {
            break;
        }
        const json::object body = BuildPopBody(settings_, *state, kind_);
        auto reply = api_->Pop(kind_, body);
        if (!reply || !reply->Ok() || !reply->body.is_object()) {
            ++failures;
            HandlePopError(!reply ? "cannot reach the horde: " + reply.error().message
                                  : "pop refused: " + Describe(*reply),
                           failures);
            PauseUnlessStopping(errors.Next());
            continue;
        }
        if (failures > 0) {
            spdlog::info("the horde answers again");
            failures = 0;
            std::lock_guard lock(mu_);
            last_pop_problem_.clear();
        }
        errors.Reset();
        const json::object& pop = reply->body.get_object();
        LogHordeMessages(pop);
        const std::string id = json::String(pop, "id");
        if (id.empty()) {
            const std::string skipped = SkippedSummary(pop);
            {
                std::lock_guard lock(mu_);
                stats_.last_skipped = skipped;
            }
            spdlog::debug("no job{}", skipped.empty() ? "" : " (skipped: " + skipped + ")");
            PauseUnlessStopping(idle.Next());
            continue;
        }
        idle.Reset();
        RunJob(pop, *state);
    }
    spdlog::debug("job thread {} ended", index);
    {
        std::lock_guard lock(mu_);
        --running_;
    }
    cv_.notify_all();
}

void Worker::HandlePopError(const std::string& problem, int failures) {
    bool log = false;
    {
        std::lock_guard lock(mu_);
        if (problem != last_pop_problem_) {
            last_pop_problem_ = problem;
            log = true;
        }
    }
    if (log || failures % kRepeatLogEvery == 0) {
        spdlog::warn("{} (retrying with backoff)", problem);
    }
}

void Worker::LogHordeMessages(const json::object& pop) {
    const json::value* messages = json::Find(pop, "messages");
    if (messages == nullptr || !messages->is_array()) {
        return;
    }
    for (const json::value& m : messages->get_array()) {
        if (!m.is_object()) {
            continue;
        }
        const std::string id = json::String(m.get_object(), "id");
        const std::string text = json::String(m.get_object(), "message");
        {
            std::lock_guard lock(mu_);
            if (!seen_messages_.insert(id.empty() ? text : id).second) {
                continue;
            }
        }
        spdlog::info("message from the horde ({}): {}",
                     json::String(m.get_object(), "origin", "horde"), text);
    }
}

// ------------------------------------------------------------------------------------------------
// Jobs

void Worker::Hold(const std::vector<std::string>& ids, const std::string& model) {
    std::lock_guard lock(mu_);
    for (const auto& id : ids) {
        held_[id] = HeldJob{model, false};
    }
    stats_.busy += 1;
}

void Worker::Release(const std::string& id) {
    std::lock_guard lock(mu_);
    held_.erase(id);
}

void Worker::Count(SubmitStatus status, bool faulted, bool censored, double reward) {
    std::lock_guard lock(mu_);
    if (status == SubmitStatus::kAccepted) {
        if (faulted) {
            ++stats_.jobs_faulted;
        } else if (censored) {
            ++stats_.jobs_censored;
        } else {
            ++stats_.jobs_ok;
        }
        stats_.kudos += reward;
    } else if (faulted) {
        ++stats_.jobs_faulted;
    } else {
        ++stats_.jobs_dropped;
    }
}

void Worker::RunJob(const json::object& pop, const BackendState& state) {
    std::vector<std::string> ids = json::Strings(pop, "ids");
    if (ids.empty()) {
        ids.push_back(json::String(pop, "id"));
    }
    const int64_t ttl_s = std::max<int64_t>(1, json::Int(pop, "ttl", kDefaultTtlS));
    JobTimes times;
    times.popped = clock_.Now();
    times.deadline = times.popped + std::chrono::seconds(ttl_s) + kDeadlineSlack;
    times.keep_until = times.popped + std::chrono::seconds(ttl_s) +
                       std::chrono::milliseconds(settings_.submit_grace_ms);
    Hold(ids, json::String(pop, "model"));
    if (kind_ == JobKind::kText) {
        RunTextJob(pop, state, times);
    } else {
        RunImageJob(pop, state, times);
    }
    std::lock_guard lock(mu_);
    for (const auto& id : ids) {
        held_.erase(id);
    }
    stats_.busy -= 1;
}

void Worker::RunTextJob(const json::object& pop, const BackendState& state, const JobTimes& times) {
    const auto started = std::chrono::steady_clock::now();
    const std::string id = json::String(pop, "id");
    const std::string model = json::String(pop, "model");
    std::string backend_model = state.models.BackendNameFor(model);
    if (backend_model.empty() && state.models.served.size() == 1) {
        backend_model = state.models.served.front().second;
    }
    int context = settings_.max_context_length;
    if (state.info.max_context_length > 0) {
        context = std::min(context, state.info.max_context_length);
    }
    const TextJob job = ParseTextPayload(
        json::Object(pop, "payload"), TextLimits{std::min(settings_.max_length, context), context},
        backend_model, RandomBelow(kSeedMax));
    Result<TextOutput> out = backend_model.empty()
                                 ? Result<TextOutput>(MakeError(ErrorCode::kInternal,
                                                                "model '" + model + "' not served"))
                                 : backend_->GenerateText(job, TokenFor(times.deadline));
    const double run_s = Seconds(started);
    if (out && TokenFor(times.deadline).Aborted()) {
        // An interrupted backend returns what it had so far: not a result.
        out = MakeError(ErrorCode::kInternal, "interrupted at shutdown");
    }
    if (!out) {
        const CancelToken token = TokenFor(times.deadline);
        if (!token.Aborted()) {
            health_.ReportFailure();
        }
        const auto outcome = SubmitFault(kind_, id, times);
        Count(outcome.status, true, false, 0);
        spdlog::warn("job {} {}: faulted after {:.1f}s: {}{}", ShortId(id), model, run_s,
                     out.error().message,
                     outcome.status == SubmitStatus::kAccepted ? "" : " (" + outcome.detail + ")");
        return;
    }
    json::object body;
    body["id"] = id;
    body["generation"] = out->text;
    body["state"] = "ok";
    body["seed"] = job.seed;
    const auto outcome = Submit(kind_, body, times);
    Count(outcome.status, false, false, outcome.reward);
    if (outcome.status == SubmitStatus::kAccepted) {
        spdlog::info("job {} {}: ok in {:.1f}s, {} chars (max {} tokens), +{:.2f} kudos",
                     ShortId(id), model, Seconds(started), out->text.size(), job.max_length,
                     outcome.reward);
    } else {
        spdlog::warn("job {} {}: generated in {:.1f}s but not delivered: {}", ShortId(id), model,
                     run_s, outcome.detail);
    }
}

Result<std::string> Worker::FetchSource(const std::string& value) {
    if (value.starts_with("http://") || value.starts_with("https://")) {
        return api_->Download(value);
    }
    return Base64Decode(value);
}

void Worker::RunImageJob(const json::object& pop, const BackendState& state,
                         const JobTimes& times) {
    std::vector<std::string> ids = json::Strings(pop, "ids");
    if (ids.empty()) {
        ids.push_back(json::String(pop, "id"));
    }
    std::vector<std::string> uploads = json::Strings(pop, "r2_uploads");
    if (uploads.empty() && !json::String(pop, "r2_upload").empty()) {
        uploads.push_back(json::String(pop, "r2_upload"));
    }
    const std::string model = json::String(pop, "model");
    const json::object& payload = json::Object(pop, "payload");
    ImageJob base = ParseImagePayload(payload, RandomBelow(kSeedMax));
    base.horde_model = model;
    base.model = state.models.BackendNameFor(model);
    if (base.model.empty() && state.models.served.size() == 1) {
        base.model = state.models.served.front().second;
    }
    const std::string what = fmt::format("{} {}x{} {} steps {}", model, base.width, base.height,
                                         base.steps, base.sampler);

    // Source image and mask (img2img, inpainting).
    std::string problem;
    if (base.model.empty()) {
        problem = "model '" + model + "' not served";
    }
    const std::string source = json::String(pop, "source_image");
    if (problem.empty() && !source.empty()) {
        std::string processing = json::String(pop, "source_processing", "img2img");
        if (processing == "outpainting") {
            processing = "inpainting";
        } else if (processing != "inpainting") {
            processing = "img2img";
        }
        auto image = FetchSource(source);
        if (!image) {
            problem = "cannot fetch the source image: " + image.error().message;
        } else {
            base.source_image = std::move(image).value();
            base.source_processing = processing;
        }
        const std::string mask = json::String(pop, "source_mask");
        if (problem.empty() && processing == "inpainting" && !mask.empty()) {
            auto bytes = FetchSource(mask);
            if (!bytes) {
                problem = "cannot fetch the source mask: " + bytes.error().message;
            } else {
                base.source_mask = std::move(bytes).value();
            }
        }
        if (problem.empty() && processing == "inpainting" && base.source_mask.empty()) {
            // No mask: it is the source image's transparency.
            auto decoded = DecodeImage(base.source_image);
            auto png =
                decoded && decoded->HasTransparency()
                    ? EncodePng(MaskFromAlpha(*decoded))
                    : Result<std::string>(MakeError(ErrorCode::kInvalidPayload, "no transparency"));
            if (png) {
                base.source_mask = std::move(png).value();
            } else {
                spdlog::info("job {}: inpainting without a mask or transparency; running img2img",
                             ShortId(ids.front()));
                base.source_processing = "img2img";
            }
        }
    }
    const bool censor = json::Bool(payload, "use_nsfw_censor", false) &&
                        PromptHasCensoredWord(base.prompt, settings_.censor_words);

    for (size_t i = 0; i < ids.size(); ++i) {
        const std::string& id = ids[i];
        const auto job_started = std::chrono::steady_clock::now();
        ImageJob job = base;
        job.seed = (base.seed + static_cast<int64_t>(i)) % 4294967296LL;
        std::string webp;
        int64_t seed = job.seed;
        if (problem.empty() && censor) {
            auto placeholder = EncodeWebp(SolidImage(job.width, job.height, 0, 0, 0), 80);
            if (placeholder) {
                webp = std::move(placeholder).value();
            } else {
                problem = placeholder.error().message;
            }
        } else if (problem.empty()) {
            auto out = backend_->GenerateImage(job, TokenFor(times.deadline));
            if (out && TokenFor(times.deadline).Aborted()) {
                out = MakeError(ErrorCode::kInternal, "interrupted at shutdown");
            }
            if (!out) {
                problem = out.error().message;
                if (!TokenFor(times.deadline).Aborted()) {
                    health_.ReportFailure();
                }
            } else {
                seed = out->seed;
                auto converted = ToWebp(out->bytes, settings_.backend.webp_quality);
                if (!converted) {
                    problem = converted.error().message;
                } else {
                    webp = std::move(converted).value();
                }
            }
        }
        if (!problem.empty()) {
            // After a failure the rest of a batch is faulted too: the backend is suspect.
            const auto outcome = SubmitFault(kind_, id, times);
            Count(outcome.status, true, false, 0);
            spdlog::warn(
                "job {} {}: faulted after {:.1f}s: {}{}", ShortId(id), what, Seconds(job_started),
                problem,
                outcome.status == SubmitStatus::kAccepted ? "" : " (" + outcome.detail + ")");
            Release(id);
            continue;
        }
        json::object fields;
        fields["seed"] = seed;
        fields["state"] = censor ? "censored" : "ok";
        fields["censored"] = censor;
        if (censor) {
            fields["gen_metadata"] =
                json::array{json::object{{"type", "censorship"}, {"value", "nsfw"}}};
        }
        const std::string upload = i < uploads.size() ? uploads[i] : std::string();
        const auto outcome = DeliverImage(id, upload, webp, fields, times);
        Count(outcome.status, false, censor, outcome.reward);
        if (outcome.status == SubmitStatus::kAccepted) {
            spdlog::info("job {} {}: {} in {:.1f}s, seed {}, {} KiB WebP, +{:.2f} kudos",
                         ShortId(id), what, censor ? "censored" : "ok", Seconds(job_started), seed,
                         (webp.size() + 1023) / 1024, outcome.reward);
        } else {
            spdlog::warn("job {} {}: generated in {:.1f}s but not delivered: {}", ShortId(id), what,
                         Seconds(job_started), outcome.detail);
        }
        Release(id);
    }
}

SubmitOutcome Worker::DeliverImage(const std::string& id, const std::string& upload_url,
                                   const std::string& webp, const json::object& fields,
                                   const JobTimes& times) {
    bool uploaded = false;
    if (!upload_url.empty()) {
        Backoff backoff({settings_.backoff_initial_ms, settings_.backoff_max_ms, 2.0});
        const CancelToken sleeper = TokenFor(TimePoint::max());
        for (int attempt = 1;; ++attempt) {
            auto reply = api_->Upload(upload_url, webp);
            if (reply && reply->Ok()) {
                uploaded = true;
                break;
            }
            const bool retryable = !reply || reply->status >= 500 || reply->status == 429;
            const std::string why =
                !reply ? reply.error().message
                       : "HTTP " + std::to_string(reply->status) + " " + json::Excerpt(reply->body);
            if (!retryable || clock_.Now() >= times.keep_until ||
                (sleeper.Aborted() && attempt >= kAbortSubmitAttempts)) {
                spdlog::warn("job {}: upload failed ({}); sending the image inline", ShortId(id),
                             why);
                break;
            }
            if (attempt == 1 || attempt % kRepeatLogEvery == 0) {
                spdlog::warn("job {}: upload failed ({}); retrying", ShortId(id), why);
            }
            sleeper.SleepFor(backoff.Next());
        }
    }
    json::object body = fields;
    body["id"] = id;
    body["generation"] = uploaded ? std::string("R2") : Base64Encode(webp);
    SubmitOutcome outcome = Submit(JobKind::kImage, body, times);
    if (uploaded && outcome.status == SubmitStatus::kRejected) {
        // E.g. the upload was lost on the horde's side: send the bytes inline instead.
        spdlog::warn("job {}: submit after upload refused ({}); sending the image inline",
                     ShortId(id), outcome.detail);
        body["generation"] = Base64Encode(webp);
        outcome = Submit(JobKind::kImage, body, times);
    }
    return outcome;
}

SubmitOutcome Worker::SubmitFault(JobKind kind, const std::string& id, const JobTimes& times) {
    json::object body;
    body["id"] = id;
    body["state"] = "faulted";
    // The reference's parser requires both fields even for a fault.
    body["generation"] = "faulted";
    body["seed"] = 0;
    return Submit(kind, body, times);
}

SubmitOutcome Worker::Submit(JobKind kind, const json::object& body, const JobTimes& times) {
    const std::string id = json::String(body, "id");
    Backoff backoff({settings_.backoff_initial_ms, settings_.backoff_max_ms, 2.0});
    const CancelToken sleeper = TokenFor(TimePoint::max());
    for (int attempt = 1;; ++attempt) {
        auto reply = api_->Submit(kind, body);
        std::string problem;
        if (reply) {
            const ApiReply& r = *reply;
            if (r.Ok()) {
                const double reward =
                    r.body.is_object() ? json::Double(r.body.get_object(), "reward", 0) : 0;
                {
                    std::lock_guard lock(mu_);
                    if (auto it = held_.find(id); it != held_.end()) {
                        it->second.reported = true;
                    }
                }
                return SubmitOutcome{SubmitStatus::kAccepted, reward, {}};
            }
            if (r.status == 404 || r.rc == "InvalidJobID" ||
                ContainsIgnoreCase(r.message, "does not exist")) {
                return SubmitOutcome{SubmitStatus::kDropped, 0, "the horde no longer has this job"};
            }
            if (r.rc == "DuplicateGen" || ContainsIgnoreCase(r.message, "already submitted")) {
                return SubmitOutcome{SubmitStatus::kDropped, 0, "it was already submitted"};
            }
            if (r.rc == "AbortedGen" || ContainsIgnoreCase(r.message, "aborted")) {
                return SubmitOutcome{SubmitStatus::kDropped, 0,
                                     "the horde aborted it (it took longer than its ttl)"};
            }
            if (r.status != 429 && r.status < 500) {
                return SubmitOutcome{SubmitStatus::kRejected, 0, Describe(r)};
            }
            problem = Describe(r);
        } else {
            problem = reply.error().message;
        }
        if (clock_.Now() >= times.keep_until) {
            return SubmitOutcome{SubmitStatus::kGaveUp, 0,
                                 "gave up retrying the submit (" + problem + ")"};
        }
        if (sleeper.Aborted() && attempt >= kAbortSubmitAttempts) {
            return SubmitOutcome{SubmitStatus::kGaveUp, 0,
                                 "shutting down; could not submit (" + problem + ")"};
        }
        if (attempt == 1 || attempt % kRepeatLogEvery == 0) {
            spdlog::warn("job {}: submit failed ({}); keeping the job and retrying", ShortId(id),
                         problem);
        }
        sleeper.SleepFor(backoff.Next());
    }
}

}  // namespace horde::bridge
