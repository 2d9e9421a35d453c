#pragma once
// When each request expires, for the tick (service/tick.cpp): a bucket per second of expiry,
// each a plain vector of pointers to the requests (nodes of State::requests, which do not move).
// Eight bytes per request where an ordered set of (time, pointer) costs a 64-byte node. Each
// request remembers its place in its bucket (`Request::expiry_slot`), so removal is O(1): a
// bucket holds the intake or the claims of one second, thousands under load, and a scan of it
// was 5 % of a pop's instructions (docs/benchmarks.md, session 13). A request whose slot is
// stale (a copy, not the indexed node) is looked for in its bucket.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

#include "common/clock.hpp"
#include "domain/entities.hpp"

namespace horde::service {

class ExpiryIndex {
public:
    void Add(const domain::Request& r) {
        auto& v = buckets_[SecondOf(r.expiry)];
        r.expiry_slot = static_cast<uint32_t>(v.size());
        v.push_back(&r);
    }

    /// `r` must be as it was added (same expiry).
    void Remove(const domain::Request& r) {
        auto b = buckets_.find(SecondOf(r.expiry));
        if (b == buckets_.end()) {
            return;
        }
        auto& v = b->second;
        size_t slot = r.expiry_slot;
        if (slot >= v.size() || v[slot] != &r) {
            auto it = std::find(v.begin(), v.end(), &r);
            if (it == v.end()) {
                return;
            }
            slot = static_cast<size_t>(it - v.begin());
        }
        v[slot] = v.back();
        v[slot]->expiry_slot = static_cast<uint32_t>(slot);
        v.pop_back();
        if (v.empty()) {
            buckets_.erase(b);
        } else if (v.capacity() > 64 && v.size() < v.capacity() / 4) {
            v.shrink_to_fit();  // a drained bucket gives its memory back
        }
    }

    /// Calls f(request) for every request whose expiry is before `now`, oldest second first.
    template <typename F>
    void ForEachDue(TimePoint now, F&& f) const {
        const int64_t last = SecondOf(now);
        for (auto b = buckets_.begin(); b != buckets_.end() && b->first <= last; ++b) {
            for (const domain::Request* r : b->second) {
                if (r->expiry < now) {
                    f(*r);
                }
            }
        }
    }

    size_t size() const {
        size_t n = 0;
        for (const auto& [second, v] : buckets_) {
            n += v.size();
        }
        return n;
    }

private:
    static int64_t SecondOf(TimePoint t) {
        return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
    }

    std::map<int64_t, std::vector<const domain::Request*>> buckets_;
};

}  // namespace horde::service
