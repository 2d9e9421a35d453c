#pragma once
// The one-node store: a single SQLite file (or ":memory:" for tests).

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/result.hpp"
#include "store/store.hpp"

struct sqlite3;

namespace horde::store {

namespace sqlite_detail {
class Connection;
}  // namespace sqlite_detail

/// The background checkpointer's pace (the defaults are the measured ones; tests shrink them).
struct SqliteCheckpointSettings {
    /// How often it copies the WAL into the database file.
    std::chrono::milliseconds interval{250};
    /// WAL length (frames of one page) past which it makes the WAL rewind: ~64 MiB, every
    /// second or two under a sustained write load. A longer WAL rewinds less often, but
    /// each rewind then holds the writer longer (measured at 256 MiB: no better p99).
    int wal_rewind_frames = 16000;
};

/// Store on SQLite. Open() creates the file if needed, sets the pragmas (WAL, synchronous=NORMAL,
/// foreign keys, secure_delete, auto_vacuum=INCREMENTAL for new files, busy timeout) and applies
/// pending schema migrations (migrations.hpp). Apply() runs each batch in one
/// BEGIN IMMEDIATE ... COMMIT transaction. Entities keep their queried fields as columns and the
/// rest as a JSON `data` column; doubles in it are written as exact shortest-round-trip text.
///
/// Errors: any SQLite failure is kStoreUnavailable with SQLite's message; a duplicate ledger key,
/// an unbalanced entry or a failed ClaimSlots is kBadRequest. Either way nothing is written.
///
/// A claim (ClaimSlots) is appended: its jobs' rows carry the request's new n and expiry under a
/// write sequence number, the request's row is not rewritten, and Load folds in the newest claim
/// that is newer than the request's own last full write. Jobs have no foreign key: a
/// DeleteRequest names the jobs to delete, Load skips jobs without a request, Open removes
/// them.
///
/// Reads go through a memory map. Checkpoints: for a file database a background thread with its
/// own connection copies the WAL back into the database (PASSIVE checkpoints, four times a
/// second) without blocking the writer; when the WAL passes ~64 MiB it catches up and syncs the
/// database file, then holds the writer off while it copies the little that is left, so the WAL
/// can rewind.
///
/// Thread-safety: safe for concurrent use. It owns one connection and every public call holds
/// `mutex_` for its whole duration, so calls are serialised. Other processes may open the same
/// file; SQLite's locks (with the busy timeout) keep them consistent.
class SqliteStore final : public Store {
public:
    using CheckpointSettings = SqliteCheckpointSettings;

    /// Opens or creates the database at `path` (":memory:" for a private in-memory database).
    /// Fails with kStoreUnavailable when the file cannot be opened, a migration fails, or the
    /// file's schema is newer than this build.
    static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                     CheckpointSettings checkpoints = {});

    ~SqliteStore() override;
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;
    SqliteStore(SqliteStore&&) = delete;
    SqliteStore& operator=(SqliteStore&&) = delete;

    Status Apply(const Batch& batch) override;
    /// One transaction for the whole group, one savepoint per batch.
    std::vector<Status> ApplyGroup(const std::vector<const Batch*>& batches) override;
    Result<Snapshot> Load() override;
    Result<bool> HasEntry(const std::string& key) override;
    Result<std::string> RequestParams(const RequestId& id) override;
    Result<int64_t> ExternalChangeCounter() override;
    Result<LedgerCheck> CheckLedger() override;
    /// Runs an incremental vacuum and a TRUNCATE checkpoint: freed pages leave the file and the
    /// WAL is emptied. Fails (kStoreUnavailable) if another connection blocked the checkpoint.
    Status Compact() override;

    /// The schema version recorded in the database.
    Result<int> SchemaVersion();

private:
    explicit SqliteStore(std::unique_ptr<sqlite_detail::Connection> conn);
    void StartCheckpointer(const std::string& path, CheckpointSettings settings);
    void CheckpointLoop(sqlite3* db, CheckpointSettings settings);

    std::mutex mutex_;
    std::unique_ptr<sqlite_detail::Connection> conn_;  // used only while holding mutex_
    // The background checkpointer: `checkpoint_mutex_` is held around each checkpoint (and by
    // Compact, which checkpoints itself).
    std::mutex checkpoint_mutex_;
    std::condition_variable checkpoint_stop_cv_;
    bool checkpoint_stop_ = false;
    std::thread checkpointer_;
};

}  // namespace horde::store
