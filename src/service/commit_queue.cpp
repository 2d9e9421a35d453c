#include "service/commit_queue.hpp"

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

CommitQueue::Ticket CommitQueue::Enqueue(store::Batch batch) {
    auto ticket = std::make_shared<Pending>();
    ticket->batch = std::move(batch);
    bool wake = false;
    {
        std::lock_guard lock(mu_);
        queued_.push_back(ticket);
        wake = writer_idle_;
        writer_idle_ = false;  // one wake-up is enough
    }
    if (wake) {
        work_.notify_one();
    }
    return ticket;
}

Status CommitQueue::Wait(const Ticket& ticket) {
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
        while (queued_.empty() && !stopping_) {
            writer_idle_ = true;
            work_.wait(lock);
        }
        writer_idle_ = false;
        if (queued_.empty()) {
            return;  // stopping, and everything queued is written
        }
        group.swap(queued_);
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
