#include "service/commit_queue.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "testing/memory_store.hpp"

namespace horde::service {
namespace {

using namespace std::chrono_literals;

/// A store that counts its groups and can hold the writer: while the gate is closed, a group
/// that starts writing waits for it. A batch setting "fail" fails. The in-memory store
/// underneath.
class GatedStore final : public store::Store {
public:
    Status Apply(const store::Batch& batch) override {
        // A batch that sets "fail" fails, writing nothing.
        const auto* put = batch.mutations.empty()
                              ? nullptr
                              : std::get_if<store::PutSetting>(&batch.mutations.front());
        if (put != nullptr && put->key == "fail") {
            return MakeError(ErrorCode::kStoreUnavailable, "refused by the test store");
        }
        return inner_.Apply(batch);
    }
    std::vector<Status> ApplyGroup(const std::vector<const store::Batch*>& batches) override {
        {
            std::unique_lock lock(mu_);
            ++groups_;
            ++writing_;
            changed_.notify_all();
            changed_.wait(lock, [this] { return open_; });
            --writing_;
        }
        return store::Store::ApplyGroup(batches);
    }
    Result<store::Snapshot> Load() override { return inner_.Load(); }
    Result<bool> HasEntry(const std::string& key) override { return inner_.HasEntry(key); }
    Result<std::string> RequestParams(const RequestId& id) override {
        return inner_.RequestParams(id);
    }
    Result<store::LedgerCheck> CheckLedger() override { return inner_.CheckLedger(); }
    Result<int64_t> ExternalChangeCounter() override { return inner_.ExternalChangeCounter(); }
    Status Compact() override { return inner_.Compact(); }

    void Close() {
        std::lock_guard lock(mu_);
        open_ = false;
    }
    void Open() {
        std::lock_guard lock(mu_);
        open_ = true;
        changed_.notify_all();
    }
    /// Waits until a group is being written (and held by the closed gate).
    bool AwaitWriting() {
        std::unique_lock lock(mu_);
        return changed_.wait_for(lock, 5s, [this] { return writing_ > 0; });
    }
    int groups() {
        std::lock_guard lock(mu_);
        return groups_;
    }
    testing::MemoryStore& inner() { return inner_; }

private:
    std::mutex mu_;
    std::condition_variable changed_;
    bool open_ = true;
    int writing_ = 0;
    int groups_ = 0;
    testing::MemoryStore inner_;
};

store::Batch Setting(const std::string& key, const std::string& value = "v") {
    store::Batch b;
    b.Add(store::PutSetting{key, value});
    return b;
}

/// Closes the gate and queues a batch: returns once the writer is held writing it, so that what
/// is queued next forms the next group.
CommitQueue::Ticket HoldTheWriter(GatedStore& store, CommitQueue& queue, const std::string& key) {
    store.Close();
    auto ticket = queue.Enqueue(Setting(key));
    EXPECT_TRUE(store.AwaitWriting());
    return ticket;
}

// Batches queued while a group is being written are written together by the next group, and
// their waiters are woken.
TEST(CommitQueueTest, BatchesQueuedDuringACommitFormTheNextGroup) {
    GatedStore store;
    CommitQueue queue(store);
    auto first = HoldTheWriter(store, queue, "first");
    auto second = queue.Enqueue(Setting("second"));
    auto third = queue.Enqueue(Setting("third"));
    auto waiter = std::async(std::launch::async, [&] { return queue.Wait(third).has_value(); });
    store.Open();
    ASSERT_EQ(waiter.wait_for(5s), std::future_status::ready) << "the waiter never woke";
    EXPECT_TRUE(waiter.get());
    EXPECT_TRUE(queue.Wait(first).has_value());
    EXPECT_TRUE(queue.Wait(second).has_value());
    EXPECT_EQ(store.groups(), 2);
    EXPECT_EQ(store.inner().committed_batches(), 3);
}

// A batch queued with a deferred wake-up waits for Wake (or Wait), so that the batches queued
// before it go in the same group.
TEST(CommitQueueTest, DeferredBatchesWaitForWakeAndGoInOneGroup) {
    GatedStore store;
    CommitQueue queue(store);
    EXPECT_TRUE(queue.Wait(queue.Enqueue(Setting("warm"))).has_value());  // the writer naps now
    const int before = store.groups();
    std::vector<CommitQueue::Ticket> tickets;
    for (int i = 0; i < 5; ++i) {
        tickets.push_back(
            queue.Enqueue(Setting("d" + std::to_string(i)), CommitQueue::WakeMode::kDeferred));
    }
    queue.Wake();
    for (const auto& t : tickets) {
        EXPECT_TRUE(queue.Wait(t).has_value());
    }
    EXPECT_EQ(store.groups(), before + 1);
    EXPECT_EQ(store.inner().committed_batches(), 6);
}

// A deferred wake-up that never comes (the caller's connection went away) does not strand the
// batch: the napping writer takes it when its nap ends, the sleeping one at once.
TEST(CommitQueueTest, DeferredBatchIsWrittenWithoutWake) {
    GatedStore store;
    CommitQueue queue(store);
    auto stored_via_then = [&](const std::string& key) {
        auto ticket = queue.Enqueue(Setting(key), CommitQueue::WakeMode::kDeferred);
        std::promise<bool> called;
        queue.Then(ticket, [&](const Status& s) { called.set_value(s.has_value()); });
        auto result = called.get_future();
        return result.wait_for(5s) == std::future_status::ready && result.get();
    };
    EXPECT_TRUE(stored_via_then("first"));    // a fresh writer sleeps
    EXPECT_TRUE(stored_via_then("napping"));  // right after a group: it naps
    std::this_thread::sleep_for(CommitQueue::kDeferredWakeLimit *
                                (CommitQueue::kNapsBeforeSleep + 20));
    EXPECT_TRUE(stored_via_then("asleep"));
    EXPECT_EQ(store.inner().committed_batches(), 3);
}

// Then: the callback gets the outcome once the batch is stored, on the writer thread; after
// that it runs at once on the caller's thread. No thread has to wait for it.
TEST(CommitQueueTest, ThenRunsOnceTheBatchIsStored) {
    GatedStore store;
    CommitQueue queue(store);
    auto ticket = HoldTheWriter(store, queue, "k");
    std::promise<std::pair<bool, std::thread::id>> called;
    queue.Then(ticket, [&](const Status& s) {
        called.set_value({s.has_value(), std::this_thread::get_id()});
    });
    auto result = called.get_future();
    EXPECT_EQ(result.wait_for(50ms), std::future_status::timeout) << "called before it was stored";
    EXPECT_EQ(store.inner().committed_batches(), 0);
    store.Open();
    ASSERT_EQ(result.wait_for(5s), std::future_status::ready);
    const auto [ok, thread] = result.get();
    EXPECT_TRUE(ok);
    EXPECT_NE(thread, std::this_thread::get_id());
    EXPECT_EQ(store.inner().committed_batches(), 1);

    bool inline_ok = false;
    queue.Then(ticket, [&](const Status& s) { inline_ok = s.has_value(); });
    EXPECT_TRUE(inline_ok) << "a stored batch's callback runs at once";
}

// Many batches with callbacks and nobody waiting: each callback runs exactly once, in the order
// the batches were queued, and the queue drains its last batches when destroyed.
TEST(CommitQueueTest, CallbacksRunOnceInQueueOrderAndDestructionDrains) {
    testing::MemoryStore store;
    std::vector<int> order;
    std::mutex order_mu;
    constexpr int kBatches = 2000;
    {
        CommitQueue queue(store);
        for (int i = 0; i < kBatches; ++i) {
            auto ticket = queue.Enqueue(Setting("n", std::to_string(i)));
            queue.Then(ticket, [&, i](const Status& s) {
                std::lock_guard lock(order_mu);
                order.push_back(s.has_value() ? i : -1);
            });
        }
    }
    ASSERT_EQ(order.size(), size_t{kBatches});
    for (int i = 0; i < kBatches; ++i) {
        ASSERT_EQ(order[i], i);
    }
    auto snap = store.Load();
    ASSERT_TRUE(snap.has_value());
    EXPECT_EQ(snap->settings.at("n"), std::to_string(kBatches - 1));
}

// Many threads queue and wait at once: every batch must be written exactly once, each thread's
// batches in the order it queued them, and every waiter must wake (a lost wake-up hangs here).
TEST(CommitQueueTest, ConcurrentCallersAllFinishInTheirOrder) {
    testing::MemoryStore store;
    CommitQueue queue(store);
    constexpr int kThreads = 12;
    constexpr int kEach = 400;
    std::vector<std::thread> threads;
    std::vector<int> failures(kThreads, 0);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                store::Batch b;
                b.Add(store::PutSetting{"t" + std::to_string(t), std::to_string(i)});
                auto ticket = queue.Enqueue(std::move(b));
                if (i % 7 == 3) {
                    std::this_thread::yield();  // a gap between queueing and waiting
                }
                if (!queue.Wait(ticket).has_value()) {
                    ++failures[t];
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(store.committed_batches(), int64_t{kThreads} * kEach);
    auto snap = store.Load();
    ASSERT_TRUE(snap.has_value());
    for (int t = 0; t < kThreads; ++t) {
        EXPECT_EQ(failures[t], 0);
        // The last write of each thread is its last batch: order kept within a caller.
        EXPECT_EQ(snap->settings.at("t" + std::to_string(t)), std::to_string(kEach - 1));
    }
}

TEST(CommitQueueTest, AFailedBatchFailsAloneInItsGroup) {
    GatedStore store;
    CommitQueue queue(store);
    auto hold = HoldTheWriter(store, queue, "hold");
    auto ta = queue.Enqueue(Setting("a", "1"));
    auto tf = queue.Enqueue(Setting("fail", "x"));
    auto tb = queue.Enqueue(Setting("b", "2"));
    store.Open();
    EXPECT_TRUE(queue.Wait(hold).has_value());
    EXPECT_TRUE(queue.Wait(ta).has_value());
    const auto failed = queue.Wait(tf);
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error().code, ErrorCode::kStoreUnavailable);
    EXPECT_TRUE(queue.Wait(tb).has_value());
    EXPECT_EQ(store.groups(), 2) << "a, fail and b were one group";
    auto snap = store.Load();
    ASSERT_TRUE(snap.has_value());
    EXPECT_EQ(snap->settings.count("fail"), 0u);
    EXPECT_EQ(snap->settings.at("a"), "1");
    EXPECT_EQ(snap->settings.at("b"), "2");
}

}  // namespace
}  // namespace horde::service
