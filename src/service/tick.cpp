// Periodic work: job deadlines, expiry and purge of delivered requests.

#include <spdlog/spdlog.h>

#include <mutex>

#include "service/horde_service.hpp"
#include "service/state.hpp"

namespace horde::service {

void HordeService::ReloadAccountsIfChanged() {
    auto counter = store_.ExternalChangeCounter();
    if (!counter || *counter == external_counter_) {
        return;
    }
    external_counter_ = *counter;
    auto snap = store_.Load();
    if (!snap) {
        spdlog::warn("could not reload accounts: {}", snap.error().message);
        return;
    }
    std::unique_lock lock(mu_);
    auto& st = *state_;
    st.users.clear();
    st.user_by_key_hash.clear();
    for (auto& u : snap->users) {
        st.user_by_key_hash[u.api_key_hash] = u.id.value();
        st.next_user_id = std::max(st.next_user_id, u.id.value() + 1);
        st.users[u.id.value()] = std::move(u);
    }
    st.balances.clear();
    for (auto& [acct, milli] : snap->balances_milli) {
        st.balances[acct] = milli;
    }
    st.user_stats.clear();
    for (auto& [uid, stats] : snap->user_stats) {
        st.user_stats[uid] = stats;
    }
    spdlog::info("reloaded {} users changed by another process", st.users.size());
}

void HordeService::Tick() {
    ReloadAccountsIfChanged();
    const auto now = clock_.Now();
    GrantMonthlyKudos(now);
    std::vector<std::string> files_to_remove;
    bool compact = false;
    {
        std::unique_lock lock(mu_);
        auto& st = *state_;
        // 1. Jobs past their deadline are aborted and their slot goes back to the queue.
        std::vector<std::string> late;
        for (auto it = st.deadlines.begin(); it != st.deadlines.end() && it->first < now; ++it) {
            late.push_back(it->second->id.value());
        }
        for (const auto& id : late) {
            domain::Job job = st.jobs.at(id);
            auto rit = st.requests.find(KeyOf(job.request.value()));
            if (rit == st.requests.end()) {
                continue;
            }
            domain::Request r = rit->second;
            job.state = domain::JobState::kAborted;
            job.finished = now;
            store::Batch b;
            FaultJob(job, r, b, now);
            auto wit = st.workers.find(job.worker.value());
            if (wit != st.workers.end()) {
                domain::Worker w = wit->second;
                ++w.aborted_jobs;
                b.Add(store::PutWorker{w});
            }
            if (auto s = Commit(b); !s) {
                spdlog::error("could not abort job {}: {}", id, s.error().message);
            } else {
                spdlog::info("job {} of request {} timed out after {} s", id, r.id.value(),
                             job.ttl_s);
            }
        }
        // 2. Expired requests are deleted with their jobs, prompts and images.
        std::vector<std::string> expired;
        st.expiries.ForEachDue(now, [&](const domain::Request& r) {
            if (CountProcessing(r.id.value()) == 0) {
                expired.push_back(r.id.value());
            }
        });
        // One batch for all of them: the lock is held for one commit, not one per request.
        store::Batch deletions;
        std::vector<std::string> names;
        for (const auto& id : expired) {
            const auto& r = st.requests.at(KeyOf(id));
            if (!r.source_image.empty() && !r.source_image.view().starts_with("http")) {
                names.push_back(r.source_image.str());
            }
            if (!r.source_mask.empty() && !r.source_mask.view().starts_with("http")) {
                names.push_back(r.source_mask.str());
            }
            store::DeleteRequest deletion{RequestId(id), {}};
            auto jit = st.jobs_by_request.find(id);
            if (jit != st.jobs_by_request.end()) {
                for (const auto& jid : jit->second) {
                    names.push_back(jid + ".webp");
                    deletion.jobs.emplace_back(jid);
                }
            }
            deletions.Add(std::move(deletion));
        }
        if (!deletions.empty()) {
            if (auto s = Commit(deletions); !s) {
                spdlog::error("could not delete {} expired requests (next pass retries): {}",
                              expired.size(), s.error().message);
            } else {
                compaction_due_ = true;
                files_to_remove = std::move(names);
            }
        }
        // Compaction (which holds the store's writer for a full checkpoint) at most once a
        // minute: a busy horde purges something nearly every pass.
        if (compaction_due_ && (last_compaction_ == TimePoint{} ||
                                SecondsBetween(last_compaction_, now) >= kCompactionIntervalS)) {
            compaction_due_ = false;
            last_compaction_ = now;
            compact = true;
        }
        // 3. Drop old performance samples.
        for (auto& q : st.recent) {
            while (!q.empty() && SecondsBetween(q.front().first, now) > 60) {
                q.pop_front();
            }
        }
    }
    for (const auto& name : files_to_remove) {
        files_.Remove(name);
    }
    if (compact) {
        if (auto s = store_.Compact(); !s) {
            spdlog::warn("compaction failed (next pass retries): {}", s.error().message);
            std::unique_lock lock(mu_);
            compaction_due_ = true;
            last_compaction_ = TimePoint{};
        }
    }
}

}  // namespace horde::service
