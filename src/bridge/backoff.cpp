#include "bridge/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

namespace horde::bridge {

Backoff::Backoff(BackoffSettings settings, std::function<double()> uniform01)
    : settings_(settings), uniform01_(std::move(uniform01)) {}

Backoff::Backoff(BackoffSettings settings)
    : Backoff(settings, [engine = std::make_shared<std::mt19937_64>(std::random_device{}())] {
          return std::uniform_real_distribution<double>(0.0, 1.0)(*engine);
      }) {}

std::chrono::milliseconds Backoff::Next() {
    const double initial = std::max(1, settings_.initial_ms);
    const double cap = std::max<double>(initial, settings_.max_ms);
    const double grown = initial * std::pow(std::max(1.0, settings_.factor), attempt_);
    const double full = std::min(cap, grown);
    if (grown < cap) {
        ++attempt_;
    }
    const double u = std::clamp(uniform01_(), 0.0, 1.0);
    const double delay = full / 2.0 + u * full / 2.0;
    return std::chrono::milliseconds(static_cast<int64_t>(std::llround(delay)));
}

}  // namespace horde::bridge
