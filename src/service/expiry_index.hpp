#pragma once
// When each request expires, for the tick (service/tick.cpp): a bucket per second of expiry,
// each a plain vector of pointers to the requests (nodes of State::requests, which do not move).
// Eight bytes per request where an ordered set of (time, pointer) costs a 64-byte node. Removal
// scans one bucket: the requests that expire within the same second (the intake of one second,
// a few thousand at most).

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
    void Add(const domain::Request& r) { buckets_[SecondOf(r.expiry)].push_back(&r); }

    /// `r` must be as it was added (same expiry).
    void Remove(const domain::Request& r) {
        auto b = buckets_.find(SecondOf(r.expiry));
        if (b == buckets_.end()) {
            return;
        }
        auto& v = b->second;
        auto it = std::find(v.begin(), v.end(), &r);
        if (it == v.end()) {
            return;
        }
        *it = v.back();
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
