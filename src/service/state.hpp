#pragma once
// The service's in-memory working set (private to service/). Not thread-safe by itself: every
// access happens under HordeService::mu_.

#include <deque>
#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/ascii.hpp"
#include "domain/bridge_capabilities.hpp"
#include "domain/entities.hpp"
#include "domain/matching.hpp"
#include "service/expiry_index.hpp"
#include "service/horde_service.hpp"
#include "service/model_queue.hpp"
#include "service/request_key.hpp"

namespace horde::service {

/// String-keyed maps that a std::string_view finds without a copy (model names come as views).
struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};
template <typename V>
using ByName = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

/// Every queued request of one kind, in queue order, with order statistics (queue position).
using QueueTree =
    __gnu_pbds::tree<QueueKey, const domain::Request*, std::less<QueueKey>, __gnu_pbds::rb_tree_tag,
                     __gnu_pbds::tree_order_statistics_node_update>;

/// Orders (time, pointer) pairs: the deadline and expiry indexes of the tick.
template <typename T>
struct TimedLess {
    bool operator()(const std::pair<TimePoint, const T*>& a,
                    const std::pair<TimePoint, const T*>& b) const {
        if (a.first != b.first) {
            return a.first < b.first;
        }
        return std::less<const T*>()(a.second, b.second);
    }
};
template <typename T>
using TimedSet = std::set<std::pair<TimePoint, const T*>, TimedLess<T>>;

/// Aggregates over each kind's queued requests (kept as requests are put and deleted).
struct QueueTotals {
    int64_t jobs = 0;        // unpopped jobs (sum of n)
    int64_t things = 0;      // sum of things × n
    int64_t processing = 0;  // jobs handed out and not finished
    int64_t processing_things = 0;
};
struct ModelTotals {
    int64_t jobs = 0;
    int64_t things = 0;
};

/// The online workers of one kind with what matching needs precomputed; rebuilt when a worker
/// joins, leaves or changes, and at least every second (for the online window and speeds).
struct RosterEntry {
    domain::Worker worker;
    domain::Capabilities caps;
    bool owner_trusted = false;
    bool slow = false;
};
struct Roster {
    std::vector<RosterEntry> online[2];  // not paused
    /// Indexes into online[k] of the workers serving each model.
    ByName<std::vector<size_t>> by_model[2];
    double speed[2] = {0, 0};  // sum of the online workers' mean speeds
    int threads[2] = {0, 0};
    int workers[2] = {0, 0};
    int available_threads[2] = {0, 0};  // threads of online workers not in maintenance
    TimePoint built;
    uint64_t epoch = 0;
};

inline int KindIndex(domain::GenKind k) { return k == domain::GenKind::kImage ? 0 : 1; }

struct HordeService::State {
    std::unordered_map<int64_t, domain::User> users;
    std::unordered_map<std::string, int64_t> user_by_key_hash;
    std::unordered_map<std::string, int64_t> balances;  // account -> milli
    std::unordered_map<int64_t, std::map<std::string, double>> user_stats;
    std::unordered_map<std::string, domain::Worker> workers;
    std::unordered_map<std::string, std::string> worker_by_name;  // lower-cased name -> id
    std::unordered_map<RequestKey, domain::Request, RequestKeyHash> requests;
    std::unordered_map<std::string, domain::Job> jobs;
    std::unordered_map<std::string, std::vector<std::string>> jobs_by_request;
    /// The queue: per kind, all queued requests; and per kind and model, those listing it.
    QueueTree queue[2];
    ByName<ModelTree> queue_by_model[2];
    ModelTree any_model[2];
    /// Per kind and model, the queued requests listing it after another model (the entries of
    /// queue_by_model marked `deferred`): a pop that finds nothing counts them apart, once each.
    /// Each entry carries the hash of the first listed model (when listed second) or a filter
    /// of the models listed before it, so the count can tell, mostly without a look at the
    /// request, whether the worker serves one of them (see DeferredRef).
    ByName<DeferredQueue> deferred_by_model[2];
    /// Per kind and requester, their queued requests (the priority pass of a pop).
    std::unordered_map<int64_t, ModelTree> queue_by_user[2];
    QueueTotals totals[2];
    ByName<ModelTotals> model_totals[2];
    /// When each processing job times out, and when each request expires.
    TimedSet<domain::Job> deadlines;
    ExpiryIndex expiries;
    std::map<std::string, std::string> settings;
    /// Upfront kudos reserved per user (sum of their requests' holds), milli-kudos.
    std::unordered_map<int64_t, int64_t> holds_milli;
    /// Unpopped jobs per requester, and for anonymous requests per model, per kind.
    std::unordered_map<int64_t, int64_t> queued_by_user[2];
    ByName<int64_t> anon_queued_by_model[2];
    /// Recent transfers (from, to) → time, for the 60 s ping-pong rule.
    std::map<std::pair<int64_t, int64_t>, TimePoint> recent_transfers;
    int64_t next_user_id = 1;
    int64_t next_seq = 1;
    /// (completion time, things) over the last minute, per kind, for /status/performance.
    std::deque<std::pair<TimePoint, double>> recent[2];
    /// Last time each worker's check-in was written to the store (debounce).
    std::unordered_map<std::string, TimePoint> checkin_written;
    /// Browser sessions and invite links by token hash (service/web_accounts.cpp).
    std::unordered_map<std::string, domain::WebSession> web_sessions;
    std::unordered_map<std::string, domain::Invite> invites;
    /// The API key of an account a login just created, shown once by GET /api/web/session:
    /// session token hash → (key, until). Memory only.
    std::unordered_map<std::string, std::pair<std::string, TimePoint>> pending_api_keys;
};

QueueKey MakeQueueKey(const domain::Request& r);
bool IsQueued(const domain::Request& r);
/// Puts the store's sessions and invites into memory (Init; service/web_accounts.cpp).
void LoadWebAccounts(HordeService::State& st, const store::Snapshot& snap);

}  // namespace horde::service
