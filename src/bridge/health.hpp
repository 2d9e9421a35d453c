#pragma once
// Watches the backend: probes it at start, every `interval` while healthy, every `retry` while
// down, and at once after a job failed. Job threads pop only while it is usable (reachable and
// serving at least one configured model) and advertise exactly the models it found.
//
// Thread-safety: safe for concurrent use. Owns one thread between Start() and Stop().

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bridge/backend.hpp"
#include "bridge/model_map.hpp"

namespace horde::bridge {

struct BackendState {
    bool probed = false;   // at least one probe answered (or failed)
    bool healthy = false;  // the last probe succeeded
    BackendInfo info;
    ServedModels models;
    std::string error;  // why the last probe failed

    bool Usable() const { return healthy && !models.served.empty(); }
};

class HealthMonitor {
public:
    HealthMonitor(std::shared_ptr<Backend> backend, std::vector<ModelEntry> wanted,
                  std::chrono::milliseconds interval,
                  std::chrono::milliseconds retry = std::chrono::milliseconds(2'000));
    ~HealthMonitor();
    HealthMonitor(const HealthMonitor&) = delete;
    HealthMonitor& operator=(const HealthMonitor&) = delete;

    void Start();
    void Stop();

    /// Probes now on the caller's thread and publishes the result.
    BackendState ProbeNow();
    BackendState Current() const;

    /// Waits until the backend is usable; nullopt once `stopped()` is true. While waiting it
    /// checks `stopped` every 100 ms.
    std::optional<BackendState> WaitUsable(const std::function<bool()>& stopped);

    /// A job failed on the backend: hold pops until a fresh probe says it is fine.
    void ReportFailure();

private:
    void Run();
    void Publish(BackendState next);

    std::shared_ptr<Backend> backend_;
    std::vector<ModelEntry> wanted_;
    std::chrono::milliseconds interval_;
    std::chrono::milliseconds retry_;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    BackendState state_;    // guarded by mu_
    bool recheck_ = false;  // guarded by mu_
    bool stop_ = false;     // guarded by mu_
    std::thread thread_;
};

}  // namespace horde::bridge
