// Unit tests of HordeService over the in-memory store and a frozen clock (never sleeps): queue
// order and the priority pass, claims and batching, timeouts and faults, cancel and expiry,
// settlement and the ledger, uptime, store failures, and the error paths workers can hit.
//
// After every test the fixture checks that the ledger sums to zero without drift and that the
// service's balances and requests agree with what the store holds.

#include "service/horde_service.hpp"

#include <gtest/gtest.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/random.hpp"
#include "domain/bridge_capabilities.hpp"
#include "domain/ledger.hpp"
#include "domain/matching.hpp"
#include "domain/pricing.hpp"
#include "testing/memory_store.hpp"

namespace horde {

// Lets GoogleTest print kudos amounts in failure messages (found by argument-dependent lookup).
[[maybe_unused]] static void PrintTo(const Kudos& k, std::ostream* os) {
    *os << k.ToDouble() << " kudos";
}

}  // namespace horde

namespace horde::service {
namespace {

using domain::GenKind;

constexpr const char* kImageModel = "stable_diffusion";
constexpr const char* kTextModel = "koboldcpp/LLaMA2-13B-Tiefighter";
/// Current official bridge: its owner receives the whole reward (multiplier 1).
constexpr const char* kCurrentBridge = "AI Horde Worker reGen:13.0.0:https://example.org";
/// Older official bridge: multiplier 0.9.
constexpr const char* kOlderBridge = "AI Horde Worker reGen:9.0.0:https://example.org";
constexpr const char* kTextBridge = "KoboldCppEmbedWorker:1:https://example.org";
constexpr int kTwentyMinutesS = 20 * 60;

std::string Describe(const Error& e) {
    return "ErrorCode " + std::to_string(static_cast<int>(e.code)) + " (" + e.message + ")";
}

/// The value of `r`, or a default value after recording a test failure.
template <typename T>
T Must(Result<T> r, const char* what) {
    if (!r) {
        ADD_FAILURE() << what << " failed: " << Describe(r.error());
        return T{};
    }
    return std::move(r).value();
}

/// The error code of a failed result (kInternal with a test failure when it succeeded).
template <typename T>
ErrorCode CodeOf(const Result<T>& r) {
    if (r) {
        ADD_FAILURE() << "expected an error, got success";
        return ErrorCode::kInternal;
    }
    return r.error().code;
}

class HordeServiceTest : public ::testing::Test {
protected:
    HordeServiceTest()
        : dir_(std::filesystem::temp_directory_path() / ("horde_service_test_" + NewUuid())),
          files_(dir_.string()),
          service_(store_, files_, clock_, Settings()) {}

    void SetUp() override {
        spdlog::set_level(spdlog::level::off);
        ASSERT_TRUE(files_.Init());
        ASSERT_TRUE(service_.Init());
    }

    void TearDown() override {
        ExpectLedgerClean();
        ExpectMemoryMatchesStore();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    static ServiceSettings Settings() {
        ServiceSettings s;
        s.test_mode = true;
        s.secret = std::string(64, 'a');
        return s;
    }

    // ---- users and requests

    domain::User NewUser(const std::string& name, int64_t kudos = 0, bool trusted = false) {
        auto created = service_.CreateUser(name, Kudos::FromWhole(kudos), trusted, false);
        return Must(std::move(created), "CreateUser").user;
    }

    static Caller As(const domain::User& u) {
        return Caller{u, "203.0.113.7", "horde-service-test:1:none"};
    }

    static domain::Request ImageRequest(int jobs = 1) {
        domain::Request r;
        r.kind = GenKind::kImage;
        r.prompt = "a lighthouse at dusk";
        r.models = {kImageModel};
        r.jobs = jobs;
        r.n = jobs;
        return r;
    }

    static domain::Request TextRequest(int jobs = 1) {
        domain::Request r;
        r.kind = GenKind::kText;
        r.prompt = "Once upon a time, in a harbour town, there lived";
        r.models = {kTextModel};
        r.text.max_length = 80;
        r.text.max_context_length = 2048;
        r.jobs = jobs;
        r.n = jobs;
        return r;
    }

    Result<Accepted> Submit(const domain::User& u, domain::Request r) {
        NewRequest in;
        in.request = std::move(r);
        return service_.SubmitRequest(std::move(in), As(u));
    }

    std::string Enqueue(const domain::User& u, NewRequest in) {
        return Must(service_.SubmitRequest(std::move(in), As(u)), "SubmitRequest").id.value();
    }

    std::string Enqueue(const domain::User& u, domain::Request r) {
        NewRequest in;
        in.request = std::move(r);
        return Enqueue(u, std::move(in));
    }

    RequestView Status(GenKind kind, const std::string& id) {
        return Must(service_.GetRequest(kind, id, true), "GetRequest");
    }
    RequestView ImageStatus(const std::string& id) { return Status(GenKind::kImage, id); }

    // ---- workers

    static domain::WorkerProfile ImageProfile() {
        domain::WorkerProfile p;
        p.models = {kImageModel};
        p.bridge_agent = kCurrentBridge;
        return p;
    }

    /// Room for four 512×512 images per job batch.
    static domain::WorkerProfile BigImageProfile() {
        domain::WorkerProfile p = ImageProfile();
        p.max_pixels = 4 * 512 * 512;
        return p;
    }

    static domain::WorkerProfile TextProfile() {
        domain::WorkerProfile p;
        p.models = {kTextModel};
        p.bridge_agent = kTextBridge;
        p.max_length = 512;
        p.max_context_length = 4096;
        return p;
    }

    PopOutcome PopImage(const domain::User& owner, const std::string& worker, int amount = 1,
                        domain::WorkerProfile profile = ImageProfile()) {
        return Must(service_.Pop(GenKind::kImage, worker, std::move(profile), amount, As(owner)),
                    "Pop");
    }

    PopOutcome PopText(const domain::User& owner, const std::string& worker, int amount = 1) {
        return Must(service_.Pop(GenKind::kText, worker, TextProfile(), amount, As(owner)), "Pop");
    }

    static std::string TextGeneration() { return std::string(300, 'y'); }

    Result<SubmitOutcome> Deliver(const domain::User& owner, const domain::Job& job,
                                  const std::string& state = "ok") {
        HordeService::SubmitInput in;
        in.job_id = job.id.value();
        in.generation =
            job.kind == GenKind::kImage ? EncodeBase64("RIFF....WEBPVP8 fake") : TextGeneration();
        in.state = state;
        in.seed = 42;
        return service_.Submit(job.kind, std::move(in), As(owner));
    }

    domain::Worker Worker(const WorkerId& id) {
        return Must(service_.GetWorker(id.value()), "GetWorker").worker;
    }

    // ---- kudos

    UserView ViewOf(const domain::User& u) { return Must(service_.GetUser(u.id), "GetUser"); }
    Kudos Balance(const domain::User& u) { return ViewOf(u).kudos; }
    Kudos Escrow(const domain::User& u) { return ViewOf(u).evaluating; }
    double Stat(const domain::User& u, const std::string& name) {
        const auto stats = ViewOf(u).stats;
        auto it = stats.find(name);
        return it == stats.end() ? 0.0 : it->second;
    }

    void Advance(int seconds) { clock_.Advance(std::chrono::seconds(seconds)); }

    void ExpectLedgerClean() {
        const store::LedgerCheck check = Must(service_.CheckLedger(), "CheckLedger");
        EXPECT_EQ(check.sum_milli, 0);
        EXPECT_EQ(check.unbalanced_entries, 0);
        EXPECT_TRUE(check.drift_milli.empty());
    }

    /// What the service answers from memory must be what the store holds.
    void ExpectMemoryMatchesStore() {
        const store::Snapshot snap = Must(store_.Load(), "Load");
        auto milli = [&](const std::string& account) {
            auto it = snap.balances_milli.find(account);
            return it == snap.balances_milli.end() ? 0 : it->second;
        };
        for (const domain::User& u : snap.users) {
            const UserView v = Must(service_.GetUser(u.id), "GetUser");
            EXPECT_EQ(v.kudos.milli(), milli(domain::UserAccount(u.id))) << u.username;
            EXPECT_EQ(v.evaluating.milli(), milli(domain::EscrowAccount(u.id))) << u.username;
        }
        for (const domain::Request& r : snap.requests) {
            const RequestView v = Must(service_.GetRequest(r.kind, r.id.value(), false), "Get");
            EXPECT_EQ(v.request.n, r.n);
            EXPECT_EQ(v.request.jobs, r.jobs);
            EXPECT_EQ(v.request.faulted, r.faulted);
        }
    }

    OffsetClock clock_ = MakeFakeClock();
    horde::testing::MemoryStore store_;
    std::filesystem::path dir_;
    store::ResultFiles files_;
    HordeService service_;
};

// ---------------------------------------------------------------------------------------------
// Queue order: requester kudos, then age (5 kudos per second of waiting).

TEST_F(HordeServiceTest, RicherNewerRequestGoesFirstWhileTheAgeGapIsUnder20Seconds) {
    const auto poor = NewUser("poor", 0);
    const auto rich = NewUser("rich", 100);
    const auto owner = NewUser("owner");
    const std::string older = Enqueue(poor, ImageRequest());
    Advance(19);  // 19 s × 5 kudos/s = 95 < 100
    const std::string newer = Enqueue(rich, ImageRequest());

    EXPECT_EQ(ImageStatus(newer).queue_position, 1);
    EXPECT_EQ(ImageStatus(older).queue_position, 2);
    Advance(1000);  // both age alike: the order holds
    EXPECT_EQ(ImageStatus(newer).queue_position, 1);

    const PopOutcome pop = PopImage(owner, "w1");
    ASSERT_TRUE(pop.request);
    EXPECT_EQ(pop.request->id.value(), newer);
    EXPECT_EQ(ImageStatus(older).queue_position, 1);
}

TEST_F(HordeServiceTest, PoorerOlderRequestOvertakesARicherOneAfterEnoughWaiting) {
    const auto poor = NewUser("poor", 0);
    const auto rich = NewUser("rich", 100);
    const auto owner = NewUser("owner");
    const std::string older = Enqueue(poor, ImageRequest());
    Advance(21);  // 21 s × 5 kudos/s = 105 > 100
    const std::string newer = Enqueue(rich, ImageRequest());

    EXPECT_EQ(ImageStatus(older).queue_position, 1);
    EXPECT_EQ(ImageStatus(newer).queue_position, 2);
    const PopOutcome first = PopImage(owner, "w1");
    ASSERT_TRUE(first.request);
    EXPECT_EQ(first.request->id.value(), older);
    const PopOutcome second = PopImage(owner, "w1");
    ASSERT_TRUE(second.request);
    EXPECT_EQ(second.request->id.value(), newer);
}

TEST_F(HordeServiceTest, EqualKudosServeTheOlderRequestFirst) {
    const auto a = NewUser("a", 10);
    const auto b = NewUser("b", 10);
    const auto owner = NewUser("owner");
    const std::string first = Enqueue(a, ImageRequest());
    const std::string second = Enqueue(b, ImageRequest());  // same instant: insertion order
    EXPECT_EQ(ImageStatus(first).queue_position, 1);
    EXPECT_EQ(ImageStatus(second).queue_position, 2);
    const PopOutcome pop = PopImage(owner, "w1");
    ASSERT_TRUE(pop.request);
    EXPECT_EQ(pop.request->id.value(), first);
}

// ---------------------------------------------------------------------------------------------
// Priority pass.

TEST_F(HordeServiceTest, PriorityPassServesTheWorkerOwnersOwnRequestFirst) {
    const auto rich = NewUser("rich", 1000);
    const auto owner = NewUser("owner", 0);
    const auto other = NewUser("other", 0);
    const std::string rich_id = Enqueue(rich, ImageRequest());
    Advance(1);
    const std::string own_id = Enqueue(owner, ImageRequest());
    EXPECT_EQ(ImageStatus(own_id).queue_position, 2);

    const PopOutcome own_pop = PopImage(owner, "owners-worker");
    ASSERT_TRUE(own_pop.request);
    EXPECT_EQ(own_pop.request->id.value(), own_id);

    Enqueue(owner, ImageRequest());  // the owner's second request is not other's priority
    const PopOutcome other_pop = PopImage(other, "others-worker");
    ASSERT_TRUE(other_pop.request);
    EXPECT_EQ(other_pop.request->id.value(), rich_id);
}

TEST_F(HordeServiceTest, PriorityPassServesPriorityUsernamesFirst) {
    const auto rich = NewUser("rich", 1000);
    const auto pal = NewUser("pal", 0);
    const auto owner = NewUser("owner", 0);
    const auto other = NewUser("other", 0);
    const std::string rich_id = Enqueue(rich, ImageRequest());
    Advance(1);
    const std::string pal_id = Enqueue(pal, ImageRequest());

    domain::WorkerProfile profile = ImageProfile();
    profile.priority_usernames = {"pal#" + std::to_string(pal.id.value())};
    const PopOutcome pop = PopImage(owner, "friendly", 1, profile);
    ASSERT_TRUE(pop.request);
    EXPECT_EQ(pop.request->id.value(), pal_id);

    Enqueue(pal, ImageRequest());
    const PopOutcome plain = PopImage(other, "plain");
    ASSERT_TRUE(plain.request);
    EXPECT_EQ(plain.request->id.value(), rich_id);
}

TEST_F(HordeServiceTest, MalformedPriorityUsernameIsRejected) {
    const auto owner = NewUser("owner");
    domain::WorkerProfile profile = ImageProfile();
    profile.priority_usernames = {"pal"};
    auto pop = service_.Pop(GenKind::kImage, "w", profile, 1, As(owner));
    EXPECT_EQ(CodeOf(pop), ErrorCode::kInvalidPriorityUsername);
}

// ---------------------------------------------------------------------------------------------
// Claims and batching.

TEST_F(HordeServiceTest, PopClaimsDecrementNAndNeverExceedIt) {
    const auto user = NewUser("user", 50);
    const auto owner = NewUser("owner");
    const std::string id = Enqueue(user, ImageRequest(3));

    const PopOutcome one = PopImage(owner, "w", 1, BigImageProfile());
    ASSERT_EQ(one.jobs.size(), 1u);
    RequestView st = ImageStatus(id);
    EXPECT_EQ(st.request.n, 2);
    EXPECT_EQ(st.processing, 1);
    EXPECT_EQ(st.waiting, 2);

    const PopOutcome rest = PopImage(owner, "w", 5, BigImageProfile());
    ASSERT_EQ(rest.jobs.size(), 2u);  // capped at n
    st = ImageStatus(id);
    EXPECT_EQ(st.request.n, 0);
    EXPECT_EQ(st.processing, 3);
    EXPECT_EQ(st.waiting, 0);
    EXPECT_EQ(st.queue_position, 0);

    const PopOutcome none = PopImage(owner, "w", 5, BigImageProfile());
    EXPECT_FALSE(none.request);
    EXPECT_TRUE(none.jobs.empty());

    std::set<std::string> ids;
    for (const auto* pop : {&one, &rest}) {
        for (const auto& j : pop->jobs) {
            ids.insert(j.id.value());
            EXPECT_EQ(j.request.value(), id);
            EXPECT_EQ(j.state, domain::JobState::kProcessing);
        }
    }
    EXPECT_EQ(ids.size(), 3u);
}

TEST_F(HordeServiceTest, ConcurrentPopsNeverHandOutMoreJobsThanRequested) {
    const auto user = NewUser("user", 50);
    const auto owner = NewUser("owner");
    const std::string id = Enqueue(user, ImageRequest(20));
    std::atomic<int> handed_out{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            const std::string name = "racer-" + std::to_string(t);
            for (int i = 0; i < 40; ++i) {
                auto pop = service_.Pop(GenKind::kImage, name, ImageProfile(), 2, As(owner));
                if (!pop) {
                    ++errors;
                    return;
                }
                if (pop->jobs.empty()) {
                    return;
                }
                handed_out += static_cast<int>(pop->jobs.size());
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(handed_out.load(), 20);
    const RequestView st = ImageStatus(id);
    EXPECT_EQ(st.request.n, 0);
    EXPECT_EQ(st.processing, 20);
}

TEST_F(HordeServiceTest, BatchingHandsOutTheSafeBatchAmount) {
    const auto user = NewUser("user", 50);
    const auto owner = NewUser("owner");
    const std::string id = Enqueue(user, ImageRequest(8));

    const int big_expected = domain::SafeBatchAmount(ImageStatus(id).request, BigImageProfile(), 4);
    ASSERT_EQ(big_expected, 4);
    const PopOutcome big = PopImage(owner, "big", 4, BigImageProfile());
    ASSERT_EQ(big.jobs.size(), 4u);
    for (const auto& j : big.jobs) {
        EXPECT_EQ(j.model, big.jobs.front().model);  // one model per batch
    }

    // 512×512 on a worker that fits one such image: a batch of 4 is not safe.
    const int small_expected = domain::SafeBatchAmount(ImageStatus(id).request, ImageProfile(), 4);
    ASSERT_EQ(small_expected, 1);
    const PopOutcome small = PopImage(owner, "small", 4, ImageProfile());
    EXPECT_EQ(small.jobs.size(), 1u);
    EXPECT_EQ(ImageStatus(id).request.n, 3);
}

TEST_F(HordeServiceTest, DisableBatchingHandsOutOneJobPerPop) {
    const auto trusted = NewUser("trusted", 50, true);
    const auto owner = NewUser("owner");
    domain::Request r = ImageRequest(4);
    r.disable_batching = true;
    const std::string id = Enqueue(trusted, r);
    const PopOutcome pop = PopImage(owner, "big", 4, BigImageProfile());
    EXPECT_EQ(pop.jobs.size(), 1u);
    EXPECT_EQ(ImageStatus(id).request.n, 3);
}

TEST_F(HordeServiceTest, DisableBatchingOfSeveralJobsNeedsTrust) {
    const auto user = NewUser("user", 50);
    domain::Request r = ImageRequest(4);
    r.disable_batching = true;
    EXPECT_EQ(CodeOf(Submit(user, r)), ErrorCode::kRequiresTrust);
}

// ---------------------------------------------------------------------------------------------
// Timeouts and faults.

TEST_F(HordeServiceTest, TickRequeuesATimedOutJobAndALateSubmitIsAborted) {
    const auto user = NewUser("user", 50);
    const auto owner = NewUser("owner");
    const auto other = NewUser("other");
    const std::string id = Enqueue(user, ImageRequest(1));
    const Kudos after_tax = Balance(user);
    const PopOutcome pop = PopImage(owner, "slow");
    ASSERT_EQ(pop.jobs.size(), 1u);
    const domain::Job job = pop.jobs[0];
    EXPECT_EQ(job.ttl_s, domain::ImageJobTtlSeconds(domain::ImageShape{}, false, false));

    Advance(job.ttl_s);
    service_.Tick();  // exactly at the deadline: still allowed
    EXPECT_EQ(ImageStatus(id).processing, 1);
    EXPECT_EQ(ImageStatus(id).request.n, 0);

    Advance(1);
    service_.Tick();
    RequestView st = ImageStatus(id);
    EXPECT_EQ(st.request.n, 1);
    EXPECT_EQ(st.processing, 0);
    EXPECT_EQ(st.restarted, 1);
    EXPECT_FALSE(st.done);
    EXPECT_FALSE(st.request.faulted);
    EXPECT_EQ(Worker(pop.worker).aborted_jobs, 1);

    EXPECT_EQ(CodeOf(Deliver(owner, job)), ErrorCode::kAbortedGen);

    const PopOutcome again = PopImage(other, "fast");
    ASSERT_EQ(again.jobs.size(), 1u);
    EXPECT_NE(again.jobs[0].id, job.id);
    ASSERT_TRUE(Deliver(other, again.jobs[0]));
    st = ImageStatus(id);
    EXPECT_TRUE(st.done);
    EXPECT_EQ(st.finished, 1);
    EXPECT_LT(Balance(user), after_tax);  // charged once, for the delivered job
}

// A flood of timeouts (a fleet of workers gone at once), more than one hold of the lock takes:
// every job is aborted in one Tick, and aborts of the same request or worker add up (the third
// timed-out job of a 3-job request faults it; each worker counts all of its aborted jobs).
TEST_F(HordeServiceTest, TickAbortsAFloodOfLateJobsAndTheyAddUp) {
    const auto owner = NewUser("owner");
    std::vector<std::string> threes;
    std::vector<std::string> twos;
    for (int u = 0; u < 25; ++u) {  // 26 jobs each: within a user's limit of parallel jobs
        const auto user = NewUser("user" + std::to_string(u), 10000);
        for (int i = 0; i < 6; ++i) {
            threes.push_back(Enqueue(user, ImageRequest(3)));
        }
        for (int i = 0; i < 4; ++i) {
            twos.push_back(Enqueue(user, ImageRequest(2)));
        }
    }
    const std::vector<std::string> workers = {"gone-a", "gone-b", "gone-c"};
    std::map<std::string, int> popped;
    int ttl = 0;
    for (int i = 0;; ++i) {
        const std::string& name = workers[i % workers.size()];
        const PopOutcome pop = PopImage(owner, name);
        if (!pop.request) {
            break;
        }
        ++popped[name];
        ttl = std::max(ttl, pop.jobs[0].ttl_s);
    }
    const int total = popped["gone-a"] + popped["gone-b"] + popped["gone-c"];
    ASSERT_EQ(total, 150 * 3 + 100 * 2);
    ASSERT_GT(static_cast<size_t>(total), HordeService::kAbortsPerHold);

    Advance(ttl + 1);
    service_.Tick();
    for (const auto& id : threes) {
        const RequestView st = ImageStatus(id);
        EXPECT_TRUE(st.request.faulted) << id;
        EXPECT_EQ(st.processing, 0) << id;
        EXPECT_EQ(st.restarted, 3) << id;
    }
    for (const auto& id : twos) {
        const RequestView st = ImageStatus(id);
        EXPECT_FALSE(st.request.faulted) << id;
        EXPECT_EQ(st.request.n, 2) << id;
        EXPECT_EQ(st.processing, 0) << id;
        EXPECT_EQ(st.restarted, 2) << id;
    }
    for (const auto& name : workers) {
        const auto view = Must(service_.GetWorkerByName(name), "GetWorkerByName");
        EXPECT_EQ(view.worker.aborted_jobs, popped[name]) << name;
    }
    ExpectMemoryMatchesStore();
}

TEST_F(HordeServiceTest, ThreeFailedJobsFaultTheRequest) {
    const auto user = NewUser("user", 50);
    const auto owner = NewUser("owner");
    const std::string id = Enqueue(user, ImageRequest(1));
    const Kudos after_tax = Balance(user);
    for (int i = 0; i < 3; ++i) {
        const PopOutcome pop = PopImage(owner, "flaky");
        ASSERT_EQ(pop.jobs.size(), 1u) << "attempt " << i;
        const auto out = Deliver(owner, pop.jobs[0], "faulted");
        ASSERT_TRUE(out);
        EXPECT_EQ(out->reward, Kudos());
        const RequestView st = ImageStatus(id);
        EXPECT_EQ(st.restarted, i + 1);
        if (i < 2) {
            EXPECT_FALSE(st.request.faulted);
            EXPECT_EQ(st.request.n, 1);
        }
    }
    const RequestView st = ImageStatus(id);
    EXPECT_TRUE(st.request.faulted);
    EXPECT_TRUE(st.done);
    EXPECT_EQ(st.waiting, 0);
    EXPECT_EQ(st.queue_position, 0);
    EXPECT_FALSE(PopImage(owner, "flaky").request);
    EXPECT_EQ(Balance(user), after_tax);  // faulted jobs cost nothing
    EXPECT_EQ(Balance(owner), Kudos());
}

TEST_F(HordeServiceTest, TimeoutsCountTowardFaultingTheRequest) {
    const auto user = NewUser("user", 50);
    const auto owner = NewUser("owner");
    const std::string id = Enqueue(user, ImageRequest(1));
    for (int i = 0; i < 3; ++i) {
        const PopOutcome pop = PopImage(owner, "stuck");
        ASSERT_EQ(pop.jobs.size(), 1u) << "attempt " << i;
        Advance(pop.jobs[0].ttl_s + 1);
        service_.Tick();
    }
    const RequestView st = ImageStatus(id);
    EXPECT_TRUE(st.request.faulted);
    EXPECT_TRUE(st.done);
    EXPECT_EQ(st.restarted, 3);
    EXPECT_FALSE(PopImage(owner, "stuck").request);
}

// ---------------------------------------------------------------------------------------------
// Cancel.

TEST_F(HordeServiceTest, CancelStopsPopsButTheInFlightJobStillSettles) {
    const auto user = NewUser("user", 100);
    const auto owner = NewUser("owner", 0, true);
    const auto other = NewUser("other");
    const std::string id = Enqueue(user, ImageRequest(2));
    const PopOutcome pop = PopImage(owner, "w");
    ASSERT_EQ(pop.jobs.size(), 1u);

    // The answer is the status from before the cancel (api-contract §1.1 DELETE).
    const RequestView answer = Must(service_.CancelRequest(GenKind::kImage, id), "Cancel");
    EXPECT_EQ(answer.request.n, 1);
    EXPECT_EQ(answer.processing, 1);
    RequestView st = ImageStatus(id);
    EXPECT_EQ(st.request.n, 0);
    EXPECT_TRUE(st.request.cancelled);
    EXPECT_EQ(st.processing, 1);
    EXPECT_EQ(st.waiting, 0);
    EXPECT_FALSE(st.done);
    EXPECT_FALSE(PopImage(other, "w2").request);

    const Kudos user_before = Balance(user);
    const Kudos owner_before = Balance(owner);
    const auto out = Deliver(owner, pop.jobs[0]);
    ASSERT_TRUE(out);
    EXPECT_GT(out->reward, Kudos());
    const Kudos charge = domain::ImageJobCharge(out->reward, false, {}, true, false, false);
    EXPECT_EQ(Balance(user), user_before - charge);
    EXPECT_EQ(Balance(owner), owner_before + out->reward);  // current bridge: ×1

    st = ImageStatus(id);
    EXPECT_TRUE(st.done);
    EXPECT_EQ(st.finished, 1);
    EXPECT_EQ(st.processing, 0);
    ASSERT_EQ(st.generations.size(), 1u);

    // Cancelling again changes nothing.
    ASSERT_TRUE(service_.CancelRequest(GenKind::kImage, id));
    EXPECT_EQ(Balance(user), user_before - charge);
    EXPECT_TRUE(ImageStatus(id).done);
}

TEST_F(HordeServiceTest, CancelOfAnUnpoppedRequestIsDoneAtOnce) {
    const auto user = NewUser("user", 10);
    const auto owner = NewUser("owner");
    const std::string id = Enqueue(user, ImageRequest(2));
    ASSERT_TRUE(service_.CancelRequest(GenKind::kImage, id));
    const RequestView st = ImageStatus(id);
    EXPECT_TRUE(st.done);
    EXPECT_EQ(st.waiting, 0);
    EXPECT_FALSE(PopImage(owner, "w").request);
    EXPECT_EQ(CodeOf(service_.CancelRequest(GenKind::kText, id)), ErrorCode::kRequestNotFound);
}

TEST_F(HordeServiceTest, TimedOutJobOfACancelledRequestIsNotRequeued) {
    const auto user = NewUser("user", 10);
    const auto owner = NewUser("owner");
    const std::string id = Enqueue(user, ImageRequest(2));
    const PopOutcome pop = PopImage(owner, "w");
    ASSERT_EQ(pop.jobs.size(), 1u);
    ASSERT_TRUE(service_.CancelRequest(GenKind::kImage, id));
    Advance(pop.jobs[0].ttl_s + 1);
    service_.Tick();
    const RequestView st = ImageStatus(id);
    EXPECT_EQ(st.request.n, 0);
    EXPECT_EQ(st.processing, 0);
    EXPECT_TRUE(st.done);
    EXPECT_FALSE(PopImage(owner, "w").request);
}

// ---------------------------------------------------------------------------------------------
// Expiry.

TEST_F(HordeServiceTest, DeliveredRequestIsPurgedTwentyMinutesAfterDelivery) {
    const auto user = NewUser("user", 10);
    const auto owner = NewUser("owner");
    NewRequest in;
    in.request = ImageRequest(1);
    in.source_image = EncodeBase64("source image bytes");
    const std::string id = Enqueue(user, std::move(in));
    const std::string source_name = ImageStatus(id).request.source_image.str();
    ASSERT_FALSE(source_name.empty());
    EXPECT_TRUE(files_.Exists(source_name));

    const PopOutcome pop = PopImage(owner, "w");
    ASSERT_EQ(pop.jobs.size(), 1u);
    Advance(30);
    ASSERT_TRUE(Deliver(owner, pop.jobs[0]));
    const std::string result_name = pop.jobs[0].id.value() + ".webp";
    EXPECT_TRUE(files_.Exists(result_name));

    Advance(kTwentyMinutesS);
    service_.Tick();  // exactly 20 minutes: still retrievable
    EXPECT_TRUE(ImageStatus(id).done);
    EXPECT_TRUE(files_.Exists(result_name));

    Advance(1);
    service_.Tick();
    EXPECT_EQ(CodeOf(service_.GetRequest(GenKind::kImage, id, true)), ErrorCode::kRequestNotFound);
    EXPECT_FALSE(files_.Exists(result_name));
    EXPECT_FALSE(files_.Exists(source_name));
    EXPECT_EQ(CodeOf(Deliver(owner, pop.jobs[0])), ErrorCode::kInvalidJobId);
    EXPECT_TRUE(Must(store_.Load(), "Load").requests.empty());
    EXPECT_TRUE(Must(store_.Load(), "Load").jobs.empty());
}

// Requests expiring together go in one batch (one commit under the service lock), and the
// compaction after a purge (a full checkpoint of the store) runs at most once a minute.
TEST_F(HordeServiceTest, ExpiredRequestsGoInOneBatchAndCompactionWaitsAMinute) {
    const auto user = NewUser("user", 1000);
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        ids.push_back(Enqueue(user, ImageRequest(1)));
    }
    Advance(30);
    const std::string later = Enqueue(user, ImageRequest(1));
    Advance(kTwentyMinutesS - 29);  // the first three are past their 20 minutes
    const int64_t batches = store_.committed_batches();
    service_.Tick();
    EXPECT_EQ(store_.committed_batches(), batches + 1);
    for (const auto& id : ids) {
        EXPECT_EQ(CodeOf(service_.GetRequest(GenKind::kImage, id, false)),
                  ErrorCode::kRequestNotFound);
    }
    EXPECT_TRUE(service_.GetRequest(GenKind::kImage, later, false));
    EXPECT_EQ(store_.compactions(), 1);

    Advance(30);
    service_.Tick();  // `later` is purged 30 s after the compaction: the next one waits
    EXPECT_EQ(CodeOf(service_.GetRequest(GenKind::kImage, later, false)),
              ErrorCode::kRequestNotFound);
    EXPECT_EQ(store_.compactions(), 1);
    Advance(29);
    service_.Tick();
    EXPECT_EQ(store_.compactions(), 1);
    Advance(1);
    service_.Tick();  // a minute after the last one
    EXPECT_EQ(store_.compactions(), 2);
    Advance(120);
    service_.Tick();  // nothing purged since: nothing to compact
    EXPECT_EQ(store_.compactions(), 2);
}

TEST_F(HordeServiceTest, UnservedRequestExpiresTwentyMinutesAfterCreation) {
    const auto user = NewUser("user", 10);
    const std::string id = Enqueue(user, ImageRequest(1));
    Advance(kTwentyMinutesS);
    service_.Tick();
    EXPECT_TRUE(service_.GetRequest(GenKind::kImage, id, false));
    Advance(1);
    service_.Tick();
    EXPECT_EQ(CodeOf(service_.GetRequest(GenKind::kImage, id, false)), ErrorCode::kRequestNotFound);
    EXPECT_TRUE(ViewOf(user).active_image.empty());
}

// ---------------------------------------------------------------------------------------------
// Settlement and the ledger.

TEST_F(HordeServiceTest, SettlementChargesTheRequesterAndPaysTheOwnerTimesTheBridgeMultiplier) {
    const auto requester = NewUser("requester", 100);
    const auto owner = NewUser("owner", 0, true);
    const std::string id = Enqueue(requester, ImageRequest(1));
    const Kudos tax = domain::ActivationTax(0, false);
    EXPECT_EQ(Balance(requester), Kudos::FromWhole(100) - tax);
    const domain::Request r = ImageStatus(id).request;
    EXPECT_EQ(r.kudos_per_job, domain::ImageBasePrice(domain::ImageShape{}));

    domain::WorkerProfile profile = ImageProfile();
    profile.bridge_agent = kOlderBridge;
    const PopOutcome pop = PopImage(owner, "older-bridge", 1, profile);
    ASSERT_EQ(pop.jobs.size(), 1u);
    Advance(10);
    const auto out = Deliver(owner, pop.jobs[0]);
    ASSERT_TRUE(out);

    const double multiplier = domain::BridgeRewardMultiplier("AI Horde Worker reGen", 9);
    EXPECT_DOUBLE_EQ(multiplier, 0.9);
    const Kudos reward = Kudos::FromDoubleCents(
        r.kudos_per_job.ToDouble() *
        domain::BaselineRewardMultiplier(domain::ImageModelBaseline(kImageModel), r.image));
    const Kudos credit = Kudos::FromDoubleCents(reward.ToDouble() * multiplier);
    const Kudos charge = domain::ImageJobCharge(reward, false, {}, true, false, false);
    EXPECT_EQ(out->reward, reward);  // the response reports the reward before the multiplier
    EXPECT_LT(credit, reward);

    EXPECT_EQ(Balance(requester), Kudos::FromWhole(100) - tax - charge);
    EXPECT_EQ(Balance(owner), credit);
    EXPECT_EQ(Escrow(owner), Kudos());
    EXPECT_DOUBLE_EQ(Stat(owner, "kudos.accumulated"), credit.ToDouble());
    EXPECT_DOUBLE_EQ(Stat(requester, "kudos.used"), -(tax + charge).ToDouble());
    EXPECT_DOUBLE_EQ(Stat(owner, "fulfillment.image"), 1.0);
    EXPECT_EQ(ImageStatus(id).request.consumed, tax + charge);
    const domain::Worker w = Worker(pop.worker);
    EXPECT_EQ(w.kudos_generated, credit);
    EXPECT_EQ(w.fulfilments, 1);

    EXPECT_EQ(store_.BalanceMilli(domain::kSysSpent), (tax + charge).milli());
    EXPECT_EQ(store_.BalanceMilli(domain::kSysGeneration), -credit.milli());
    const store::LedgerCheck check = Must(service_.CheckLedger(), "CheckLedger");
    EXPECT_EQ(check.entries, 3);  // initial grant, activation, settlement
    EXPECT_EQ(check.sum_milli, 0);
    EXPECT_EQ(check.unbalanced_entries, 0);
    EXPECT_TRUE(check.drift_milli.empty());
    EXPECT_TRUE(*store_.HasEntry("job:" + pop.jobs[0].id.value()));
}

// api-contract §4.7: an untrusted owner receives half of each job reward (rounded to 0.01) into
// evaluation escrow and half into the spendable balance.
TEST_F(HordeServiceTest, UntrustedOwnerReceivesHalfOfAJobRewardInEscrow) {
    const auto requester = NewUser("requester", 100);
    const auto owner = NewUser("owner", 0, false);
    Enqueue(requester, ImageRequest(1));
    const PopOutcome pop = PopImage(owner, "w");
    ASSERT_EQ(pop.jobs.size(), 1u);
    const auto out = Deliver(owner, pop.jobs[0]);
    ASSERT_TRUE(out);
    const Kudos credit = out->reward;  // current bridge: ×1
    const Kudos escrow = Kudos::FromDoubleCents(credit.ToDouble() / 2);
    EXPECT_EQ(Escrow(owner), escrow);
    EXPECT_EQ(Balance(owner), credit - escrow);
}

TEST_F(HordeServiceTest, TextJobRewardFollowsTextJobReward) {
    const auto requester = NewUser("requester", 50);
    const auto owner = NewUser("owner", 0, true);
    const domain::Request request = TextRequest(1);
    const std::string id = Enqueue(requester, request);
    const auto params = domain::TextModelParamsBillions(kTextModel);
    ASSERT_TRUE(params);
    EXPECT_DOUBLE_EQ(*params, 13.0);
    EXPECT_EQ(Status(GenKind::kText, id).request.kudos_per_job,
              domain::TextPerJobBase(params, false, 80, 2048));

    const PopOutcome pop = PopText(owner, "scribe");
    ASSERT_EQ(pop.jobs.size(), 1u);
    EXPECT_EQ(pop.jobs[0].model, kTextModel);
    EXPECT_EQ(pop.jobs[0].ttl_s, domain::kTextJobTtlSeconds);
    Advance(5);
    const auto out = Deliver(owner, pop.jobs[0]);
    ASSERT_TRUE(out);

    const Kudos expected = domain::TextJobReward(
        params, static_cast<int>(TextGeneration().size()), static_cast<int>(request.prompt.size()),
        request.text.max_length, domain::IsValidatedTextBackend("KoboldCppEmbedWorker"), true);
    EXPECT_GT(expected, Kudos());
    EXPECT_EQ(out->reward, expected);
    EXPECT_EQ(Balance(owner), expected);  // no bridge multiplier for text
    EXPECT_EQ(Balance(requester), Kudos::FromWhole(50) - domain::ActivationTax(0, false) -
                                      domain::TextJobCharge(expected, false));

    const RequestView st = Status(GenKind::kText, id);
    EXPECT_TRUE(st.done);
    ASSERT_EQ(st.generations.size(), 1u);
    EXPECT_EQ(st.generations[0].job.generation, TextGeneration());
}

// ---------------------------------------------------------------------------------------------
// A failed store write changes nothing in memory.

TEST_F(HordeServiceTest, FailedStoreWriteOnSubmitChangesNothing) {
    const auto requester = NewUser("requester", 100);
    const auto owner = NewUser("owner", 0, true);
    const std::string id = Enqueue(requester, ImageRequest(1));
    const PopOutcome pop = PopImage(owner, "w");
    ASSERT_EQ(pop.jobs.size(), 1u);
    const Kudos requester_before = Balance(requester);
    const Kudos owner_before = Balance(owner);
    const int64_t entries_before = Must(service_.CheckLedger(), "CheckLedger").entries;

    store_.FailNextApply();
    const auto failed = Deliver(owner, pop.jobs[0]);
    EXPECT_EQ(CodeOf(failed), ErrorCode::kStoreUnavailable);
    RequestView st = ImageStatus(id);
    EXPECT_EQ(st.processing, 1);
    EXPECT_EQ(st.finished, 0);
    EXPECT_FALSE(st.done);
    EXPECT_EQ(st.request.consumed, domain::ActivationTax(0, false));
    EXPECT_EQ(Balance(requester), requester_before);
    EXPECT_EQ(Balance(owner), owner_before);
    EXPECT_EQ(Worker(pop.worker).fulfilments, 0);
    EXPECT_EQ(Must(service_.CheckLedger(), "CheckLedger").entries, entries_before);

    // The worker may simply try again.
    ASSERT_TRUE(Deliver(owner, pop.jobs[0]));
    st = ImageStatus(id);
    EXPECT_TRUE(st.done);
    EXPECT_LT(Balance(requester), requester_before);
}

TEST_F(HordeServiceTest, FailedStoreWriteOnPopChangesNothing) {
    const auto user = NewUser("user", 10);
    const auto owner = NewUser("owner");
    const std::string id = Enqueue(user, ImageRequest(3));
    store_.FailNextApply();
    auto failed = service_.Pop(GenKind::kImage, "w", ImageProfile(), 1, As(owner));
    EXPECT_EQ(CodeOf(failed), ErrorCode::kStoreUnavailable);
    RequestView st = ImageStatus(id);
    EXPECT_EQ(st.request.n, 3);
    EXPECT_EQ(st.processing, 0);
    EXPECT_EQ(CodeOf(service_.GetWorkerByName("w")), ErrorCode::kWorkerNotFound);

    const PopOutcome pop = PopImage(owner, "w");
    EXPECT_EQ(pop.jobs.size(), 1u);
    EXPECT_EQ(ImageStatus(id).request.n, 2);
}

TEST_F(HordeServiceTest, FailedStoreWriteOnSubmitRequestChangesNothing) {
    const auto user = NewUser("user", 10);
    const Kudos before = Balance(user);
    store_.FailNextApply();
    EXPECT_EQ(CodeOf(Submit(user, ImageRequest(2))), ErrorCode::kStoreUnavailable);
    EXPECT_EQ(Balance(user), before);
    EXPECT_TRUE(ViewOf(user).active_image.empty());
    EXPECT_EQ(Must(service_.CheckLedger(), "CheckLedger").entries, 1);  // the initial grant
    EXPECT_EQ(service_.Performance().queued_requests, 0);
}

TEST_F(HordeServiceTest, FailedStoreWriteOnCancelChangesNothing) {
    const auto user = NewUser("user", 10);
    const std::string id = Enqueue(user, ImageRequest(2));
    store_.FailNextApply();
    EXPECT_EQ(CodeOf(service_.CancelRequest(GenKind::kImage, id)), ErrorCode::kStoreUnavailable);
    const RequestView st = ImageStatus(id);
    EXPECT_EQ(st.request.n, 2);
    EXPECT_FALSE(st.request.cancelled);
    EXPECT_EQ(st.queue_position, 1);
}

TEST_F(HordeServiceTest, FailedStoreWriteDuringTickIsRetriedByTheNextTick) {
    const auto user = NewUser("user", 10);
    const auto owner = NewUser("owner");
    const std::string id = Enqueue(user, ImageRequest(1));
    const PopOutcome pop = PopImage(owner, "w");
    ASSERT_EQ(pop.jobs.size(), 1u);
    Advance(pop.jobs[0].ttl_s + 1);
    store_.FailNextApply();
    service_.Tick();
    EXPECT_EQ(ImageStatus(id).processing, 1);
    EXPECT_EQ(ImageStatus(id).request.n, 0);
    service_.Tick();
    EXPECT_EQ(ImageStatus(id).processing, 0);
    EXPECT_EQ(ImageStatus(id).request.n, 1);
}

// ---------------------------------------------------------------------------------------------
// Uptime and online state.

TEST_F(HordeServiceTest, UptimeRewardAfterTenMinutesGoesToEscrowForAnUntrustedOwner) {
    const auto owner = NewUser("owner", 0, false);
    const WorkerId worker = PopImage(owner, "steady").worker;
    for (int i = 1; i <= 10; ++i) {  // check in every 60 s up to 600 s of uptime
        Advance(60);
        PopImage(owner, "steady");
    }
    EXPECT_EQ(Escrow(owner), Kudos());
    EXPECT_EQ(Worker(worker).kudos_uptime, Kudos());

    Advance(60);  // 660 s > 600 s
    PopImage(owner, "steady");
    const Kudos reward = Kudos::FromWhole(50 + 2 * 1);  // image: 50 + 2 per model
    EXPECT_EQ(Escrow(owner), reward);
    EXPECT_EQ(Balance(owner), Kudos());
    EXPECT_DOUBLE_EQ(Stat(owner, "kudos.uptime"), reward.ToDouble());
    const domain::Worker w = Worker(worker);
    EXPECT_EQ(w.kudos_uptime, reward);
    EXPECT_EQ(w.uptime_s, 660);

    int uptime_entries = 0;
    for (const auto& e : store_.Entries()) {
        if (e.kind == domain::EntryKind::kUptime) {
            ++uptime_entries;
            ASSERT_EQ(e.postings.size(), 2u);
            EXPECT_EQ(e.postings[1].account, domain::EscrowAccount(owner.id));
            EXPECT_EQ(e.postings[1].amount, reward);
        }
    }
    EXPECT_EQ(uptime_entries, 1);
}

TEST_F(HordeServiceTest, UptimeRewardGoesToTheBalanceOfATrustedOwner) {
    const auto owner = NewUser("owner", 0, true);
    PopImage(owner, "steady");
    for (int i = 1; i <= 11; ++i) {
        Advance(60);
        PopImage(owner, "steady");
    }
    EXPECT_EQ(Balance(owner), Kudos::FromWhole(52));
    EXPECT_EQ(Escrow(owner), Kudos());
}

TEST_F(HordeServiceTest, UptimeCountRestartsAfterTheWorkerWasOffline) {
    const auto owner = NewUser("owner", 0, true);
    PopImage(owner, "w");
    for (int i = 1; i <= 9; ++i) {  // 540 s of uptime
        Advance(60);
        PopImage(owner, "w");
    }
    Advance(301);  // offline: the count starts again
    PopImage(owner, "w");
    for (int i = 1; i <= 10; ++i) {  // 600 s more: not yet more than 600
        Advance(60);
        PopImage(owner, "w");
    }
    EXPECT_EQ(Balance(owner), Kudos());
    Advance(60);
    PopImage(owner, "w");
    EXPECT_EQ(Balance(owner), Kudos::FromWhole(52));
}

TEST_F(HordeServiceTest, WorkerIsOnlineUntil300SecondsAfterItsLastCheckIn) {
    const auto owner = NewUser("owner");
    const WorkerId id = PopImage(owner, "w").worker;
    Advance(300);
    EXPECT_TRUE(Must(service_.GetWorker(id.value()), "GetWorker").online);
    EXPECT_EQ(service_.ListWorkers(GenKind::kImage, "").size(), 1u);
    EXPECT_EQ(service_.Performance().worker_count, 1);

    Advance(1);
    EXPECT_FALSE(Must(service_.GetWorker(id.value()), "GetWorker").online);
    EXPECT_TRUE(service_.ListWorkers(GenKind::kImage, "").empty());
    EXPECT_EQ(service_.Performance().worker_count, 0);

    PopImage(owner, "w");
    EXPECT_TRUE(Must(service_.GetWorker(id.value()), "GetWorker").online);
}

// A worker that gets a job on every pop, popping more often than the 30 s check-in debounce,
// still checks in on each pop.
TEST_F(HordeServiceTest, WorkerPoppingJobsEvery20SecondsStaysOnline) {
    const auto user = NewUser("user", 10);
    const auto owner = NewUser("owner");
    Enqueue(user, ImageRequest(25));
    WorkerId id;
    for (int t = 0; t <= 400; t += 20) {
        const PopOutcome pop = PopImage(owner, "busy");
        ASSERT_EQ(pop.jobs.size(), 1u) << "at " << t << " s";
        id = pop.worker;
        Advance(20);
    }
    // The last pop was 20 s ago, after 400 s of pops 20 s apart.
    const WorkerView v = Must(service_.GetWorker(id.value()), "GetWorker");
    EXPECT_TRUE(v.online);
    EXPECT_EQ(ToUnixMillis(v.worker.last_check_in), ToUnixMillis(clock_.Now()) - 20'000);
    EXPECT_EQ(v.worker.uptime_s, 400);
}

// ---------------------------------------------------------------------------------------------
// Restart: a new service over the same store sees the same state.

TEST_F(HordeServiceTest, RestartedServiceLoadsTheSameState) {
    const auto poor = NewUser("poor", 0);
    const auto rich = NewUser("rich", 100);
    const auto owner = NewUser("owner", 0, true);
    const std::string older = Enqueue(poor, ImageRequest(2));
    Advance(5);
    const std::string newer = Enqueue(rich, ImageRequest(1));
    const PopOutcome pop = PopImage(owner, "w");
    ASSERT_TRUE(pop.request);
    ASSERT_TRUE(Deliver(owner, pop.jobs[0]));

    HordeService restarted(store_, files_, clock_, Settings());
    ASSERT_TRUE(restarted.Init());
    for (const auto& id : {older, newer}) {
        const RequestView a = ImageStatus(id);
        const RequestView b = Must(restarted.GetRequest(GenKind::kImage, id, true), "Get");
        EXPECT_EQ(b.request.n, a.request.n);
        EXPECT_EQ(b.queue_position, a.queue_position);
        EXPECT_EQ(b.finished, a.finished);
        EXPECT_EQ(b.done, a.done);
        EXPECT_EQ(b.request.consumed, a.request.consumed);
    }
    for (const auto& u : {poor, rich, owner}) {
        EXPECT_EQ(Must(restarted.GetUser(u.id), "GetUser").kudos, Balance(u));
    }
    EXPECT_EQ(Must(restarted.GetWorker(pop.worker.value()), "GetWorker").worker.fulfilments, 1);
}

TEST_F(HordeServiceTest, RestartedServiceTimesOutJobsHandedOutBeforeTheRestart) {
    const auto user = NewUser("user", 50);
    const auto owner = NewUser("owner");
    const std::string id = Enqueue(user, ImageRequest(1));
    const PopOutcome pop = PopImage(owner, "w");
    ASSERT_EQ(pop.jobs.size(), 1u);

    HordeService restarted(store_, files_, clock_, Settings());
    ASSERT_TRUE(restarted.Init());
    Advance(pop.jobs[0].ttl_s + 1);
    restarted.Tick();
    const RequestView st = Must(restarted.GetRequest(GenKind::kImage, id, true), "Get");
    EXPECT_EQ(st.request.n, 1);
    EXPECT_EQ(st.processing, 0);
    EXPECT_EQ(st.restarted, 1);
    EXPECT_EQ(st.queue_position, 1);
    service_.Tick();  // the first instance reaches the same state (the fixture compares it)
}

// ---------------------------------------------------------------------------------------------
// The queue's model index: a pop looks only at the requests of the models its worker serves,
// and reports every other queued request as skipped for `models`.

TEST_F(HordeServiceTest, PopReportsRequestsOfOtherModelsAsSkippedForModels) {
    const auto user = NewUser("user", 1000);
    const auto owner = NewUser("owner");
    for (int i = 0; i < 3; ++i) {
        domain::Request r = ImageRequest();
        r.models = {"model_a"};
        Enqueue(user, r);
    }
    for (int i = 0; i < 2; ++i) {
        domain::Request r = ImageRequest();
        r.models = {"model_b"};
        r.image.width = r.image.height = 1024;
        Enqueue(user, r);
    }
    domain::Request any = ImageRequest();
    any.models.clear();
    any.image.width = any.image.height = 1024;
    Enqueue(user, any);

    domain::WorkerProfile p = ImageProfile();
    p.models = {"model_b"};
    const PopOutcome pop = PopImage(owner, "small", 1, p);
    EXPECT_FALSE(pop.request);
    EXPECT_EQ(pop.skipped, (std::map<std::string, int>{{"models", 3}, {"max_pixels", 3}}));

    // A worker serving a special model never takes "any model" requests: models, not size.
    p.models = {"model_b", "horde_special_test"};
    const PopOutcome special = PopImage(owner, "special", 1, p);
    EXPECT_EQ(special.skipped, (std::map<std::string, int>{{"models", 4}, {"max_pixels", 2}}));
}

TEST_F(HordeServiceTest, RequestListingSeveralServedModelsIsCountedOnce) {
    const auto user = NewUser("user", 1000);
    const auto owner = NewUser("owner");
    domain::Request r = ImageRequest();
    r.models = {"model_a", "model_b"};
    r.image.width = r.image.height = 1024;
    Enqueue(user, r);
    domain::WorkerProfile p = ImageProfile();
    p.models = {"model_b", "model_a", "model_b"};
    const PopOutcome pop = PopImage(owner, "small", 1, p);
    EXPECT_FALSE(pop.request);
    EXPECT_EQ(pop.skipped, (std::map<std::string, int>{{"max_pixels", 1}}));
    // Serving only the second listed model (twice): still once.
    p.models = {"model_b", "model_b"};
    const PopOutcome second = PopImage(owner, "small_b", 1, p);
    EXPECT_FALSE(second.request);
    EXPECT_EQ(second.skipped, (std::map<std::string, int>{{"max_pixels", 1}}));

    // Listing three: once for any served subset of them, whichever comes first.
    domain::Request three = ImageRequest();
    three.models = {"model_c", "model_d", "model_e"};
    three.image.width = three.image.height = 1024;
    Enqueue(user, three);
    int n = 0;
    for (const std::vector<std::string>& served :
         std::vector<std::vector<std::string>>{{"model_e", "model_d"},
                                               {"model_e"},
                                               {"model_c", "model_e"},
                                               {"model_d", "model_a", "model_e", "model_c"}}) {
        p.models = served;
        const PopOutcome pop3 = PopImage(owner, "small_" + std::to_string(n++), 1, p);
        EXPECT_FALSE(pop3.request);
        // The first request (model_a, model_b) is of another model unless model_a is served.
        const bool first = std::count(served.begin(), served.end(), "model_a") > 0;
        const auto expected = first ? std::map<std::string, int>{{"max_pixels", 2}}
                                    : std::map<std::string, int>{{"max_pixels", 1}, {"models", 1}};
        EXPECT_EQ(pop3.skipped, expected) << served.size();
    }
}

// Memory keeps no copy of a request's params; the popped request carries them from the store,
// also after a claim and a settlement rewrote the request's row.
TEST_F(HordeServiceTest, PoppedRequestCarriesItsParamsFromTheStore) {
    const auto user = NewUser("user", 1000);
    const auto owner = NewUser("owner");
    domain::Request r = ImageRequest(2);
    r.params_json = R"({"sampler_name":"k_euler","steps":30})";
    const std::string id = Enqueue(user, r);
    const PopOutcome first = PopImage(owner, "w", 1, ImageProfile());
    ASSERT_TRUE(first.request);
    EXPECT_EQ(first.request->params_json, r.params_json);
    ASSERT_EQ(first.jobs.size(), 1u);
    ASSERT_TRUE(Deliver(owner, first.jobs[0]));
    const PopOutcome second = PopImage(owner, "w", 1, ImageProfile());
    ASSERT_TRUE(second.request);
    EXPECT_EQ(second.request->id.value(), id);
    EXPECT_EQ(second.request->params_json, r.params_json);
}

TEST_F(HordeServiceTest, StoreKeepsWhereARequestCameFromAfterItsClaim) {
    const auto user = NewUser("user", 1000);
    const auto owner = NewUser("owner");
    const std::string id = Enqueue(user, ImageRequest(2));
    const PopOutcome pop = PopImage(owner, "w", 1, ImageProfile());
    ASSERT_EQ(pop.jobs.size(), 1u);  // the claim rewrote the request's row
    const store::Snapshot snap = Must(store_.Load(), "Load");
    ASSERT_EQ(snap.requests.size(), 1u);
    EXPECT_EQ(snap.requests[0].id.value(), id);
    EXPECT_EQ(snap.requests[0].n, 1);
    EXPECT_EQ(snap.requests[0].client_agent, "horde-service-test:1:none");
    EXPECT_EQ(snap.requests[0].ipaddr, "203.0.113.7");
}

/// Stands in for a connection's I/O thread: keeps what the service resumes until Run.
class ResumeQueue {
public:
    Resume resume() {
        return [this](std::function<void()> fn) {
            std::lock_guard lock(mu_);
            queued_.push_back(std::move(fn));
            changed_.notify_all();
        };
    }
    /// Waits (up to 5 s) for one resumed function and runs it here.
    bool RunOne() {
        std::unique_lock lock(mu_);
        if (!changed_.wait_for(lock, std::chrono::seconds(5), [&] { return !queued_.empty(); })) {
            return false;
        }
        auto fn = std::move(queued_.front());
        queued_.erase(queued_.begin());
        lock.unlock();
        fn();
        return true;
    }
    /// Runs resumed functions here (each waited for up to 5 s) until `done` holds: the writes'
    /// wake-up, then the answer.
    template <typename Pred>
    bool RunUntil(Pred done) {
        while (!done()) {
            if (!RunOne()) {
                return false;
            }
        }
        return true;
    }

private:
    std::mutex mu_;
    std::condition_variable changed_;
    std::vector<std::function<void()>> queued_;
};

// The forms the HTTP handlers use: the call returns at once, and the outcome arrives through
// the caller's resume function once the writes are stored, with the same content as the blocking
// forms give.
TEST_F(HordeServiceTest, ThenFormsAnswerThroughResumeOnceStored) {
    const auto user = NewUser("user", 1000);
    const auto owner = NewUser("owner");
    ResumeQueue io;
    const std::thread::id io_thread = std::this_thread::get_id();

    domain::Request r = ImageRequest(2);
    r.params_json = R"({"steps":30})";
    NewRequest in;
    in.request = r;
    std::optional<Result<Accepted>> accepted;
    service_.SubmitRequestThen(std::move(in), As(user), io.resume(), [&](Result<Accepted> a) {
        EXPECT_EQ(std::this_thread::get_id(), io_thread);
        accepted = std::move(a);
    });
    ASSERT_TRUE(io.RunUntil([&] { return accepted.has_value(); }));
    ASSERT_TRUE(accepted->has_value());
    const std::string id = (*accepted)->id.value();
    EXPECT_EQ(store_.Load()->requests.size(), 1u) << "answered before it was stored";

    std::optional<Result<PopOutcome>> popped;
    service_.PopThen(GenKind::kImage, "w", ImageProfile(), 1, As(owner), io.resume(),
                     [&](Result<PopOutcome> p) { popped = std::move(p); });
    EXPECT_FALSE(popped) << "a claim is answered only through resume";
    ASSERT_TRUE(io.RunUntil([&] { return popped.has_value(); }));
    ASSERT_TRUE(popped->has_value());
    const PopOutcome& pop = popped->value();
    ASSERT_EQ(pop.jobs.size(), 1u);
    ASSERT_TRUE(pop.request);
    EXPECT_EQ(pop.request->id.value(), id);
    EXPECT_EQ(pop.request->params_json, r.params_json);
    EXPECT_EQ(store_.Load()->requests.at(0).n, 1);

    HordeService::SubmitInput gen;
    gen.job_id = pop.jobs[0].id.value();
    gen.generation = EncodeBase64("RIFF....WEBPVP8 fake");
    std::optional<Result<SubmitOutcome>> submitted;
    service_.SubmitThen(GenKind::kImage, std::move(gen), As(owner), io.resume(),
                        [&](Result<SubmitOutcome> o) { submitted = std::move(o); });
    ASSERT_TRUE(io.RunUntil([&] { return submitted.has_value(); }));
    ASSERT_TRUE(submitted->has_value());
    EXPECT_GT((*submitted)->reward, Kudos());
    EXPECT_EQ(ImageStatus(id).finished, 1);

    // An error found before anything is written is answered at once, without resume.
    std::optional<Result<PopOutcome>> refused;
    service_.PopThen(GenKind::kImage, "w", ImageProfile(), 1, As(user), io.resume(),
                     [&](Result<PopOutcome> p) { refused = std::move(p); });
    ASSERT_TRUE(refused);
    EXPECT_FALSE(refused->has_value());
}

TEST_F(HordeServiceTest, FailedStoreWriteOnPopThenChangesNothing) {
    const auto user = NewUser("user", 10);
    const auto owner = NewUser("owner");
    const std::string id = Enqueue(user, ImageRequest(3));
    ResumeQueue io;
    store_.FailNextApply();
    std::optional<Result<PopOutcome>> failed;
    service_.PopThen(GenKind::kImage, "w", ImageProfile(), 1, As(owner), io.resume(),
                     [&](Result<PopOutcome> p) { failed = std::move(p); });
    ASSERT_TRUE(io.RunUntil([&] { return failed.has_value(); }));
    EXPECT_EQ(CodeOf(*failed), ErrorCode::kStoreUnavailable);
    const RequestView st = ImageStatus(id);
    EXPECT_EQ(st.request.n, 3);
    EXPECT_EQ(st.processing, 0);
    EXPECT_EQ(PopImage(owner, "w").jobs.size(), 1u);
}

// The pop prunes its walk with subtree summaries (service/model_queue.hpp): over a random queue,
// every job it hands out must be a match, and when it finds none, no queued request may be one,
// and the skipped counts must cover each queued request once.
TEST_F(HordeServiceTest, RandomQueueDrainsEveryMatchAndCountsEveryRequestOnceWhenNoneIsLeft) {
    std::mt19937 rng(4242);
    auto coin = [&](double p) { return std::bernoulli_distribution(p)(rng); };
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    // More models than the 15 bits of the model filter (domain::ModelBit): some share a bit.
    std::vector<std::string> models;
    for (int i = 0; i < 20; ++i) {
        models.push_back("model_" + std::to_string(i));
    }
    std::vector<domain::User> users;
    for (int i = 0; i < 40; ++i) {
        users.push_back(NewUser("user" + std::to_string(i), 100000));
    }
    std::map<std::string, std::pair<domain::Request, int>> queued;  // id → (request, jobs left)
    for (int i = 0; i < 400; ++i) {
        domain::Request r = ImageRequest(pick(1, 2));
        const int listed = coin(0.15) ? 0 : coin(0.25) ? pick(2, 3) : 1;
        std::vector<std::string> listed_models;
        std::sample(models.begin(), models.end(), std::back_inserter(listed_models), listed, rng);
        std::shuffle(listed_models.begin(), listed_models.end(), rng);
        r.models = listed_models;
        r.image.width = 64 * pick(8, 16);
        r.image.height = 64 * pick(8, 16);
        r.nsfw = coin(0.3);
        r.slow_workers = !coin(0.2);
        if (coin(0.3)) r.image.post_processing = {"GFPGAN"};
        r.image.lora_count = coin(0.2) ? 1 : 0;
        r.image.hires_fix = coin(0.2);
        const std::string id = Enqueue(users[static_cast<size_t>(i) % users.size()], r);
        queued[id] = {r, r.jobs};
        Advance(1);
    }
    const auto stranger = NewUser("owner");
    for (int wi = 0; wi < 48; ++wi) {
        // Half the workers belong to a requester: their pops search its queue first.
        const domain::User& owner = wi % 2 == 0 ? stranger : users[static_cast<size_t>(wi) % 40];
        domain::WorkerProfile p = ImageProfile();
        p.models.clear();
        std::sample(models.begin(), models.end(), std::back_inserter(p.models), pick(1, 6), rng);
        if (coin(0.4)) {
            p.models.push_back(p.models.back());  // listed twice
        }
        const int side = 64 * pick(8, 16);
        p.max_pixels = int64_t{side} * side;
        p.nsfw = coin(0.5);
        p.allow_post_processing = coin(0.5);
        p.allow_lora = coin(0.5);
        domain::Worker w;
        w.kind = GenKind::kImage;
        w.owner = owner.id;
        w.profile = p;
        const domain::Capabilities caps = domain::ResolveCapabilities(p);
        auto can_take = [&](const domain::Request& r) {
            const domain::MatchContext ctx{
                .worker = w,
                .caps = caps,
                .owner_trusted = false,
                .worker_is_slow = false,
                .worker_tricked = false,
                .requester_trusted = false,
                .requester_is_priority = false,
                .requester_available = Kudos(),
                .models = domain::ImageModelTraits(r.models),
                .models_prechecked = false,
            };
            return domain::CanGenerate(r, ctx) == domain::SkipReason::kNone;
        };
        const std::string name = "worker" + std::to_string(wi);
        for (int guard = 0; guard < 1000; ++guard) {
            const PopOutcome pop = PopImage(owner, name, 1, p);
            if (!pop.request) {
                int waiting = 0;
                for (const auto& [id, entry] : queued) {
                    waiting += entry.second > 0 ? 1 : 0;
                    EXPECT_TRUE(entry.second == 0 || !can_take(entry.first))
                        << "worker " << wi << " left a request it can take: " << id;
                }
                int counted = 0;
                for (const auto& [reason, n] : pop.skipped) {
                    counted += n;
                }
                EXPECT_EQ(counted, waiting) << "worker " << wi;
                break;
            }
            auto it = queued.find(pop.request->id.value());
            ASSERT_NE(it, queued.end());
            EXPECT_TRUE(can_take(it->second.first)) << "worker " << wi;
            if (pop.request->user != owner.id) {
                // The owner's own requests go first: none it can take is left.
                for (const auto& [id, entry] : queued) {
                    EXPECT_TRUE(entry.first.user != owner.id || entry.second == 0 ||
                                !can_take(entry.first))
                        << "worker " << wi << " passed over its owner's " << id;
                }
            }
            it->second.second -= static_cast<int>(pop.jobs.size());
            ASSERT_GE(it->second.second, 0);
        }
    }
}

TEST_F(HordeServiceTest, WorkerServingSeveralModelsTakesRequestsInQueueOrderAcrossThem) {
    const auto user = NewUser("user", 1000);
    const auto owner = NewUser("owner");
    std::vector<std::string> ids;
    for (const char* m : {"model_b", "model_a", "model_c", "model_b"}) {
        domain::Request r = ImageRequest();
        r.models = {m};
        ids.push_back(Enqueue(user, r));
        Advance(1);
    }
    domain::Request any = ImageRequest();
    any.models.clear();
    ids.push_back(Enqueue(user, any));
    domain::WorkerProfile p = ImageProfile();
    p.models = {"model_a", "model_b"};
    std::vector<std::string> served;
    for (int i = 0; i < 5; ++i) {
        const PopOutcome pop = PopImage(owner, "w", 1, p);
        if (pop.request) {
            served.push_back(pop.request->id.value());
        }
    }
    // model_c's request is not ours; the rest in the order they were queued.
    EXPECT_EQ(served, (std::vector<std::string>{ids[0], ids[1], ids[3], ids[4]}));
    EXPECT_EQ(ImageStatus(ids[2]).queue_position, 1);
}

TEST_F(HordeServiceTest, WorkerThatComesToServeAModelMakesItsRequestsPossibleAtOnce) {
    const auto poor = NewUser("poor", 0);
    const auto owner = NewUser("owner");
    domain::Request r = ImageRequest();
    r.models = {"rare_model"};
    const std::string id = Enqueue(poor, r);
    EXPECT_FALSE(ImageStatus(id).is_possible);
    domain::WorkerProfile p = ImageProfile();
    p.models = {"other_model"};
    PopImage(owner, "w", 1, p);
    EXPECT_FALSE(ImageStatus(id).is_possible);
    domain::WorkerProfile tiny = p;
    tiny.models = {"rare_model"};
    tiny.max_pixels = 256 * 256;
    PopImage(owner, "tiny", 1, tiny);  // serves the model, but too small
    EXPECT_FALSE(ImageStatus(id).is_possible);
    // The same worker now serves it, but wants kudos upfront, which the requester lacks: no job,
    // yet the request is possible (kudos decide who goes first, not possibility), at once.
    p.models = {"other_model", "rare_model"};
    p.require_upfront_kudos = true;
    const PopOutcome pop = PopImage(owner, "w", 1, p);
    EXPECT_FALSE(pop.request);
    EXPECT_EQ(pop.skipped, (std::map<std::string, int>{{"kudos", 1}}));
    EXPECT_TRUE(ImageStatus(id).is_possible);
}

// ---------------------------------------------------------------------------------------------
// Errors a client or worker can trigger.

// A pop that leaves slots keeps the request queued and only moves the counters; they must be
// those of a queue built from scratch (a restarted service's), down to zero when it is drained.
TEST_F(HordeServiceTest, PartialClaimsMoveTheQueueCountersLikeARebuiltQueue) {
    const auto user = NewUser("user", 100);
    const auto anon = Must(service_.Authenticate("0000000000"), "Authenticate");
    const auto owner = NewUser("owner");
    domain::Request two_models = ImageRequest(3);
    two_models.models = {kImageModel, "other model"};
    Enqueue(user, two_models);
    Enqueue(anon, ImageRequest(2));
    auto counters = [](const HordeService& s) {
        std::map<std::string, std::pair<int, int64_t>> by_model;
        for (const auto& m : s.Models(GenKind::kImage)) {
            if (m.jobs > 0 || m.queued_things > 0) {
                by_model[m.name] = {m.jobs, m.queued_things};
            }
        }
        return std::make_tuple(by_model, s.Heartbeat().queued_jobs,
                               s.Performance().queued_megapixelsteps);
    };
    auto expect_rebuilt_equal = [&](int queued_jobs) {
        HordeService restarted(store_, files_, clock_, Settings());
        ASSERT_TRUE(restarted.Init());
        EXPECT_EQ(counters(service_), counters(restarted));
        EXPECT_EQ(std::get<1>(counters(service_)), queued_jobs);
    };
    expect_rebuilt_equal(5);
    for (int left = 4; left >= 0; --left) {
        ASSERT_EQ(PopImage(owner, "w").jobs.size(), 1u);
        expect_rebuilt_equal(left);
    }
    EXPECT_TRUE(std::get<0>(counters(service_)).empty());
    // The queued-jobs limit of the requester follows too: 30 slots free again once drained.
    EXPECT_TRUE(Submit(user, ImageRequest(30)));
}

TEST_F(HordeServiceTest, TooManyPromptsWhenQueuedJobsExceedTheConcurrencyLimit) {
    const auto user = NewUser("user", 10);
    const auto owner = NewUser("owner");
    ASSERT_EQ(user.concurrency, 30);
    Enqueue(user, ImageRequest(20));
    EXPECT_EQ(CodeOf(Submit(user, ImageRequest(11))), ErrorCode::kTooManyPrompts);
    Enqueue(user, ImageRequest(10));  // exactly at the limit
    EXPECT_EQ(CodeOf(Submit(user, ImageRequest(1))), ErrorCode::kTooManyPrompts);

    // Handed-out jobs no longer count; text requests count on their own.
    ASSERT_EQ(PopImage(owner, "w", 4, BigImageProfile()).jobs.size(), 4u);
    EXPECT_TRUE(Submit(user, ImageRequest(4)));
    EXPECT_EQ(CodeOf(Submit(user, ImageRequest(1))), ErrorCode::kTooManyPrompts);
    EXPECT_TRUE(Submit(user, TextRequest(1)));
}

TEST_F(HordeServiceTest, AnotherUsersJobIsWrongCredentials) {
    const auto user = NewUser("user", 10);
    const auto alice = NewUser("alice");
    const auto mallory = NewUser("mallory");
    const std::string id = Enqueue(user, ImageRequest(1));
    const PopOutcome pop = PopImage(alice, "alices-worker");
    ASSERT_EQ(pop.jobs.size(), 1u);

    EXPECT_EQ(CodeOf(Deliver(mallory, pop.jobs[0])), ErrorCode::kWrongCredentials);
    EXPECT_EQ(ImageStatus(id).processing, 1);
    EXPECT_EQ(Balance(mallory), Kudos());
    EXPECT_EQ(
        CodeOf(service_.Pop(GenKind::kImage, "alices-worker", ImageProfile(), 1, As(mallory))),
        ErrorCode::kWrongCredentials);

    ASSERT_TRUE(Deliver(alice, pop.jobs[0]));
    EXPECT_TRUE(ImageStatus(id).done);
}

TEST_F(HordeServiceTest, SecondSubmitOfAJobIsDuplicateGen) {
    const auto user = NewUser("user", 10);
    const auto owner = NewUser("owner", 0, true);
    Enqueue(user, ImageRequest(1));
    const PopOutcome pop = PopImage(owner, "w");
    ASSERT_EQ(pop.jobs.size(), 1u);
    ASSERT_TRUE(Deliver(owner, pop.jobs[0]));
    const Kudos user_after = Balance(user);
    const Kudos owner_after = Balance(owner);
    EXPECT_EQ(CodeOf(Deliver(owner, pop.jobs[0])), ErrorCode::kDuplicateGen);
    EXPECT_EQ(Balance(user), user_after);
    EXPECT_EQ(Balance(owner), owner_after);
}

TEST_F(HordeServiceTest, AnonymousUserCannotRunAWorker) {
    const auto anon = Must(service_.Authenticate("0000000000"), "Authenticate");
    ASSERT_TRUE(anon.anonymous);
    EXPECT_EQ(CodeOf(service_.Pop(GenKind::kImage, "w", ImageProfile(), 1, As(anon))),
              ErrorCode::kAnonForbiddenWorker);
}

TEST_F(HordeServiceTest, WorkerNameOfAnotherKindIsPolymorphicNameConflict) {
    const auto owner = NewUser("owner");
    PopImage(owner, "Shared Name");
    EXPECT_EQ(CodeOf(service_.Pop(GenKind::kText, "shared name", TextProfile(), 1, As(owner))),
              ErrorCode::kPolymorphicNameConflict);
}

TEST_F(HordeServiceTest, SubmitOfAnUnknownJobIsInvalidJobId) {
    const auto owner = NewUser("owner");
    domain::Job ghost;
    ghost.id = JobId(NewUuid());
    ghost.kind = GenKind::kImage;
    EXPECT_EQ(CodeOf(Deliver(owner, ghost)), ErrorCode::kInvalidJobId);
}

TEST_F(HordeServiceTest, SignedUrlsVerifyOnlyForTheirNamePurposeAndTime) {
    const int64_t expires = service_.UrlExpiry();
    const std::string name = NewUuid() + ".webp";
    const std::string sig = service_.SignUrl(name, "put", expires);
    EXPECT_EQ(sig.size(), 64u);
    EXPECT_TRUE(service_.VerifyUrl(name, "put", expires, sig));
    EXPECT_FALSE(service_.VerifyUrl(name, "get", expires, sig));
    EXPECT_FALSE(service_.VerifyUrl(NewUuid() + ".webp", "put", expires, sig));
    EXPECT_FALSE(service_.VerifyUrl(name, "put", expires + 1, sig));
    std::string flipped = sig;
    flipped[10] = flipped[10] == '0' ? '1' : '0';
    EXPECT_FALSE(service_.VerifyUrl(name, "put", expires, flipped));
    EXPECT_FALSE(service_.VerifyUrl(name, "put", expires, sig.substr(0, 32)));
    // Another secret signs differently.
    ServiceSettings other = Settings();
    other.secret = std::string(64, 'b');
    HordeService elsewhere(store_, files_, clock_, other);
    EXPECT_NE(elsewhere.SignUrl(name, "put", expires), sig);
    Advance(ServiceSettings{}.url_validity_s + 1);
    EXPECT_FALSE(service_.VerifyUrl(name, "put", expires, sig));
}

TEST_F(HordeServiceTest, UrlsSignedWithHmacBeforeAnUpgradeStayValidUntilTheyExpire) {
    // Earlier versions signed "purpose\nname\nexpires" with HMAC-SHA256 under the secret.
    const int64_t expires = service_.UrlExpiry();
    const std::string name = NewUuid() + ".webp";
    const std::string message = "put\n" + name + "\n" + std::to_string(expires);
    std::array<unsigned char, 32> key{};
    key.fill(0xaa);  // Settings().secret, 64 hex 'a's
    std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
    crypto_auth_hmacsha256(mac.data(), reinterpret_cast<const unsigned char*>(message.data()),
                           message.size(), key.data());
    std::array<char, 2 * crypto_auth_hmacsha256_BYTES + 1> hex{};
    sodium_bin2hex(hex.data(), hex.size(), mac.data(), mac.size());
    const std::string earlier(hex.data());
    EXPECT_NE(earlier, service_.SignUrl(name, "put", expires));
    EXPECT_TRUE(service_.VerifyUrl(name, "put", expires, earlier));
    EXPECT_FALSE(service_.VerifyUrl(name, "get", expires, earlier));
    Advance(ServiceSettings{}.url_validity_s + 1);
    EXPECT_FALSE(service_.VerifyUrl(name, "put", expires, earlier));
}

}  // namespace
}  // namespace horde::service
