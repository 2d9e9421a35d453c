#include "store/sqlite/sqlite_store.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "common/check.hpp"
#include "store/sqlite/migrations.hpp"

namespace horde::store {

namespace json = boost::json;

namespace sqlite_detail {
namespace {

// ---------------------------------------------------------------------------------------------
// SQL. Every statement is a named constant; Connection caches one prepared statement per text.

constexpr int kBusyTimeoutMs = 5000;

// auto_vacuum only takes effect on a file without tables, i.e. when we create it.
constexpr const char* kPragmas =
    "PRAGMA auto_vacuum = INCREMENTAL;"
    "PRAGMA journal_mode = WAL;"
    "PRAGMA synchronous = NORMAL;"
    "PRAGMA foreign_keys = ON;"
    "PRAGMA secure_delete = ON;"
    // Reads through a memory map (no read syscalls, no copies into SQLite's own cache); kMmapLimit.
    "PRAGMA mmap_size = 1073741824;"
    // Until the background checkpointer runs (and without one), SQLite checkpoints after the
    // commit that takes the WAL past ~16 MiB, in the writer's thread.
    "PRAGMA wal_autocheckpoint = 4000;";

constexpr sqlite3_int64 kMmapLimit = sqlite3_int64{1} << 30;  // the pragma above
/// How often the writer looks whether the file has outgrown its memory map, and by how much it
/// must have grown to be mapped anew (Connection::RemapIfGrown): at least this, and at least an
/// eighth of the mapped size, so a growing file is mapped anew a few dozen times on its way to
/// hundreds of MiB, and a file that stays about its size, never.
constexpr auto kRemapCheckInterval = std::chrono::milliseconds(500);
constexpr sqlite3_int64 kRemapGrowth = sqlite3_int64{4} << 20;

// The checkpointer's rewind (SqliteStore::CheckpointSettings for when). The writer is held for
// the one round that copies the whole WAL, the only kind of round that syncs the database file:
// left to itself that sync flushes every page the unheld rounds copied since the last rewind
// (under pops, 6-7 ms of the 7-15 ms held, by strace), and its WAL sync the frames written since
// the round before. So first the checkpointer syncs the database itself and runs unheld rounds,
// each followed by such a sync, until one had at most kHeldRoundFramesMax frames to copy (or
// kCatchUpRounds ran): the held round is left a few dozen frames and two small syncs (1.4-1.8
// ms held). It runs even when an unheld round seemed to catch up: a write under way when that
// ended keeps the WAL from rewinding, and without the hold the WAL was measured growing past
// 600 MiB.
constexpr int kHeldRoundFramesMax = 256;
constexpr int kCatchUpRounds = 4;

constexpr const char* kBeginWrite = "BEGIN IMMEDIATE";
constexpr const char* kBeginRead = "BEGIN";
constexpr const char* kCommit = "COMMIT";
constexpr const char* kRollback = "ROLLBACK";

constexpr const char* kSelectSchemaVersion = "SELECT value FROM meta WHERE key = 'schema_version'";
constexpr const char* kUpsertSchemaVersion =
    "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value";

constexpr const char* kUpsertUser =
    "INSERT INTO users (id, username, api_key_hash, data) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET username = excluded.username, "
    "api_key_hash = excluded.api_key_hash, data = excluded.data";
// Upserts below are ON CONFLICT DO UPDATE, never INSERT OR REPLACE: REPLACE deletes the old row
// and would drop the columns an upsert keeps (a request's params, origin).
constexpr const char* kUpsertWorker =
    "INSERT INTO workers (id, name, owner, kind, data) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET name = excluded.name, owner = excluded.owner, "
    "kind = excluded.kind, data = excluded.data";
constexpr const char* kDeleteWorker = "DELETE FROM workers WHERE id = ?";
/// A request's row number is its sequence number (unique; see ClaimSlots in store.hpp), so the
/// claim finds the row without descending the id index. An update keeps the row number.
constexpr const char* kUpsertRequest =
    "INSERT INTO requests (rowid, id, kind, user_id, n, jobs, created_ms, expiry_ms, seq, data, "
    "params, client_agent, ipaddr, write_seq) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, user_id = excluded.user_id, "
    "n = excluded.n, jobs = excluded.jobs, created_ms = excluded.created_ms, "
    "expiry_ms = excluded.expiry_ms, seq = excluded.seq, data = excluded.data, "
    "write_seq = excluded.write_seq, "
    "params = CASE excluded.params WHEN '' THEN requests.params ELSE excluded.params END, "
    "client_agent = CASE excluded.client_agent WHEN '' THEN requests.client_agent "
    "ELSE excluded.client_agent END, "
    "ipaddr = CASE excluded.ipaddr WHEN '' THEN requests.ipaddr ELSE excluded.ipaddr END";
constexpr const char* kSelectRequestParams = "SELECT params FROM requests WHERE id = ?";
constexpr const char* kSelectRequestParamsByRow = "SELECT params, id FROM requests WHERE rowid = ?";
constexpr const char* kDeleteRequest = "DELETE FROM requests WHERE id = ?";
constexpr const char* kDeleteJob = "DELETE FROM jobs WHERE id = ?";
/// A job handed out by a claim, carrying it (see ClaimSlots in store.hpp).
constexpr const char* kInsertClaimedJob =
    "INSERT INTO jobs (id, request_id, worker_id, state, data, claim_seq, claim_n, "
    "claim_expiry_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kUpdateRequestSlots =
    "UPDATE requests SET n = ?, expiry_ms = ?, write_seq = ? WHERE id = ?";
/// The highest write sequence number in the file (requests' full writes, claims).
constexpr const char* kSelectWriteSeq =
    "SELECT max(coalesce((SELECT max(write_seq) FROM requests), 0), "
    "coalesce((SELECT max(claim_seq) FROM jobs), 0))";
/// Jobs whose request is gone (a deletion that did not name them all), removed at Open.
constexpr const char* kDeleteOrphanJobs =
    "DELETE FROM jobs WHERE request_id NOT IN (SELECT id FROM requests)";
constexpr const char* kUpsertJob =
    "INSERT INTO jobs (id, request_id, worker_id, state, data) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET request_id = excluded.request_id, "
    "worker_id = excluded.worker_id, state = excluded.state, data = excluded.data";
constexpr const char* kSelectEntryExists = "SELECT 1 FROM ledger_entries WHERE key = ?";
constexpr const char* kInsertEntry =
    "INSERT INTO ledger_entries (key, kind, created_ms, memo) VALUES (?, ?, ?, ?) RETURNING id";
constexpr const char* kInsertPosting =
    "INSERT INTO ledger_postings (entry_id, account, amount_milli, stat) VALUES (?, ?, ?, ?)";
constexpr const char* kAddBalance =
    "INSERT INTO balances (account, balance_milli) VALUES (?, ?) "
    "ON CONFLICT (account) DO UPDATE SET balance_milli = balance_milli + excluded.balance_milli";
constexpr const char* kAddUserStat =
    "INSERT INTO user_stats (user_id, stat, value) VALUES (?, ?, ?) "
    "ON CONFLICT (user_id, stat) DO UPDATE SET value = value + excluded.value";
constexpr const char* kUpsertSetting =
    "INSERT INTO settings (key, value) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value";

constexpr const char* kUpsertSession =
    "INSERT INTO web_sessions (token_hash, user_id, created_ms, expires_ms) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (token_hash) DO UPDATE SET user_id = excluded.user_id, "
    "created_ms = excluded.created_ms, expires_ms = excluded.expires_ms";
constexpr const char* kDeleteSession = "DELETE FROM web_sessions WHERE token_hash = ?";
constexpr const char* kUpsertInvite =
    "INSERT INTO invites (token_hash, created_by, created_ms, expires_ms, accepted_by) "
    "VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (token_hash) DO UPDATE SET created_by = excluded.created_by, "
    "created_ms = excluded.created_ms, expires_ms = excluded.expires_ms, "
    "accepted_by = excluded.accepted_by";
constexpr const char* kSelectSessions =
    "SELECT token_hash, user_id, created_ms, expires_ms FROM web_sessions";
constexpr const char* kSelectInvites =
    "SELECT token_hash, created_by, created_ms, expires_ms, accepted_by FROM invites";

constexpr const char* kSelectUsers =
    "SELECT id, username, api_key_hash, data FROM users ORDER BY id";
constexpr const char* kSelectWorkers =
    "SELECT id, name, owner, kind, data FROM workers ORDER BY rowid";
constexpr const char* kSelectRequests =
    "SELECT id, kind, user_id, n, jobs, created_ms, expiry_ms, seq, data, params, client_agent, "
    "ipaddr, write_seq FROM requests ORDER BY created_ms, seq, id";
constexpr const char* kSelectJobs =
    "SELECT id, request_id, worker_id, state, data, claim_seq, claim_n, claim_expiry_ms "
    "FROM jobs ORDER BY rowid";
constexpr const char* kSelectBalances = "SELECT account, balance_milli FROM balances";
constexpr const char* kSelectUserStats = "SELECT user_id, stat, value FROM user_stats";
constexpr const char* kSelectSettings = "SELECT key, value FROM settings";
constexpr const char* kSelectMaxUserId = "SELECT COALESCE(MAX(id), 0) FROM users";

constexpr const char* kCountEntries = "SELECT COUNT(*) FROM ledger_entries";
constexpr const char* kPostingTotals =
    "SELECT COUNT(*), COALESCE(SUM(amount_milli), 0) FROM ledger_postings";
constexpr const char* kCountUnbalanced =
    "SELECT COUNT(*) FROM (SELECT e.id FROM ledger_entries e "
    "LEFT JOIN ledger_postings p ON p.entry_id = e.id "
    "GROUP BY e.id HAVING COALESCE(SUM(p.amount_milli), 0) <> 0)";
// Accounts on either side: a balance without postings, or postings without a balance row.
constexpr const char* kSelectDrift =
    "WITH sums (account, total) AS "
    "  (SELECT account, SUM(amount_milli) FROM ledger_postings GROUP BY account), "
    "accounts (account) AS (SELECT account FROM sums UNION SELECT account FROM balances) "
    "SELECT a.account, COALESCE(b.balance_milli, 0) - COALESCE(s.total, 0) FROM accounts a "
    "LEFT JOIN balances b ON b.account = a.account LEFT JOIN sums s ON s.account = a.account "
    "WHERE COALESCE(b.balance_milli, 0) - COALESCE(s.total, 0) <> 0 ORDER BY a.account";

constexpr const char* kIncrementalVacuum = "PRAGMA incremental_vacuum";
constexpr const char* kCheckpointTruncate = "PRAGMA wal_checkpoint(TRUNCATE)";

// ---------------------------------------------------------------------------------------------
// RAII over the C API.

struct DbCloser {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

Error SqliteError(sqlite3* db) {
    return MakeError(ErrorCode::kStoreUnavailable, sqlite3_errmsg(db));
}

/// One use of a cached prepared statement: binds parameters left to right, steps, reads
/// columns. Going out of scope resets it and clears its bindings, so an idle statement holds
/// no read lock (which would block checkpoints) and keeps no copy of bound data.
class Query {
public:
    Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
    Query(Query&& other) noexcept
        : db_(other.db_),
          stmt_(std::exchange(other.stmt_, nullptr)),
          next_param_(other.next_param_),
          bind_rc_(other.bind_rc_) {}
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;
    Query& operator=(Query&&) = delete;
    ~Query() {
        if (stmt_ != nullptr) {
            sqlite3_reset(stmt_);
            sqlite3_clear_bindings(stmt_);
        }
    }

    Query& BindInt(int64_t value) { return Note(sqlite3_bind_int64(stmt_, ++next_param_, value)); }
    Query& BindReal(double value) { return Note(sqlite3_bind_double(stmt_, ++next_param_, value)); }
    Query& BindText(std::string_view value) {
        return Note(sqlite3_bind_text64(stmt_, ++next_param_, value.data(), value.size(),
                                        SQLITE_TRANSIENT, SQLITE_UTF8));
    }
    Query& BindNull() { return Note(sqlite3_bind_null(stmt_, ++next_param_)); }

    /// One step: true when a row is ready, false when the statement is done.
    Result<bool> Step() {
        if (bind_rc_ != SQLITE_OK) {
            return MakeError(ErrorCode::kStoreUnavailable, sqlite3_errstr(bind_rc_));
        }
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) {
            return true;
        }
        if (rc == SQLITE_DONE) {
            return false;
        }
        return SqliteError(db_);
    }
    /// Steps to the end, ignoring any rows.
    Status Run() {
        for (;;) {
            HORDE_TRY(const bool row, Step());
            if (!row) {
                return Ok();
            }
        }
    }

    int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
    double Real(int col) const { return sqlite3_column_double(stmt_, col); }
    /// NULL reads as "".
    std::string Text(int col) const {
        const unsigned char* text = sqlite3_column_text(stmt_, col);
        if (text == nullptr) {
            return {};
        }
        const int size = sqlite3_column_bytes(stmt_, col);
        return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
    }

private:
    Query& Note(int rc) {
        if (bind_rc_ == SQLITE_OK) {
            bind_rc_ = rc;
        }
        return *this;
    }

    sqlite3* db_;
    sqlite3_stmt* stmt_;
    int next_param_ = 0;
    int bind_rc_ = SQLITE_OK;
};

}  // namespace

/// The connection and its statement cache. Not thread-safe: SqliteStore serialises access.
class Connection {
public:
    explicit Connection(DbHandle db) : db_(std::move(db)) {}

    sqlite3* db() const { return db_.get(); }

    /// `sql` must be one statement; it is prepared once and cached by its text.
    Result<Query> Prepare(std::string_view sql) {
        auto it = cache_.find(sql);
        if (it == cache_.end()) {
            sqlite3_stmt* raw = nullptr;
            const int rc = sqlite3_prepare_v3(db(), sql.data(), static_cast<int>(sql.size()),
                                              SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
            StmtHandle stmt(raw);
            if (rc != SQLITE_OK) {
                return SqliteError(db());
            }
            it = cache_.emplace(std::string(sql), std::move(stmt)).first;
        }
        return Query(db(), it->second.get());
    }

    /// Runs a script of one or more statements, uncached (pragmas, migrations).
    Status Exec(const char* sql) {
        if (sqlite3_exec(db(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
            return SqliteError(db());
        }
        return Ok();
    }

    /// Runs one cached statement that takes no parameters and returns no rows.
    Status Run(std::string_view sql) {
        HORDE_TRY(auto query, Prepare(sql));
        return query.Run();
    }

    /// Write sequence numbers order a request's full writes and its claims (ClaimSlots): each
    /// takes the next one, and Load keeps the newest. Only this connection writes requests.
    int64_t NextWriteSeq() { return ++write_seq_; }
    void SetWriteSeq(int64_t last) { write_seq_ = last; }

    /// SQLite maps the file at its size when it first reads it, and maps it again only after
    /// another connection has written to the WAL. This connection is the only writer, so the
    /// pages the checkpointer later appends to the file would be read with pread (and copied
    /// into the small page cache) for as long as the process runs: under a 100k queue that was
    /// the claim's params read, 4 % of a pop's CPU. Between transactions, at most every
    /// kRemapCheckInterval, this maps the file anew once it has grown enough (kRemapGrowth): a
    /// new map limit makes SQLite drop its map and map the file at its size (it alternates
    /// between two limits a page apart). Dropping the map costs the mapped pages' faults again,
    /// hence not on every growth. (The size-hint file control would extend the map in place,
    /// but it truncates the file to the hinted size first, which could cut pages another
    /// process's checkpoint has just appended.)
    void RemapIfGrown() {
        const auto now = std::chrono::steady_clock::now();
        if (now < next_remap_check_) {
            return;
        }
        next_remap_check_ = now + kRemapCheckInterval;
        sqlite3_file* file = nullptr;
        sqlite3_int64 size = 0;
        if (sqlite3_file_control(db(), "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK ||
            file == nullptr || file->pMethods == nullptr ||
            file->pMethods->xFileSize(file, &size) != SQLITE_OK) {
            return;
        }
        mapped_ = std::min(mapped_, size);  // shrunk by a vacuum: SQLite trimmed the map
        if (size < mapped_ + std::max(kRemapGrowth, mapped_ / 8)) {
            return;
        }
        map_limit_toggle_ = !map_limit_toggle_;
        sqlite3_int64 limit = map_limit_toggle_ ? kMmapLimit - 4096 : kMmapLimit;
        if (sqlite3_file_control(db(), "main", SQLITE_FCNTL_MMAP_SIZE, &limit) == SQLITE_OK) {
            spdlog::debug("database file mapped anew at {} KiB (was {} KiB)", size >> 10,
                          mapped_ >> 10);
            mapped_ = size;
        }
    }

private:
    DbHandle db_;
    int64_t write_seq_ = 0;
    sqlite3_int64 mapped_ = 0;  // the file's size when last mapped anew
    bool map_limit_toggle_ = false;
    std::chrono::steady_clock::time_point next_remap_check_{};
    std::map<std::string, StmtHandle, std::less<>> cache_;
};

namespace {

/// An open transaction that rolls back unless committed.
class Transaction {
public:
    static Result<Transaction> Begin(Connection& conn, const char* begin_sql) {
        HORDE_TRY_STATUS(conn.Run(begin_sql));
        return Transaction(conn);
    }
    Transaction(Transaction&& other) noexcept : conn_(std::exchange(other.conn_, nullptr)) {}
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction() {
        // SQLite may already have rolled back by itself (e.g. on SQLITE_FULL); then there is
        // nothing left to undo and ROLLBACK would only fail.
        if (conn_ != nullptr && sqlite3_get_autocommit(conn_->db()) == 0) {
            static_cast<void>(conn_->Run(kRollback));
        }
    }

    Status Commit() {
        HORDE_CHECK(conn_ != nullptr, "Commit on a finished transaction");
        HORDE_TRY_STATUS(conn_->Run(kCommit));  // on failure the destructor rolls back
        conn_ = nullptr;
        return Ok();
    }

private:
    explicit Transaction(Connection& conn) : conn_(&conn) {}
    Connection* conn_;
};

// ---------------------------------------------------------------------------------------------
// Enums as text.

std::string_view GenKindName(domain::GenKind kind) {
    switch (kind) {
        case domain::GenKind::kImage:
            return "image";
        case domain::GenKind::kText:
            return "text";
    }
    HORDE_CHECK(false, "GenKind out of range");
    return {};
}

bool ParseGenKind(std::string_view name, domain::GenKind& out) {
    for (const auto kind : {domain::GenKind::kImage, domain::GenKind::kText}) {
        if (GenKindName(kind) == name) {
            out = kind;
            return true;
        }
    }
    return false;
}

std::string_view JobStateName(domain::JobState state) {
    switch (state) {
        case domain::JobState::kProcessing:
            return "processing";
        case domain::JobState::kDone:
            return "done";
        case domain::JobState::kFaulted:
            return "faulted";
        case domain::JobState::kAborted:
            return "aborted";
    }
    HORDE_CHECK(false, "JobState out of range");
    return {};
}

bool ParseJobState(std::string_view name, domain::JobState& out) {
    for (const auto state : {domain::JobState::kProcessing, domain::JobState::kDone,
                             domain::JobState::kFaulted, domain::JobState::kAborted}) {
        if (JobStateName(state) == name) {
            out = state;
            return true;
        }
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// The `data` column: one field list per struct, walked by a writer (struct -> JSON) and by a
// reader (JSON -> struct), so the two directions cannot drift apart. Fields that live in their
// own columns are not listed. A key missing on read keeps the field's default, so a field added
// later needs no migration.

template <typename S, typename E>
concept Of = std::same_as<std::remove_const_t<S>, E>;

template <typename V, Of<domain::ImageShape> S>
void Fields(V& v, S& s) {
    v("width", s.width);
    v("height", s.height);
    v("steps", s.steps);
    v("cfg_scale", s.cfg_scale);
    v("sampler_name", s.sampler_name);
    v("karras", s.karras);
    v("hires_fix", s.hires_fix);
    v("tiling", s.tiling);
    v("transparent", s.transparent);
    v("image_is_control", s.image_is_control);
    v("return_control_map", s.return_control_map);
    v("denoising_strength", s.denoising_strength);
    v("clip_skip", s.clip_skip);
    v("control_type", s.control_type);
    v("workflow", s.workflow);
    v("post_processing", s.post_processing);
    v("lora_count", s.lora_count);
    v("lora_versions", s.lora_versions);
    v("ti_count", s.ti_count);
    v("has_source_image", s.has_source_image);
    v("has_source_mask", s.has_source_mask);
    v("source_processing", s.source_processing);
    v("extra_source_images", s.extra_source_images);
}

template <typename V, Of<domain::TextShape> S>
void Fields(V& v, S& s) {
    v("max_length", s.max_length);
    v("max_context_length", s.max_context_length);
    v("softprompt", s.softprompt);
    v("prompt_chars", s.prompt_chars);
}

/// Columns: id, kind, user, n, jobs, created, expiry, seq, params, client_agent, ipaddr.
template <typename V, Of<domain::Request> S>
void Fields(V& v, S& r) {
    v("prompt", r.prompt);
    v("models", r.models);
    v("workers", r.workers);
    v("worker_blacklist", r.worker_blacklist);
    v("nsfw", r.nsfw);
    v("censor_nsfw", r.censor_nsfw);
    v("trusted_workers", r.trusted_workers);
    v("validated_backends", r.validated_backends);
    v("slow_workers", r.slow_workers);
    v("extra_slow_workers", r.extra_slow_workers);
    v("r2", r.r2);
    v("shared", r.shared);
    v("disable_batching", r.disable_batching);
    v("safe_ip", r.safe_ip);
    // Only the shape of the request's own kind (a column, read before this): the other one is
    // unused, and leaving it out keeps the row (and the WAL pages per request) smaller.
    if (r.kind == domain::GenKind::kImage) {
        v("image", r.image);
    } else {
        v("text", r.text);
    }
    v("seed", r.seed);
    v("source_image", r.source_image);
    v("source_mask", r.source_mask);
    v("seed_variation", r.seed_variation);
    v("webhook", r.webhook);
    v("things", r.things);
    v("kudos_per_job", r.kudos_per_job);
    v("consumed", r.consumed);
    v("hold", r.hold);
    v("priority_base_milli", r.priority_base_milli);
    v("faulted", r.faulted);
    v("cancelled", r.cancelled);
}

/// Columns: id, request, worker, state.
template <typename V, Of<domain::Job> S>
void Fields(V& v, S& j) {
    v("kind", j.kind);
    v("worker_name", j.worker_name);
    v("worker_owner", j.worker_owner);
    v("model", j.model);
    v("seed", j.seed);
    v("fake", j.fake);
    v("censored", j.censored);
    v("generation", j.generation);
    v("gen_metadata_json", j.gen_metadata_json);
    v("result_state", j.result_state);
    v("reward", j.reward);
    v("start", j.start);
    v("ttl_s", j.ttl_s);
    v("finished", j.finished);
}

template <typename V, Of<domain::WorkerProfile> S>
void Fields(V& v, S& p) {
    v("models", p.models);
    v("bridge_agent", p.bridge_agent);
    v("threads", p.threads);
    v("nsfw", p.nsfw);
    v("require_upfront_kudos", p.require_upfront_kudos);
    v("extra_slow_worker", p.extra_slow_worker);
    v("allow_unsafe_ipaddr", p.allow_unsafe_ipaddr);
    v("blacklist", p.blacklist);
    v("priority_usernames", p.priority_usernames);
    v("max_pixels", p.max_pixels);
    v("allow_img2img", p.allow_img2img);
    v("allow_painting", p.allow_painting);
    v("allow_post_processing", p.allow_post_processing);
    v("allow_controlnet", p.allow_controlnet);
    v("allow_sdxl_controlnet", p.allow_sdxl_controlnet);
    v("allow_lora", p.allow_lora);
    v("limit_max_steps", p.limit_max_steps);
    v("max_length", p.max_length);
    v("max_context_length", p.max_context_length);
    v("softprompts", p.softprompts);
    v("capabilities", p.capabilities);
    v("capabilities_declared", p.capabilities_declared);
}

/// Columns: id, kind, name, owner.
template <typename V, Of<domain::Worker> S>
void Fields(V& v, S& w) {
    v("profile", w.profile);
    v("info", w.info);
    v("maintenance", w.maintenance);
    v("maintenance_msg", w.maintenance_msg);
    v("paused", w.paused);
    v("ipaddr", w.ipaddr);
    v("created", w.created);
    v("last_check_in", w.last_check_in);
    v("uptime_s", w.uptime_s);
    v("last_reward_uptime_s", w.last_reward_uptime_s);
    v("fulfilments", w.fulfilments);
    v("aborted_jobs", w.aborted_jobs);
    v("things_done", w.things_done);
    v("kudos_generated", w.kudos_generated);
    v("kudos_uptime", w.kudos_uptime);
    v("speed_samples", w.speed_samples);
}

/// Columns: id, username, api_key_hash.
template <typename V, Of<domain::User> S>
void Fields(V& v, S& u) {
    v("anonymous", u.anonymous);
    v("moderator", u.moderator);
    v("admin", u.admin);
    v("trusted", u.trusted);
    v("flagged", u.flagged);
    v("deleted", u.deleted);
    v("pseudonymous", u.pseudonymous);
    v("public_workers", u.public_workers);
    v("concurrency", u.concurrency);
    v("worker_invited", u.worker_invited);
    v("contact", u.contact);
    v("oauth_id", u.oauth_id);
    v("created", u.created);
    v("last_active", u.last_active);
    v("usage_multiplier", u.usage_multiplier);
    v("monthly_kudos", u.monthly_kudos);
    v("monthly_kudos_last", u.monthly_kudos_last);
    v("admin_comment", u.admin_comment);
    v("customizer", u.customizer);
    v("vpn", u.vpn);
    v("service", u.service);
    v("education", u.education);
    v("special", u.special);
}

/// Doubles are written as their shortest round-trip text (std::to_chars), not as JSON numbers:
/// Boost.JSON 1.81's parser is not correctly rounded and changes the last bit of some values.
std::string DoubleText(double value) {
    std::array<char, 32> buf{};
    const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
    HORDE_CHECK(ec == std::errc(), "32 chars hold any shortest double");
    return std::string(buf.data(), end);
}

class JsonWriter {
public:
    // Room for an entity's fields up front: grown one key at a time, the object reallocated and
    // moved its pairs several times (a claimed job's data: ~2k instructions of its ~7k).
    JsonWriter() { obj_.reserve(16); }

    void operator()(const char* key, bool value) { obj_[key] = value; }
    void operator()(const char* key, int value) { obj_[key] = value; }
    void operator()(const char* key, int64_t value) { obj_[key] = value; }
    void operator()(const char* key, double value) { obj_[key] = DoubleText(value); }
    void operator()(const char* key, const std::string& value) { obj_[key] = value; }
    void operator()(const char* key, const CompactString& value) { obj_[key] = value.view(); }
    void operator()(const char* key, const InternedString& value) { obj_[key] = value.view(); }
    void operator()(const char* key, Kudos value) { obj_[key] = value.milli(); }
    void operator()(const char* key, TimePoint value) { obj_[key] = ToUnixMillis(value); }
    void operator()(const char* key, UserId value) { obj_[key] = value.value(); }
    void operator()(const char* key, domain::GenKind value) { obj_[key] = GenKindName(value); }
    void operator()(const char* key, const std::optional<int>& value) {
        obj_[key] = value ? json::value(*value) : json::value(nullptr);
    }
    void operator()(const char* key, const std::optional<double>& value) {
        obj_[key] = value ? json::value(DoubleText(*value)) : json::value(nullptr);
    }
    void operator()(const char* key, const std::vector<std::string>& values) {
        json::array& out = obj_[key].emplace_array();
        for (const auto& v : values) {
            out.emplace_back(v);
        }
    }
    void operator()(const char* key, const CompactStringList& values) {
        json::array& out = obj_[key].emplace_array();
        for (const std::string_view v : values) {
            out.emplace_back(v);
        }
    }
    void operator()(const char* key, const std::vector<WorkerId>& values) {
        json::array& out = obj_[key].emplace_array();
        for (const auto& v : values) {
            out.emplace_back(v.value());
        }
    }
    void operator()(const char* key, const std::vector<double>& values) {
        json::array& out = obj_[key].emplace_array();
        for (const double v : values) {
            out.emplace_back(DoubleText(v));
        }
    }
    template <typename S>
    requires std::is_class_v<S>
    void operator()(const char* key, const S& nested) {
        JsonWriter inner;
        Fields(inner, nested);
        obj_[key] = std::move(inner.obj_);
    }

    std::string Text() const { return json::serialize(obj_); }

private:
    json::object obj_;
};

/// Reads fields from a JSON object; the first type error is kept and later fields are still
/// visited (harmlessly) so callers check error() once.
class JsonReader {
public:
    explicit JsonReader(const json::object& obj) : obj_(obj) {}

    const std::string& error() const { return error_; }

    void operator()(const char* key, bool& out) {
        if (const json::value* v = Find(key)) {
            if (const bool* b = v->if_bool()) {
                out = *b;
            } else {
                Fail(key, "a boolean");
            }
        }
    }
    void operator()(const char* key, int& out) {
        if (const json::value* v = Find(key)) {
            int64_t wide = 0;
            if (!ToInt64(*v, wide) || wide < std::numeric_limits<int>::min() ||
                wide > std::numeric_limits<int>::max()) {
                return Fail(key, "a 32-bit integer");
            }
            out = static_cast<int>(wide);
        }
    }
    void operator()(const char* key, int64_t& out) {
        if (const json::value* v = Find(key)) {
            if (!ToInt64(*v, out)) {
                Fail(key, "an integer");
            }
        }
    }
    void operator()(const char* key, double& out) {
        if (const json::value* v = Find(key)) {
            if (!ToDouble(*v, out)) {
                Fail(key, "a number");
            }
        }
    }
    void operator()(const char* key, std::string& out) {
        if (const json::value* v = Find(key)) {
            if (!ToString(*v, out)) {
                Fail(key, "a string");
            }
        }
    }
    void operator()(const char* key, CompactString& out) { ReadInto(key, out); }
    void operator()(const char* key, InternedString& out) { ReadInto(key, out); }
    void operator()(const char* key, Kudos& out) {
        int64_t milli = out.milli();
        (*this)(key, milli);
        out = Kudos::FromMilli(milli);
    }
    void operator()(const char* key, TimePoint& out) {
        int64_t ms = ToUnixMillis(out);
        (*this)(key, ms);
        out = FromUnixMillis(ms);
    }
    void operator()(const char* key, UserId& out) {
        int64_t id = out.value();
        (*this)(key, id);
        out = UserId(id);
    }
    void operator()(const char* key, domain::GenKind& out) {
        if (const json::value* v = Find(key)) {
            std::string name;
            if (!ToString(*v, name) || !ParseGenKind(name, out)) {
                Fail(key, "a generation kind");
            }
        }
    }
    void operator()(const char* key, std::optional<int>& out) {
        if (const json::value* v = Find(key); v != nullptr && v->is_null()) {
            out.reset();
        } else if (v != nullptr) {
            int value = 0;
            (*this)(key, value);
            out = value;
        }
    }
    void operator()(const char* key, std::optional<double>& out) {
        if (const json::value* v = Find(key); v != nullptr && v->is_null()) {
            out.reset();
        } else if (v != nullptr) {
            double value = 0;
            (*this)(key, value);
            out = value;
        }
    }
    void operator()(const char* key, std::vector<std::string>& out) {
        ReadArray(key, out, [](const json::value& v, std::string& s) { return ToString(v, s); });
    }
    void operator()(const char* key, CompactStringList& out) {
        if (Find(key) != nullptr) {
            std::vector<std::string> values;
            (*this)(key, values);
            out = CompactStringList(values);
        }
    }
    void operator()(const char* key, std::vector<WorkerId>& out) {
        ReadArray(key, out, [](const json::value& v, WorkerId& id) {
            std::string s;
            if (!ToString(v, s)) {
                return false;
            }
            id = WorkerId(std::move(s));
            return true;
        });
    }
    void operator()(const char* key, std::vector<double>& out) {
        ReadArray(key, out, [](const json::value& v, double& d) { return ToDouble(v, d); });
    }
    template <typename S>
    requires std::is_class_v<S>
    void operator()(const char* key, S& nested) {
        if (const json::value* v = Find(key)) {
            const json::object* obj = v->if_object();
            if (obj == nullptr) {
                return Fail(key, "an object");
            }
            JsonReader inner(*obj);
            Fields(inner, nested);
            if (!inner.error_.empty()) {
                Fail(key, inner.error_.c_str());
            }
        }
    }

private:
    const json::value* Find(const char* key) const { return obj_.if_contains(key); }

    void Fail(const char* key, const char* expected) {
        if (error_.empty()) {
            error_ = std::string("field ") + key + ": expected " + expected;
        }
    }

    template <typename T, typename F>
    void ReadArray(const char* key, std::vector<T>& out, F read_one) {
        const json::value* v = Find(key);
        if (v == nullptr) {
            return;
        }
        const json::array* arr = v->if_array();
        if (arr == nullptr) {
            return Fail(key, "an array");
        }
        std::vector<T> values(arr->size());
        for (size_t i = 0; i < arr->size(); ++i) {
            if (!read_one((*arr)[i], values[i])) {
                return Fail(key, "an array of the right element type");
            }
        }
        out = std::move(values);
    }

    static bool ToInt64(const json::value& v, int64_t& out) {
        if (const int64_t* i = v.if_int64()) {
            out = *i;
            return true;
        }
        if (const uint64_t* u = v.if_uint64();
            u != nullptr && *u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            out = static_cast<int64_t>(*u);
            return true;
        }
        return false;
    }
    template <typename Str>
    void ReadInto(const char* key, Str& out) {
        if (const json::value* v = Find(key)) {
            const json::string* s = v->if_string();
            if (s == nullptr) {
                return Fail(key, "a string");
            }
            out = Str(std::string_view(s->data(), s->size()));
        }
    }
    static bool ToString(const json::value& v, std::string& out) {
        const json::string* s = v.if_string();
        if (s == nullptr) {
            return false;
        }
        out.assign(s->data(), s->size());
        return true;
    }
    /// Our own text form first; a plain JSON number (a hand edit) is accepted too.
    static bool ToDouble(const json::value& v, double& out) {
        if (const json::string* s = v.if_string()) {
            const char* end = s->data() + s->size();
            const auto [ptr, ec] = std::from_chars(s->data(), end, out);
            return ec == std::errc() && ptr == end;
        }
        if (v.is_number()) {
            out = v.to_number<double>();  // cannot throw: every JSON number converts
            return true;
        }
        return false;
    }

    const json::object& obj_;
    std::string error_;
};

template <typename E>
std::string EncodeData(const E& entity) {
    JsonWriter writer;
    Fields(writer, entity);
    return writer.Text();
}

Error Corrupt(std::string_view table, std::string_view id, std::string_view why) {
    return MakeError(ErrorCode::kStoreUnavailable, "corrupt " + std::string(table) + " row " +
                                                       std::string(id) + ": " + std::string(why));
}

/// Fills the non-column fields of `entity` from a `data` column.
template <typename E>
Status DecodeData(const std::string& text, E& entity, std::string_view table, std::string_view id) {
    json::parse_options options;
    options.allow_invalid_utf8 = true;  // we store whatever bytes the entity held
    boost::system::error_code ec;
    const json::value parsed = json::parse(text, ec, {}, options);
    if (ec) {
        return Corrupt(table, id, ec.message());
    }
    const json::object* obj = parsed.if_object();
    if (obj == nullptr) {
        return Corrupt(table, id, "data is not a JSON object");
    }
    JsonReader reader(*obj);
    Fields(reader, entity);
    if (!reader.error().empty()) {
        return Corrupt(table, id, reader.error());
    }
    return Ok();
}

// ---------------------------------------------------------------------------------------------
// Mutations. Each runs inside Apply's transaction.

Status AddUserStatRow(Connection& c, int64_t user, std::string_view stat, double delta) {
    HORDE_TRY(auto q, c.Prepare(kAddUserStat));
    return q.BindInt(user).BindText(stat).BindReal(delta).Run();
}

Status ApplyOne(Connection& c, const PutUser& m) {
    const domain::User& u = m.user;
    HORDE_TRY(auto q, c.Prepare(kUpsertUser));
    q.BindInt(u.id.value()).BindText(u.username);
    if (u.api_key_hash.empty()) {
        q.BindNull();  // NULLs never collide under UNIQUE
    } else {
        q.BindText(u.api_key_hash);
    }
    return q.BindText(EncodeData(u)).Run();
}

Status ApplyOne(Connection& c, const PutWorker& m) {
    const domain::Worker& w = m.worker;
    HORDE_TRY(auto q, c.Prepare(kUpsertWorker));
    return q.BindText(w.id.value())
        .BindText(w.name)
        .BindInt(w.owner.value())
        .BindText(GenKindName(w.kind))
        .BindText(EncodeData(w))
        .Run();
}

Status ApplyOne(Connection& c, const DeleteWorker& m) {
    HORDE_TRY(auto q, c.Prepare(kDeleteWorker));
    return q.BindText(m.id.value()).Run();
}

Status ApplyOne(Connection& c, const PutRequest& m) {
    const domain::Request& r = m.request;
    HORDE_TRY(auto q, c.Prepare(kUpsertRequest));
    if (r.seq > 0) {
        q.BindInt(r.seq);
    } else {
        q.BindNull();  // no sequence number (tests, tools): SQLite numbers the row
    }
    return q.BindText(r.id.value())
        .BindText(GenKindName(r.kind))
        .BindInt(r.user.value())
        .BindInt(r.n)
        .BindInt(r.jobs)
        .BindInt(ToUnixMillis(r.created))
        .BindInt(ToUnixMillis(r.expiry))
        .BindInt(r.seq)
        .BindText(EncodeData(r))
        .BindText(r.params_json)
        .BindText(r.client_agent)
        .BindText(r.ipaddr)
        .BindInt(c.NextWriteSeq())
        .Run();
}

Status ApplyOne(Connection& c, const DeleteRequest& m) {
    for (const JobId& job : m.jobs) {
        HORDE_TRY(auto q, c.Prepare(kDeleteJob));
        HORDE_TRY_STATUS(q.BindText(job.value()).Run());
    }
    HORDE_TRY(auto q, c.Prepare(kDeleteRequest));
    return q.BindText(m.id.value()).Run();
}

Status ApplyOne(Connection& c, const PutJob& m) {
    const domain::Job& j = m.job;
    HORDE_TRY(auto q, c.Prepare(kUpsertJob));
    return q.BindText(j.id.value())
        .BindText(j.request.value())
        .BindText(j.worker.value())
        .BindText(JobStateName(j.state))
        .BindText(EncodeData(j))
        .Run();
}

Status AddPosting(Connection& c, int64_t entry_id, const domain::Posting& p) {
    {
        HORDE_TRY(auto q, c.Prepare(kInsertPosting));
        HORDE_TRY_STATUS(q.BindInt(entry_id)
                             .BindText(p.account)
                             .BindInt(p.amount.milli())
                             .BindText(domain::KudosStatName(p.stat))
                             .Run());
    }
    {
        HORDE_TRY(auto q, c.Prepare(kAddBalance));
        HORDE_TRY_STATUS(q.BindText(p.account).BindInt(p.amount.milli()).Run());
    }
    const int64_t user = domain::AccountUser(p.account);
    if (p.stat == domain::KudosStat::kNone || user < 0) {
        return Ok();
    }
    const std::string stat = "kudos." + std::string(domain::KudosStatName(p.stat));
    return AddUserStatRow(c, user, stat, p.amount.ToDouble());
}

Status ApplyOne(Connection& c, const PostEntry& m) {
    const domain::LedgerEntry& e = m.entry;
    if (!domain::IsBalanced(e)) {
        return MakeError(ErrorCode::kBadRequest, "unbalanced ledger entry " + e.key);
    }
    {
        HORDE_TRY(auto q, c.Prepare(kSelectEntryExists));
        HORDE_TRY(const bool exists, q.BindText(e.key).Step());
        if (exists) {
            return MakeError(ErrorCode::kBadRequest, "duplicate ledger key " + e.key);
        }
    }
    int64_t entry_id = 0;
    {
        HORDE_TRY(auto q, c.Prepare(kInsertEntry));
        HORDE_TRY(const bool row, q.BindText(e.key)
                                      .BindText(domain::EntryKindName(e.kind))
                                      .BindInt(ToUnixMillis(e.created))
                                      .BindText(e.memo)
                                      .Step());
        HORDE_CHECK(row, "INSERT ... RETURNING yields the new row");
        entry_id = q.Int(0);
        HORDE_TRY_STATUS(q.Run());  // finish the statement before the next one
    }
    for (const domain::Posting& p : e.postings) {
        HORDE_TRY_STATUS(AddPosting(c, entry_id, p));
    }
    return Ok();
}

Status ApplyOne(Connection& c, const AddUserStat& m) {
    return AddUserStatRow(c, m.user.value(), m.stat, m.delta);
}

Status ApplyOne(Connection& c, const PutSetting& m) {
    HORDE_TRY(auto q, c.Prepare(kUpsertSetting));
    return q.BindText(m.key).BindText(m.value).Run();
}

Status ApplyOne(Connection& c, const PutSession& m) {
    const domain::WebSession& ws = m.session;
    HORDE_TRY(auto q, c.Prepare(kUpsertSession));
    return q.BindText(ws.token_hash)
        .BindInt(ws.user.value())
        .BindInt(ToUnixMillis(ws.created))
        .BindInt(ToUnixMillis(ws.expires))
        .Run();
}

Status ApplyOne(Connection& c, const DeleteSession& m) {
    HORDE_TRY(auto q, c.Prepare(kDeleteSession));
    return q.BindText(m.token_hash).Run();
}

Status ApplyOne(Connection& c, const PutInvite& m) {
    const domain::Invite& inv = m.invite;
    HORDE_TRY(auto q, c.Prepare(kUpsertInvite));
    return q.BindText(inv.token_hash)
        .BindInt(inv.created_by.value())
        .BindInt(ToUnixMillis(inv.created))
        .BindInt(ToUnixMillis(inv.expires))
        .BindInt(inv.accepted_by)
        .Run();
}

// Reads the claimed request's params into `out` (when set): by row number when the claim
// carries the request's sequence number and that row is the request's, else by id.
Status ReadClaimedParams(Connection& c, const ClaimSlots& m) {
    if (m.request_seq > 0) {
        HORDE_TRY(auto q, c.Prepare(kSelectRequestParamsByRow));
        HORDE_TRY(const bool found, q.BindInt(m.request_seq).Step());
        if (found && q.Text(1) == m.request.value()) {
            if (m.params_out) {
                *m.params_out = q.Text(0);
            }
            return q.Run();  // finish the statement before the next one
        }
        HORDE_TRY_STATUS(q.Run());
    }
    HORDE_TRY(auto q, c.Prepare(kSelectRequestParams));
    HORDE_TRY(const bool found, q.BindText(m.request.value()).Step());
    if (!found) {
        return MakeError(ErrorCode::kBadRequest, "precondition failed: no such request");
    }
    if (m.params_out) {
        *m.params_out = q.Text(0);
    }
    return q.Run();
}

// Appends the claim's jobs, each carrying it; the request's row is only read (for its params).
Status ApplyOne(Connection& c, const ClaimSlots& m) {
    HORDE_TRY_STATUS(ReadClaimedParams(c, m));
    const int64_t seq = c.NextWriteSeq();
    if (m.jobs.empty()) {  // nothing to carry it: update the row
        HORDE_TRY(auto q, c.Prepare(kUpdateRequestSlots));
        return q.BindInt(m.n)
            .BindInt(ToUnixMillis(m.expiry))
            .BindInt(seq)
            .BindText(m.request.value())
            .Run();
    }
    for (const domain::Job& j : m.jobs) {
        if (j.request != m.request) {
            return MakeError(ErrorCode::kBadRequest, "a claim's job is of another request");
        }
        HORDE_TRY(auto q, c.Prepare(kInsertClaimedJob));
        HORDE_TRY_STATUS(q.BindText(j.id.value())
                             .BindText(j.request.value())
                             .BindText(j.worker.value())
                             .BindText(JobStateName(j.state))
                             .BindText(EncodeData(j))
                             .BindInt(seq)
                             .BindInt(m.n)
                             .BindInt(ToUnixMillis(m.expiry))
                             .Run());
    }
    return Ok();
}

// ---------------------------------------------------------------------------------------------
// Load.

Result<domain::User> ReadUser(const Query& q) {
    domain::User u;
    u.id = UserId(q.Int(0));
    u.username = q.Text(1);
    u.api_key_hash = q.Text(2);
    HORDE_TRY_STATUS(DecodeData(q.Text(3), u, "users", std::to_string(u.id.value())));
    return u;
}

Result<domain::Worker> ReadWorker(const Query& q) {
    domain::Worker w;
    w.id = WorkerId(q.Text(0));
    w.name = q.Text(1);
    w.owner = UserId(q.Int(2));
    if (!ParseGenKind(q.Text(3), w.kind)) {
        return Corrupt("workers", w.id.value(), "bad kind");
    }
    HORDE_TRY_STATUS(DecodeData(q.Text(4), w, "workers", w.id.value()));
    return w;
}

Result<domain::Request> ReadRequest(const Query& q) {
    domain::Request r;
    r.id = RequestId(q.Text(0));
    if (!ParseGenKind(q.Text(1), r.kind)) {
        return Corrupt("requests", r.id.value(), "bad kind");
    }
    r.user = UserId(q.Int(2));
    const int64_t n = q.Int(3);
    const int64_t jobs = q.Int(4);
    if (n < 0 || n > std::numeric_limits<int>::max() || jobs < 0 ||
        jobs > std::numeric_limits<int>::max()) {
        return Corrupt("requests", r.id.value(), "n or jobs out of range");
    }
    r.n = static_cast<int>(n);
    r.jobs = static_cast<int>(jobs);
    r.created = FromUnixMillis(q.Int(5));
    r.expiry = FromUnixMillis(q.Int(6));
    r.seq = q.Int(7);
    HORDE_TRY_STATUS(DecodeData(q.Text(8), r, "requests", r.id.value()));
    r.params_json = q.Text(9);
    r.client_agent = q.Text(10);
    r.ipaddr = q.Text(11);
    return r;
}

Result<domain::Job> ReadJob(const Query& q) {
    domain::Job j;
    j.id = JobId(q.Text(0));
    j.request = RequestId(q.Text(1));
    j.worker = WorkerId(q.Text(2));
    if (!ParseJobState(q.Text(3), j.state)) {
        return Corrupt("jobs", j.id.value(), "bad state");
    }
    HORDE_TRY_STATUS(DecodeData(q.Text(4), j, "jobs", j.id.value()));
    return j;
}

/// Runs `sql` and appends `read(query)` for each row.
template <typename T, typename F>
Status ReadAll(Connection& c, std::string_view sql, std::vector<T>& out, F read) {
    HORDE_TRY(auto q, c.Prepare(sql));
    for (;;) {
        HORDE_TRY(const bool row, q.Step());
        if (!row) {
            return Ok();
        }
        HORDE_TRY(auto value, read(q));
        out.push_back(std::move(value));
    }
}

/// Runs `sql` and calls `visit(query)` for each row.
template <typename F>
Status ForEachRow(Connection& c, std::string_view sql, F visit) {
    HORDE_TRY(auto q, c.Prepare(sql));
    for (;;) {
        HORDE_TRY(const bool row, q.Step());
        if (!row) {
            return Ok();
        }
        visit(q);
    }
}

/// The first column of the first row of a parameterless query.
Result<int64_t> ScalarInt(Connection& c, std::string_view sql, int col = 0) {
    HORDE_TRY(auto q, c.Prepare(sql));
    HORDE_TRY(const bool row, q.Step());
    if (!row) {
        return MakeError(ErrorCode::kStoreUnavailable, "no row from " + std::string(sql));
    }
    return q.Int(col);
}

/// Reads the requests and their jobs, folding into each request the newest claim its jobs carry
/// when it is newer than the request's own last full write. Jobs of no request are left out.
Status LoadRequestsAndJobs(Connection& c, Snapshot& s) {
    std::unordered_map<std::string, size_t> index;  // request id → position in s.requests
    std::vector<int64_t> newest;                    // per request: the newest write applied
    Status failed = Ok();
    HORDE_TRY_STATUS(ForEachRow(c, kSelectRequests, [&](const Query& q) {
        auto r = ReadRequest(q);
        if (!r) {
            failed = r.error();
            return;
        }
        index.emplace(r->id.value(), s.requests.size());
        s.requests.push_back(std::move(*r));
        newest.push_back(q.Int(12));
    }));
    HORDE_TRY_STATUS(failed);
    HORDE_TRY_STATUS(ForEachRow(c, kSelectJobs, [&](const Query& q) {
        auto j = ReadJob(q);
        if (!j) {
            failed = j.error();
            return;
        }
        auto it = index.find(j->request.value());
        if (it == index.end()) {
            return;  // its request was deleted
        }
        const int64_t claim_seq = q.Int(5);
        if (claim_seq > newest[it->second]) {
            domain::Request& r = s.requests[it->second];
            const int64_t n = q.Int(6);
            if (n < 0 || n > std::numeric_limits<int>::max()) {
                failed = Corrupt("jobs", j->id.value(), "claimed n out of range");
                return;
            }
            r.n = static_cast<int>(n);
            r.expiry = FromUnixMillis(q.Int(7));
            newest[it->second] = claim_seq;
        }
        s.jobs.push_back(std::move(*j));
    }));
    return failed;
}

Status LoadInto(Connection& c, Snapshot& s) {
    HORDE_TRY_STATUS(ReadAll(c, kSelectUsers, s.users, ReadUser));
    HORDE_TRY_STATUS(ReadAll(c, kSelectWorkers, s.workers, ReadWorker));
    HORDE_TRY_STATUS(LoadRequestsAndJobs(c, s));
    HORDE_TRY_STATUS(ForEachRow(c, kSelectBalances,
                                [&](const Query& q) { s.balances_milli[q.Text(0)] = q.Int(1); }));
    HORDE_TRY_STATUS(ForEachRow(c, kSelectUserStats, [&](const Query& q) {
        s.user_stats[q.Int(0)][q.Text(1)] = q.Real(2);
    }));
    HORDE_TRY_STATUS(
        ForEachRow(c, kSelectSettings, [&](const Query& q) { s.settings[q.Text(0)] = q.Text(1); }));
    HORDE_TRY_STATUS(ForEachRow(c, kSelectSessions, [&](const Query& q) {
        s.sessions.push_back(domain::WebSession{.token_hash = q.Text(0),
                                                .user = UserId(q.Int(1)),
                                                .created = FromUnixMillis(q.Int(2)),
                                                .expires = FromUnixMillis(q.Int(3))});
    }));
    HORDE_TRY_STATUS(ForEachRow(c, kSelectInvites, [&](const Query& q) {
        s.invites.push_back(domain::Invite{.token_hash = q.Text(0),
                                           .created_by = UserId(q.Int(1)),
                                           .created = FromUnixMillis(q.Int(2)),
                                           .expires = FromUnixMillis(q.Int(3)),
                                           .accepted_by = q.Int(4)});
    }));
    HORDE_TRY(const int64_t max_id, ScalarInt(c, kSelectMaxUserId));
    s.next_user_id = std::max<int64_t>(max_id + 1, 1);
    return Ok();
}

Status CheckInto(Connection& c, LedgerCheck& check) {
    HORDE_TRY(check.entries, ScalarInt(c, kCountEntries));
    HORDE_TRY(check.postings, ScalarInt(c, kPostingTotals, 0));
    HORDE_TRY(check.sum_milli, ScalarInt(c, kPostingTotals, 1));
    HORDE_TRY(check.unbalanced_entries, ScalarInt(c, kCountUnbalanced));
    return ForEachRow(c, kSelectDrift,
                      [&](const Query& q) { check.drift_milli[q.Text(0)] = q.Int(1); });
}

// ---------------------------------------------------------------------------------------------
// Open and migrate.

Result<int> ReadSchemaVersion(Connection& c) {
    HORDE_TRY(auto q, c.Prepare(kSelectSchemaVersion));
    HORDE_TRY(const bool row, q.Step());
    if (!row) {
        return 0;
    }
    const std::string text = q.Text(0);
    int version = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
    if (ec != std::errc() || end != text.data() + text.size()) {
        return MakeError(ErrorCode::kStoreUnavailable, "bad schema_version '" + text + "'");
    }
    return version;
}

/// Applies `m` unless the database already has it. The version is read inside the write
/// transaction, so two processes opening a new file at once do not both run it.
Status ApplyMigration(Connection& c, const sqlite_schema::Migration& m) {
    HORDE_TRY(auto tx, Transaction::Begin(c, kBeginWrite));
    HORDE_TRY(const int current, ReadSchemaVersion(c));
    if (current >= m.version) {
        return tx.Commit();
    }
    if (Status s = c.Exec(m.sql); !s) {
        return MakeError(ErrorCode::kStoreUnavailable, "migration V" + std::to_string(m.version) +
                                                           " " + m.name + ": " + s.error().message);
    }
    {
        HORDE_TRY(auto q, c.Prepare(kUpsertSchemaVersion));
        HORDE_TRY_STATUS(q.BindText(std::to_string(m.version)).Run());
    }
    return tx.Commit();
}

Status Migrate(Connection& c) {
    HORDE_TRY_STATUS(c.Exec(sqlite_schema::kBootstrap));
    for (const sqlite_schema::Migration& m : sqlite_schema::kMigrations) {
        HORDE_TRY_STATUS(ApplyMigration(c, m));
    }
    HORDE_TRY(const int version, ReadSchemaVersion(c));
    if (version != sqlite_schema::kLatestVersion) {
        return MakeError(ErrorCode::kStoreUnavailable,
                         "database schema version " + std::to_string(version) +
                             " is not the one this build knows (" +
                             std::to_string(sqlite_schema::kLatestVersion) + ")");
    }
    HORDE_TRY(const int64_t last_write, ScalarInt(c, kSelectWriteSeq));
    c.SetWriteSeq(last_write);
    // Jobs left without their request (a deletion that did not name them all): one scan per
    // start, as Load reads every row anyway.
    return c.Exec(kDeleteOrphanJobs);
}

Result<std::unique_ptr<Connection>> OpenConnection(const std::string& path) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(
        path.c_str(), &raw,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
        nullptr);
    DbHandle db(raw);  // closes on every path, including a failed open
    if (rc != SQLITE_OK) {
        return MakeError(ErrorCode::kStoreUnavailable,
                         raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    }
    sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
    auto conn = std::make_unique<Connection>(std::move(db));
    HORDE_TRY_STATUS(conn->Exec(kPragmas));
    HORDE_TRY_STATUS(Migrate(*conn));
    return conn;
}

}  // namespace
}  // namespace sqlite_detail

using sqlite_detail::Connection;
using sqlite_detail::Transaction;

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       CheckpointSettings checkpoints) {
    HORDE_TRY(auto conn, sqlite_detail::OpenConnection(path));
    auto store = std::unique_ptr<SqliteStore>(new SqliteStore(std::move(conn)));
    if (!path.empty() && path != ":memory:") {
        store->StartCheckpointer(path, checkpoints);
    }
    return store;
}

SqliteStore::SqliteStore(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}

SqliteStore::~SqliteStore() {
    {
        std::lock_guard lock(checkpoint_mutex_);
        checkpoint_stop_ = true;
    }
    checkpoint_stop_cv_.notify_all();
    if (checkpointer_.joinable()) {
        checkpointer_.join();
    }
}

void SqliteStore::StartCheckpointer(const std::string& path, CheckpointSettings settings) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        spdlog::warn("no background checkpointer ({}): SQLite checkpoints by itself",
                     db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return;
    }
    sqlite3_busy_timeout(db, sqlite_detail::kBusyTimeoutMs);
    // A connection opens the WAL only once it reads the database; until then a checkpoint
    // through it does nothing (and reports -1 frames).
    if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) !=
        SQLITE_OK) {
        spdlog::warn("no background checkpointer ({}): SQLite checkpoints by itself",
                     sqlite3_errmsg(db));
        sqlite3_close(db);
        return;
    }
    checkpointer_ = std::thread([this, db, settings] { CheckpointLoop(db, settings); });
    // From now on the writer never checkpoints: a checkpoint in the writer's commit holds every
    // other writer for two fsyncs (tens of milliseconds here), many times a second under load.
    std::lock_guard lock(mutex_);
    sqlite3_wal_autocheckpoint(conn_->db(), 0);
}

namespace {

/// Flushes the database file through `db`'s own handle on it (what a checkpoint that copies the
/// whole WAL does before the WAL may start over). False if SQLite gives no handle or it fails.
bool SyncDatabaseFile(sqlite3* db) {
    sqlite3_file* file = nullptr;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK ||
        file == nullptr || file->pMethods == nullptr) {
        return false;
    }
    return file->pMethods->xSync(file, SQLITE_SYNC_NORMAL) == SQLITE_OK;
}

}  // namespace

void SqliteStore::CheckpointLoop(sqlite3* db, CheckpointSettings settings) {
    std::unique_lock lock(checkpoint_mutex_);
    int rewound_at_frames = -1;  // the WAL's length when the last rewind's held round ran
    while (!checkpoint_stop_cv_.wait_for(lock, settings.interval,
                                         [this] { return checkpoint_stop_; })) {
        // PASSIVE: copies what no reader still needs, never blocks the writer.
        int wal_frames = 0;
        int copied = 0;
        int rc =
            sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied);
        // A WAL left whole and copied by the last rewind, with no write since (the next one
        // starts it over), needs nothing more: no syncs, no hold, four times a second while idle.
        const bool rewound_and_idle = wal_frames == rewound_at_frames && copied == wal_frames;
        if (rc == SQLITE_OK && wal_frames >= settings.wal_rewind_frames && !rewound_and_idle) {
            // The WAL only rewinds once a checkpoint has copied all of it, which never happens
            // while writes keep coming. Catch up without holding anyone, then copy the little
            // left with the writer held off; the next write starts the WAL over. A round reports
            // the WAL's length when it started: the frames it had to copy (those written during
            // the round before) tell about how many the next round will find.
            const int first_frames = wal_frames;
            int rounds = 1;
            int round_frames = wal_frames;
            bool synced = SyncDatabaseFile(db);  // if not, the held round syncs it all
            while (synced && rc == SQLITE_OK && round_frames > sqlite_detail::kHeldRoundFramesMax &&
                   rounds < sqlite_detail::kCatchUpRounds) {
                const int before = copied;
                rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames,
                                               &copied);
                round_frames = wal_frames - before;
                ++rounds;
                synced = SyncDatabaseFile(db);
            }
            const auto start = std::chrono::steady_clock::now();
            std::lock_guard writer(mutex_);
            rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames,
                                           &copied);
            rewound_at_frames = rc == SQLITE_OK ? wal_frames : -1;
            spdlog::debug(
                "WAL rewind after {} frames, {} unheld rounds (the last had {} to copy): "
                "writer held {} us",
                first_frames, rounds, round_frames,
                std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count());
        }
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
            spdlog::warn("background checkpoint failed: {}", sqlite3_errmsg(db));
        }
    }
    sqlite3_close(db);
}

Status SqliteStore::Apply(const Batch& batch) {
    if (batch.empty()) {
        return Ok();
    }
    std::lock_guard lock(mutex_);
    Connection& c = *conn_;
    HORDE_TRY(auto tx, Transaction::Begin(c, sqlite_detail::kBeginWrite));
    for (const Mutation& m : batch.mutations) {
        // On failure `tx` rolls back, so nothing of the batch lands.
        HORDE_TRY_STATUS(
            std::visit([&c](const auto& one) { return sqlite_detail::ApplyOne(c, one); }, m));
    }
    return tx.Commit();
}

std::vector<Status> SqliteStore::ApplyGroup(const std::vector<const Batch*>& batches) {
    std::vector<Status> out(batches.size(), Ok());
    if (batches.empty()) {
        return out;
    }
    std::lock_guard lock(mutex_);
    Connection& c = *conn_;
    c.RemapIfGrown();
    auto tx = Transaction::Begin(c, sqlite_detail::kBeginWrite);
    if (!tx) {
        std::fill(out.begin(), out.end(), Status(tx.error()));
        return out;
    }
    for (size_t i = 0; i < batches.size(); ++i) {
        if (batches[i]->empty()) {
            continue;
        }
        if (auto s = c.Run("SAVEPOINT batch"); !s) {
            out[i] = s;
            continue;
        }
        for (const Mutation& m : batches[i]->mutations) {
            out[i] =
                std::visit([&c](const auto& one) { return sqlite_detail::ApplyOne(c, one); }, m);
            if (!out[i]) {
                break;
            }
        }
        if (!out[i]) {
            static_cast<void>(c.Run("ROLLBACK TO batch"));
        }
        static_cast<void>(c.Run("RELEASE batch"));
    }
    if (auto s = tx->Commit(); !s) {
        for (auto& one : out) {
            if (one) {
                one = s;
            }
        }
    }
    return out;
}

Result<Snapshot> SqliteStore::Load() {
    std::lock_guard lock(mutex_);
    HORDE_TRY(auto tx, Transaction::Begin(*conn_, sqlite_detail::kBeginRead));
    Snapshot snapshot;
    HORDE_TRY_STATUS(sqlite_detail::LoadInto(*conn_, snapshot));
    HORDE_TRY_STATUS(tx.Commit());
    return snapshot;
}

Result<bool> SqliteStore::HasEntry(const std::string& key) {
    std::lock_guard lock(mutex_);
    HORDE_TRY(auto q, conn_->Prepare(sqlite_detail::kSelectEntryExists));
    return q.BindText(key).Step();
}

Result<std::string> SqliteStore::RequestParams(const RequestId& id) {
    std::lock_guard lock(mutex_);
    HORDE_TRY(auto q, conn_->Prepare(sqlite_detail::kSelectRequestParams));
    HORDE_TRY(const bool found, q.BindText(id.value()).Step());
    if (!found) {
        return MakeError(ErrorCode::kRequestNotFound, "no request " + id.value());
    }
    return q.Text(0);
}

Result<LedgerCheck> SqliteStore::CheckLedger() {
    std::lock_guard lock(mutex_);
    HORDE_TRY(auto tx, Transaction::Begin(*conn_, sqlite_detail::kBeginRead));
    LedgerCheck check;
    HORDE_TRY_STATUS(sqlite_detail::CheckInto(*conn_, check));
    HORDE_TRY_STATUS(tx.Commit());
    return check;
}

Status SqliteStore::Compact() {
    std::lock_guard checkpoint_lock(checkpoint_mutex_);  // not while the background one runs
    std::lock_guard lock(mutex_);
    // Vacuum first: it writes the shortened file through the WAL, which the checkpoint then
    // copies into the database and truncates to zero bytes.
    HORDE_TRY_STATUS(conn_->Run(sqlite_detail::kIncrementalVacuum));
    HORDE_TRY(auto q, conn_->Prepare(sqlite_detail::kCheckpointTruncate));
    HORDE_TRY(const bool row, q.Step());
    if (row && q.Int(0) != 0) {
        return MakeError(ErrorCode::kStoreUnavailable,
                         "checkpoint incomplete: another connection is using the database");
    }
    return q.Run();
}

Result<int64_t> SqliteStore::ExternalChangeCounter() {
    std::lock_guard lock(mutex_);
    // PRAGMA data_version changes only when another connection commits.
    HORDE_TRY(auto q, conn_->Prepare("PRAGMA data_version"));
    HORDE_TRY(const bool row, q.Step());
    if (!row) {
        return int64_t{0};
    }
    return q.Int(0);
}

Result<int> SqliteStore::SchemaVersion() {
    std::lock_guard lock(mutex_);
    return sqlite_detail::ReadSchemaVersion(*conn_);
}

}  // namespace horde::store
