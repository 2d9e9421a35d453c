#pragma once
// The use cases of the horde: accept requests, hand jobs to workers, take results, settle kudos,
// time out and expire. One instance per server process.
//
// State: the store is the source of truth; this class keeps the whole working set in memory
// (users, workers, requests, jobs, balances, the priority-ordered queue) for fast reads and
// matching. Every change is computed as a store::Batch, committed to the store, and only then
// applied to memory under the same lock, so an answered request is always durable.
//
// Thread-safety: safe for concurrent use. Reads take a shared lock, changes an exclusive one.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/spin_shared_mutex.hpp"
#include "domain/bridge_capabilities.hpp"
#include "domain/entities.hpp"
#include "domain/ledger.hpp"
#include "domain/matching.hpp"
#include "service/commit_queue.hpp"
#include "service/pending.hpp"
#include "store/result_files.hpp"
#include "store/store.hpp"

namespace horde::service {

/// Decodes base64 image data (standard or url-safe alphabet, optional padding and data: prefix).
std::optional<std::string> DecodeBase64Image(std::string_view in);
/// Standard base64 with padding.
std::string EncodeBase64(std::string_view bytes);

struct ServiceSettings {
    bool test_mode = false;
    std::string secret;  // key of API key hashes, signed URLs and web MACs (hex)
    int url_validity_s = 30 * 60;
    int upfront_check_disabled = 0;
};

/// Who is calling.
struct Caller {
    domain::User user;
    std::string ip;
    std::string client_agent;
};

/// A new request as decoded from the wire.
struct NewRequest {
    domain::Request request;
    bool dry_run = false;
    bool allow_downgrade = false;
    std::string source_image;  // base64 or URL (empty = none)
    std::string source_mask;
};

struct Accepted {
    RequestId id;
    Kudos kudos;  // per-job price (or the whole estimate for a dry run)
    std::vector<std::pair<std::string, std::string>> warnings;  // code, message
    std::string message;
};

struct GenerationView {
    domain::Job job;
    std::string result_name;  // image file name in the results store ("" for text)
};

struct RequestView {
    domain::Request request;
    int finished = 0;
    int processing = 0;
    int restarted = 0;
    int waiting = 0;
    bool done = false;
    bool is_possible = true;
    int wait_time_s = 0;
    int queue_position = 0;
    std::vector<GenerationView> generations;
};

struct PopOutcome {
    std::optional<domain::Request> request;  // a copy, when jobs were handed out
    std::vector<domain::Job> jobs;
    WorkerId worker;  // the popping worker (registered by its first pop)
    domain::Capabilities caps;
    std::map<std::string, int> skipped;
    std::string source_image_name;  // stored source image, if any ("" = none or URL)
    std::string source_mask_name;
};

struct SubmitOutcome {
    Kudos reward;
};

struct WorkerView {
    domain::Worker worker;
    bool online = false;
    std::string owner_name;
    bool owner_trusted = false;
    bool owner_public_workers = false;
};

struct UserView {
    domain::User user;
    Kudos kudos;
    Kudos evaluating;
    std::map<std::string, double> stats;
    std::vector<WorkerId> worker_ids;
    int worker_count = 0;
    std::vector<RequestId> active_image;
    std::vector<RequestId> active_text;
};

struct ModelView {
    std::string name;
    domain::GenKind kind = domain::GenKind::kImage;
    int count = 0;  // threads serving it
    double performance = 0;
    int64_t queued_things = 0;
    int jobs = 0;
    int eta_s = 0;
};

struct PerformanceView {
    int queued_requests = 0;
    int queued_text_requests = 0;
    int worker_count = 0;
    int text_worker_count = 0;
    int thread_count = 0;
    int text_thread_count = 0;
    double queued_megapixelsteps = 0;
    double past_minute_megapixelsteps = 0;
    int64_t queued_tokens = 0;
    int64_t past_minute_tokens = 0;
};

struct Roster;

class HordeService {
public:
    HordeService(store::Store& store, store::ResultFiles& files, const Clock& clock,
                 ServiceSettings settings);
    ~HordeService();
    HordeService(const HordeService&) = delete;
    HordeService& operator=(const HordeService&) = delete;

    /// Loads the store and creates the anonymous user on first start.
    Status Init();

    // ---- accounts
    /// The user owning `apikey`. Missing or unknown key → kInvalidApiKey.
    Result<domain::User> Authenticate(std::string_view apikey) const;
    Result<UserView> GetUser(UserId id) const;
    Result<UserView> FindUserByName(const std::string& username) const;
    std::vector<UserView> ListUsers(int page, const std::string& sort) const;
    struct CreatedUser {
        domain::User user;
        std::string api_key;
    };
    /// Creates a user with a fresh key. `kudos` is granted through the ledger (admin entry).
    Result<CreatedUser> CreateUser(const std::string& username, Kudos kudos, bool trusted,
                                   bool moderator, bool admin = false);
    Result<CreatedUser> ResetKey(UserId id);
    struct TestUser {
        domain::User user;
        std::string api_key;
        Kudos kudos;
        bool created = false;
    };
    /// Test mode: creates or refreshes the user with this oauth_id, mints a new key, and sets
    /// the balance to `kudos` (when given) through an admin ledger entry.
    Result<TestUser> UpsertTestUser(const std::string& username, const std::string& oauth_id,
                                    bool moderator, bool trusted, std::optional<int64_t> kudos);
    std::string HashKey(std::string_view apikey) const;

    // ---- generation
    /// Returns once everything queued for the store is written and its callbacks have run
    /// (before the transport that the callbacks answer through goes away).
    void Flush();

    // The calls that write before they answer (a new request, a pop, a submit) come in two
    // forms: blocking, and *Then, which returns at once and calls `done` on `resume`'s thread
    // once the writes are stored (the HTTP handlers use these: no thread waits for the commit).
    Result<Accepted> SubmitRequest(NewRequest input, const Caller& caller);
    void SubmitRequestThen(NewRequest input, const Caller& caller, Resume resume,
                           Done<Accepted> done);
    Result<RequestView> GetRequest(domain::GenKind kind, const std::string& id,
                                   bool with_generations) const;
    Result<RequestView> CancelRequest(domain::GenKind kind, const std::string& id);
    Result<PopOutcome> Pop(domain::GenKind kind, const std::string& worker_name,
                           domain::WorkerProfile profile, int amount, const Caller& caller);
    void PopThen(domain::GenKind kind, const std::string& worker_name,
                 domain::WorkerProfile profile, int amount, const Caller& caller, Resume resume,
                 Done<PopOutcome> done);
    struct SubmitInput {
        std::string job_id;
        std::string generation;
        std::string state = "ok";
        int64_t seed = 0;
        bool censored = false;
        std::string gen_metadata_json = "[]";
    };
    Result<SubmitOutcome> Submit(domain::GenKind kind, SubmitInput input, const Caller& caller);
    void SubmitThen(domain::GenKind kind, SubmitInput input, const Caller& caller, Resume resume,
                    Done<SubmitOutcome> done);

    // ---- results
    /// The signature of a results-store URL for (`name`, `purpose`, `expires_unix`).
    std::string SignUrl(const std::string& name, const std::string& purpose,
                        int64_t expires_unix) const;
    int64_t UrlExpiry() const;
    /// Checks a signature and expiry; kInvalidSignature when wrong or expired.
    Status VerifyUrl(const std::string& name, const std::string& purpose, int64_t expires_unix,
                     const std::string& signature) const;
    /// Stores an uploaded image for a job in progress.
    Status AcceptUpload(const std::string& job_id, std::string_view bytes);
    const store::ResultFiles& files() const { return files_; }

    // ---- kudos
    /// POST /kudos/transfer: whole kudos from `source` to the user `username` ("name#id").
    /// A non-empty `idempotency_key` makes a retry with the same body return the first result.
    Result<Kudos> Transfer(const domain::User& source, const std::string& username, int64_t amount,
                           const std::string& idempotency_key);
    /// POST /kudos/award: admins (and user 1) grant kudos.
    Result<Kudos> Award(const domain::User& caller, const std::string& username, Kudos amount);
    struct UserChange {
        std::optional<Kudos> kudos;  // admin: added to the balance (may be negative)
        std::optional<bool> moderator;
        std::optional<bool> trusted;
        std::optional<bool> flagged;
        std::optional<int> concurrency;
        std::optional<int> worker_invited;
        std::optional<bool> public_workers;
        std::optional<std::string> username;
        std::optional<std::string> contact;
        // admin
        std::optional<double> usage_multiplier;
        std::optional<Kudos> monthly_kudos;
        // moderator
        std::optional<bool> customizer;
        std::optional<bool> vpn;
        std::optional<bool> service;
        std::optional<bool> education;
        std::optional<bool> special;
        std::optional<std::string> admin_comment;
        bool reset_suspicion = false;
    };
    struct UserChangeResult {
        domain::User user;
        std::optional<Kudos> new_kudos;
    };
    /// PUT /users/{id}: each change checked against the caller's role, recorded in the ledger.
    Result<UserChangeResult> ModifyUser(const domain::User& caller, UserId target,
                                        const UserChange& change);

    // ---- workers and status
    Result<WorkerView> GetWorker(const std::string& id) const;
    Result<WorkerView> GetWorkerByName(const std::string& name) const;
    std::vector<WorkerView> ListWorkers(std::optional<domain::GenKind> kind,
                                        const std::string& name) const;
    std::vector<ModelView> Models(domain::GenKind kind) const;
    PerformanceView Performance() const;
    struct HeartbeatView {
        int64_t queued_jobs = 0;
        int threads = 0;
        int workers = 0;
    };
    /// The cheap numbers of /status/heartbeat: kept counters and one pass over workers.
    HeartbeatView Heartbeat() const;
    struct Modes {
        bool maintenance = false;
        bool invite_only = false;
        bool raid = false;
    };
    Modes GetModes() const;
    /// Sets horde modes: maintenance needs an admin, invite_only and raid a moderator.
    /// Entering maintenance stops handing out the queued image requests (n = 0).
    Result<Modes> SetModes(const domain::User& caller, std::optional<bool> maintenance,
                           std::optional<bool> invite_only, std::optional<bool> raid);

    struct WorkerChange {
        std::optional<bool> maintenance;
        std::optional<std::string> maintenance_msg;
        std::optional<bool> paused;
        std::optional<std::string> info;
        std::optional<std::string> name;
    };
    /// Owner or moderator; `paused` is moderator only. Returns the worker after the change.
    Result<WorkerView> ModifyWorker(const domain::User& caller, const std::string& id,
                                    const WorkerChange& change);
    /// Owner or moderator. Returns the deleted worker.
    Result<WorkerView> DeleteWorker(const domain::User& caller, const std::string& id);

    // ---- time
    /// Periodic work: time out jobs, fault requests, expire and purge. Safe to call any time.
    void Tick();
    /// Timed-out jobs aborted per hold of the exclusive lock (a flood takes several).
    static constexpr size_t kAbortsPerHold = 512;
    const Clock& clock() const { return clock_; }
    Result<store::LedgerCheck> CheckLedger() { return store_.CheckLedger(); }

    // ---- browser accounts, sessions, invites (web_accounts.cpp)
    struct WebLogin {
        domain::User user;
        std::string session_token;  // the cookie value; the store keeps only its hash
        std::string api_key;        // only when this call created the account
        bool created = false;
    };
    /// Starts a browser session for `user` (30 days, sliding). Returns the cookie value
    /// `<id>.<binding>`: the store keeps only the hash of the id, and the binding (a MAC over the
    /// id and the account's current key hash) makes a key reset end every older session.
    Result<std::string> CreateSession(UserId user);
    struct SessionInfo {
        domain::User user;
        std::string token_hash;
    };
    /// The user of a session token. Unknown, expired (then purged) or a deleted user →
    /// kSessionExpired. Moves the expiry forward, writing at most once a day per session.
    Result<SessionInfo> ResolveSession(std::string_view token);
    /// The API key of the account this session's login created, once (then forgotten); "".
    std::string TakePendingApiKey(const std::string& session_hash);
    /// Deletes the session (logout). Unknown tokens are fine.
    Status EndSession(std::string_view token);
    /// OAuth login: the account whose oauth_id is `oauth_id`, or a new one named `display_name`
    /// (with a fresh API key, returned once). Always starts a session.
    Result<WebLogin> LoginWithOAuth(const std::string& oauth_id, const std::string& display_name);
    /// Pseudonymous registration: a new account with only a name (lower balance floor).
    /// Closed in raid mode.
    Result<WebLogin> RegisterPseudonymous(const std::string& username);
    struct InviteLink {
        std::string token;
        TimePoint expires;
    };
    /// Moderators: a single-use invite link (7 days).
    Result<InviteLink> CreateInvite(const domain::User& caller);
    /// Moderators: lets the user `alias` ("name#id") run workers while invite-only.
    Result<domain::User> InviteUser(const domain::User& caller, const std::string& alias);
    /// Uses an invite link for `user`.
    Result<domain::User> AcceptInvite(const domain::User& user, std::string_view token);
    /// HMAC (crypto_auth) of `message` under the server secret, domain-separated by `purpose`;
    /// url-safe base64. For signed cookies and CSRF tokens.
    std::string WebMac(std::string_view purpose, std::string_view message) const;
    /// kMaintenanceMode (with the admin's message) while the horde is in maintenance.
    Status CheckMaintenance() const;
    /// kWorkerInviteOnly while invite-only, unless `owner` was invited or is a moderator.
    Status CheckWorkerInvited(const domain::User& owner) const;
    /// Admins: the message shown while in maintenance (≤ 500 characters).
    Status SetMaintenanceMessage(const domain::User& caller, const std::string& message);
    std::string MaintenanceMessage() const;

    struct State;

private:
    /// Whether some online worker could take a job of `r` now (lock held).
    bool AnyWorkerCouldServe(const domain::Request& r, const Roster& roster) const;
    /// The online workers, rebuilt when workers changed or a second has passed (lock held,
    /// shared or exclusive).
    std::shared_ptr<const Roster> RosterAt(TimePoint now) const;
    bool IsSlow(const domain::Worker& w) const;
    // Balances (lock held).
    Kudos BalanceOf(UserId id) const;
    /// Balance − floor − holds: what the user may spend or reserve now.
    Kudos AvailableOf(const domain::User& u) const;
    /// The part of `debit` the floor rule forgives for `u` right now.
    Kudos ForgivenFor(const domain::User& u, Kudos debit) const;
    /// Upfront kudos (§4.5): reserves or downgrades `r`, or fails with kKudosUpfront.
    Status ApplyUpfront(domain::Request& r, const domain::User& u, bool allow_downgrade);
    UserView UserViewOf(const domain::User& u) const;
    const domain::User* FindUserByAlias(const std::string& alias) const;
    WorkerView WorkerViewOf(const domain::Worker& w, TimePoint now) const;
    RequestView ViewOf(const domain::Request& r, bool with_generations, TimePoint now) const;
    void RecordCheckIn(domain::Worker& w, store::Batch& b, TimePoint now);
    int CountProcessing(const std::string& request_id) const;
    void FaultJob(const domain::Job& job, domain::Request& r, store::Batch& b, TimePoint now);
    /// Writes the batch (waiting for its group commit), then applies it to memory. Exclusive
    /// lock held: everything queued before it lands first.
    Status Commit(store::Batch& batch);
    /// Applies the batch to memory now and queues it for the next group commit (exclusive lock
    /// held). The caller releases the lock, then waits with AwaitDurable before answering.
    CommitQueue::Ticket CommitAsync(store::Batch& batch);
    /// Waits (without the lock) until the batch is stored; if that failed, reloads the state.
    Status AwaitDurable(const CommitQueue::Ticket& ticket);
    static void LogUnhandled(const std::exception& e);
    /// Waits for `p`'s writes (AwaitDurable) and finishes it.
    template <typename T>
    Result<T> Resolve(Pending<T> p);
    /// Once `p`'s writes are done, finishes it on `resume`'s thread and passes it to `done`.
    template <typename T>
    void ResolveThen(Pending<T> p, Resume resume, Done<T> done);
    // The three writing calls up to their commit (without the lock once they return).
    Pending<Accepted> StartSubmitRequest(NewRequest input, const Caller& caller);
    Pending<PopOutcome> StartPop(domain::GenKind kind, const std::string& worker_name,
                                 domain::WorkerProfile profile, int amount, const Caller& caller);
    Pending<SubmitOutcome> StartSubmit(domain::GenKind kind, SubmitInput input,
                                       const Caller& caller);
    void FillState(store::Snapshot snap);  // exclusive lock held, state empty
    /// Gives `u` the next id, a fresh key and its times, stores it and fills `login` (exclusive
    /// lock held).
    Status CommitNewWebAccount(domain::User u, WebLogin& login);
    Status ReloadState();
    void ApplyToMemory(const store::Batch& batch);

    /// Aborts the jobs past their deadline and puts their slots back in the queue (Tick).
    void AbortLateJobs(TimePoint now);
    /// Grants each user's monthly kudos when 30 days have passed since the last grant.
    void GrantMonthlyKudos(TimePoint now);
    /// Picks up users and kudos written by another process (the admin commands).
    void ReloadAccountsIfChanged();

    store::Store& store_;
    CommitQueue commits_{store_};
    int64_t external_counter_ = -1;
    /// Purged rows wait for the next compaction (Tick, under mu_), which removes what is left
    /// of them from the files: at most every kCompactionIntervalS.
    static constexpr int kCompactionIntervalS = 60;
    bool compaction_due_ = false;
    TimePoint last_compaction_{};
    store::ResultFiles& files_;
    const Clock& clock_;
    ServiceSettings settings_;
    mutable SpinSharedMutex mu_;
    std::unique_ptr<State> state_;
    /// The server secret's keyed hash states, made once (service/secret_keys.hpp).
    struct SecretKeys;
    std::unique_ptr<const SecretKeys> keys_;
    /// Bumped (under mu_) when a worker joins, leaves or changes what it can do.
    std::atomic<uint64_t> workers_epoch_{1};
    mutable std::mutex roster_mu_;
    mutable std::shared_ptr<const Roster> roster_;
};

template <typename T>
Result<T> HordeService::Resolve(Pending<T> p) {
    if (p.ready) {
        return std::move(*p.ready);
    }
    return p.finish(AwaitDurable(p.ticket));
}

template <typename T>
void HordeService::ResolveThen(Pending<T> p, Resume resume, Done<T> done) {
    if (p.ready || !p.ticket) {
        done(Resolve(std::move(p)));
        return;
    }
    auto ticket = p.ticket;
    // The batch was queued without waking the writer: the caller's thread wakes it once done
    // with the requests at hand, so that their batches go in the same group.
    resume([this] { commits_.Wake(); });
    // On the writer thread: only hand over; the finishing (a read, the answer) runs on the
    // caller's thread.
    commits_.Then(ticket, [this, p = std::move(p), resume = std::move(resume),
                           done = std::move(done)](const Status&) mutable {
        resume([this, p = std::move(p), done = std::move(done)]() mutable {
            try {
                done(Resolve(std::move(p)));
            } catch (const std::exception& e) {
                // Not into the caller's event loop; an unanswered caller is answered 500 by its
                // transport.
                LogUnhandled(e);
            }
        });
    });
}

}  // namespace horde::service
