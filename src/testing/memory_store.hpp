#pragma once
// MemoryStore: an in-memory store::Store for unit tests. It keeps the same semantics as the SQLite
// store (store/sqlite/sqlite_store.cpp), so a service test that passes here exercises the same
// contract:
//  - Apply() is atomic: the batch runs against a copy of the tables, which replaces them only
//    when every mutation succeeded.
//  - ClaimSlots fails the batch unless the request exists with exactly `expected_n`, then sets
//    its n and expiry, adds its jobs (and hands out its params); it sees earlier mutations of
//    the same batch. (The SQLite store cannot check `expected_n`: see store.hpp.)
//  - PostEntry fails the batch for an unbalanced entry ("unbalanced ledger entry <key>") or a key
//    already in the ledger ("duplicate ledger key <key>"), both kBadRequest. Each posting adds to
//    its account's balance and, when it names a stat and the account is "user:<id>" or
//    "escrow:<id>", to that user's "kudos.<stat>" statistic.
//  - DeleteRequest deletes the request and the jobs it names. Load() leaves out jobs whose
//    request is gone.
//  - users.api_key_hash (when non-empty) and workers.name are unique: a clash is
//    kStoreUnavailable.
//  - Load() orders users by id, workers and jobs by first insertion, requests by (created, seq,
//    id); next_user_id is the largest id + 1.
//  - ExternalChangeCounter() is always 0 (no other process writes); Compact() only counts.
//
// Test hooks: FailNextApply() makes the next non-empty Apply() fail without writing anything, to
// check that a failed store write leaves the caller's memory unchanged. CorruptBalanceForTest()
// changes a cached balance behind the ledger's back so CheckLedger() reports drift.
//
// Thread-safety: safe for concurrent use; every call holds one mutex.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/error_code.hpp"
#include "common/result.hpp"
#include "domain/ledger.hpp"
#include "store/store.hpp"

namespace horde::testing {

class MemoryStore final : public store::Store {
public:
    MemoryStore();
    ~MemoryStore() override;
    MemoryStore(const MemoryStore&) = delete;
    MemoryStore& operator=(const MemoryStore&) = delete;
    MemoryStore(MemoryStore&&) = delete;
    MemoryStore& operator=(MemoryStore&&) = delete;

    Status Apply(const store::Batch& batch) override;
    Result<store::Snapshot> Load() override;
    Result<bool> HasEntry(const std::string& key) override;
    Result<std::string> RequestParams(const RequestId& id) override;
    Result<store::LedgerCheck> CheckLedger() override;
    /// Always 0: nothing else writes to this store.
    Result<int64_t> ExternalChangeCounter() override;
    /// Nothing to reclaim in memory: counts the calls (compactions()).
    Status Compact() override;

    /// The next non-empty Apply() fails with `code` and writes nothing; later ones work again.
    /// (An empty batch succeeds without consuming the failure, as it touches no table.)
    void FailNextApply(ErrorCode code = ErrorCode::kStoreUnavailable);

    /// Number of batches committed so far (failed ones are not counted).
    int64_t committed_batches() const;
    /// Number of Compact() calls so far.
    int64_t compactions() const;
    /// Every ledger entry, in the order they were posted.
    std::vector<domain::LedgerEntry> Entries() const;
    /// The cached balance of `account` in milli-kudos (0 when it has none).
    int64_t BalanceMilli(const std::string& account) const;

    /// Adds `delta_milli` to the cached balance of `account` without a ledger entry, as a
    /// corrupted database would; CheckLedger() then reports the drift.
    void CorruptBalanceForTest(const std::string& account, int64_t delta_milli);

    struct Tables;

private:
    mutable std::mutex mutex_;
    std::unique_ptr<Tables> tables_;  // guarded by mutex_
    std::optional<ErrorCode> fail_next_;
    int64_t committed_ = 0;
    int64_t compactions_ = 0;
};

}  // namespace horde::testing
