#pragma once
// Exponential backoff with jitter, for empty pops and for errors (server down, backend busy).

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>

namespace horde::bridge {

struct BackoffSettings {
    int initial_ms = 500;
    int max_ms = 5'000;
    double factor = 2.0;
};

/// Delays grow initial, initial*factor, ... up to max; each returned delay is drawn uniformly
/// from [d/2, d] ("equal jitter") so that many workers restarted together do not pop in step.
/// Not thread-safe: one per loop.
class Backoff {
public:
    /// `uniform01` returns a number in [0, 1); injected so that tests are deterministic.
    Backoff(BackoffSettings settings, std::function<double()> uniform01);
    /// A Backoff seeded from std::random_device.
    explicit Backoff(BackoffSettings settings);

    /// The next delay; the following one will be larger (until the cap).
    std::chrono::milliseconds Next();
    /// Back to the initial delay (after a success).
    void Reset() { attempt_ = 0; }
    int attempt() const { return attempt_; }

private:
    BackoffSettings settings_;
    std::function<double()> uniform01_;
    int attempt_ = 0;
};

}  // namespace horde::bridge
