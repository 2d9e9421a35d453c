// Use cases of workers: pop (check-in + matching + claim) and submit (settlement).

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <mutex>
#include <string_view>
#include <unordered_set>

#include "common/random.hpp"
#include "domain/kudos_rules.hpp"
#include "domain/match_summary.hpp"
#include "domain/matching.hpp"
#include "domain/pricing.hpp"
#include "domain/seed.hpp"
#include "service/horde_service.hpp"
#include "service/state.hpp"

namespace horde::service {

using domain::GenKind;

namespace {

constexpr int kCheckInWriteIntervalS = 30;
constexpr int kUptimeRewardIntervalS = 600;
constexpr size_t kSpeedSamplesMax = 20;
constexpr int kFaultsBeforeRequestFaults = 3;

bool Online(const domain::Worker& w, TimePoint now) {
    return SecondsBetween(w.last_check_in, now) <= domain::kWorkerOnlineWindowS;
}

Kudos UptimeReward(const domain::Worker& w) {
    if (w.kind == GenKind::kImage) {
        double k = 50.0 + 2.0 * static_cast<double>(w.profile.models.size());
        if (w.profile.allow_lora) {
            k += 30.0;
        }
        return Kudos::FromDoubleCents(k);
    }
    double base =
        25.0 + 15.0 * static_cast<double>(std::min(w.profile.max_context_length, 262144)) / 1024.0;
    const auto params = w.profile.models.empty()
                            ? std::nullopt
                            : domain::TextModelParamsBillions(w.profile.models.front());
    if (!params) {
        return Kudos::FromDoubleCents(base * 0.5);
    }
    if (!domain::IsValidatedTextBackend(domain::ParseBridgeAgent(w.profile.bridge_agent).name)) {
        base *= 0.3;
    }
    return Kudos::FromDoubleCents(base * std::max(*params / 7.0, 0.25));
}

}  // namespace

void HordeService::RecordCheckIn(domain::Worker& w, store::Batch& b, TimePoint now) {
    auto& st = *state_;
    const bool was_online = w.last_check_in.time_since_epoch().count() != 0 && Online(w, now);
    if (was_online && !w.paused && !w.maintenance) {
        w.uptime_s += static_cast<int64_t>(SecondsBetween(w.last_check_in, now));
        if (w.uptime_s - w.last_reward_uptime_s > kUptimeRewardIntervalS) {
            const Kudos reward = UptimeReward(w);
            auto owner = st.users.find(w.owner.value());
            const bool escrow =
                owner != st.users.end() && !owner->second.trusted && !owner->second.anonymous;
            b.Add(store::PostEntry{
                domain::UptimeEntry("uptime:" + w.id.value() + ":" + std::to_string(w.uptime_s),
                                    w.owner, reward, escrow, now)});
            w.kudos_uptime += reward;
            w.last_reward_uptime_s = w.uptime_s;
        }
    } else {
        w.last_reward_uptime_s = w.uptime_s;
    }
    w.last_check_in = now;
}

Result<PopOutcome> HordeService::Pop(GenKind kind, const std::string& worker_name,
                                     domain::WorkerProfile profile, int amount,
                                     const Caller& caller) {
    return Resolve(StartPop(kind, worker_name, std::move(profile), amount, caller));
}

void HordeService::PopThen(GenKind kind, const std::string& worker_name,
                           domain::WorkerProfile profile, int amount, const Caller& caller,
                           Resume resume, Done<PopOutcome> done) {
    ResolveThen(StartPop(kind, worker_name, std::move(profile), amount, caller), std::move(resume),
                std::move(done));
}

Pending<PopOutcome> HordeService::StartPop(GenKind kind, const std::string& worker_name,
                                           domain::WorkerProfile profile, int amount,
                                           const Caller& caller) {
    const auto& user = caller.user;
    if (user.anonymous) {
        return MakeError(ErrorCode::kAnonForbiddenWorker);
    }
    if (user.flagged) {
        return MakeError(ErrorCode::kWorkerFlaggedMaintenance);
    }
    for (const auto& p : profile.priority_usernames) {
        const auto hash = p.rfind('#');
        if (hash == std::string::npos || hash + 1 >= p.size() ||
            !std::all_of(p.begin() + static_cast<long>(hash) + 1, p.end(),
                         [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
            return MakeError(ErrorCode::kInvalidPriorityUsername);
        }
    }
    HORDE_TRY_STATUS(CheckWorkerInvited(user));
    const auto now = clock_.Now();
    auto& st = *state_;
    // Finds or registers the worker (names are unique, case-insensitively) into `w`.
    domain::Worker w;
    bool is_new = false;
    auto find_worker = [&]() -> Status {
        w = domain::Worker{};
        is_new = false;
        auto by_name = st.worker_by_name.find(AsciiLower(worker_name));
        if (by_name != st.worker_by_name.end()) {
            w = st.workers.at(by_name->second);
            if (w.owner != user.id) {
                return MakeError(ErrorCode::kWrongCredentials);
            }
            if (w.kind != kind) {
                return MakeError(ErrorCode::kPolymorphicNameConflict,
                                 "The specified name '" + worker_name +
                                     "' is already taken by a different type of worker. Please "
                                     "choose a different name!");
            }
        } else {
            is_new = true;
            w.id = WorkerId(NewUuid());
            w.kind = kind;
            w.name = worker_name;
            w.owner = user.id;
            w.created = now;
        }
        return Ok();
    };

    // Phase 1, under the shared lock (pops and reads run side by side): find the request to
    // serve, or the skipped counts. Phase 2 (exclusive) checks in, re-validates and claims.
    std::shared_lock shared(mu_);
    HORDE_TRY_STATUS(find_worker());
    w.profile = profile;

    PopOutcome out;
    out.caps = domain::ResolveCapabilities(w.profile);
    const auto& caps = out.caps;
    const bool owner_trusted = user.trusted;
    const bool slow = IsSlow(w);
    std::set<int64_t> priority_ids;
    for (const auto& p : w.profile.priority_usernames) {
        const std::string_view digits = std::string_view(p).substr(p.rfind('#') + 1);
        int64_t id = 0;
        if (std::from_chars(digits.data(), digits.data() + digits.size(), id).ec == std::errc()) {
            priority_ids.insert(id);
        }
    }
    auto is_priority = [&](const domain::Request& r) {
        return r.user == user.id || priority_ids.contains(r.user.value());
    };
    // `prechecked`: the request came from the queue of a model this worker serves.
    auto check = [&](const QueuedRef& ref, bool prechecked) {
        const domain::Request& r = *ref.request;
        auto requester = st.users.find(r.user.value());
        // Only a worker that requires upfront kudos looks at the requester's balance; the
        // request's own upfront hold already covers it.
        Kudos available;
        if (w.profile.require_upfront_kudos && requester != st.users.end()) {
            available = AvailableOf(requester->second) + r.hold;
        }
        domain::MatchContext ctx{
            .worker = w,
            .caps = caps,
            .owner_trusted = owner_trusted,
            .worker_is_slow = slow,
            .worker_tricked = false,
            .requester_trusted = requester != st.users.end() && requester->second.trusted,
            .requester_is_priority = is_priority(r),
            .requester_available = available,
            .models = ref.traits,
            .models_prechecked = prechecked,
        };
        return domain::CanGenerate(r, ctx);
    };

    const int k = KindIndex(kind);
    const QueuedRef* chosen_ref = nullptr;
    QueuedRef found;
    std::map<std::string, int> skipped;
    const domain::WorkerOffer offer = domain::OfferOf(w, caps, owner_trusted, slow);
    // Finds the first request of `from`, merged in queue order, that this worker may take: each
    // queue advanced past what its subtree summaries rule out, CanGenerate deciding on the rest.
    // `prechecked`: the queues are those of models this worker serves.
    auto first_match = [&](const std::vector<const ModelTree*>& from, bool prechecked) {
        // A cursor per queue, merged by key in a heap. Until a queue's turn comes, its cursor
        // holds its first entry, a lower bound (`exact` false): the descent to its first
        // takeable entry is made only then, so a match early in one queue spares the others'.
        struct Cursor {
            const ModelTree* tree;
            const ModelTreeEntry* at;
            bool exact;
        };
        std::vector<Cursor> heap;
        for (const ModelTree* t : from) {
            if (!t->empty()) {
                heap.push_back({t, &*t->begin(), false});
            }
        }
        auto later = [](const Cursor& x, const Cursor& y) { return y.at->first < x.at->first; };
        std::make_heap(heap.begin(), heap.end(), later);
        std::optional<QueueKey> last;
        while (!heap.empty()) {
            std::pop_heap(heap.begin(), heap.end(), later);
            Cursor& c = heap.back();
            if (!c.exact) {
                if (const ModelTreeEntry* e = FirstTakeable(*c.tree, std::nullopt, offer)) {
                    c = {c.tree, e, true};
                    std::push_heap(heap.begin(), heap.end(), later);
                } else {
                    heap.pop_back();
                }
                continue;
            }
            const QueueKey key = c.at->first;
            const QueuedRef ref = c.at->second;
            const bool repeat = last && *last == key;  // a request in several of these queues
            last = key;
            if (!repeat && now < ref.request->expiry &&
                check(ref, prechecked) == domain::SkipReason::kNone) {
                found = ref;
                chosen_ref = &found;
                return true;
            }
            if (const ModelTreeEntry* next = FirstTakeable(*c.tree, key, offer)) {
                c.at = next;
                std::push_heap(heap.begin(), heap.end(), later);
            } else {
                heap.pop_back();
            }
        }
        return false;
    };
    auto search = [&] {
        chosen_ref = nullptr;
        skipped.clear();
        // The queues this worker can draw from: those of the models it serves, and the "any model"
        // one unless it serves a special model (§3). Every other queued request fails on models.
        std::vector<const ModelTree*> sources;
        bool special = false;
        for (const auto& m : w.profile.models) {
            special = special || m.starts_with("horde_special") || m.starts_with("SDXL_beta");
            auto q = st.queue_by_model[k].find(m);
            if (q != st.queue_by_model[k].end() &&
                std::find(sources.begin(), sources.end(), &q->second) == sources.end()) {
                sources.push_back(&q->second);
            }
        }
        if (!(kind == GenKind::kImage && special)) {
            sources.push_back(&st.any_model[k]);
        }
        // Priority pass over the queued requests of the owner and of its priority users only.
        std::vector<const ModelTree*> priority_sources;
        for (const int64_t id : priority_ids) {
            if (auto q = st.queue_by_user[k].find(id); q != st.queue_by_user[k].end()) {
                priority_sources.push_back(&q->second);
            }
        }
        if (!priority_ids.contains(user.id.value())) {
            if (auto q = st.queue_by_user[k].find(user.id.value());
                q != st.queue_by_user[k].end()) {
                priority_sources.push_back(&q->second);
            }
        }
        if (first_match(priority_sources, false) || w.maintenance) {
            return;  // a worker in maintenance serves only its owner's requests
        }
        if (first_match(sources, true)) {
            return;
        }
        // Nothing matched: count why, each queued request once (a refused subtree counts under the
        // reason its summary gives, see domain::PrunedReason).
        SkipCounts counts{};
        int64_t counted = 0;
        auto judge = [&](const QueuedRef& ref) {
            return now < ref.request->expiry ? check(ref, true) : domain::SkipReason::kNone;
        };
        for (const ModelTree* t : sources) {
            counted += CountSkippedUndeferred(*t, offer, judge, counts);
        }
        // A request listing several models counts in the queue of the first of them this worker
        // serves: above when that is its first listed model, here otherwise.
        std::unordered_set<std::string_view> served(w.profile.models.begin(),
                                                    w.profile.models.end());
        std::unordered_set<std::string_view> seen;
        uint64_t served_bits = 0;
        std::vector<uint64_t> served_hashes;
        for (const auto& m : w.profile.models) {
            served_hashes.push_back(ModelNameHash(m));
            served_bits |= WideModelBitOfHash(served_hashes.back());
        }
        std::sort(served_hashes.begin(), served_hashes.end());
        // Whether the worker serves a model the request lists before the deferred entry's: then
        // it is counted in that model's queue.
        auto counted_before = [&](const DeferredRef& deferred) {
            const QueuedRef& ref = deferred.ref;
            if (ref.listed_index == 1) {  // listed second: the first one's hash decides
                // Most first models are not served: their bit alone tells, without the search.
                return (WideModelBitOfHash(deferred.listed_before) & served_bits) != 0 &&
                       std::binary_search(served_hashes.begin(), served_hashes.end(),
                                          deferred.listed_before);
            }
            if ((deferred.listed_before & served_bits) == 0) {
                return false;  // no shared bit: none of them is served
            }
            const auto& listed = ref.request->models;
            const auto own = std::next(listed.begin(), ref.listed_index);
            return std::any_of(listed.begin(), own,
                               [&](std::string_view x) { return served.contains(x); });
        };
        for (const auto& m : w.profile.models) {
            if (!seen.insert(m).second) {
                continue;  // a model the worker lists twice
            }
            auto q = st.deferred_by_model[k].find(m);
            if (q == st.deferred_by_model[k].end()) {
                continue;
            }
            for (const DeferredRef& deferred : q->second) {
                if (counted_before(deferred)) {
                    continue;
                }
                const QueuedRef& ref = deferred.ref;
                const domain::MatchSummary leaf = domain::Leaf(ref.needs);
                const auto reason =
                    domain::MayTake(leaf, offer) ? judge(ref) : domain::PrunedReason(leaf, offer);
                ++counts[static_cast<size_t>(reason)];
                ++counted;
            }
        }
        for (size_t i = 0; i < counts.size(); ++i) {
            const auto reason = static_cast<domain::SkipReason>(i);
            if (counts[i] > 0 && domain::IsReportedSkipReason(reason)) {
                skipped[std::string(domain::SkipReasonKey(reason))] += static_cast<int>(counts[i]);
            }
        }
        const int64_t outside = static_cast<int64_t>(st.queue[k].size()) - counted;
        if (outside > 0) {
            skipped[std::string(domain::SkipReasonKey(domain::SkipReason::kModels))] +=
                static_cast<int>(outside);
        }
    };
    search();
    std::optional<std::string> candidate;
    if (chosen_ref) {
        candidate = chosen_ref->request->id.value();
    }
    shared.unlock();

    std::unique_lock lock(mu_);
    store::Batch b;
    HORDE_TRY_STATUS(find_worker());  // afresh: another pop may have changed it meanwhile
    const bool profile_changed =
        is_new || w.profile.models != profile.models ||
        w.profile.bridge_agent != profile.bridge_agent || w.profile.threads != profile.threads ||
        w.profile.max_pixels != profile.max_pixels || w.profile.max_length != profile.max_length ||
        w.profile.max_context_length != profile.max_context_length;
    w.profile = std::move(profile);
    w.ipaddr = caller.ip;
    RecordCheckIn(w, b, now);
    auto written = st.checkin_written.find(w.id.value());
    const bool write_worker = profile_changed || !b.empty() ||
                              written == st.checkin_written.end() ||
                              SecondsBetween(written->second, now) >= kCheckInWriteIntervalS;
    chosen_ref = nullptr;
    if (candidate) {
        // Still there, still queued, still a match (another pop may have taken the last slot)?
        auto it = st.requests.find(KeyOf(*candidate));
        if (it != st.requests.end() && IsQueued(it->second) && now < it->second.expiry) {
            const domain::Request& r = it->second;
            found = MakeQueuedRef(r);
            if (check(found, false) == domain::SkipReason::kNone) {
                chosen_ref = &found;
            }
        }
        if (!chosen_ref) {
            search();  // lost the race: search again, now exclusively
        }
    }
    const domain::Request* chosen = chosen_ref ? chosen_ref->request : nullptr;

    if (write_worker) {
        b.Add(store::PutWorker{w});
    }
    if (!chosen) {
        CommitQueue::Ticket ticket;
        if (write_worker) {
            ticket = CommitAsync(b);
            st.checkin_written[w.id.value()] = now;
        } else {
            st.workers[w.id.value()] = w;  // the check-in time is kept in memory only
        }
        lock.unlock();
        std::optional<Error> refused;
        if (w.maintenance) {
            refused = MakeError(ErrorCode::kWorkerMaintenance,
                                w.maintenance_msg.empty()
                                    ? "This worker has been put into maintenance mode by its owner"
                                    : w.maintenance_msg);
        }
        out.worker = w.id;
        out.skipped = std::move(skipped);
        return {ticket,
                [out = std::move(out), refused](const Status& stored) -> Result<PopOutcome> {
                    HORDE_TRY_STATUS(stored);
                    if (refused) {
                        return *refused;
                    }
                    return out;
                }};
    }

    // Claim: hand out up to `amount` jobs of the chosen request, atomically.
    domain::Request r = *chosen;
    const int count = domain::SafeBatchAmount(r, w.profile, amount);
    const int expected_n = r.n;
    std::vector<std::string> served;
    for (const auto& m : w.profile.models) {
        if (r.models.empty() || std::find(r.models.begin(), r.models.end(), m) != r.models.end()) {
            served.push_back(m);
        }
    }
    const std::string model = served.empty()
                                  ? std::string(r.models.empty() ? "" : r.models.front())
                                  : served[RandomBelow(static_cast<uint32_t>(served.size()))];
    const bool heavy =
        r.kind == GenKind::kImage && domain::IsHeavyModelFamily(domain::ImageModelBaseline(model));
    const int ttl = r.kind == GenKind::kImage
                        ? domain::ImageJobTtlSeconds(r.image, heavy, w.profile.extra_slow_worker)
                        : domain::kTextJobTtlSeconds;
    const int64_t base_seed = domain::SeedToInt(r.seed);
    const int first_index = r.jobs - r.n;
    for (int i = 0; i < count; ++i) {
        domain::Job j;
        j.id = JobId(NewUuidV7(ToUnixMillis(now)));
        j.request = r.id;
        j.kind = r.kind;
        j.worker = w.id;
        j.worker_name = w.name;
        j.worker_owner = w.owner;
        j.model = model;
        if (r.kind == GenKind::kImage) {
            j.seed = r.seed.empty()
                         ? RandomBelow(4'294'967'295u)
                         : (base_seed + r.seed_variation.value_or(0) * (first_index + i)) %
                               (int64_t{1} << 32);
        }
        j.start = now;
        j.ttl_s = ttl;
        out.jobs.push_back(j);
    }
    r.n -= count;
    r.expiry =
        now + std::chrono::seconds(w.profile.extra_slow_worker ? 3600 : domain::kRequestLifetimeS);
    // The claim writes the jobs with the request's new n and expiry. It fails the whole batch if
    // the slots are gone meanwhile (another node's pop), and reads the params back for the
    // payload, inside the writer's transaction.
    auto params = std::make_shared<std::string>();
    b.Add(store::ClaimSlots{r.id, expected_n, r.n, r.expiry, params, out.jobs, r.seq});
    const auto ticket = CommitAsync(b);
    if (write_worker) {
        st.checkin_written[w.id.value()] = now;
    } else {
        st.workers[w.id.value()] = w;  // the check-in time is kept in memory only
    }
    lock.unlock();
    out.worker = w.id;
    out.request = std::move(r);
    // The jobs go out only once the claim is stored.
    return {ticket,
            [out = std::move(out), params](const Status& stored) mutable -> Result<PopOutcome> {
                HORDE_TRY_STATUS(stored);
                // Memory keeps no copy of the params: the payload's come from the store.
                out.request->params_json = *params;
                return std::move(out);
            }};
}

Result<SubmitOutcome> HordeService::Submit(GenKind kind, SubmitInput input, const Caller& caller) {
    return Resolve(StartSubmit(kind, std::move(input), caller));
}

void HordeService::SubmitThen(GenKind kind, SubmitInput input, const Caller& caller, Resume resume,
                              Done<SubmitOutcome> done) {
    ResolveThen(StartSubmit(kind, std::move(input), caller), std::move(resume), std::move(done));
}

Pending<SubmitOutcome> HordeService::StartSubmit(GenKind kind, SubmitInput input,
                                                 const Caller& caller) {
    const auto now = clock_.Now();
    std::string image_bytes;
    const bool faulted = input.state == "faulted";
    if (kind == GenKind::kImage && !faulted && input.generation != "R2") {
        auto decoded = DecodeBase64Image(input.generation);
        if (!decoded) {
            return MakeError(ErrorCode::kInvalidPayload,
                             "generation must be \"R2\" (after uploading to r2_upload) or a "
                             "base64 encoded image.");
        }
        image_bytes = std::move(*decoded);
    }
    std::unique_lock lock(mu_);
    auto& st = *state_;
    auto jit = st.jobs.find(input.job_id);
    if (jit == st.jobs.end() || jit->second.kind != kind) {
        return MakeError(ErrorCode::kInvalidJobId,
                         "Processing Job with ID " + input.job_id + " does not exist.");
    }
    domain::Job job = jit->second;
    if (job.worker_owner != caller.user.id) {
        return MakeError(ErrorCode::kWrongCredentials);
    }
    if (job.state == domain::JobState::kDone) {
        return MakeError(ErrorCode::kDuplicateGen,
                         "Processing Generation with ID " + input.job_id + " already submitted.");
    }
    if (job.state != domain::JobState::kProcessing) {
        return MakeError(
            ErrorCode::kAbortedGen,
            "Processing Generation with ID " + input.job_id +
                " took too long to process and has been aborted! Please check your worker speed "
                "- generations must complete within " +
                std::to_string(job.ttl_s) +
                " seconds (minimum ~1 it/s, higher for large requests)!");
    }
    auto rit = st.requests.find(KeyOf(job.request.value()));
    if (rit == st.requests.end()) {
        return MakeError(ErrorCode::kInvalidJobId,
                         "Processing Job with ID " + input.job_id + " does not exist.");
    }
    domain::Request r = rit->second;
    auto wit = st.workers.find(job.worker.value());
    store::Batch b;

    if (faulted) {
        job.state = domain::JobState::kFaulted;
        job.finished = now;
        FaultJob(job, r, b, now);
        if (wit != st.workers.end()) {
            domain::Worker w = wit->second;
            ++w.aborted_jobs;
            b.Add(store::PutWorker{w});
        }
        HORDE_TRY_STATUS(Commit(b));
        return SubmitOutcome{Kudos()};
    }

    const std::string result_name = job.id.value() + ".webp";
    if (kind == GenKind::kImage) {
        if (input.generation == "R2") {
            if (!files_.Exists(result_name)) {
                return MakeError(
                    ErrorCode::kInvalidPayload,
                    "No image was uploaded to r2_upload for job " + input.job_id + ".");
            }
        } else {
            HORDE_TRY_STATUS(files_.Write(result_name, image_bytes));
        }
        job.generation = "R2";
    } else {
        job.generation = input.generation;
    }
    bool censored = input.censored || input.state == "censored" || input.state == "csam";
    if (input.gen_metadata_json.find("\"censorship\"") != std::string::npos) {
        censored = true;
    }
    job.censored = censored;
    job.result_state = input.state == "faulted" ? "ok" : input.state;
    if (kind == GenKind::kImage && censored && job.result_state == "ok") {
        job.result_state = "censored";
    }
    job.gen_metadata_json = input.gen_metadata_json;
    if (kind == GenKind::kImage) {
        job.seed = input.seed;
    } else {
        job.seed = input.seed;
    }

    // Pricing of this delivery.
    auto owner_it = st.users.find(job.worker_owner.value());
    const bool owner_trusted = owner_it != st.users.end() && owner_it->second.trusted;
    Kudos reward;
    Kudos owner_credit;
    Kudos charge;
    double things = 0;
    const auto agent = domain::ParseBridgeAgent(
        wit != st.workers.end() ? wit->second.profile.bridge_agent : "unknown:0:unknown");
    if (kind == GenKind::kImage) {
        const auto baseline = domain::ImageModelBaseline(job.model);
        reward = Kudos::FromDoubleCents(r.kudos_per_job.ToDouble() *
                                        domain::BaselineRewardMultiplier(baseline, r.image));
        owner_credit = Kudos::FromDoubleCents(
            reward.ToDouble() * domain::BridgeRewardMultiplier(agent.name, agent.version));
        charge = domain::ImageJobCharge(reward, r.image.has_source_image, r.image.post_processing,
                                        r.slow_workers, r.worker_blacklist, censored);
        things = static_cast<double>(r.things);
    } else {
        const auto params = domain::TextModelParamsBillions(job.model);
        reward = domain::TextJobReward(params, static_cast<int>(input.generation.size()),
                                       r.text.prompt_chars, r.text.max_length,
                                       domain::IsValidatedTextBackend(agent.name), owner_trusted);
        owner_credit = reward;
        charge = domain::TextJobCharge(reward, censored);
        things = std::min<double>(std::max<double>(std::ceil(input.generation.size() / 4.0), 1),
                                  r.text.max_length);
    }
    job.reward = reward;
    job.state = domain::JobState::kDone;
    job.finished = now;
    b.Add(store::PutJob{job});
    const bool owner_anonymous = owner_it != st.users.end() && owner_it->second.anonymous;
    const Kudos owner_escrow = domain::EscrowShare(owner_credit, owner_trusted, owner_anonymous);
    auto requester_it = st.users.find(r.user.value());
    const Kudos forgiven =
        requester_it == st.users.end() ? Kudos() : ForgivenFor(requester_it->second, charge);
    b.Add(store::PostEntry{domain::JobSettlementEntry(
        job.id, job.worker_owner, owner_credit, owner_escrow, r.user, charge, forgiven, now)});
    r.consumed += charge;
    r.hold = std::max(Kudos(), r.hold - charge);
    r.expiry = now + std::chrono::seconds(domain::kRequestLifetimeS);
    if (r.n == 0 && CountProcessing(r.id.value()) <= 1) {
        r.hold = Kudos();  // the last job: release what is left of the upfront hold
    }
    b.Add(store::PutRequest{r});
    if (wit != st.workers.end()) {
        domain::Worker w = wit->second;
        ++w.fulfilments;
        w.things_done += things;
        w.kudos_generated += owner_credit;
        const double elapsed = std::max(0.001, SecondsBetween(job.start, now));
        w.speed_samples.push_back(things / elapsed);
        if (w.speed_samples.size() > kSpeedSamplesMax) {
            w.speed_samples.erase(w.speed_samples.begin());
        }
        b.Add(store::PutWorker{w});
    }
    const bool image = kind == GenKind::kImage;
    const double multiplier =
        requester_it == st.users.end() ? 1.0 : requester_it->second.usage_multiplier;
    b.Add(store::AddUserStat{r.user, image ? "usage.megapixelsteps" : "usage.tokens",
                             (image ? things / 1e6 : things) * multiplier});
    b.Add(store::AddUserStat{job.worker_owner,
                             image ? "contribution.megapixelsteps" : "contribution.tokens",
                             image ? things / 1e6 : things});
    b.Add(store::AddUserStat{job.worker_owner, image ? "fulfillment.image" : "fulfillment.text",
                             1.0});
    const auto ticket = CommitAsync(b);
    st.recent[KindIndex(kind)].emplace_back(now, things);
    lock.unlock();
    // The worker hears of its reward only once the settlement is stored.
    return {ticket, [reward](const Status& stored) -> Result<SubmitOutcome> {
                HORDE_TRY_STATUS(stored);
                return SubmitOutcome{reward};
            }};
}

int HordeService::CountProcessing(const std::string& request_id) const {
    int n = 0;
    auto it = state_->jobs_by_request.find(request_id);
    if (it != state_->jobs_by_request.end()) {
        for (const auto& jid : it->second) {
            n += state_->jobs.at(jid).state == domain::JobState::kProcessing ? 1 : 0;
        }
    }
    return n;
}

void HordeService::FaultJob(const domain::Job& job, domain::Request& r, store::Batch& b,
                            TimePoint now) {
    auto& st = *state_;
    b.Add(store::PutJob{job});
    // Count this request's failed jobs, this one included.
    int failures = 1;
    auto it = st.jobs_by_request.find(r.id.value());
    if (it != st.jobs_by_request.end()) {
        for (const auto& jid : it->second) {
            const auto& other = st.jobs.at(jid);
            if (jid != job.id.value() && (other.state == domain::JobState::kFaulted ||
                                          other.state == domain::JobState::kAborted)) {
                ++failures;
            }
        }
    }
    if (failures >= kFaultsBeforeRequestFaults) {
        r.faulted = true;
        r.hold = Kudos();
    } else if (!r.cancelled) {
        r.n += 1;  // back in the queue for another worker
    }
    r.expiry = std::max(r.expiry, now + std::chrono::seconds(domain::kRequestLifetimeS));
    b.Add(store::PutRequest{r});
}

}  // namespace horde::service
