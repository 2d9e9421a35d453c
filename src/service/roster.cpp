// The roster of online workers: who could serve what, and the speed and thread totals behind ETAs
// and the upfront-kudos thresholds. Rebuilt lazily instead of scanning every worker per call.

#include <mutex>

#include "domain/matching.hpp"
#include "service/horde_service.hpp"
#include "service/state.hpp"

namespace horde::service {

namespace {

constexpr auto kRosterMaxAge = std::chrono::seconds(1);

double MeanSpeed(const domain::Worker& w) {
    if (w.speed_samples.empty()) {
        return 0;
    }
    double s = 0;
    for (double x : w.speed_samples) {
        s += x;
    }
    return s / static_cast<double>(w.speed_samples.size());
}

}  // namespace

std::shared_ptr<const Roster> HordeService::RosterAt(TimePoint now) const {
    const uint64_t epoch = workers_epoch_.load();
    std::lock_guard guard(roster_mu_);
    if (roster_ && roster_->epoch == epoch && now >= roster_->built &&
        now - roster_->built < kRosterMaxAge) {
        return roster_;
    }
    const auto& st = *state_;
    auto r = std::make_shared<Roster>();
    r->built = now;
    r->epoch = epoch;
    for (const auto& [id, w] : st.workers) {
        if (SecondsBetween(w.last_check_in, now) > domain::kWorkerOnlineWindowS) {
            continue;
        }
        const int k = KindIndex(w.kind);
        ++r->workers[k];
        r->threads[k] += w.profile.threads;
        r->speed[k] += MeanSpeed(w);
        if (!w.maintenance) {
            r->available_threads[k] += w.profile.threads;
        }
        if (w.paused) {
            continue;
        }
        auto owner = st.users.find(w.owner.value());
        RosterEntry e{.worker = w,
                      .caps = domain::ResolveCapabilities(w.profile),
                      .owner_trusted = owner != st.users.end() && owner->second.trusted,
                      .slow = IsSlow(w)};
        const size_t index = r->online[k].size();
        for (const auto& m : w.profile.models) {
            r->by_model[k][m].push_back(index);
        }
        r->online[k].push_back(std::move(e));
    }
    roster_ = std::move(r);
    return roster_;
}

bool HordeService::AnyWorkerCouldServe(const domain::Request& r, const Roster& roster) const {
    const auto& st = *state_;
    const int k = KindIndex(r.kind);
    auto requester = st.users.find(r.user.value());
    const bool requester_trusted = requester != st.users.end() && requester->second.trusted;
    const auto traits = r.kind == domain::GenKind::kImage ? domain::ImageModelTraits(r.models)
                                                          : domain::RequestModelTraits{};
    auto could = [&](const RosterEntry& e) {
        domain::MatchContext ctx{
            .worker = e.worker,
            .caps = e.caps,
            .owner_trusted = e.owner_trusted,
            .worker_is_slow = e.slow,
            .worker_tricked = false,
            .requester_trusted = requester_trusted,
            .requester_is_priority = true,  // upfront kudos do not decide possibility
            .requester_available = Kudos(),
            .models = traits,
            .models_prechecked = false,
        };
        return domain::CanGenerate(r, ctx) == domain::SkipReason::kNone;
    };
    if (r.models.empty()) {
        for (const auto& e : roster.online[k]) {
            if (could(e)) {
                return true;
            }
        }
        return false;
    }
    for (const auto& m : r.models) {
        auto it = roster.by_model[k].find(m);
        if (it == roster.by_model[k].end()) {
            continue;
        }
        for (size_t i : it->second) {
            if (could(roster.online[k][i])) {
                return true;
            }
        }
    }
    return false;
}

}  // namespace horde::service
