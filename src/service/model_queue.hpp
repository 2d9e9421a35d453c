#pragma once
// The queue of one (kind, model): queued requests in queue order in a red-black tree whose nodes
// carry a summary of their subtree (domain/match_summary.hpp). A pop descends only into subtrees
// that hold a request its worker may take, so a selective worker finds its first match in queue
// order without visiting the requests it cannot do. Private to service/; not thread-safe.

#include <array>
#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "domain/entities.hpp"
#include "domain/match_summary.hpp"
#include "domain/matching.hpp"

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

/// A queued request as the matcher sees it: the request (a node of State::requests, whose
/// address is stable while it lives) and what matching would otherwise recompute on every visit.
struct QueuedRef {
    const domain::Request* request = nullptr;
    domain::RequestModelTraits traits;
    /// Set by the holder of a queue on the entries it counts apart (see State::deferred_by_model).
    bool deferred = false;
    /// In the queue of r.models[listed_index] (0 in the other queues).
    uint16_t listed_index = 0;
    domain::MatchNeeds needs;
};
// A request sits in two or three trees: each byte here is paid per entry (nodes of 104 bytes
// land in 112-byte heap chunks; 8 more would take the next size).
static_assert(sizeof(QueuedRef) == 24);

QueuedRef MakeQueuedRef(const domain::Request& r);

/// Keeps each node's MatchSummary equal to the fold of its subtree (a pb_ds node update policy).
template <class NodeCItr, class NodeItr, class CmpFn, class Alloc>
struct SubtreeSummaryUpdate {
    using metadata_type = domain::MatchSummary;

    void operator()(NodeItr it, NodeCItr end) const {
        domain::MatchSummary s = domain::Leaf((*it)->second.needs, (*it)->second.deferred);
        const NodeItr left = it.get_l_child();
        const NodeItr right = it.get_r_child();
        if (left != end) {
            domain::Combine(s, left.get_metadata());
        }
        if (right != end) {
            domain::Combine(s, right.get_metadata());
        }
        const_cast<metadata_type&>(it.get_metadata()) = s;
    }

    virtual NodeCItr node_begin() const = 0;
    virtual NodeCItr node_end() const = 0;
    virtual ~SubtreeSummaryUpdate() = default;
};

using ModelTree = __gnu_pbds::tree<QueueKey, QueuedRef, std::less<QueueKey>,
                                   __gnu_pbds::rb_tree_tag, SubtreeSummaryUpdate>;
using ModelTreeEntry = ModelTree::value_type;

/// A 64-bit hash of a model's name (two names sharing one: about 1 in 2^64 per pair).
uint64_t ModelNameHash(std::string_view model);
/// A model's bit in a 64-bit filter, by ModelNameHash: wider than domain::ModelBit, so that a
/// worker serving a handful of models seldom shares a bit with a model it does not serve.
inline uint64_t WideModelBitOfHash(uint64_t model_name_hash) {
    return uint64_t{1} << (model_name_hash & 63);
}
inline uint64_t WideModelBit(std::string_view model) {
    return WideModelBitOfHash(ModelNameHash(model));
}

/// An entry of State::deferred_by_model: a request listing this model after others. What it
/// carries tells whether a worker serves one of those others without a look at the request.
struct DeferredRef {
    QueueKey key;
    QueuedRef ref;
    /// Listed second (ref.listed_index 1): the ModelNameHash of the first listed model. Listed
    /// later: the WideModelBit filter of the models listed before it (no bit shared with a
    /// worker's, it serves none of them; a shared bit may be a collision: the request decides).
    uint64_t listed_before = 0;
};

/// The deferred entries of one (kind, model), in no order: a pop that finds nothing visits them
/// all, so they lie side by side; a removal moves the last one into the gap.
class DeferredQueue {
public:
    void Add(const DeferredRef& entry);
    /// Removes the entry under `key`, if there is one.
    void Remove(const QueueKey& key);
    bool empty() const { return entries_.empty(); }
    size_t size() const { return entries_.size(); }
    std::vector<DeferredRef>::const_iterator begin() const { return entries_.begin(); }
    std::vector<DeferredRef>::const_iterator end() const { return entries_.end(); }

private:
    struct KeyHash {
        size_t operator()(const QueueKey& k) const noexcept {
            return std::hash<int64_t>()(k.seq) * 31 + std::hash<int64_t>()(k.neg_priority);
        }
    };
    std::vector<DeferredRef> entries_;
    std::unordered_map<QueueKey, uint32_t, KeyHash> where_;  // key → index in entries_
};

/// The first entry of `tree` after `after` (from the start when nullopt) that the summary lets
/// `offer` take; nullptr when there is none. O(log n) per refused region of the queue.
const ModelTreeEntry* FirstTakeable(const ModelTree& tree, const std::optional<QueueKey>& after,
                                    const domain::WorkerOffer& offer);

using SkipCounts = std::array<int64_t, static_cast<size_t>(domain::SkipReason::kMaintenance) + 1>;

/// Counts why `offer` takes none of the requests in `tree`: every refused subtree under its
/// PrunedReason, and every request the summary lets through under what `judge` says. Deferred
/// entries (a request's queues after the one of its first listed model) are left out: the caller
/// counts each request listing several models once. Returns how many requests it counted.
int64_t CountSkippedUndeferred(const ModelTree& tree, const domain::WorkerOffer& offer,
                               const std::function<domain::SkipReason(const QueuedRef&)>& judge,
                               SkipCounts& counts);

}  // namespace horde::service
