#include "service/commit_queue.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "testing/memory_store.hpp"

namespace horde::service {
namespace {

using namespace std::chrono_literals;

/// A store whose every batch takes `delay` to write (the in-memory store underneath).
class SlowStore final : public store::Store {
public:
    explicit SlowStore(std::chrono::milliseconds delay) : delay_(delay) {}
    Status Apply(const store::Batch& batch) override {
        std::this_thread::sleep_for(delay_);
        return inner_.Apply(batch);
    }
    Result<store::Snapshot> Load() override { return inner_.Load(); }
    Result<bool> HasEntry(const std::string& key) override { return inner_.HasEntry(key); }
    Result<std::string> RequestParams(const RequestId& id) override {
        return inner_.RequestParams(id);
    }
    Result<store::LedgerCheck> CheckLedger() override { return inner_.CheckLedger(); }
    Result<int64_t> ExternalChangeCounter() override { return inner_.ExternalChangeCounter(); }
    Status Compact() override { return inner_.Compact(); }

private:
    std::chrono::milliseconds delay_;
    testing::MemoryStore inner_;
};

store::Batch Setting(const std::string& key) {
    store::Batch b;
    b.Add(store::PutSetting{key, "v"});
    return b;
}

// A caller that queues while a group is being written sleeps; when that group is done it must be
// woken to lead the next one, or it sleeps forever.
TEST(CommitQueueTest, ACallerQueuedDuringACommitLeadsTheNextGroup) {
    auto store = std::make_shared<SlowStore>(100ms);
    auto queue = std::make_shared<CommitQueue>(*store);
    auto call = [store, queue](const std::string& key) {
        auto done = std::make_shared<std::promise<bool>>();
        auto result = done->get_future();
        std::thread([store, queue, key, done] {
            auto ticket = queue->Enqueue(Setting(key));
            done->set_value(queue->Wait(ticket).has_value());
        }).detach();  // detached: a hang fails the test below instead of hanging it
        return result;
    };
    auto first = call("first");
    std::this_thread::sleep_for(30ms);  // "first" leads and is writing
    auto second = call("second");
    ASSERT_EQ(first.wait_for(5s), std::future_status::ready);
    ASSERT_EQ(second.wait_for(5s), std::future_status::ready) << "the queued caller never woke";
    EXPECT_TRUE(first.get());
    EXPECT_TRUE(second.get());
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
    testing::MemoryStore store;
    CommitQueue queue(store);
    store.FailNextApply();
    store::Batch a;
    a.Add(store::PutSetting{"a", "1"});
    store::Batch b;
    b.Add(store::PutSetting{"b", "2"});
    auto ta = queue.Enqueue(std::move(a));
    auto tb = queue.Enqueue(std::move(b));
    EXPECT_TRUE(queue.Wait(tb).has_value());  // leads the group [a, b]
    EXPECT_FALSE(queue.Wait(ta).has_value());
    auto snap = store.Load();
    ASSERT_TRUE(snap.has_value());
    EXPECT_EQ(snap->settings.count("a"), 0u);
    EXPECT_EQ(snap->settings.at("b"), "2");
}

}  // namespace
}  // namespace horde::service
