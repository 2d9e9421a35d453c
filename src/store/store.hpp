#pragma once
// The store: the durable source of truth. It speaks in atomic batches of domain mutations: a
// Batch is written in one transaction or not at all. The service computes a batch, has the store
// commit it, and only then applies the same batch to its in-memory state and answers the client.
// At start the service loads everything back with Load().
//
// Implementations: sqlite/ (one node). A multi-node backend enforces the batch's preconditions
// (`ClaimSlots`) with conditional updates so two nodes never hand out the same slot.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/result.hpp"
#include "domain/entities.hpp"
#include "domain/ledger.hpp"
#include "domain/web_account.hpp"

namespace horde::store {

struct PutUser {
    domain::User user;
};
struct PutWorker {
    domain::Worker worker;
};
struct DeleteWorker {
    WorkerId id;
};
/// Upserts the request. Its params never change after intake: an empty `params_json` keeps
/// the stored ones (the service keeps no copy of them in memory; a pop's ClaimSlots reads them).
/// A positive `seq` is the request's own (no other request has it) and never changes.
struct PutRequest {
    domain::Request request;
};
/// Deletes the request and its jobs, which it names (a store need not find a request's jobs by
/// itself; the SQLite store keeps no index for that, and Load drops jobs left without request).
struct DeleteRequest {
    RequestId id;
    std::vector<JobId> jobs;
};
struct PutJob {
    domain::Job job;
};
struct PostEntry {
    domain::LedgerEntry entry;
};
/// Adds `delta` to a numeric per-user statistic ("usage.megapixelsteps", "fulfillment.text"...).
struct AddUserStat {
    UserId user;
    std::string stat;
    double delta = 0;
};
struct PutSetting {
    std::string key;
    std::string value;
};
/// The atomic claim of a request's slots, what a pop writes: the jobs it hands out, and the
/// request's new `n` and `expiry` (the rest of the request is left as it is). The batch fails
/// (nothing written) when the request is gone, or when a store that can tell (one shared by
/// several nodes, the in-memory test store) finds its `n` no longer `expected_n`; the SQLite
/// store has one writer, the service, which checked it. When `params_out` is set it receives the
/// request's stored params, read in the same transaction (memory keeps no copy of them, and a
/// job's payload needs them).
///
/// The SQLite store appends a claim (the jobs' rows carry the new n and expiry) rather than
/// rewriting the request's row, and folds the newest claim into the request when it loads.
/// `request_seq` is the request's `seq` (0: not known); the SQLite store numbers a request's row
/// with its seq when that is positive (the service gives each request its own), so the claim
/// reads the row by number, falling back to the id.
struct ClaimSlots {
    RequestId request;
    int expected_n = 0;
    int n = 0;
    TimePoint expiry;
    std::shared_ptr<std::string> params_out;
    std::vector<domain::Job> jobs;
    int64_t request_seq = 0;
};

/// Browser sessions and invite links (keyed by their token hash).
struct PutSession {
    domain::WebSession session;
};
struct DeleteSession {
    std::string token_hash;
};
struct PutInvite {
    domain::Invite invite;
};

using Mutation =
    std::variant<PutUser, PutWorker, DeleteWorker, PutRequest, DeleteRequest, PutJob, PostEntry,
                 AddUserStat, PutSetting, ClaimSlots, PutSession, DeleteSession, PutInvite>;

struct Batch {
    std::vector<Mutation> mutations;
    template <typename T>
    void Add(T&& m) {
        mutations.emplace_back(std::forward<T>(m));
    }
    bool empty() const { return mutations.empty(); }
};

/// Everything the service needs to rebuild its in-memory state.
struct Snapshot {
    std::vector<domain::User> users;
    std::vector<domain::Worker> workers;
    std::vector<domain::Request> requests;
    std::vector<domain::Job> jobs;
    std::map<std::string, int64_t> balances_milli;  // account -> balance
    /// user id -> stat name -> value, for kudos_details ("kudos.accumulated"...) and records.
    std::map<int64_t, std::map<std::string, double>> user_stats;
    std::map<std::string, std::string> settings;
    int64_t next_user_id = 1;
    std::vector<domain::WebSession> sessions;
    std::vector<domain::Invite> invites;
};

/// The ledger's self-check, for the operator's report and the tests.
struct LedgerCheck {
    int64_t entries = 0;
    int64_t postings = 0;
    int64_t sum_milli = 0;  // must be 0
    int64_t unbalanced_entries = 0;
    /// Accounts whose cached balance differs from the sum of their postings: account -> drift.
    std::map<std::string, int64_t> drift_milli;
};

/// Thread-safety: implementations serialise their own access; safe for concurrent use.
class Store {
public:
    virtual ~Store() = default;
    /// Commits the whole batch atomically, or nothing (kStoreUnavailable or kBadRequest for a
    /// failed precondition / duplicate ledger key, with a message).
    virtual Status Apply(const Batch& batch) = 0;
    /// Commits `batches` in this order as one group (group commit): each batch is still
    /// all-or-nothing on its own, and a failed one does not stop the others. One status per
    /// batch. The default commits them one by one.
    virtual std::vector<Status> ApplyGroup(const std::vector<const Batch*>& batches) {
        std::vector<Status> out;
        out.reserve(batches.size());
        for (const Batch* b : batches) {
            out.push_back(Apply(*b));
        }
        return out;
    }
    virtual Result<Snapshot> Load() = 0;
    /// True if a ledger entry with this key exists.
    virtual Result<bool> HasEntry(const std::string& key) = 0;
    /// The stored `params_json` of a request (kRequestNotFound when there is no such request).
    /// Pops get them from their ClaimSlots instead; this is for tools and tests.
    virtual Result<std::string> RequestParams(const RequestId& id) = 0;
    virtual Result<LedgerCheck> CheckLedger() = 0;
    /// A counter that changes whenever another connection or process committed to the store
    /// (for example `horded user create` while the server runs).
    virtual Result<int64_t> ExternalChangeCounter() = 0;
    /// Frees space left by deleted rows so deleted prompts are gone from the files too.
    virtual Status Compact() = 0;
};

}  // namespace horde::store
