#include "service/commit_queue.hpp"

namespace horde::service {

CommitQueue::Ticket CommitQueue::Enqueue(store::Batch batch) {
    auto ticket = std::make_shared<Pending>();
    ticket->batch = std::move(batch);
    std::lock_guard lock(mu_);
    queued_.push_back(ticket);
    return ticket;
}

Status CommitQueue::Wait(const Ticket& ticket) {
    std::unique_lock lock(mu_);
    while (!ticket->done) {
        if (leading_) {
            ticket->sleeping = true;
            ticket->wake.wait(lock);
            ticket->sleeping = false;
            continue;
        }
        leading_ = true;
        std::vector<Ticket> group;
        group.swap(queued_);
        lock.unlock();
        std::vector<const store::Batch*> batches;
        batches.reserve(group.size());
        for (const auto& t : group) {
            batches.push_back(&t->batch);
        }
        std::vector<Status> results = store_.ApplyGroup(batches);
        lock.lock();
        for (size_t i = 0; i < group.size(); ++i) {
            group[i]->status = std::move(results[i]);
            group[i]->done = true;
            if (group[i]->sleeping) {
                group[i]->wake.notify_one();
            }
        }
        leading_ = false;
        // Batches queued meanwhile: the first of their owners already asleep leads the next
        // group. One not asleep yet will find no leader when it comes to wait, and lead then.
        for (const auto& t : queued_) {
            if (t->sleeping) {
                t->wake.notify_one();
                break;
            }
        }
    }
    return ticket->status;
}

}  // namespace horde::service
