#include "testing/memory_store.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <variant>

namespace horde::testing {

/// The store's tables. Rows that SQLite returns in insertion (rowid) order carry their rowid.
struct MemoryStore::Tables {
    template <typename T>
    struct Row {
        int64_t rowid = 0;
        T value;
    };

    std::map<int64_t, domain::User> users;
    std::map<std::string, Row<domain::Worker>> workers;
    std::map<std::string, domain::Request> requests;
    std::map<std::string, Row<domain::Job>> jobs;
    std::vector<domain::LedgerEntry> entries;
    std::set<std::string> entry_keys;
    std::map<std::string, int64_t> balances;
    std::map<int64_t, std::map<std::string, double>> user_stats;
    std::map<std::string, std::string> settings;
    std::map<std::string, domain::WebSession> sessions;
    std::map<std::string, domain::Invite> invites;
    int64_t next_rowid = 1;
};

namespace {

using Tables = MemoryStore::Tables;

Error ConstraintFailed(const std::string& what) {
    return MakeError(ErrorCode::kStoreUnavailable, "constraint failed: " + what);
}

Status ApplyOne(Tables& t, const store::PutUser& m) {
    const domain::User& u = m.user;
    if (!u.api_key_hash.empty()) {
        for (const auto& [id, other] : t.users) {
            if (id != u.id.value() && other.api_key_hash == u.api_key_hash) {
                return ConstraintFailed("users.api_key_hash");
            }
        }
    }
    t.users[u.id.value()] = u;
    return Ok();
}

Status ApplyOne(Tables& t, const store::PutWorker& m) {
    const domain::Worker& w = m.worker;
    for (const auto& [id, row] : t.workers) {
        if (id != w.id.value() && row.value.name == w.name) {
            return ConstraintFailed("workers.name");
        }
    }
    auto it = t.workers.find(w.id.value());
    if (it == t.workers.end()) {
        t.workers.emplace(w.id.value(), Tables::Row<domain::Worker>{t.next_rowid++, w});
    } else {
        it->second.value = w;  // an upsert keeps the row (and its place in the load order)
    }
    return Ok();
}

Status ApplyOne(Tables& t, const store::DeleteWorker& m) {
    t.workers.erase(m.id.value());
    return Ok();
}

Status ApplyOne(Tables& t, const store::PutRequest& m) {
    auto& row = t.requests[m.request.id.value()];
    // Written at intake, kept when a later upsert carries none (as SQLite).
    auto kept = [](CompactString& stored, const CompactString& given) {
        return given.empty() ? std::move(stored) : given;
    };
    CompactString params = kept(row.params_json, m.request.params_json);
    CompactString client_agent = kept(row.client_agent, m.request.client_agent);
    CompactString ipaddr = kept(row.ipaddr, m.request.ipaddr);
    row = m.request;
    row.params_json = std::move(params);
    row.client_agent = std::move(client_agent);
    row.ipaddr = std::move(ipaddr);
    return Ok();
}

Status ApplyOne(Tables& t, const store::DeleteRequest& m) {
    t.requests.erase(m.id.value());
    for (const JobId& job : m.jobs) {
        t.jobs.erase(job.value());
    }
    return Ok();
}

void PutJobRow(Tables& t, const domain::Job& j) {
    auto it = t.jobs.find(j.id.value());
    if (it == t.jobs.end()) {
        t.jobs.emplace(j.id.value(), Tables::Row<domain::Job>{t.next_rowid++, j});
    } else {
        it->second.value = j;
    }
}

Status ApplyOne(Tables& t, const store::PutJob& m) {
    PutJobRow(t, m.job);
    return Ok();
}

Status ApplyOne(Tables& t, const store::PostEntry& m) {
    const domain::LedgerEntry& e = m.entry;
    if (!domain::IsBalanced(e)) {
        return MakeError(ErrorCode::kBadRequest, "unbalanced ledger entry " + e.key);
    }
    if (t.entry_keys.contains(e.key)) {
        return MakeError(ErrorCode::kBadRequest, "duplicate ledger key " + e.key);
    }
    t.entry_keys.insert(e.key);
    t.entries.push_back(e);
    for (const domain::Posting& p : e.postings) {
        t.balances[p.account] += p.amount.milli();
        const int64_t user = domain::AccountUser(p.account);
        if (p.stat == domain::KudosStat::kNone || user < 0) {
            continue;
        }
        t.user_stats[user]["kudos." + std::string(domain::KudosStatName(p.stat))] +=
            p.amount.ToDouble();
    }
    return Ok();
}

Status ApplyOne(Tables& t, const store::AddUserStat& m) {
    t.user_stats[m.user.value()][m.stat] += m.delta;
    return Ok();
}

Status ApplyOne(Tables& t, const store::PutSetting& m) {
    t.settings[m.key] = m.value;
    return Ok();
}

Status ApplyOne(Tables& t, const store::PutSession& m) {
    t.sessions[m.session.token_hash] = m.session;
    return Ok();
}

Status ApplyOne(Tables& t, const store::DeleteSession& m) {
    t.sessions.erase(m.token_hash);
    return Ok();
}

Status ApplyOne(Tables& t, const store::PutInvite& m) {
    t.invites[m.invite.token_hash] = m.invite;
    return Ok();
}

Status ApplyOne(Tables& t, const store::ClaimSlots& m) {
    auto it = t.requests.find(m.request.value());
    if (it == t.requests.end() || it->second.n != m.expected_n) {
        return MakeError(ErrorCode::kBadRequest, "precondition failed");
    }
    it->second.n = m.n;
    it->second.expiry = m.expiry;
    if (m.params_out) {
        *m.params_out = std::string(it->second.params_json.view());
    }
    for (const domain::Job& j : m.jobs) {
        if (j.request != m.request) {
            return MakeError(ErrorCode::kBadRequest, "a claim's job is of another request");
        }
        PutJobRow(t, j);
    }
    return Ok();
}

template <typename T>
std::vector<T> ByRowid(const std::map<std::string, Tables::Row<T>>& rows) {
    std::vector<const Tables::Row<T>*> ordered;
    ordered.reserve(rows.size());
    for (const auto& [id, row] : rows) {
        ordered.push_back(&row);
    }
    std::sort(ordered.begin(), ordered.end(),
              [](const auto* a, const auto* b) { return a->rowid < b->rowid; });
    std::vector<T> out;
    out.reserve(ordered.size());
    for (const auto* row : ordered) {
        out.push_back(row->value);
    }
    return out;
}

}  // namespace

MemoryStore::MemoryStore() : tables_(std::make_unique<Tables>()) {}

MemoryStore::~MemoryStore() = default;

Status MemoryStore::Apply(const store::Batch& batch) {
    if (batch.empty()) {
        return Ok();
    }
    std::lock_guard lock(mutex_);
    if (fail_next_) {
        const ErrorCode code = *fail_next_;
        fail_next_.reset();
        return MakeError(code, "injected store failure (MemoryStore::FailNextApply)");
    }
    auto draft = std::make_unique<Tables>(*tables_);
    for (const store::Mutation& m : batch.mutations) {
        HORDE_TRY_STATUS(std::visit([&](const auto& one) { return ApplyOne(*draft, one); }, m));
    }
    tables_ = std::move(draft);
    ++committed_;
    return Ok();
}

Result<store::Snapshot> MemoryStore::Load() {
    std::lock_guard lock(mutex_);
    const Tables& t = *tables_;
    store::Snapshot s;
    int64_t max_user_id = 0;
    for (const auto& [id, u] : t.users) {
        s.users.push_back(u);
        max_user_id = std::max(max_user_id, id);
    }
    s.workers = ByRowid(t.workers);
    for (const auto& [id, r] : t.requests) {
        s.requests.push_back(r);
    }
    std::sort(s.requests.begin(), s.requests.end(),
              [](const domain::Request& a, const domain::Request& b) {
                  return std::forward_as_tuple(ToUnixMillis(a.created), a.seq, a.id.value()) <
                         std::forward_as_tuple(ToUnixMillis(b.created), b.seq, b.id.value());
              });
    s.jobs = ByRowid(t.jobs);
    std::erase_if(s.jobs, [&](const domain::Job& j) {
        return !t.requests.contains(j.request.value());  // its request was deleted
    });
    s.balances_milli = t.balances;
    s.user_stats = t.user_stats;
    s.settings = t.settings;
    for (const auto& [hash, session] : t.sessions) {
        s.sessions.push_back(session);
    }
    for (const auto& [hash, invite] : t.invites) {
        s.invites.push_back(invite);
    }
    s.next_user_id = std::max<int64_t>(max_user_id + 1, 1);
    return s;
}

Result<std::string> MemoryStore::RequestParams(const RequestId& id) {
    std::lock_guard lock(mutex_);
    auto it = tables_->requests.find(id.value());
    if (it == tables_->requests.end()) {
        return MakeError(ErrorCode::kRequestNotFound, "no request " + id.value());
    }
    return it->second.params_json.str();
}

Result<bool> MemoryStore::HasEntry(const std::string& key) {
    std::lock_guard lock(mutex_);
    return tables_->entry_keys.contains(key);
}

Result<store::LedgerCheck> MemoryStore::CheckLedger() {
    std::lock_guard lock(mutex_);
    const Tables& t = *tables_;
    store::LedgerCheck check;
    std::map<std::string, int64_t> sums;
    for (const domain::LedgerEntry& e : t.entries) {
        ++check.entries;
        int64_t entry_sum = 0;
        for (const domain::Posting& p : e.postings) {
            ++check.postings;
            check.sum_milli += p.amount.milli();
            entry_sum += p.amount.milli();
            sums[p.account] += p.amount.milli();
        }
        if (entry_sum != 0) {
            ++check.unbalanced_entries;
        }
    }
    std::set<std::string> accounts;
    for (const auto& [account, total] : sums) {
        accounts.insert(account);
    }
    for (const auto& [account, balance] : t.balances) {
        accounts.insert(account);
    }
    for (const std::string& account : accounts) {
        const auto b = t.balances.find(account);
        const auto s = sums.find(account);
        const int64_t drift =
            (b == t.balances.end() ? 0 : b->second) - (s == sums.end() ? 0 : s->second);
        if (drift != 0) {
            check.drift_milli[account] = drift;
        }
    }
    return check;
}

Result<int64_t> MemoryStore::ExternalChangeCounter() { return int64_t{0}; }

Status MemoryStore::Compact() {
    std::lock_guard lock(mutex_);
    ++compactions_;
    return Ok();
}

int64_t MemoryStore::compactions() const {
    std::lock_guard lock(mutex_);
    return compactions_;
}

void MemoryStore::FailNextApply(ErrorCode code) {
    std::lock_guard lock(mutex_);
    fail_next_ = code;
}

int64_t MemoryStore::committed_batches() const {
    std::lock_guard lock(mutex_);
    return committed_;
}

std::vector<domain::LedgerEntry> MemoryStore::Entries() const {
    std::lock_guard lock(mutex_);
    return tables_->entries;
}

int64_t MemoryStore::BalanceMilli(const std::string& account) const {
    std::lock_guard lock(mutex_);
    auto it = tables_->balances.find(account);
    return it == tables_->balances.end() ? 0 : it->second;
}

void MemoryStore::CorruptBalanceForTest(const std::string& account, int64_t delta_milli) {
    std::lock_guard lock(mutex_);
    tables_->balances[account] += delta_milli;
}

}  // namespace horde::testing
