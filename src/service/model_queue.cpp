#include "service/model_queue.hpp"

namespace horde::service {

namespace {

using NodeIt = ModelTree::node_const_iterator;

const ModelTreeEntry* FirstIn(NodeIt n, NodeIt end, const std::optional<QueueKey>& after,
                              const domain::WorkerOffer& offer) {
    while (n != end) {
        const ModelTreeEntry& entry = **n;
        if (after && !(*after < entry.first)) {
            n = n.get_r_child();  // this node and its left subtree are not after `after`
            continue;
        }
        if (!domain::MayTake(n.get_metadata(), offer)) {
            return nullptr;
        }
        if (const ModelTreeEntry* left = FirstIn(n.get_l_child(), end, after, offer)) {
            return left;
        }
        if (domain::MayTake(domain::Leaf(entry.second.needs), offer)) {
            return &entry;
        }
        n = n.get_r_child();
    }
    return nullptr;
}

struct Counter {
    const domain::WorkerOffer& offer;
    const std::function<domain::SkipReason(const QueuedRef&)>& judge;
    SkipCounts& counts;
    NodeIt end;
    int64_t total = 0;

    void Add(domain::SkipReason reason, int64_t n) {
        counts[static_cast<size_t>(reason)] += n;
        total += n;
    }

    void In(NodeIt n) {
        while (n != end) {
            const domain::MatchSummary& s = n.get_metadata();
            if (!domain::MayTake(s, offer)) {
                Add(domain::PrunedReason(s, offer), s.count - s.deferred);
                return;
            }
            In(n.get_l_child());
            const QueuedRef& ref = (**n).second;
            if (!ref.deferred) {
                const domain::MatchSummary leaf = domain::Leaf(ref.needs);
                Add(domain::MayTake(leaf, offer) ? judge(ref) : domain::PrunedReason(leaf, offer),
                    1);
            }
            n = n.get_r_child();
        }
    }
};

}  // namespace

uint64_t ModelNameHash(std::string_view model) {
    uint64_t h = 14695981039346656037ull;  // FNV-1a, then a 64-bit finalizer to spread it
    for (const char c : model) {
        h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

void DeferredQueue::Add(const DeferredRef& entry) {
    if (where_.try_emplace(entry.key, static_cast<uint32_t>(entries_.size())).second) {
        entries_.push_back(entry);
    }
}

void DeferredQueue::Remove(const QueueKey& key) {
    const auto it = where_.find(key);
    if (it == where_.end()) {
        return;
    }
    const uint32_t gap = it->second;
    where_.erase(it);
    if (gap + 1 != entries_.size()) {
        entries_[gap] = entries_.back();
        where_[entries_[gap].key] = gap;
    }
    entries_.pop_back();
}

QueuedRef MakeQueuedRef(const domain::Request& r) {
    return QueuedRef{&r,
                     r.kind == domain::GenKind::kImage ? domain::ImageModelTraits(r.models)
                                                       : domain::RequestModelTraits{},
                     false, 0, domain::NeedsOf(r)};
}

const ModelTreeEntry* FirstTakeable(const ModelTree& tree, const std::optional<QueueKey>& after,
                                    const domain::WorkerOffer& offer) {
    return FirstIn(tree.node_begin(), tree.node_end(), after, offer);
}

int64_t CountSkippedUndeferred(const ModelTree& tree, const domain::WorkerOffer& offer,
                               const std::function<domain::SkipReason(const QueuedRef&)>& judge,
                               SkipCounts& counts) {
    Counter counter{offer, judge, counts, tree.node_end()};
    counter.In(tree.node_begin());
    return counter.total;
}

}  // namespace horde::service
