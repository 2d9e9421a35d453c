// Changes by owners, moderators and admins: worker settings, worker deletion, horde modes.

#include <mutex>

#include "service/horde_service.hpp"
#include "service/state.hpp"

namespace horde::service {

namespace {

constexpr size_t kWorkerNameMaxChars = 100;
constexpr size_t kWorkerNameMinChars = 5;
constexpr size_t kWorkerInfoMaxChars = 1000;
constexpr size_t kMaintenanceMsgMaxChars = 500;

}  // namespace

Result<WorkerView> HordeService::ModifyWorker(const domain::User& caller, const std::string& id,
                                              const WorkerChange& change) {
    if (caller.anonymous) {
        return MakeError(ErrorCode::kAnonForbidden);
    }
    std::unique_lock lock(mu_);
    auto& st = *state_;
    auto it = st.workers.find(id);
    if (it == st.workers.end()) {
        return MakeError(ErrorCode::kWorkerNotFound, "Worker with ID '" + id + "' not found.");
    }
    domain::Worker w = it->second;
    const bool owner = w.owner == caller.id;
    if (!owner && !caller.moderator) {
        return MakeError(ErrorCode::kNotOwner);
    }
    if (change.paused && !caller.moderator) {
        return MakeError(ErrorCode::kNotModerator);
    }
    bool any = false;
    if (change.maintenance) {
        w.maintenance = *change.maintenance;
        any = true;
        if (change.maintenance_msg) {
            if (change.maintenance_msg->size() > kMaintenanceMsgMaxChars) {
                return MakeError(ErrorCode::kValidationFailed,
                                 "'maintenance_msg' must be at most 500 characters",
                                 "maintenance_msg");
            }
            w.maintenance_msg = *change.maintenance_msg;
        }
        if (!w.maintenance) {
            w.maintenance_msg.clear();
        }
    }
    if (change.paused) {
        w.paused = *change.paused;
        any = true;
    }
    if (change.info) {
        if (change.info->size() > kWorkerInfoMaxChars) {
            return MakeError(ErrorCode::kValidationFailed, "'info' must be at most 1000 characters",
                             "info");
        }
        w.info = *change.info;
        any = true;
    }
    if (change.name) {
        if (change.name->size() < kWorkerNameMinChars ||
            change.name->size() > kWorkerNameMaxChars) {
            return MakeError(ErrorCode::kValidationFailed, "'name' must be 5..100 characters",
                             "name");
        }
        auto other = st.worker_by_name.find(AsciiLower(*change.name));
        if (other != st.worker_by_name.end() && other->second != w.id.value()) {
            return MakeError(ErrorCode::kWorkerNameAlreadyExists);
        }
        w.name = *change.name;
        any = true;
    }
    if (!any) {
        return MakeError(ErrorCode::kNoWorkerModSelected);
    }
    store::Batch b;
    b.Add(store::PutWorker{w});
    HORDE_TRY_STATUS(Commit(b));
    return WorkerViewOf(w, clock_.Now());
}

Result<WorkerView> HordeService::DeleteWorker(const domain::User& caller, const std::string& id) {
    if (caller.anonymous) {
        return MakeError(ErrorCode::kAnonForbidden);
    }
    std::unique_lock lock(mu_);
    auto& st = *state_;
    auto it = st.workers.find(id);
    if (it == st.workers.end()) {
        return MakeError(ErrorCode::kWorkerNotFound, "Worker with ID '" + id + "' not found.");
    }
    if (it->second.owner != caller.id && !caller.moderator) {
        return MakeError(ErrorCode::kNotOwner);
    }
    WorkerView v = WorkerViewOf(it->second, clock_.Now());
    store::Batch b;
    b.Add(store::DeleteWorker{it->second.id});
    HORDE_TRY_STATUS(Commit(b));
    st.checkin_written.erase(id);
    return v;
}

Result<HordeService::Modes> HordeService::SetModes(const domain::User& caller,
                                                   std::optional<bool> maintenance,
                                                   std::optional<bool> invite_only,
                                                   std::optional<bool> raid) {
    if (!maintenance && !invite_only && !raid) {
        return MakeError(ErrorCode::kNoHordeModSelected);
    }
    if (maintenance && !caller.admin) {
        return MakeError(ErrorCode::kNotAdmin);
    }
    if ((invite_only || raid) && !caller.moderator) {
        return MakeError(ErrorCode::kNotModerator);
    }
    std::unique_lock lock(mu_);
    auto& st = *state_;
    store::Batch b;
    auto put = [&](const char* key, std::optional<bool> v) {
        if (v) {
            b.Add(store::PutSetting{key, *v ? "1" : "0"});
        }
    };
    put("maintenance", maintenance);
    put("invite_only", invite_only);
    put("raid", raid);
    if (maintenance && *maintenance) {
        // Entering maintenance: queued image requests are handed out no more.
        for (const auto& [key, queued] : st.queue[KindIndex(domain::GenKind::kImage)]) {
            // Like a cancel: jobs already out still finish; the request is done after them.
            domain::Request r = *queued;
            r.n = 0;
            r.jobs = 0;
            r.cancelled = true;
            b.Add(store::PutRequest{r});
        }
    }
    HORDE_TRY_STATUS(Commit(b));
    lock.unlock();
    return GetModes();
}

}  // namespace horde::service
