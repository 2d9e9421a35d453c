// Use cases on requests: accept (async), status/check, cancel.

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>

#include "common/random.hpp"
#include "domain/matching.hpp"
#include "domain/pricing.hpp"
#include "service/horde_service.hpp"
#include "service/state.hpp"

namespace horde::service {

using domain::GenKind;

namespace {

bool IsHttpUrl(std::string_view s) {
    return s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0;
}

/// Decodes base64 (standard or url-safe, padding optional, a data: URI prefix allowed).
std::optional<std::string> DecodeBase64(std::string_view in) {
    if (in.rfind("data:", 0) == 0) {
        const auto comma = in.find(',');
        if (comma == std::string_view::npos) {
            return std::nullopt;
        }
        in.remove_prefix(comma + 1);
    }
    std::string out(in.size() * 3 / 4 + 3, '\0');
    size_t len = 0;
    const char* end = nullptr;
    for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                        sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING}) {
        if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), in.data(),
                              in.size(), " \r\n", &len, &end, variant) == 0 &&
            end == in.data() + in.size() && len > 0) {
            out.resize(len);
            return out;
        }
    }
    return std::nullopt;
}

std::string RequestTypeName(GenKind kind, const char* what) {
    return std::string(kind == GenKind::kImage ? "Image" : "Text") + " Waiting Prompt (" + what +
           ")";
}

}  // namespace

std::optional<std::string> DecodeBase64Image(std::string_view in) { return DecodeBase64(in); }

std::string EncodeBase64(std::string_view bytes) {
    std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                      bytes.size(), sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1);  // drop the terminating NUL
    return out;
}

namespace {

/// Removes the result files an intake wrote before it failed.
void RemoveFiles(store::ResultFiles& files,
                 const std::vector<std::pair<std::string, std::string>>& written) {
    for (const auto& f : written) {
        files.Remove(f.first);
    }
}

}  // namespace

Result<Accepted> HordeService::SubmitRequest(NewRequest input, const Caller& caller) {
    return Resolve(StartSubmitRequest(std::move(input), caller));
}

void HordeService::SubmitRequestThen(NewRequest input, const Caller& caller, Resume resume,
                                     Done<Accepted> done) {
    ResolveThen(StartSubmitRequest(std::move(input), caller), std::move(resume), std::move(done));
}

Pending<Accepted> HordeService::StartSubmitRequest(NewRequest input, const Caller& caller) {
    auto& r = input.request;
    HORDE_TRY_STATUS(CheckMaintenance());
    if (caller.user.deleted) {
        return MakeError(ErrorCode::kDeletedUser);
    }
    if (r.disable_batching && r.jobs > 1 && !caller.user.trusted) {
        return MakeError(ErrorCode::kRequiresTrust);
    }
    // Pricing (pure).
    Kudos per_job;
    if (r.kind == GenKind::kImage) {
        r.image.has_source_image = !input.source_image.empty();
        r.image.has_source_mask = !input.source_mask.empty();
        per_job = domain::ImageBasePrice(r.image);
        r.things =
            static_cast<int64_t>(r.image.width) * r.image.height * domain::AccurateSteps(r.image);
    } else {
        const auto first =
            r.models.empty() ? std::nullopt : domain::TextModelParamsBillions(r.models.front());
        per_job = domain::TextPerJobBase(first, r.models.empty(), r.text.max_length,
                                         r.text.max_context_length);
        r.things = r.text.max_length;
        r.text.prompt_chars = static_cast<int>(r.prompt.size());
    }
    r.kudos_per_job = per_job;
    if (input.dry_run) {
        Kudos estimate;
        if (r.kind == GenKind::kImage) {
            const auto baseline =
                domain::ImageModelBaseline(r.models.empty() ? "SDXL 1.0" : r.models.front());
            estimate =
                domain::ImageEstimate(per_job, r.jobs, domain::FamilyEstimateMultiplier(baseline),
                                      r.image.has_source_image, r.image.post_processing,
                                      r.slow_workers, r.worker_blacklist);
        } else {
            const auto first =
                r.models.empty() ? std::nullopt : domain::TextModelParamsBillions(r.models.front());
            estimate = domain::TextEstimate(first, r.models.empty(), r.text.max_length,
                                            r.text.max_context_length, r.jobs);
        }
        return Accepted{RequestId(), estimate, {}, {}};
    }

    const auto now = clock_.Now();
    r.id = RequestId(NewUuidV7(ToUnixMillis(now)));  // time-ordered: appends to the indexes
    r.user = caller.user.id;
    r.client_agent = caller.client_agent;
    r.ipaddr = caller.ip;
    r.created = now;
    r.expiry = now + std::chrono::seconds(domain::kRequestLifetimeS);
    r.n = r.jobs;
    r.faulted = false;
    r.cancelled = false;

    // Source images are kept in the results store (deleted with the request).
    std::vector<std::pair<std::string, std::string>> files_written;
    auto keep_source = [&](const std::string& given, const char* suffix,
                           CompactString& out) -> Status {
        if (given.empty()) {
            return Ok();
        }
        if (IsHttpUrl(given)) {
            out = given;
            return Ok();
        }
        auto bytes = DecodeBase64(given);
        if (!bytes) {
            return MakeError(ErrorCode::kSourceImageUnreadable);
        }
        const std::string name = r.id.value() + suffix;
        HORDE_TRY_STATUS(files_.Write(name, *bytes));
        files_written.emplace_back(name, "");
        out = name;
        return Ok();
    };
    auto cleanup = [this, &files_written] { RemoveFiles(files_, files_written); };
    if (auto s = keep_source(input.source_image, ".src", r.source_image); !s) {
        cleanup();
        return s.error();
    }
    if (auto s = keep_source(input.source_mask, ".mask", r.source_mask); !s) {
        cleanup();
        return s.error();
    }

    std::unique_lock lock(mu_);
    auto& st = *state_;
    for (const auto& w : r.workers) {
        if (!st.workers.contains(w.value())) {
            cleanup();
            return MakeError(ErrorCode::kWorkerNotFound,
                             "Worker with ID '" + w.value() + "' not found.");
        }
    }
    // Concurrency: unpopped jobs of this user's queued requests of this kind. Anonymous
    // requests count only against queued anonymous requests for the same models.
    const int k = KindIndex(r.kind);
    int64_t queued = 0;
    if (caller.user.anonymous && !r.models.empty()) {
        for (const auto& m : r.models) {
            auto it = st.anon_queued_by_model[k].find(m);
            queued =
                std::max<int64_t>(queued, it == st.anon_queued_by_model[k].end() ? 0 : it->second);
        }
    } else {
        auto it = st.queued_by_user[k].find(caller.user.id.value());
        queued = it == st.queued_by_user[k].end() ? 0 : it->second;
    }
    if (queued + r.jobs > caller.user.concurrency) {
        cleanup();
        if (caller.user.anonymous) {
            return MakeError(
                ErrorCode::kTooManyPrompts,
                "Too many anonymous requests on using the AI Horde currently (" +
                    std::to_string(queued + r.jobs) + "/" +
                    std::to_string(caller.user.concurrency) +
                    "). Please consider getting a personal API key which will also provide "
                    "higher priority.");
        }
        return MakeError(ErrorCode::kTooManyPrompts,
                         "Parallel requests (" + std::to_string(queued + r.jobs) +
                             ") exceeded user limit (" + std::to_string(caller.user.concurrency) +
                             "). Please try again later or request to increase your concurrency.");
    }
    if (auto s = ApplyUpfront(r, caller.user, input.allow_downgrade); !s) {
        cleanup();
        return s.error();
    }
    r.priority_base_milli = BalanceOf(caller.user.id).milli();
    if (caller.user.flagged) {
        r.priority_base_milli =
            r.priority_base_milli > 10'000 ? r.priority_base_milli / 1000 : -100'000;
    }
    r.seq = st.next_seq++;
    const Kudos tax = domain::ActivationTax(r.image.extra_source_images, false);
    r.consumed = tax;
    store::Batch b;
    b.Add(store::PutRequest{r});
    b.Add(store::PostEntry{
        domain::ActivationEntry(r.id, caller.user.id, tax, ForgivenFor(caller.user, tax), now)});
    b.Add(store::AddUserStat{caller.user.id,
                             r.kind == GenKind::kImage ? "request.image" : "request.text",
                             static_cast<double>(r.jobs)});
    const bool servable = AnyWorkerCouldServe(r, *RosterAt(now));
    const auto ticket = CommitAsync(b);
    lock.unlock();
    Accepted out{r.id, r.kudos_per_job, {}, {}};
    if (!servable) {
        out.message =
            "Warning: No available workers can fulfill this request. It will expire in 20 "
            "minutes unless a worker appears. Please confider reducing its size of the request "
            "or choosing a different model.";
        out.warnings.emplace_back("NoAvailableWorker", out.message);
    }
    // The 202 goes out only once the request is stored (group commit with other callers).
    return {ticket,
            [this, out = std::move(out),
             files = std::move(files_written)](const Status& stored) -> Result<Accepted> {
                if (!stored) {
                    RemoveFiles(files_, files);
                    return stored.error();
                }
                return out;
            }};
}

bool HordeService::IsSlow(const domain::Worker& w) const {
    double speed = 0;
    if (!w.speed_samples.empty()) {
        for (double s : w.speed_samples) {
            speed += s;
        }
        speed /= static_cast<double>(w.speed_samples.size());
    } else {
        return false;  // unknown speed: give new workers the benefit of the doubt
    }
    std::optional<double> first;
    if (w.kind == GenKind::kText && !w.profile.models.empty()) {
        first = domain::TextModelParamsBillions(w.profile.models.front()).value_or(0);
    }
    return speed < domain::SlowWorkerThreshold(w.kind, first);
}

RequestView HordeService::ViewOf(const domain::Request& r, bool with_generations,
                                 TimePoint now) const {
    const auto& st = *state_;
    RequestView v;
    v.request = r;
    // One pass over the request's jobs.
    const std::vector<std::string>* job_ids = nullptr;
    if (auto it = st.jobs_by_request.find(r.id.value()); it != st.jobs_by_request.end()) {
        job_ids = &it->second;
        for (const auto& jid : it->second) {
            const auto& j = st.jobs.at(jid);
            switch (j.state) {
                case domain::JobState::kDone:
                    v.finished += j.fake ? 0 : 1;
                    break;
                case domain::JobState::kProcessing:
                    ++v.processing;
                    break;
                case domain::JobState::kFaulted:
                case domain::JobState::kAborted:
                    v.restarted += j.fake ? 0 : 1;
                    break;
            }
        }
    }
    v.waiting = std::max(0, std::min(r.n, r.jobs - v.processing - v.finished));
    v.done = r.faulted || (r.n <= 0 && v.processing == 0 && v.finished >= r.jobs);
    if (r.faulted || r.cancelled) {
        v.waiting = 0;
    }
    if (IsQueued(r)) {
        v.queue_position =
            static_cast<int>(st.queue[KindIndex(r.kind)].order_of_key(MakeQueueKey(r))) + 1;
    }
    // ETA: the things ahead of us over the serving speed, plus our own job.
    const auto roster = RosterAt(now);
    const int k = KindIndex(r.kind);
    const double speed = roster->speed[k];
    const int threads = roster->threads[k];
    if (v.done) {
        v.wait_time_s = 0;
    } else if (speed <= 0 || threads == 0) {
        v.wait_time_s = v.queue_position > 0 ? 10000 : 0;
    } else {
        const double things_ahead = static_cast<double>(std::max(1, v.queue_position)) *
                                    static_cast<double>(r.things) * std::max(1, r.n + v.processing);
        v.wait_time_s = static_cast<int>(things_ahead / speed);
    }
    v.is_possible = v.processing > 0 || v.done || AnyWorkerCouldServe(r, *roster);
    if (with_generations && job_ids != nullptr) {
        for (const auto& jid : *job_ids) {
            const auto& j = st.jobs.at(jid);
            if (j.state == domain::JobState::kDone && !j.fake) {
                v.generations.push_back(
                    {j, r.kind == GenKind::kImage ? j.id.value() + ".webp" : ""});
            }
        }
    }
    return v;
}

namespace {

/// The request with exactly this id (not another case of it) and kind, or null.
const domain::Request* FindRequest(const HordeService::State& st, GenKind kind,
                                   const std::string& id) {
    auto it = st.requests.find(KeyOf(id));
    if (it == st.requests.end() || it->second.kind != kind || it->second.id.value() != id) {
        return nullptr;
    }
    return &it->second;
}

}  // namespace

Result<RequestView> HordeService::GetRequest(GenKind kind, const std::string& id,
                                             bool with_generations) const {
    std::shared_lock lock(mu_);
    const domain::Request* found = FindRequest(*state_, kind, id);
    if (found == nullptr) {
        return MakeError(ErrorCode::kRequestNotFound,
                         RequestTypeName(kind, with_generations ? "Status" : "Check") +
                             " with ID '" + id + "' not found.");
    }
    return ViewOf(*found, with_generations, clock_.Now());
}

Result<RequestView> HordeService::CancelRequest(GenKind kind, const std::string& id) {
    std::unique_lock lock(mu_);
    const domain::Request* found = FindRequest(*state_, kind, id);
    if (found == nullptr) {
        return MakeError(ErrorCode::kRequestNotFound,
                         RequestTypeName(kind, "Delete") + " with ID '" + id + "' not found.");
    }
    const auto now = clock_.Now();
    RequestView before = ViewOf(*found, true, now);
    if (found->cancelled || before.done) {
        return before;
    }
    domain::Request r = *found;
    r.n = 0;
    r.cancelled = true;
    r.hold = Kudos();  // nothing more will be handed out: release the upfront reservation
    // Jobs already handed out still finish and settle; the request is done once they end.
    r.jobs = before.finished;
    store::Batch b;
    b.Add(store::PutRequest{r});
    HORDE_TRY_STATUS(Commit(b));
    return before;
}

}  // namespace horde::service
