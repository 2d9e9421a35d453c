// Read-only views (users, workers, models, performance) and result uploads.

#include <algorithm>
#include <mutex>

#include "domain/pricing.hpp"
#include "service/horde_service.hpp"
#include "service/state.hpp"

namespace horde::service {

using domain::GenKind;

namespace {

constexpr int kUsersPerPage = 25;

}  // namespace

UserView HordeService::UserViewOf(const domain::User& u) const {
    const auto& st = *state_;
    UserView v;
    v.user = u;
    auto bal = st.balances.find(domain::UserAccount(u.id));
    v.kudos = Kudos::FromMilli(bal == st.balances.end() ? 0 : bal->second);
    auto esc = st.balances.find(domain::EscrowAccount(u.id));
    v.evaluating = Kudos::FromMilli(esc == st.balances.end() ? 0 : esc->second);
    auto stats = st.user_stats.find(u.id.value());
    if (stats != st.user_stats.end()) {
        v.stats = stats->second;
    }
    for (const auto& [id, w] : st.workers) {
        if (w.owner == u.id) {
            v.worker_ids.push_back(w.id);
        }
    }
    std::sort(v.worker_ids.begin(), v.worker_ids.end());
    v.worker_count = static_cast<int>(v.worker_ids.size());
    // Their queued requests, in queue order, from the per-requester queues (not a scan of all).
    for (const auto kind : {GenKind::kImage, GenKind::kText}) {
        auto q = st.queue_by_user[KindIndex(kind)].find(u.id.value());
        if (q == st.queue_by_user[KindIndex(kind)].end()) {
            continue;
        }
        for (const auto& entry : q->second) {
            (kind == GenKind::kImage ? v.active_image : v.active_text)
                .push_back(entry.second.request->id);
        }
    }
    return v;
}

Result<UserView> HordeService::GetUser(UserId id) const {
    std::shared_lock lock(mu_);
    auto it = state_->users.find(id.value());
    if (it == state_->users.end()) {
        return MakeError(ErrorCode::kUserNotFound,
                         "User with ID '" + std::to_string(id.value()) + "' not found.");
    }
    return UserViewOf(it->second);
}

Result<UserView> HordeService::FindUserByName(const std::string& username) const {
    std::shared_lock lock(mu_);
    for (const auto& [id, u] : state_->users) {
        if (u.username == username) {
            return UserViewOf(u);
        }
    }
    return MakeError(ErrorCode::kUserNotFound, "User with username '" + username + "' not found.");
}

std::vector<UserView> HordeService::ListUsers(int page, const std::string& sort) const {
    std::shared_lock lock(mu_);
    std::vector<UserView> all;
    all.reserve(state_->users.size());
    for (const auto& [id, u] : state_->users) {
        if (!u.deleted) {
            all.push_back(UserViewOf(u));
        }
    }
    if (sort == "age") {
        std::sort(all.begin(), all.end(), [](const UserView& a, const UserView& b) {
            return a.user.id.value() < b.user.id.value();
        });
    } else {
        std::sort(all.begin(), all.end(), [](const UserView& a, const UserView& b) {
            return a.kudos != b.kudos ? a.kudos > b.kudos : a.user.id.value() < b.user.id.value();
        });
    }
    const size_t start = static_cast<size_t>(std::max(0, page - 1)) * kUsersPerPage;
    if (start >= all.size()) {
        return {};
    }
    const size_t end = std::min(all.size(), start + kUsersPerPage);
    return {std::make_move_iterator(all.begin() + static_cast<long>(start)),
            std::make_move_iterator(all.begin() + static_cast<long>(end))};
}

WorkerView HordeService::WorkerViewOf(const domain::Worker& w, TimePoint now) const {
    WorkerView v;
    v.worker = w;
    v.online = SecondsBetween(w.last_check_in, now) <= domain::kWorkerOnlineWindowS;
    auto owner = state_->users.find(w.owner.value());
    if (owner != state_->users.end()) {
        v.owner_name = owner->second.username + "#" + std::to_string(w.owner.value());
        v.owner_trusted = owner->second.trusted;
        v.owner_public_workers = owner->second.public_workers;
    }
    return v;
}

Result<WorkerView> HordeService::GetWorker(const std::string& id) const {
    std::shared_lock lock(mu_);
    auto it = state_->workers.find(id);
    if (it == state_->workers.end()) {
        return MakeError(ErrorCode::kWorkerNotFound, "Worker with ID '" + id + "' not found.");
    }
    return WorkerViewOf(it->second, clock_.Now());
}

Result<WorkerView> HordeService::GetWorkerByName(const std::string& name) const {
    std::shared_lock lock(mu_);
    auto it = state_->worker_by_name.find(AsciiLower(name));
    if (it == state_->worker_by_name.end()) {
        return MakeError(ErrorCode::kWorkerNotFound, "Worker with ID '" + name + "' not found.");
    }
    return WorkerViewOf(state_->workers.at(it->second), clock_.Now());
}

std::vector<WorkerView> HordeService::ListWorkers(std::optional<GenKind> kind,
                                                  const std::string& name) const {
    std::shared_lock lock(mu_);
    const auto now = clock_.Now();
    std::vector<WorkerView> out;
    for (const auto& [id, w] : state_->workers) {
        if (kind && w.kind != *kind) {
            continue;
        }
        if (!name.empty() && AsciiLower(name) != AsciiLower(w.name)) {
            continue;
        }
        auto v = WorkerViewOf(w, now);
        if (v.online) {
            out.push_back(std::move(v));
        }
    }
    std::sort(out.begin(), out.end(), [](const WorkerView& a, const WorkerView& b) {
        return a.worker.name < b.worker.name;
    });
    return out;
}

std::vector<ModelView> HordeService::Models(GenKind kind) const {
    std::shared_lock lock(mu_);
    const auto now = clock_.Now();
    const auto& st = *state_;
    std::map<std::string, ModelView> by_name;
    std::map<std::string, std::pair<double, int>> speeds;
    for (const auto& [id, w] : st.workers) {
        if (w.kind != kind || w.maintenance ||
            SecondsBetween(w.last_check_in, now) > domain::kWorkerOnlineWindowS) {
            continue;
        }
        double speed = 0;
        for (double s : w.speed_samples) {
            speed += s;
        }
        if (!w.speed_samples.empty()) {
            speed /= static_cast<double>(w.speed_samples.size());
        }
        for (const auto& m : w.profile.models) {
            auto& v = by_name[m];
            v.name = m;
            v.kind = kind;
            v.count += w.profile.threads;
            if (!w.speed_samples.empty()) {
                speeds[m].first += speed;
                speeds[m].second += 1;
            }
        }
    }
    for (const auto& [m, totals] : st.model_totals[KindIndex(kind)]) {
        auto& v = by_name[m];
        v.name = m;
        v.kind = kind;
        v.queued_things += totals.things;
        v.jobs += static_cast<int>(totals.jobs);
    }
    std::vector<ModelView> out;
    for (auto& [name, v] : by_name) {
        auto sp = speeds.find(name);
        if (sp != speeds.end() && sp->second.second > 0) {
            v.performance = sp->second.first / sp->second.second;
        }
        if (kind == GenKind::kImage) {
            v.performance /= 1e6;  // megapixelsteps per second
        }
        const double queued = kind == GenKind::kImage ? static_cast<double>(v.queued_things) / 1e6
                                                      : static_cast<double>(v.queued_things);
        v.eta_s = v.count == 0        ? 10000
                  : v.performance > 0 ? static_cast<int>(queued / (v.count * v.performance))
                                      : 0;
        out.push_back(v);
    }
    return out;
}

HordeService::HeartbeatView HordeService::Heartbeat() const {
    std::shared_lock lock(mu_);
    const auto roster = RosterAt(clock_.Now());
    HeartbeatView h;
    h.queued_jobs = state_->totals[0].jobs + state_->totals[1].jobs;
    h.workers = roster->workers[0] + roster->workers[1];
    h.threads = roster->threads[0] + roster->threads[1];
    return h;
}

PerformanceView HordeService::Performance() const {
    std::shared_lock lock(mu_);
    const auto now = clock_.Now();
    const auto& st = *state_;
    const auto roster = RosterAt(now);
    PerformanceView p;
    p.worker_count = roster->workers[0];
    p.thread_count = roster->threads[0];
    p.text_worker_count = roster->workers[1];
    p.text_thread_count = roster->threads[1];
    // Waiting and processing jobs, and the things they stand for.
    const auto& image = st.totals[0];
    const auto& text = st.totals[1];
    p.queued_requests = static_cast<int>(image.jobs + image.processing);
    p.queued_megapixelsteps = static_cast<double>(image.things + image.processing_things) / 1e6;
    p.queued_text_requests = static_cast<int>(text.jobs + text.processing);
    p.queued_tokens = text.things + text.processing_things;
    for (const auto& [t, things] : st.recent[0]) {
        if (SecondsBetween(t, now) <= 60) {
            p.past_minute_megapixelsteps += things / 1e6;
        }
    }
    for (const auto& [t, things] : st.recent[1]) {
        if (SecondsBetween(t, now) <= 60) {
            p.past_minute_tokens += static_cast<int64_t>(things);
        }
    }
    return p;
}

Status HordeService::AcceptUpload(const std::string& job_id, std::string_view bytes) {
    {
        std::shared_lock lock(mu_);
        auto it = state_->jobs.find(job_id);
        if (it == state_->jobs.end() || it->second.kind != GenKind::kImage) {
            return MakeError(ErrorCode::kInvalidJobId,
                             "Processing Job with ID " + job_id + " does not exist.");
        }
        if (it->second.state != domain::JobState::kProcessing) {
            return MakeError(ErrorCode::kDuplicateGen,
                             "Processing Generation with ID " + job_id + " already submitted.");
        }
    }
    return files_.Write(job_id + ".webp", bytes);
}

}  // namespace horde::service
