#include "bridge/health.hpp"

#include <spdlog/spdlog.h>

namespace horde::bridge {

namespace {

std::string Join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += ", ";
        }
        out += item;
    }
    return out;
}

}  // namespace

HealthMonitor::HealthMonitor(std::shared_ptr<Backend> backend, std::vector<ModelEntry> wanted,
                             std::chrono::milliseconds interval, std::chrono::milliseconds retry)
    : backend_(std::move(backend)),
      wanted_(std::move(wanted)),
      interval_(interval),
      retry_(retry) {}

HealthMonitor::~HealthMonitor() { Stop(); }

void HealthMonitor::Start() {
    std::lock_guard lock(mu_);
    if (thread_.joinable()) {
        return;
    }
    stop_ = false;
    thread_ = std::thread([this] { Run(); });
}

void HealthMonitor::Stop() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

BackendState HealthMonitor::ProbeNow() {
    BackendState next;
    next.probed = true;
    auto info = backend_->Probe();
    if (info) {
        next.healthy = true;
        next.models = ResolveModels(wanted_, info->models);
        next.info = std::move(info).value();
    } else {
        next.error = info.error().message;
    }
    Publish(next);
    return next;
}

BackendState HealthMonitor::Current() const {
    std::lock_guard lock(mu_);
    return state_;
}

std::optional<BackendState> HealthMonitor::WaitUsable(const std::function<bool()>& stopped) {
    std::unique_lock lock(mu_);
    while (true) {
        if (stopped()) {
            return std::nullopt;
        }
        if (state_.Usable() && !recheck_) {
            return state_;
        }
        cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
}

void HealthMonitor::ReportFailure() {
    {
        std::lock_guard lock(mu_);
        recheck_ = true;
    }
    cv_.notify_all();
}

void HealthMonitor::Publish(BackendState next) {
    BackendState prev;
    {
        std::lock_guard lock(mu_);
        prev = state_;
        state_ = next;
    }
    cv_.notify_all();
    if (!next.healthy) {
        if (prev.healthy || !prev.probed || prev.error != next.error) {
            spdlog::warn("backend {} is down: {}; not taking jobs until it is back",
                         backend_->Name(), next.error);
        }
        return;
    }
    const bool models_changed =
        prev.models.served != next.models.served || prev.models.missing != next.models.missing;
    if (prev.healthy && !models_changed && prev.info.version == next.info.version) {
        return;
    }
    for (const auto& missing : next.models.missing) {
        spdlog::warn("model '{}' is not on the backend; not advertising it", missing);
    }
    if (next.models.served.empty()) {
        spdlog::warn("backend {} is up but serves none of the configured models (it has: {})",
                     next.info.version, Join(next.info.models));
        return;
    }
    std::vector<std::string> names;
    for (const auto& [horde, backend] : next.models.served) {
        names.push_back(horde == backend ? horde : horde + " (" + backend + ")");
    }
    std::string context;
    if (next.info.max_context_length > 0) {
        context = ", context " + std::to_string(next.info.max_context_length) + " tokens";
    }
    spdlog::info("backend {} is up{}; serving {}", next.info.version, context, Join(names));
}

void HealthMonitor::Run() {
    while (true) {
        {
            std::lock_guard lock(mu_);
            if (stop_) {
                return;
            }
        }
        const BackendState s = ProbeNow();
        std::unique_lock lock(mu_);
        recheck_ = false;
        const auto wait = s.healthy ? interval_ : retry_;
        cv_.wait_for(lock, wait, [this] { return stop_ || recheck_; });
        if (stop_) {
            return;
        }
    }
}

}  // namespace horde::bridge
