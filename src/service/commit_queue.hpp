#pragma once
// Group commit: batches from concurrent callers are written to the store together, in the order
// they were queued, in one transaction. The first caller to wait becomes the leader and commits
// everything queued so far; the others sleep until their batch is done. Each batch is still
// all-or-nothing on its own.
//
// Each waiter sleeps on its own condition variable: a finished group wakes its own members and at
// most one queued waiter (the next leader), not every sleeping thread. On a small VM a needless
// wake-up costs about as much as the write itself.
//
// Thread-safety: safe for concurrent use.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "common/result.hpp"
#include "store/store.hpp"

namespace horde::service {

class CommitQueue {
public:
    struct Pending {
        store::Batch batch;
        bool done = false;
        bool sleeping = false;  // in Wait, blocked on `wake`
        Status status;
        std::condition_variable wake;
    };
    using Ticket = std::shared_ptr<Pending>;

    explicit CommitQueue(store::Store& store) : store_(store) {}

    /// Queues `batch`; it is written by the next group, after everything queued before it.
    Ticket Enqueue(store::Batch batch);
    /// Blocks until the ticket's batch is committed (or failed); may lead a group commit.
    Status Wait(const Ticket& ticket);

private:
    store::Store& store_;
    std::mutex mu_;
    std::vector<Ticket> queued_;
    bool leading_ = false;
};

}  // namespace horde::service
