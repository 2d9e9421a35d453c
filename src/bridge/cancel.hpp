#pragma once
// When a job must stop: its deadline (pop time + ttl + slack) or the worker being aborted.
// Backends give every blocking HTTP call a timeout of RemainingMs() and check Cancelled() while
// they poll, so a job never outlives its token by more than one poll interval.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "common/clock.hpp"

namespace horde::bridge {

/// A job's deadline plus the worker-wide abort flag. Cheap to copy; safe for concurrent use
/// (the flag is atomic, the rest is immutable).
class CancelToken {
public:
    /// A token that never fires on its own (abort flag only, when given).
    CancelToken(const Clock& clock, TimePoint deadline,
                std::shared_ptr<const std::atomic<bool>> abort_all = nullptr)
        : clock_(&clock), deadline_(deadline), abort_all_(std::move(abort_all)) {}

    bool Aborted() const { return abort_all_ != nullptr && abort_all_->load(); }
    bool Expired() const { return clock_->Now() >= deadline_; }
    bool Cancelled() const { return Aborted() || Expired(); }
    /// "shutdown", "deadline" or "" (not cancelled).
    std::string Reason() const {
        if (Aborted()) {
            return "shutdown";
        }
        return Expired() ? "deadline" : "";
    }

    TimePoint deadline() const { return deadline_; }

    /// Milliseconds left before the deadline, at least `floor_ms` (so that a call still gets a
    /// usable timeout) and at most `cap_ms`.
    int RemainingMs(int floor_ms = 1'000, int cap_ms = 24 * 3600 * 1000) const {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - clock_->Now());
        const auto ms = static_cast<int64_t>(left.count());
        return static_cast<int>(std::clamp<int64_t>(ms, floor_ms, cap_ms));
    }

    /// Sleeps `d` in short slices; returns false (early) when the token fires.
    bool SleepFor(std::chrono::milliseconds d) const {
        const auto until = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < until) {
            if (Cancelled()) {
                return false;
            }
            const auto left = until - std::chrono::steady_clock::now();
            std::this_thread::sleep_for(
                std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(50)));
        }
        return !Cancelled();
    }

private:
    const Clock* clock_;
    TimePoint deadline_;
    std::shared_ptr<const std::atomic<bool>> abort_all_;
};

}  // namespace horde::bridge
