// The kudos economy's use cases: upfront kudos, transfers, awards, user edits by moderators.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "common/random.hpp"
#include "domain/kudos_rules.hpp"
#include "domain/pricing.hpp"
#include "service/horde_service.hpp"
#include "service/state.hpp"

namespace horde::service {

using domain::GenKind;

namespace {

constexpr int kTransferPingPongWindowS = 60;
constexpr int kDowngradeMinSide = 512;
constexpr int kDowngradeMinSteps = 5;

std::string FloorKudos(Kudos k) {
    return std::to_string(static_cast<int64_t>(std::floor(k.ToDouble())));
}

std::string WholeKudos(Kudos k) {
    return std::to_string(static_cast<int64_t>(std::ceil(k.ToDouble())));
}

void DowngradeImage(domain::ImageShape& shape, int max_res) {
    const double pixels = static_cast<double>(shape.width) * shape.height;
    const double limit = static_cast<double>(max_res) * max_res;
    if (pixels > limit) {
        const double f = std::sqrt(limit / pixels);
        shape.width = std::max(kDowngradeMinSide, static_cast<int>(shape.width * f) / 64 * 64);
        shape.height = std::max(kDowngradeMinSide, static_cast<int>(shape.height * f) / 64 * 64);
    }
    int step_limit = 30;
    if (!shape.control_type.empty()) {
        step_limit = 20;
    }
    if (shape.sampler_name == "lcm") {
        step_limit = 10;
    }
    while (domain::AccurateSteps(shape) > step_limit && shape.steps > kDowngradeMinSteps) {
        --shape.steps;
    }
}

}  // namespace

Status HordeService::ApplyUpfront(domain::Request& r, const domain::User& u, bool allow_downgrade) {
    const auto& st = *state_;
    const int k = KindIndex(r.kind);
    const int threads = RosterAt(clock_.Now())->available_threads[k];
    const int queued = static_cast<int>(st.totals[k].jobs);
    Kudos amount;
    bool needs = false;
    int max_res = 0;
    int max_tokens = 0;
    if (r.kind == GenKind::kImage) {
        const auto baseline =
            domain::ImageModelBaseline(r.models.empty() ? "SDXL 1.0" : r.models.front());
        max_res = domain::ImageMaxResolution(threads, queued, baseline);
        needs = domain::ImageNeedsUpfront(r.image, r.slow_workers, domain::kDefaultModelMaxSteps,
                                          max_res);
        amount = domain::ImageEstimate(
            r.kudos_per_job, r.jobs, domain::FamilyEstimateMultiplier(baseline),
            r.image.has_source_image, r.image.post_processing, r.slow_workers, r.worker_blacklist);
    } else {
        max_tokens = domain::TextMaxTokens(threads, queued);
        needs = domain::TextNeedsUpfront(r.slow_workers, r.text.max_length, threads, queued);
        std::optional<double> p_max;
        for (const auto& m : r.models) {
            if (auto p = domain::TextModelParamsBillions(m)) {
                p_max = std::max(p_max.value_or(0), *p);
            }
        }
        amount = domain::TextUpfrontAmount(p_max, r.text.max_length, r.jobs);
    }
    if (!needs) {
        return Ok();
    }
    if (AvailableOf(u) >= amount) {
        r.hold = amount;
        return Ok();
    }
    if (allow_downgrade) {
        if (r.kind == GenKind::kImage) {
            DowngradeImage(r.image, std::max(max_res, kDowngradeMinSide));
            r.slow_workers = true;
            r.kudos_per_job = domain::ImageBasePrice(r.image);
            r.things = static_cast<int64_t>(r.image.width) * r.image.height *
                       domain::AccurateSteps(r.image);
        } else {
            r.text.max_length = std::min(r.text.max_length, max_tokens);
            r.slow_workers = true;
            r.things = r.text.max_length;
        }
        return Ok();
    }
    if (r.kind == GenKind::kImage) {
        return MakeError(
            ErrorCode::kKudosUpfront,
            "Due to heavy demand, requests over " + std::to_string(max_res) + "x" +
                std::to_string(max_res) +
                ", over 40 steps (half that for second-order samplers, 10 for LCM), with "
                "ControlNet over 20 steps, or with slow_workers disabled need the kudos upfront. "
                "This request requires " +
                WholeKudos(amount) + " kudos and you have " + WholeKudos(AvailableOf(u)) +
                " available. Send allow_downgrade to have it shrunk instead.");
    }
    return MakeError(ErrorCode::kKudosUpfront,
                     "Due to heavy demand, requests over " + std::to_string(max_tokens) +
                         " tokens or with slow_workers disabled need the kudos upfront. This "
                         "request requires " +
                         WholeKudos(amount) + " kudos. Send allow_downgrade to have it shrunk.");
}

}  // namespace horde::service

namespace horde::service {

namespace {

std::optional<int64_t> AliasId(const std::string& alias) {
    const auto hash = alias.rfind('#');
    if (hash == std::string::npos || hash + 1 >= alias.size()) {
        return std::nullopt;
    }
    int64_t id = 0;
    for (size_t i = hash + 1; i < alias.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(alias[i])) || id > 1'000'000'000'000LL) {
            return std::nullopt;
        }
        id = id * 10 + (alias[i] - '0');
    }
    return id;
}

}  // namespace

const domain::User* HordeService::FindUserByAlias(const std::string& alias) const {
    const auto& st = *state_;
    if (auto id = AliasId(alias)) {
        auto it = st.users.find(*id);
        return it == st.users.end() ? nullptr : &it->second;
    }
    const domain::User* found = nullptr;
    for (const auto& [id, u] : st.users) {
        if (u.username == alias) {
            if (found != nullptr) {
                return nullptr;  // ambiguous without the #id
            }
            found = &u;
        }
    }
    return found;
}

Result<Kudos> HordeService::Transfer(const domain::User& source, const std::string& username,
                                     int64_t amount, const std::string& idempotency_key) {
    if (source.anonymous) {
        return MakeError(ErrorCode::kKudosTransferFromAnon);
    }
    std::unique_lock lock(mu_);
    auto& st = *state_;
    const auto now = clock_.Now();
    const domain::User* dest = FindUserByAlias(username);
    if (dest == nullptr) {
        return MakeError(ErrorCode::kInvalidTargetUsername);
    }
    if (dest->anonymous) {
        return MakeError(ErrorCode::kKudosTransferToAnon);
    }
    if (dest->id == source.id) {
        return MakeError(ErrorCode::kKudosTransferToSelf);
    }
    // A retry with the same Idempotency-Key and body answers like the first call.
    const std::string idem_marker =
        idempotency_key.empty()
            ? std::string()
            : "idem:" + std::to_string(source.id.value()) + ":" + idempotency_key;
    const std::string entry_key = idempotency_key.empty()
                                      ? "transfer:" + NewUuid()
                                      : idem_marker + "|to=" + std::to_string(dest->id.value()) +
                                            "|amount=" + std::to_string(amount);
    if (!idempotency_key.empty()) {
        HORDE_TRY(const bool replay, store_.HasEntry(entry_key));
        if (replay) {
            return Kudos::FromWhole(amount);
        }
        HORDE_TRY(const bool used, store_.HasEntry(idem_marker));
        if (used) {
            return MakeError(ErrorCode::kIdempotencyKeyConflict);
        }
    }
    auto recent = st.recent_transfers.find({dest->id.value(), source.id.value()});
    if (recent != st.recent_transfers.end() &&
        SecondsBetween(recent->second, now) < kTransferPingPongWindowS) {
        return MakeError(ErrorCode::kTooFastKudosTransfers);
    }
    if (source.flagged) {
        return MakeError(ErrorCode::kSourceAccountFlagged);
    }
    if (dest->flagged) {
        return MakeError(ErrorCode::kTargetAccountFlagged);
    }
    if (dest->deleted) {
        return MakeError(ErrorCode::kDeletedUser,
                         "The destination account is scheduled for deletion and is disabled.");
    }
    if (source.deleted) {
        return MakeError(ErrorCode::kDeletedUser);
    }
    if (amount < 0) {
        return MakeError(ErrorCode::kNegativeKudosTransfer);
    }
    if (amount == 0) {
        return MakeError(ErrorCode::kInvalidKudosTransferAmount);
    }
    const Kudos k = Kudos::FromWhole(amount);
    if (AvailableOf(source) < k) {
        return MakeError(ErrorCode::kKudosTransferNotEnough,
                         "You have " + FloorKudos(std::max(Kudos(), AvailableOf(source))) +
                             " kudos available to send (your balance minus its floor of " +
                             WholeKudos(domain::BalanceFloor(source)) + " and upfront holds).");
    }
    store::Batch b;
    b.Add(store::PostEntry{domain::TransferEntry(entry_key, source.id, dest->id, k, now)});
    if (!idem_marker.empty()) {
        b.Add(store::PostEntry{domain::AuditEntry(idem_marker, now, "transfer idempotency key")});
    }
    HORDE_TRY_STATUS(Commit(b));
    st.recent_transfers[{source.id.value(), dest->id.value()}] = now;
    for (auto it = st.recent_transfers.begin(); it != st.recent_transfers.end();) {
        it = SecondsBetween(it->second, now) > kTransferPingPongWindowS
                 ? st.recent_transfers.erase(it)
                 : std::next(it);
    }
    return k;
}

void HordeService::GrantMonthlyKudos(TimePoint now) {
    constexpr auto kMonth = std::chrono::hours(24 * 30);
    std::unique_lock lock(mu_);
    store::Batch b;
    for (const auto& [id, u] : state_->users) {
        if (u.monthly_kudos <= Kudos() || u.anonymous || u.deleted ||
            now - u.monthly_kudos_last < kMonth) {
            continue;
        }
        domain::User changed = u;
        changed.monthly_kudos_last = now;
        b.Add(store::PutUser{changed});
        b.Add(store::PostEntry{domain::GrantEntry(
            "monthly:" + std::to_string(id) + ":" + std::to_string(ToUnixMillis(now)),
            domain::EntryKind::kRecurring, u.id, u.monthly_kudos, now, "monthly kudos")});
    }
    if (auto s = Commit(b); !s) {
        spdlog::error("monthly kudos not granted: {}", s.error().message);
    }
}

Result<Kudos> HordeService::Award(const domain::User& caller, const std::string& username,
                                  Kudos amount) {
    if (!caller.admin && caller.id.value() != 1) {
        return MakeError(ErrorCode::kNotAllowedAwards);
    }
    std::unique_lock lock(mu_);
    const domain::User* dest = FindUserByAlias(username);
    if (dest == nullptr) {
        return MakeError(ErrorCode::kInvalidAwardUsername);
    }
    if (dest->anonymous) {
        return MakeError(ErrorCode::kKudosAwardToAnon);
    }
    if (dest->flagged) {
        return MakeError(ErrorCode::kTargetAccountFlagged);
    }
    if (amount <= Kudos()) {
        return MakeError(ErrorCode::kInvalidKudosTransferAmount,
                         "An award must be a positive amount of kudos.");
    }
    store::Batch b;
    b.Add(store::PostEntry{
        domain::GrantEntry("award:" + NewUuid(), domain::EntryKind::kAward, dest->id, amount,
                           clock_.Now(), "award by user " + std::to_string(caller.id.value()))});
    HORDE_TRY_STATUS(Commit(b));
    return amount;
}

Result<HordeService::UserChangeResult> HordeService::ModifyUser(const domain::User& caller,
                                                                UserId target,
                                                                const UserChange& c) {
    if (caller.anonymous) {
        return MakeError(ErrorCode::kAnonForbidden);
    }
    const bool is_self = caller.id == target;
    const bool admin_fields = c.kudos || c.moderator || c.usage_multiplier || c.monthly_kudos;
    const bool mod_fields = c.concurrency || c.worker_invited || c.trusted || c.flagged ||
                            c.customizer || c.vpn || c.service || c.education || c.special ||
                            c.admin_comment || c.reset_suspicion;
    const bool self_fields = c.public_workers || c.username || c.contact;
    if (!admin_fields && !mod_fields && !self_fields) {
        return MakeError(ErrorCode::kNoUserModSelected);
    }
    if (admin_fields && !caller.admin) {
        return MakeError(ErrorCode::kNotAdmin);
    }
    if (mod_fields && !caller.moderator) {
        return MakeError(ErrorCode::kNotModerator);
    }
    if (self_fields && !is_self && !caller.moderator) {
        return MakeError(ErrorCode::kNotOwner);
    }
    std::unique_lock lock(mu_);
    auto& st = *state_;
    auto it = st.users.find(target.value());
    if (it == st.users.end() || (it->second.anonymous && (admin_fields || self_fields))) {
        return MakeError(ErrorCode::kUserNotFound,
                         "User with ID '" + std::to_string(target.value()) + "' not found.");
    }
    const auto now = clock_.Now();
    domain::User u = it->second;
    store::Batch b;
    UserChangeResult out;
    std::string memo = "by user " + std::to_string(caller.id.value()) + ":";
    if (c.kudos) {
        b.Add(store::PostEntry{
            domain::GrantEntry("admin:" + NewUuid(), domain::EntryKind::kAdmin, u.id, *c.kudos, now,
                               "adjustment by user " + std::to_string(caller.id.value()))});
        out.new_kudos = BalanceOf(u.id) + *c.kudos;
    }
    if (c.moderator) {
        u.moderator = *c.moderator;
        u.trusted = u.trusted || u.moderator;
        memo += " moderator=" + std::string(*c.moderator ? "true" : "false");
    }
    if (c.trusted) {
        u.trusted = *c.trusted || u.moderator;
        memo += " trusted=" + std::string(*c.trusted ? "true" : "false");
    }
    if (c.flagged) {
        u.flagged = *c.flagged;
        memo += " flagged=" + std::string(*c.flagged ? "true" : "false");
    }
    if (c.concurrency) {
        u.concurrency = *c.concurrency;
        memo += " concurrency=" + std::to_string(*c.concurrency);
    }
    if (c.worker_invited) {
        u.worker_invited = *c.worker_invited;
        memo += " worker_invited=" + std::to_string(*c.worker_invited);
    }
    if (c.public_workers) {
        u.public_workers = *c.public_workers;
        memo += " public_workers=" + std::string(*c.public_workers ? "true" : "false");
    }
    if (c.username) {
        u.username = *c.username;
        memo += " username=" + *c.username;
    }
    if (c.contact) {
        u.contact = *c.contact;
        memo += " contact changed";
    }
    if (c.usage_multiplier) {
        u.usage_multiplier = *c.usage_multiplier;
        memo += " usage_multiplier=" + std::to_string(*c.usage_multiplier);
    }
    if (c.monthly_kudos) {
        // Setting monthly kudos also grants the first month now.
        u.monthly_kudos = *c.monthly_kudos;
        memo += " monthly_kudos=" + std::to_string(c.monthly_kudos->milli()) + "m";
        if (*c.monthly_kudos > Kudos()) {
            b.Add(store::PostEntry{domain::GrantEntry(
                "monthly:" + std::to_string(u.id.value()) + ":" + NewUuid(),
                domain::EntryKind::kRecurring, u.id, *c.monthly_kudos, now, "monthly kudos")});
            u.monthly_kudos_last = now;
        }
    }
    auto flag = [&](const std::optional<bool>& v, bool& field, const char* name) {
        if (v) {
            field = *v;
            memo += std::string(" ") + name + "=" + (*v ? "true" : "false");
        }
    };
    flag(c.customizer, u.customizer, "customizer");
    flag(c.vpn, u.vpn, "vpn");
    flag(c.service, u.service, "service");
    flag(c.special, u.special, "special");
    if (c.education) {
        u.education = *c.education;
        memo += std::string(" education=") + (*c.education ? "true" : "false");
        if (!c.concurrency) {
            u.concurrency = *c.education ? 200 : 30;  // as the reference does
        }
    }
    if (c.admin_comment) {
        u.admin_comment = *c.admin_comment;
        memo += " admin_comment changed";
    }
    if (c.reset_suspicion) {
        memo += " reset_suspicion";
    }
    // Becoming trusted releases the evaluation escrow (§4.7).
    if (u.trusted && !it->second.trusted) {
        auto esc = st.balances.find(domain::EscrowAccount(u.id));
        if (esc != st.balances.end() && esc->second > 0) {
            b.Add(store::PostEntry{domain::ReleaseEntry("release:" + NewUuid(), u.id,
                                                        Kudos::FromMilli(esc->second), now)});
        }
    }
    b.Add(store::PutUser{u});
    b.Add(store::PostEntry{domain::AuditEntry(
        "audit:" + NewUuid(), now, "user " + std::to_string(u.id.value()) + " " + memo)});
    HORDE_TRY_STATUS(Commit(b));
    out.user = u;
    return out;
}

}  // namespace horde::service
