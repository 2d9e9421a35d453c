#pragma once
// Time is injected: the domain never reads a clock; services ask a Clock. Tests and the
// server's test mode use a clock that can be moved forward.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace horde {

using TimePoint = std::chrono::system_clock::time_point;
using Seconds = std::chrono::seconds;

inline int64_t ToUnixMillis(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline TimePoint FromUnixMillis(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }
inline double SecondsBetween(TimePoint a, TimePoint b) {
    return std::chrono::duration<double>(b - a).count();
}

/// Thread-safety: implementations are safe for concurrent use.
class Clock {
public:
    virtual ~Clock() = default;
    virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
public:
    TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

/// The real clock plus an offset that only moves forward; used by unit tests and by the server's
/// --test-mode so integration tests can expire jobs without sleeping.
class OffsetClock final : public Clock {
public:
    explicit OffsetClock(bool frozen_base = false, TimePoint base = {})
        : frozen_(frozen_base), base_ms_(ToUnixMillis(base)) {}
    TimePoint Now() const override {
        const int64_t base = frozen_ ? base_ms_ : ToUnixMillis(std::chrono::system_clock::now());
        return FromUnixMillis(base + offset_ms_.load());
    }
    void Advance(std::chrono::milliseconds d) { offset_ms_ += d.count(); }
    int64_t offset_ms() const { return offset_ms_.load(); }

private:
    bool frozen_;
    int64_t base_ms_;
    std::atomic<int64_t> offset_ms_{0};
};

/// A frozen clock for unit tests.
inline OffsetClock MakeFakeClock(TimePoint start = TimePoint(std::chrono::seconds(1'700'000'000))) {
    return OffsetClock(true, start);
}

}  // namespace horde
