#pragma once
// The SQLite schema as numbered migrations. Open() applies, in order, every migration whose
// version is above `meta.schema_version`, each in its own transaction together with the version
// bump. A released migration is never edited: a schema change is a new kV00N constant appended
// to kMigrations.
//
// Layout rule: a table keeps as real columns what must be queried, joined, constrained or
// checked, and everything else of the entity as one JSON object in `data` (see sqlite_store.cpp).

#include <array>

namespace horde::store::sqlite_schema {

/// Runs before the version is read, so that a brand-new file has somewhere to keep it.
inline constexpr const char* kBootstrap =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID";

inline constexpr const char* kV001Init = R"sql(
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    api_key_hash TEXT UNIQUE,  -- NULL when the user has none, so "no key" never collides
    data TEXT NOT NULL
);
CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    owner INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE requests (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    jobs INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    expiry_ms INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL  -- holds the prompt: secure_delete zeroes it when the row goes
);
-- Deferred, so a batch may put a job before its request; the check runs at COMMIT.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL
        REFERENCES requests (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    worker_id TEXT NOT NULL,
    state TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX jobs_request ON jobs (request_id);
CREATE TABLE ledger_entries (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    memo TEXT NOT NULL
);
CREATE TABLE ledger_postings (
    entry_id INTEGER NOT NULL REFERENCES ledger_entries (id),
    account TEXT NOT NULL,
    amount_milli INTEGER NOT NULL,
    stat TEXT NOT NULL  -- KudosStatName; '' for none
);
CREATE INDEX ledger_postings_entry ON ledger_postings (entry_id);
CREATE INDEX ledger_postings_account ON ledger_postings (account);
CREATE TABLE balances (
    account TEXT PRIMARY KEY,
    balance_milli INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE user_stats (
    user_id INTEGER NOT NULL,
    stat TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (user_id, stat)
) WITHOUT ROWID;
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
)sql";

/// Browser login sessions and invite links (issue 7). Only token hashes are stored.
inline constexpr const char* kV002WebAccounts = R"sql(
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY,
    created_by INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    accepted_by INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

/// A request's params in their own column, written at intake and kept by later upserts that
/// carry none (a claim or a settlement no longer rewrites them), instead of inside `data`.
inline constexpr const char* kV003RequestParams = R"sql(
ALTER TABLE requests ADD COLUMN params TEXT NOT NULL DEFAULT '';
UPDATE requests SET params = coalesce(json_extract(data, '$.params_json'), ''),
                    data = json_remove(data, '$.params_json');
)sql";

/// Where a request came from (client agent, IP address) in columns of their own, written at intake
/// and kept by later upserts that carry none: the service keeps neither in memory.
inline constexpr const char* kV004RequestOrigin = R"sql(
ALTER TABLE requests ADD COLUMN client_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN ipaddr TEXT NOT NULL DEFAULT '';
UPDATE requests SET client_agent = coalesce(json_extract(data, '$.client_agent'), ''),
                    ipaddr = coalesce(json_extract(data, '$.ipaddr'), ''),
                    data = json_remove(data, '$.client_agent', '$.ipaddr');
)sql";

/// Claims appended instead of updated in place (issue 6): a pop's claim is written as the rows of
/// the jobs it hands out, each carrying the request's new `n` and expiry under a write sequence
/// number, rather than as an update of the request's row; a request row records the sequence
/// number of its own last full write, and Load keeps whichever is newer. Jobs lose their foreign
/// key and request index (a request's deletion names its jobs): a pop then writes only pages at
/// the end of the jobs table and of its id index, where the next pop writes too.
inline constexpr const char* kV005AppendedClaims = R"sql(
CREATE TABLE jobs_v5 (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    state TEXT NOT NULL,
    data TEXT NOT NULL,
    claim_seq INTEGER NOT NULL DEFAULT 0,  -- 0: the job carries no claim
    claim_n INTEGER NOT NULL DEFAULT 0,
    claim_expiry_ms INTEGER NOT NULL DEFAULT 0
);
INSERT INTO jobs_v5 (id, request_id, worker_id, state, data)
    SELECT id, request_id, worker_id, state, data FROM jobs ORDER BY rowid;
DROP TABLE jobs;
ALTER TABLE jobs_v5 RENAME TO jobs;
ALTER TABLE requests ADD COLUMN write_seq INTEGER NOT NULL DEFAULT 0;
)sql";

/// A request's row number is its sequence number (issue 6): the pop's claim reads the request's
/// params by row number instead of through the id index. Rows move out of the way first (negative
/// numbers), then take their seq; a seq held by two rows (never written by the service) keeps
/// its negative number and is found by id.
inline constexpr const char* kV006RequestRowBySeq = R"sql(
UPDATE requests SET rowid = -rowid - 1;
UPDATE requests SET rowid = seq
    WHERE seq > 0 AND seq IN (SELECT seq FROM requests GROUP BY seq HAVING count(*) = 1);
)sql";

struct Migration {
    int version;
    const char* name;
    const char* sql;
};

/// Ascending by version, without gaps.
inline constexpr std::array<Migration, 6> kMigrations{{
    {1, "init", kV001Init},
    {2, "web_accounts", kV002WebAccounts},
    {3, "request_params", kV003RequestParams},
    {4, "request_origin", kV004RequestOrigin},
    {5, "appended_claims", kV005AppendedClaims},
    {6, "request_row_by_seq", kV006RequestRowBySeq},
}};

inline constexpr int kLatestVersion = kMigrations.back().version;

}  // namespace horde::store::sqlite_schema
