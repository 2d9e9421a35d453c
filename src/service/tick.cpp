// Periodic work: job deadlines, expiry and purge of delivered requests.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <variant>

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

void HordeService::AbortLateJobs(TimePoint now) {
    std::vector<std::string> late;
    {
        std::shared_lock lock(mu_);
        for (auto it = state_->deadlines.begin(); it != state_->deadlines.end() && it->first < now;
             ++it) {
            late.push_back(it->second->id.value());
        }
    }
    // A flood of timeouts (a fleet of workers gone at once) is taken kAbortsPerHold at a time:
    // one hold of the lock and one stored batch each, which pops and submits queue behind for
    // milliseconds, not for a commit per job nor for one huge group. Each abort is applied to
    // memory at once, so the next one of the same request or worker builds on it; the store gets
    // every job's row but only the last of each request's and worker's.
    const auto started = std::chrono::steady_clock::now();
    size_t aborted = 0;
    size_t unstored = 0;
    for (size_t start = 0; start < late.size(); start += kAbortsPerHold) {
        store::Batch chunk;
        std::unordered_map<std::string, size_t> request_row;  // id -> index in chunk
        std::unordered_map<std::string, size_t> worker_row;
        auto keep = [&chunk](std::unordered_map<std::string, size_t>& rows, const std::string& id,
                             store::Mutation m) {
            auto [it, fresh] = rows.try_emplace(id, chunk.mutations.size());
            if (fresh) {
                chunk.mutations.push_back(std::move(m));
            } else {
                chunk.mutations[it->second] = std::move(m);
            }
        };
        size_t in_chunk = 0;
        CommitQueue::Ticket ticket;
        {
            std::unique_lock lock(mu_);
            auto& st = *state_;
            const size_t end = std::min(late.size(), start + kAbortsPerHold);
            for (size_t i = start; i < end; ++i) {
                const std::string& id = late[i];
                auto jit = st.jobs.find(id);
                if (jit == st.jobs.end() || jit->second.state != domain::JobState::kProcessing) {
                    continue;  // submitted (or gone) since the list was made
                }
                domain::Job job = jit->second;
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
                ApplyToMemory(b);
                for (auto& m : b.mutations) {
                    if (const auto* put = std::get_if<store::PutRequest>(&m)) {
                        std::string key = put->request.id.value();  // (m is moved from below)
                        keep(request_row, key, std::move(m));
                    } else if (const auto* pw = std::get_if<store::PutWorker>(&m)) {
                        std::string key = pw->worker.id.value();
                        keep(worker_row, key, std::move(m));
                    } else {
                        chunk.mutations.push_back(std::move(m));
                    }
                }
                ++in_chunk;
                spdlog::debug("job {} of request {} timed out after {} s", id, r.id.value(),
                              job.ttl_s);
            }
            if (!chunk.empty()) {
                ticket = commits_.Enqueue(std::move(chunk), CommitQueue::WakeMode::kNow);
            }
        }
        // Stored before the next chunk (a failed write reloads the state from the store; the
        // jobs are then still late, and the next sweep aborts them).
        if (ticket && !AwaitDurable(ticket).has_value()) {
            unstored += in_chunk;
        } else {
            aborted += in_chunk;
        }
    }
    if (aborted > 0) {
        spdlog::info("{} jobs timed out and went back to the queue ({} ms)", aborted,
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - started)
                         .count());
    }
    if (unstored > 0) {
        spdlog::error("{} timed-out jobs could not be stored; the next sweep retries", unstored);
    }
}

void HordeService::Tick() {
    ReloadAccountsIfChanged();
    const auto now = clock_.Now();
    GrantMonthlyKudos(now);
    // 1. Jobs past their deadline are aborted and their slot goes back to the queue.
    AbortLateJobs(now);
    std::vector<std::string> files_to_remove;
    bool compact = false;
    {
        std::unique_lock lock(mu_);
        auto& st = *state_;
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
