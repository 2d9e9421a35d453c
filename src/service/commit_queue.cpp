#include "service/commit_queue.hpp"

#include <spdlog/spdlog.h>

#include <utility>

namespace horde::service {

CommitQueue::CommitQueue(store::Store& store) : store_(store), writer_([this] { Run(); }) {}

CommitQueue::~CommitQueue() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    work_.notify_one();
    writer_.join();
}

CommitQueue::Ticket CommitQueue::Enqueue(store::Batch batch, WakeMode wake) {
    auto ticket = std::make_shared<Pending>();
    ticket->batch = std::move(batch);
    bool notify = false;
    {
        std::lock_guard lock(mu_);
        queued_.push_back(ticket);
        if (wake == WakeMode::kNow || writer_asleep_) {
            notify = writer_idle_;
            writer_idle_ = false;  // one wake-up is enough
        }
    }
    if (notify) {
        work_.notify_one();
    }
    return ticket;
}

void CommitQueue::Wake() {
    bool notify = false;
    {
        std::lock_guard lock(mu_);
        notify = writer_idle_ && !queued_.empty();
        if (notify) {
            writer_idle_ = false;
        }
    }
    if (notify) {
        work_.notify_one();
    }
}

Status CommitQueue::Wait(const Ticket& ticket) {
    Wake();
    std::unique_lock lock(mu_);
    while (!ticket->done) {
        ticket->sleeping = true;
        ticket->wake.wait(lock);
        ticket->sleeping = false;
    }
    return ticket->status;
}

void CommitQueue::Then(const Ticket& ticket, Callback callback) {
    std::unique_lock lock(mu_);
    if (!ticket->done) {
        ticket->then = std::move(callback);
        return;
    }
    const Status status = ticket->status;
    lock.unlock();
    callback(status);
}

void CommitQueue::Run() {
    std::vector<Ticket> group;
    std::vector<const store::Batch*> batches;
    std::vector<std::pair<Callback, Status>> callbacks;
    std::unique_lock lock(mu_);
    for (;;) {
        // Sleeps until woken with batches queued (Enqueue, Wake). While batches keep coming it
        // naps kDeferredWakeLimit at a time, and takes batches whose wake-up was deferred when a
        // nap ends; after kNapsBeforeSleep empty naps it sleeps until a batch comes, which then
        // wakes it at once, deferred or not.
        writer_idle_ = queued_.empty();
        int empty_naps = 0;
        while (writer_idle_ && !stopping_) {
            if (empty_naps >= kNapsBeforeSleep) {
                writer_asleep_ = true;
                work_.wait(lock);
                writer_asleep_ = false;
            } else if (work_.wait_for(lock, kDeferredWakeLimit) == std::cv_status::timeout) {
                if (!queued_.empty()) {
                    break;  // a deferred wake-up is overdue
                }
                ++empty_naps;
            }
        }
        writer_idle_ = false;
        if (queued_.empty()) {
            return;  // stopping, and everything queued is written
        }
        group.swap(queued_);
        ++groups_logged_;
        batches_logged_ += static_cast<int64_t>(group.size());
        if (const auto now = std::chrono::steady_clock::now(); now - last_log_ >= kLogInterval) {
            spdlog::debug(
                "commit groups: {} in {:.1f} s, {:.2f} batches each", groups_logged_,
                std::chrono::duration<double>(now - last_log_).count(),
                static_cast<double>(batches_logged_) / static_cast<double>(groups_logged_));
            groups_logged_ = 0;
            batches_logged_ = 0;
            last_log_ = now;
        }
        lock.unlock();
        batches.clear();
        for (const auto& t : group) {
            batches.push_back(&t->batch);
        }
        std::vector<Status> results = store_.ApplyGroup(batches);
        lock.lock();
        for (size_t i = 0; i < group.size(); ++i) {
            Pending& p = *group[i];
            p.status = std::move(results[i]);
            p.done = true;
            if (p.sleeping) {
                p.wake.notify_one();
            }
            if (p.then) {
                callbacks.emplace_back(std::move(p.then), p.status);
                p.then = nullptr;
            }
        }
        lock.unlock();
        for (auto& [callback, status] : callbacks) {
            callback(status);
        }
        callbacks.clear();
        group.clear();
        lock.lock();
    }
}

}  // namespace horde::service
