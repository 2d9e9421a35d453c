#pragma once
// Group commit: batches from concurrent callers are written to the store together, in the order
// they were queued, in one transaction. Each batch is still all-or-nothing on its own.
//
// One writer thread commits: it takes everything queued, writes it as one group, then tells each
// batch's owner. An owner either sleeps in Wait (each on its own condition variable, so a group
// wakes only its members) or has left a callback with Then, which runs on the writer thread; an
// HTTP handler uses Then to answer once its batch is stored without holding a thread meanwhile,
// so one group carries the writes of every connection waiting, not one per blocked thread.
// Such a caller may queue without waking the writer (WakeMode::kDeferred) and wake it once it has
// queued the batches of the other requests at hand, so that they go in one group.
//
// Thread-safety: safe for concurrent use. Callbacks must be short (they delay the next group)
// and must not call Wait.

#include <chrono>
#include <condition_variable>
#include <cstdint>
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

    /// How the writer learns of a batch queued while it sleeps.
    enum class WakeMode {
        kNow,
        /// The caller calls Wake() once the work at hand on its thread is done (an I/O thread:
        /// the other requests that arrived with this one), so one group carries their batches
        /// too; Wait calls it. The writer wakes by itself after kDeferredWakeLimit regardless.
        kDeferred,
    };
    static constexpr std::chrono::microseconds kDeferredWakeLimit{2000};
    /// Empty naps (of kDeferredWakeLimit) before the idle writer sleeps until the next batch.
    static constexpr int kNapsBeforeSleep = 50;

    /// Queues `batch`; it is written by the next group, after everything queued before it.
    Ticket Enqueue(store::Batch batch, WakeMode wake = WakeMode::kNow);
    /// Wakes the writer if it sleeps while batches wait.
    void Wake();
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
    bool writer_idle_ = false;    // the writer waits on `work_` (and nobody has woken it yet)
    bool writer_asleep_ = false;  // ... without a time limit: every batch wakes it
    bool stopping_ = false;
    // The writer's statistics, logged at debug level every kLogInterval (writer thread only).
    static constexpr std::chrono::seconds kLogInterval{10};
    std::chrono::steady_clock::time_point last_log_ = std::chrono::steady_clock::now();
    int64_t groups_logged_ = 0;
    int64_t batches_logged_ = 0;
    std::thread writer_;
};

}  // namespace horde::service
