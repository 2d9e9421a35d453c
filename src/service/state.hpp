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

#include "domain/entities.hpp"
#include "service/horde_service.hpp"

namespace horde::service {

/// Order of the queue: highest priority first, then oldest. Priority ages continuously by
/// kAgingMilliPerMs, so a fixed key (base − aging × created) gives the same order at any time.
struct QueueKey {
    int64_t neg_priority = 0;
    int64_t seq = 0;
    bool operator<(const QueueKey& o) const {
        return neg_priority != o.neg_priority ? neg_priority < o.neg_priority : seq < o.seq;
    }
    bool operator==(const QueueKey&) const = default;
};

/// +50 kudos every 10 s of waiting = 5 milli-kudos per millisecond.
inline constexpr int64_t kAgingMilliPerMs = 5;

using QueueTree =
    __gnu_pbds::tree<QueueKey, __gnu_pbds::null_type, std::less<QueueKey>, __gnu_pbds::rb_tree_tag,
                     __gnu_pbds::tree_order_statistics_node_update>;

inline int KindIndex(domain::GenKind k) { return k == domain::GenKind::kImage ? 0 : 1; }

struct HordeService::State {
    std::unordered_map<int64_t, domain::User> users;
    std::unordered_map<std::string, int64_t> user_by_key_hash;
    std::unordered_map<std::string, int64_t> balances;  // account -> milli
    std::unordered_map<int64_t, std::map<std::string, double>> user_stats;
    std::unordered_map<std::string, domain::Worker> workers;
    std::unordered_map<std::string, std::string> worker_by_name;  // lower-cased name -> id
    std::unordered_map<std::string, domain::Request> requests;
    std::unordered_map<std::string, domain::Job> jobs;
    std::unordered_map<std::string, std::vector<std::string>> jobs_by_request;
    QueueTree queue[2];
    std::unordered_map<int64_t, std::string> queued_by_seq;
    std::unordered_map<std::string, QueueKey> queue_key_of;  // request id -> key while queued
    std::map<std::string, std::string> settings;
    /// Upfront kudos reserved per user (sum of their requests' holds), milli-kudos.
    std::unordered_map<int64_t, int64_t> holds_milli;
    /// Unpopped jobs (sum of n) over queued requests, per kind.
    int64_t queued_jobs[2] = {0, 0};
    /// Unpopped jobs per requester, and for anonymous requests per model, per kind.
    std::unordered_map<int64_t, int64_t> queued_by_user[2];
    std::unordered_map<std::string, int64_t> anon_queued_by_model[2];
    /// Recent transfers (from, to) → time, for the 60 s ping-pong rule.
    std::map<std::pair<int64_t, int64_t>, TimePoint> recent_transfers;
    int64_t next_user_id = 1;
    int64_t next_seq = 1;
    /// (completion time, things) over the last minute, per kind, for /status/performance.
    std::deque<std::pair<TimePoint, double>> recent[2];
    /// Last time each worker's check-in was written to the store (debounce).
    std::unordered_map<std::string, TimePoint> checkin_written;
};

QueueKey MakeQueueKey(const domain::Request& r);
bool IsQueued(const domain::Request& r);
std::string Lower(std::string_view s);

}  // namespace horde::service
