#include "service/horde_service.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <mutex>

#include "common/random.hpp"
#include "domain/kudos_rules.hpp"
#include "service/secret_keys.hpp"
#include "service/state.hpp"

namespace horde::service {

using domain::GenKind;

namespace {

std::string Hex(const unsigned char* bytes, size_t n) {
    std::string hex(2 * n + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), bytes, n);
    hex.pop_back();
    return hex;
}

std::string UrlMessage(const std::string& name, const std::string& purpose, int64_t expires_unix) {
    return purpose + "\n" + name + "\n" + std::to_string(expires_unix);
}

}  // namespace

QueueKey MakeQueueKey(const domain::Request& r) {
    return {-(r.priority_base_milli - kAgingMilliPerMs * ToUnixMillis(r.created)), r.seq};
}

bool IsQueued(const domain::Request& r) { return r.n > 0 && !r.faulted && !r.cancelled; }

HordeService::HordeService(store::Store& store, store::ResultFiles& files, const Clock& clock,
                           ServiceSettings settings)
    : store_(store),
      files_(files),
      clock_(clock),
      settings_(std::move(settings)),
      state_(std::make_unique<State>()),
      keys_(std::make_unique<const SecretKeys>(settings_.secret)) {}

HordeService::~HordeService() = default;

std::string HordeService::HashKey(std::string_view apikey) const {
    // Keyed BLAKE2b: API keys are long random tokens, so a keyed fast hash is enough and a leaked
    // table cannot be checked against guesses without the server secret.
    std::array<unsigned char, 32> out{};
    crypto_generichash_state hs = keys_->api_key;
    crypto_generichash_update(&hs, reinterpret_cast<const unsigned char*>(apikey.data()),
                              apikey.size());
    crypto_generichash_final(&hs, out.data(), out.size());
    return Hex(out.data(), out.size());
}

Status HordeService::Init() {
    HORDE_TRY(auto snap, store_.Load());
    if (auto counter = store_.ExternalChangeCounter()) {
        external_counter_ = *counter;
    }
    std::unique_lock lock(mu_);
    FillState(std::move(snap));
    auto& st = *state_;
    if (!st.users.contains(0)) {
        domain::User anon;
        anon.id = UserId(0);
        anon.username = "Anonymous";
        anon.anonymous = true;
        anon.concurrency = 500;
        anon.public_workers = true;
        anon.api_key_hash = HashKey("0000000000");
        anon.created = clock_.Now();
        anon.last_active = anon.created;
        store::Batch b;
        b.Add(store::PutUser{anon});
        HORDE_TRY_STATUS(Commit(b));
    }
    spdlog::info("loaded {} users, {} workers, {} requests, {} jobs", st.users.size(),
                 st.workers.size(), st.requests.size(), st.jobs.size());
    return Ok();
}

void HordeService::FillState(store::Snapshot snap) {
    auto& st = *state_;
    for (auto& u : snap.users) {
        st.user_by_key_hash[u.api_key_hash] = u.id.value();
        st.users[u.id.value()] = std::move(u);
    }
    for (auto& w : snap.workers) {
        st.worker_by_name[AsciiLower(w.name)] = w.id.value();
        st.workers[w.id.value()] = std::move(w);
    }
    {
        // Through ApplyToMemory, so the queue, deadline and expiry indexes are built as well.
        store::Batch b;
        for (auto& r : snap.requests) {
            st.next_seq = std::max(st.next_seq, r.seq + 1);
            b.Add(store::PutRequest{std::move(r)});
        }
        for (auto& j : snap.jobs) {
            b.Add(store::PutJob{std::move(j)});
        }
        ApplyToMemory(b);
    }
    for (auto& [acct, milli] : snap.balances_milli) {
        st.balances[acct] = milli;
    }
    for (auto& [uid, stats] : snap.user_stats) {
        st.user_stats[uid] = stats;
    }
    st.settings = snap.settings;
    LoadWebAccounts(st, snap);
    st.next_user_id = std::max<int64_t>(snap.next_user_id, 1);
}

Status HordeService::ReloadState() {
    std::unique_lock lock(mu_);
    // Let every batch queued before this point land first, so memory and store agree.
    Flush();
    HORDE_TRY(auto snap, store_.Load());
    state_ = std::make_unique<State>();
    FillState(std::move(snap));
    ++workers_epoch_;
    spdlog::warn("state reloaded from the store after a failed write");
    return Ok();
}

Status HordeService::Commit(store::Batch& batch) {
    if (batch.empty()) {
        return Ok();
    }
    auto ticket = commits_.Enqueue(batch);
    auto status = commits_.Wait(ticket);
    if (!status.has_value()) {
        spdlog::error("store write failed: {}", status.error().message);
        return status;
    }
    ApplyToMemory(ticket->batch);
    return Ok();
}

void HordeService::Flush() { static_cast<void>(commits_.Wait(commits_.Enqueue(store::Batch{}))); }

void HordeService::LogUnhandled(const std::exception& e) {
    spdlog::error("unhandled exception after a commit: {}", e.what());
}

CommitQueue::Ticket HordeService::CommitAsync(store::Batch& batch) {
    if (batch.empty()) {
        return nullptr;
    }
    ApplyToMemory(batch);
    // Resolve (Wait) or ResolveThen (once the caller's thread is done with what is at hand)
    // wakes the writer.
    return commits_.Enqueue(std::move(batch), CommitQueue::WakeMode::kDeferred);
}

Status HordeService::AwaitDurable(const CommitQueue::Ticket& ticket) {
    if (!ticket) {
        return Ok();
    }
    auto status = commits_.Wait(ticket);
    if (!status.has_value()) {
        spdlog::error("store write failed: {}", status.error().message);
        // Memory already holds the batch: take the store's word for everything again.
        if (auto reloaded = ReloadState(); !reloaded) {
            spdlog::critical("cannot reload the state: {}", reloaded.error().message);
        }
    }
    return status;
}

namespace {

using State = HordeService::State;

/// The entry under `name`, its value default-constructed if absent; copies the name only then.
template <typename V>
auto SlotEntry(ByName<V>& map, std::string_view name) {
    auto it = map.find(name);
    if (it == map.end()) {
        it = map.try_emplace(std::string(name)).first;
    }
    return it;
}

template <typename V>
V& Slot(ByName<V>& map, std::string_view name) {
    return SlotEntry(map, name)->second;
}

/// Adds `n` (negative: removes) of a queued request's jobs to the queue's counters.
void CountQueued(State& st, const domain::Request& r, int64_t n) {
    const int k = KindIndex(r.kind);
    for (const std::string_view m : r.models) {
        auto mt = SlotEntry(st.model_totals[k], m);
        mt->second.jobs += n;
        mt->second.things += r.things * n;
        if (mt->second.jobs <= 0) {
            st.model_totals[k].erase(mt);
        }
        if (r.user.value() == 0) {
            auto a = SlotEntry(st.anon_queued_by_model[k], m);
            if ((a->second += n) <= 0) {
                st.anon_queued_by_model[k].erase(a);
            }
        }
    }
    st.totals[k].jobs += n;
    st.totals[k].things += r.things * n;
    auto u = st.queued_by_user[k].try_emplace(r.user.value()).first;
    if ((u->second += n) <= 0) {
        st.queued_by_user[k].erase(u);
    }
}

/// Adds a queued request (a node of st.requests) to the queue indexes and counters.
void Enqueue(State& st, const domain::Request& r) {
    const int k = KindIndex(r.kind);
    const QueueKey key = MakeQueueKey(r);
    const QueuedRef ref = MakeQueuedRef(r);
    st.queue[k].insert({key, &r});
    if (r.models.empty()) {
        st.any_model[k].insert({key, ref});
    }
    st.queue_by_user[k][r.user.value()].insert({key, ref});
    size_t i = 0;
    uint64_t listed_before = 0;  // WideModelBit filter of the models listed before `it`
    uint64_t first_hash = 0;     // ModelNameHash of the first listed model
    for (auto it = r.models.begin(); it != r.models.end(); ++it, ++i) {
        const std::string_view m = *it;
        if (std::find(r.models.begin(), it, m) == it) {
            // The queue of the first listed model counts the request when a pop finds nothing;
            // the later ones defer to it (see deferred_by_model).
            QueuedRef entry = ref;
            entry.deferred = i > 0;
            entry.listed_index = static_cast<uint16_t>(std::min<size_t>(i, UINT16_MAX));
            Slot(st.queue_by_model[k], m).insert({key, entry});
            if (entry.deferred) {
                Slot(st.deferred_by_model[k], m)
                    .Add(DeferredRef{key, entry, i == 1 ? first_hash : listed_before});
            }
        }
        const uint64_t hash = ModelNameHash(m);
        first_hash = i == 0 ? hash : first_hash;
        listed_before |= WideModelBitOfHash(hash);
    }
    CountQueued(st, r, r.n);
}

/// Removes a queued request from the queue indexes and counters (the inverse of Enqueue).
void Dequeue(State& st, const domain::Request& r) {
    const int k = KindIndex(r.kind);
    const QueueKey key = MakeQueueKey(r);
    st.queue[k].erase(key);
    if (r.models.empty()) {
        st.any_model[k].erase(key);
    }
    if (auto q = st.queue_by_user[k].find(r.user.value()); q != st.queue_by_user[k].end()) {
        q->second.erase(key);
        if (q->second.empty()) {
            st.queue_by_user[k].erase(q);
        }
    }
    bool first = true;  // the first listed model's queue holds no deferred entry
    for (const std::string_view m : r.models) {
        auto q = st.queue_by_model[k].find(m);
        if (q != st.queue_by_model[k].end()) {
            q->second.erase(key);
            if (q->second.empty()) {
                st.queue_by_model[k].erase(q);
            }
        }
        if (auto mq = first ? st.deferred_by_model[k].end() : st.deferred_by_model[k].find(m);
            mq != st.deferred_by_model[k].end()) {
            mq->second.Remove(key);
            if (mq->second.empty()) {
                st.deferred_by_model[k].erase(mq);
            }
        }
        first = false;
    }
    CountQueued(st, r, -int64_t{r.n});
}

TimePoint DeadlineOf(const domain::Job& j) { return j.start + std::chrono::seconds(j.ttl_s); }

int64_t ThingsOfRequest(const State& st, const domain::Job& j) {
    auto it = st.requests.find(KeyOf(j.request.value()));
    return it == st.requests.end() ? 0 : it->second.things;
}

/// Adds (sign +1) or removes (sign −1) a processing job from the deadline index and counters.
void TrackProcessing(State& st, const domain::Job& j, int sign) {
    if (j.state != domain::JobState::kProcessing) {
        return;
    }
    if (sign > 0) {
        st.deadlines.insert({DeadlineOf(j), &j});
    } else {
        st.deadlines.erase({DeadlineOf(j), &j});
    }
    auto& t = st.totals[KindIndex(j.kind)];
    t.processing += sign;
    t.processing_things += sign * ThingsOfRequest(st, j);
}

/// Adds or replaces a job in memory (a PutJob, or a job its ClaimSlots hands out).
void PutJobInMemory(State& st, const domain::Job& j) {
    auto it = st.jobs.find(j.id.value());
    if (it != st.jobs.end()) {
        TrackProcessing(st, it->second, -1);
        it->second = j;
    } else {
        st.jobs_by_request[j.request.value()].push_back(j.id.value());
        it = st.jobs.emplace(j.id.value(), j).first;
    }
    TrackProcessing(st, it->second, +1);
}

/// Whether a worker change matters to the roster (who is online and what they can do).
bool RosterRelevant(const domain::Worker& a, const domain::Worker& b) {
    return a.profile != b.profile || a.paused != b.paused || a.maintenance != b.maintenance ||
           a.owner != b.owner || a.kind != b.kind;
}

}  // namespace

void HordeService::ApplyToMemory(const store::Batch& batch) {
    auto& st = *state_;
    for (const auto& m : batch.mutations) {
        if (const auto* pu = std::get_if<store::PutUser>(&m)) {
            auto it = st.users.find(pu->user.id.value());
            if (it != st.users.end() && it->second.api_key_hash != pu->user.api_key_hash) {
                st.user_by_key_hash.erase(it->second.api_key_hash);
            }
            if (it != st.users.end() && it->second.trusted != pu->user.trusted) {
                ++workers_epoch_;  // owner trust is part of the roster
            }
            st.user_by_key_hash[pu->user.api_key_hash] = pu->user.id.value();
            st.users[pu->user.id.value()] = pu->user;
            st.next_user_id = std::max(st.next_user_id, pu->user.id.value() + 1);
        } else if (const auto* pw = std::get_if<store::PutWorker>(&m)) {
            auto it = st.workers.find(pw->worker.id.value());
            if (it != st.workers.end() &&
                AsciiLower(it->second.name) != AsciiLower(pw->worker.name)) {
                st.worker_by_name.erase(AsciiLower(it->second.name));
            }
            if (it == st.workers.end() || RosterRelevant(it->second, pw->worker)) {
                ++workers_epoch_;
            }
            st.worker_by_name[AsciiLower(pw->worker.name)] = pw->worker.id.value();
            st.workers[pw->worker.id.value()] = pw->worker;
        } else if (const auto* dw = std::get_if<store::DeleteWorker>(&m)) {
            auto it = st.workers.find(dw->id.value());
            if (it != st.workers.end()) {
                st.worker_by_name.erase(AsciiLower(it->second.name));
                st.workers.erase(it);
                ++workers_epoch_;
            }
        } else if (const auto* pr = std::get_if<store::PutRequest>(&m)) {
            const auto& r = pr->request;
            auto it = st.requests.find(KeyOf(r.id.value()));
            if (it != st.requests.end()) {
                const domain::Request& old = it->second;
                st.holds_milli[old.user.value()] -= old.hold.milli();
                if (IsQueued(old)) {
                    Dequeue(st, old);
                }
                st.expiries.Remove(old);
                it->second = r;
            } else {
                it = st.requests.emplace(KeyOf(r.id.value()), r).first;
            }
            // The params stay in the store only (read back when a worker pops the request), and
            // so do where the request came from (kept for the records, never read back).
            it->second.params_json.clear();
            it->second.client_agent.clear();
            it->second.ipaddr.clear();
            const domain::Request& cur = it->second;
            st.holds_milli[cur.user.value()] += cur.hold.milli();
            if (IsQueued(cur)) {
                Enqueue(st, cur);
            }
            st.expiries.Add(cur);
        } else if (const auto* cs = std::get_if<store::ClaimSlots>(&m)) {
            auto it = st.requests.find(KeyOf(cs->request.value()));
            if (it == st.requests.end()) {
                continue;
            }
            domain::Request& cur = it->second;
            const bool was_queued = IsQueued(cur);
            if (was_queued && cs->n > 0) {
                // Still queued: its queue entries stay (neither its place nor what it needs
                // depends on n), only the counters change.
                CountQueued(st, cur, int64_t{cs->n} - cur.n);
            } else if (was_queued) {
                Dequeue(st, cur);
            }
            st.expiries.Remove(cur);
            cur.n = cs->n;
            cur.expiry = cs->expiry;
            if (!was_queued && IsQueued(cur)) {
                Enqueue(st, cur);
            }
            st.expiries.Add(cur);
            for (const auto& j : cs->jobs) {
                PutJobInMemory(st, j);
            }
        } else if (const auto* dr = std::get_if<store::DeleteRequest>(&m)) {
            auto it = st.requests.find(KeyOf(dr->id.value()));
            if (it == st.requests.end()) {
                continue;
            }
            const domain::Request& old = it->second;
            st.holds_milli[old.user.value()] -= old.hold.milli();
            if (IsQueued(old)) {
                Dequeue(st, old);
            }
            st.expiries.Remove(old);
            auto jobs = st.jobs_by_request.find(dr->id.value());
            if (jobs != st.jobs_by_request.end()) {
                for (const auto& jid : jobs->second) {
                    auto j = st.jobs.find(jid);
                    if (j != st.jobs.end()) {
                        TrackProcessing(st, j->second, -1);
                        st.jobs.erase(j);
                    }
                }
                st.jobs_by_request.erase(jobs);
            }
            st.requests.erase(it);
        } else if (const auto* pj = std::get_if<store::PutJob>(&m)) {
            PutJobInMemory(st, pj->job);
        } else if (const auto* pe = std::get_if<store::PostEntry>(&m)) {
            for (const auto& p : pe->entry.postings) {
                st.balances[p.account] += p.amount.milli();
                const int64_t uid = domain::AccountUser(p.account);
                if (uid >= 0 && p.stat != domain::KudosStat::kNone) {
                    st.user_stats[uid]["kudos." + std::string(domain::KudosStatName(p.stat))] +=
                        p.amount.ToDouble();
                }
            }
        } else if (const auto* as = std::get_if<store::AddUserStat>(&m)) {
            st.user_stats[as->user.value()][as->stat] += as->delta;
        } else if (const auto* ps = std::get_if<store::PutSetting>(&m)) {
            st.settings[ps->key] = ps->value;
        }
    }
}

Result<domain::User> HordeService::Authenticate(std::string_view apikey) const {
    if (apikey.empty()) {
        return MakeError(ErrorCode::kInvalidApiKey);
    }
    const std::string hash = HashKey(apikey);
    std::shared_lock lock(mu_);
    auto it = state_->user_by_key_hash.find(hash);
    if (it == state_->user_by_key_hash.end()) {
        return MakeError(ErrorCode::kInvalidApiKey);
    }
    const auto& user = state_->users.at(it->second);
    // The map lookup found the candidate; compare the stored hash in constant time as well.
    if (user.api_key_hash.size() != hash.size() ||
        sodium_memcmp(user.api_key_hash.data(), hash.data(), hash.size()) != 0) {
        return MakeError(ErrorCode::kInvalidApiKey);
    }
    if (user.deleted) {
        return MakeError(ErrorCode::kDeletedUser);
    }
    return user;
}

Result<HordeService::CreatedUser> HordeService::CreateUser(const std::string& username, Kudos kudos,
                                                           bool trusted, bool moderator,
                                                           bool admin) {
    if (username.empty() || username.size() > 100) {
        return MakeError(ErrorCode::kValidationFailed, "username must be 1..100 characters",
                         "username");
    }
    std::unique_lock lock(mu_);
    auto& st = *state_;
    const auto now = clock_.Now();
    domain::User u;
    u.id = UserId(st.next_user_id);
    u.username = username;
    u.trusted = trusted || moderator || admin;
    u.moderator = moderator || admin;
    u.admin = admin;
    u.created = now;
    u.last_active = now;
    const std::string key = NewToken(22);
    u.api_key_hash = HashKey(key);
    store::Batch b;
    b.Add(store::PutUser{u});
    if (kudos != Kudos()) {
        b.Add(store::PostEntry{domain::GrantEntry("grant:initial:" + std::to_string(u.id.value()),
                                                  domain::EntryKind::kAdmin, u.id, kudos, now,
                                                  "initial kudos")});
    }
    HORDE_TRY_STATUS(Commit(b));
    return CreatedUser{u, key};
}

Result<HordeService::CreatedUser> HordeService::ResetKey(UserId id) {
    std::unique_lock lock(mu_);
    auto it = state_->users.find(id.value());
    if (it == state_->users.end() || it->second.anonymous) {
        return MakeError(ErrorCode::kUserNotFound);
    }
    domain::User u = it->second;
    const std::string key = NewToken(22);
    u.api_key_hash = HashKey(key);
    store::Batch b;
    b.Add(store::PutUser{u});
    HORDE_TRY_STATUS(Commit(b));
    return CreatedUser{u, key};
}

std::string HordeService::SignUrl(const std::string& name, const std::string& purpose,
                                  int64_t expires_unix) const {
    const std::string msg = UrlMessage(name, purpose, expires_unix);
    std::array<unsigned char, 32> mac{};
    crypto_generichash_state hs = keys_->url;
    crypto_generichash_update(&hs, reinterpret_cast<const unsigned char*>(msg.data()), msg.size());
    crypto_generichash_final(&hs, mac.data(), mac.size());
    return Hex(mac.data(), mac.size());
}

int64_t HordeService::UrlExpiry() const {
    return ToUnixMillis(clock_.Now()) / 1000 + settings_.url_validity_s;
}

Status HordeService::VerifyUrl(const std::string& name, const std::string& purpose,
                               int64_t expires_unix, const std::string& signature) const {
    auto matches = [&](const std::string& expected) {
        return signature.size() == expected.size() &&
               sodium_memcmp(signature.data(), expected.data(), expected.size()) == 0;
    };
    // Signatures made before the keyed BLAKE2b (HMAC-SHA256 of the same message) stay valid
    // until they expire, so that a job popped before an upgrade can still upload its result.
    auto earlier = [&] {
        const std::string msg = UrlMessage(name, purpose, expires_unix);
        std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
        crypto_auth_hmacsha256_state hs = keys_->url_hmac;
        crypto_auth_hmacsha256_update(&hs, reinterpret_cast<const unsigned char*>(msg.data()),
                                      msg.size());
        crypto_auth_hmacsha256_final(&hs, mac.data());
        return Hex(mac.data(), mac.size());
    };
    if (!matches(SignUrl(name, purpose, expires_unix)) && !matches(earlier())) {
        return MakeError(ErrorCode::kInvalidSignature);
    }
    if (ToUnixMillis(clock_.Now()) / 1000 > expires_unix) {
        return MakeError(ErrorCode::kInvalidSignature, "This URL has expired.");
    }
    return Ok();
}

Kudos HordeService::BalanceOf(UserId id) const {
    auto it = state_->balances.find(domain::UserAccount(id));
    return Kudos::FromMilli(it == state_->balances.end() ? 0 : it->second);
}

Kudos HordeService::AvailableOf(const domain::User& u) const {
    auto h = state_->holds_milli.find(u.id.value());
    const Kudos holds = Kudos::FromMilli(h == state_->holds_milli.end() ? 0 : h->second);
    return domain::AvailableKudos(BalanceOf(u.id), domain::BalanceFloor(u), holds);
}

Kudos HordeService::ForgivenFor(const domain::User& u, Kudos debit) const {
    return domain::ForgivenByFloor(BalanceOf(u.id), debit, domain::BalanceFloor(u));
}

HordeService::Modes HordeService::GetModes() const {
    std::shared_lock lock(mu_);
    Modes m;
    auto get = [&](const char* key) {
        auto it = state_->settings.find(key);
        return it != state_->settings.end() && it->second == "1";
    };
    m.maintenance = get("maintenance");
    m.invite_only = get("invite_only");
    m.raid = get("raid");
    return m;
}

}  // namespace horde::service

namespace horde::service {

Result<HordeService::TestUser> HordeService::UpsertTestUser(const std::string& username,
                                                            const std::string& oauth_id,
                                                            bool moderator, bool trusted,
                                                            std::optional<int64_t> kudos) {
    std::unique_lock lock(mu_);
    auto& st = *state_;
    const auto now = clock_.Now();
    domain::User u;
    bool created = true;
    for (const auto& [id, existing] : st.users) {
        if (!existing.anonymous && existing.oauth_id == oauth_id) {
            u = existing;
            created = false;
            break;
        }
    }
    if (created) {
        u.id = UserId(st.next_user_id);
        u.oauth_id = oauth_id;
        u.created = now;
        // As in the reference, an account whose login id is a UUID has no OAuth provider.
        u.pseudonymous = IsUuid(oauth_id);
    }
    u.username = username;
    u.last_active = now;
    u.moderator = moderator;
    u.trusted = moderator || trusted;
    const std::string key = NewToken(22);
    u.api_key_hash = HashKey(key);
    store::Batch b;
    b.Add(store::PutUser{u});
    auto bal = st.balances.find(domain::UserAccount(u.id));
    const Kudos current = Kudos::FromMilli(bal == st.balances.end() ? 0 : bal->second);
    Kudos final_balance = current;
    if (kudos) {
        const Kudos target = Kudos::FromWhole(*kudos);
        if (target != current) {
            b.Add(store::PostEntry{domain::GrantEntry(
                "test-user:" + std::to_string(u.id.value()) + ":" + NewUuid(),
                domain::EntryKind::kAdmin, u.id, target - current, now, "test-user balance")});
            final_balance = target;
        }
    }
    HORDE_TRY_STATUS(Commit(b));
    return TestUser{u, key, final_balance, created};
}

}  // namespace horde::service
