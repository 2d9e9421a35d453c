#pragma once
// Group commit: batches from concurrent callers are written to the store together, in the order
// they were queued, in one transaction. Each batch is still all-or-nothing on its own.
//
// One writer thread commits: it takes everything queued, writes it as one group, then tells each
// batch's owner. An owner either sleeps in Wait (each on its own condition variable, so a group
// wakes only its members) or has left a callback with Then, which runs on the writer thread; an
// HTTP handler uses Then to answer once its batch is stored without holding a thread meanwhile,
// so one group carries the writes of every connection waiting, not one per blocked thread.
//
// Thread-safety: safe for concurrent use. Callbacks must be short (they delay the next group)
// and must not call Wait.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/result.hpp"
#include "store/store.hpp"

namespace horde::service {

class CommitQueue {
public:
    using Callback = std::function<void(const Status&)>;
    struct Pending {
        store::Batch batch;
        bool done = false;
        bool sleeping = false;  // in Wait, blocked on `wake`
        Status status;
        std::condition_variable wake;
        Callback then;
    };
    using Ticket = std::shared_ptr<Pending>;

    /// Starts the writer thread.
    explicit CommitQueue(store::Store& store);
    /// Writes what is queued, then stops the writer.
    ~CommitQueue();
    CommitQueue(const CommitQueue&) = delete;
    CommitQueue& operator=(const CommitQueue&) = delete;

    /// Queues `batch`; it is written by the next group, after everything queued before it.
    Ticket Enqueue(store::Batch batch);
    /// Blocks until the ticket's batch is committed (or failed).
    Status Wait(const Ticket& ticket);
    /// Calls `callback` with the batch's outcome once it is committed (or failed): on the writer
    /// thread, or at once on this one if that has already happened.
    void Then(const Ticket& ticket, Callback callback);

private:
    void Run();

    store::Store& store_;
    std::mutex mu_;
    std::condition_variable work_;
    std::vector<Ticket> queued_;
    bool writer_idle_ = false;  // the writer sleeps on `work_`
    bool stopping_ = false;
    std::thread writer_;
};

}  // namespace horde::service
