// The fake must keep the SQLite store's semantics (see sqlite_store_test.cpp): these tests pin the
// ones the service relies on.

#include "testing/memory_store.hpp"

#include <gtest/gtest.h>

#include "domain/ledger.hpp"

namespace horde::testing {
namespace {

using store::Batch;

const TimePoint kNow = TimePoint(std::chrono::seconds(1'700'000'000));

domain::Request SimpleRequest(const std::string& id, int n, int64_t seq = 0) {
    domain::Request r;
    r.id = RequestId(id);
    r.jobs = n;
    r.n = n;
    r.seq = seq;
    r.created = kNow;
    r.expiry = kNow + std::chrono::minutes(20);
    return r;
}

domain::Job SimpleJob(const std::string& id, const std::string& request) {
    domain::Job j;
    j.id = JobId(id);
    j.request = RequestId(request);
    j.worker = WorkerId("w");
    return j;
}

template <typename M>
Batch One(M m) {
    Batch b;
    b.Add(std::move(m));
    return b;
}

store::Snapshot LoadOk(MemoryStore& s) {
    auto snap = s.Load();
    EXPECT_TRUE(snap);
    return snap ? std::move(snap).value() : store::Snapshot{};
}

store::LedgerCheck CheckOk(MemoryStore& s) {
    auto check = s.CheckLedger();
    EXPECT_TRUE(check);
    return check ? std::move(check).value() : store::LedgerCheck{};
}

TEST(MemoryStoreTest, PostingsUpdateBalancesAndKudosStats) {
    MemoryStore s;
    Batch b;
    b.Add(store::PostEntry{domain::JobSettlementEntry(
        JobId("j1"), UserId(2), Kudos::FromMilli(10'500), Kudos::FromMilli(4'000), UserId(3),
        Kudos::FromMilli(12'250), Kudos(), kNow)});
    b.Add(store::PostEntry{
        domain::UptimeEntry("uptime:1", UserId(2), Kudos::FromWhole(5), true, kNow)});
    b.Add(store::AddUserStat{UserId(3), "usage.megapixelsteps", 1.5});
    b.Add(store::AddUserStat{UserId(3), "usage.megapixelsteps", 2.25});
    ASSERT_TRUE(s.Apply(b));

    const store::Snapshot snap = LoadOk(s);
    EXPECT_EQ(snap.balances_milli.at("user:2"), 6'500);
    EXPECT_EQ(snap.balances_milli.at("user:3"), -12'250);
    EXPECT_EQ(snap.balances_milli.at("escrow:2"), 9'000);
    EXPECT_EQ(snap.balances_milli.at(domain::kSysGeneration), -10'500);
    EXPECT_EQ(snap.balances_milli.at(domain::kSysSpent), 12'250);
    EXPECT_EQ(snap.balances_milli.at(domain::kSysUptime), -5'000);
    // Escrow postings count toward their user; system accounts have no stats.
    // Both the spendable part and the escrowed part of a job reward count as accumulated.
    EXPECT_EQ(snap.user_stats.at(2).at("kudos.accumulated"), 10.5);
    EXPECT_EQ(snap.user_stats.at(2).at("kudos.uptime"), 5.0);
    EXPECT_EQ(snap.user_stats.at(3).at("kudos.used"), -12.25);
    EXPECT_EQ(snap.user_stats.at(3).at("usage.megapixelsteps"), 3.75);
    EXPECT_EQ(snap.user_stats.size(), 2u);
    EXPECT_TRUE(*s.HasEntry("job:j1"));
    EXPECT_FALSE(*s.HasEntry("job:j2"));

    const store::LedgerCheck check = CheckOk(s);
    EXPECT_EQ(check.entries, 2);
    EXPECT_EQ(check.postings, 7);
    EXPECT_EQ(check.sum_milli, 0);
    EXPECT_EQ(check.unbalanced_entries, 0);
    EXPECT_TRUE(check.drift_milli.empty());
}

// As the SQLite store: an upsert without params keeps the stored ones.
TEST(MemoryStoreTest, RequestParamsAreKeptByUpsertsThatCarryNone) {
    MemoryStore s;
    domain::Request r = SimpleRequest("r", 2);
    r.params_json = R"({"steps":30})";
    ASSERT_TRUE(s.Apply(One(store::PutRequest{r})));
    r.n = 1;
    r.params_json.clear();
    ASSERT_TRUE(s.Apply(One(store::PutRequest{r})));
    auto params = s.RequestParams(RequestId("r"));
    ASSERT_TRUE(params.has_value());
    EXPECT_EQ(*params, R"({"steps":30})");
    EXPECT_EQ(LoadOk(s).requests.at(0).n, 1);
    EXPECT_FALSE(s.RequestParams(RequestId("nope")).has_value());
}

TEST(MemoryStoreTest, DuplicateLedgerKeyFailsTheWholeBatch) {
    MemoryStore s;
    ASSERT_TRUE(s.Apply(One(store::PostEntry{domain::GrantEntry(
        "award:1", domain::EntryKind::kAward, UserId(1), Kudos::FromWhole(10), kNow, "")})));
    Batch b;
    b.Add(store::PutRequest{SimpleRequest("r", 1)});
    b.Add(store::PostEntry{
        domain::TransferEntry("transfer:1", UserId(1), UserId(9), Kudos::FromWhole(3), kNow)});
    b.Add(store::PostEntry{domain::GrantEntry("award:1", domain::EntryKind::kAward, UserId(9),
                                              Kudos::FromWhole(1), kNow, "")});
    const Status st = s.Apply(b);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(st.error().message, "duplicate ledger key award:1");
    const store::Snapshot snap = LoadOk(s);
    EXPECT_TRUE(snap.requests.empty());
    EXPECT_EQ(snap.balances_milli.at("user:1"), 10'000);
    EXPECT_FALSE(snap.balances_milli.contains("user:9"));
    EXPECT_FALSE(*s.HasEntry("transfer:1"));
    EXPECT_EQ(CheckOk(s).entries, 1);
}

TEST(MemoryStoreTest, UnbalancedEntryIsRejected) {
    MemoryStore s;
    domain::LedgerEntry e;
    e.key = "bad";
    e.kind = domain::EntryKind::kAdmin;
    e.postings.push_back({"user:1", Kudos::FromMilli(1'000), domain::KudosStat::kAdmin});
    e.postings.push_back({domain::kSysAdmin, Kudos::FromMilli(-999), domain::KudosStat::kNone});
    Batch b;
    b.Add(store::PutSetting{"k", "v"});
    b.Add(store::PostEntry{e});
    const Status st = s.Apply(b);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(st.error().message, "unbalanced ledger entry bad");
    EXPECT_TRUE(LoadOk(s).settings.empty());
    EXPECT_EQ(s.committed_batches(), 0);
}

TEST(MemoryStoreTest, ClaimSlotsChecksNAddsItsJobsAndSeesEarlierMutations) {
    MemoryStore s;
    domain::Request r = SimpleRequest("r", 3);
    r.params_json = R"({"n":1})";
    auto params = std::make_shared<std::string>();
    Batch b;
    b.Add(store::PutRequest{r});
    b.Add(store::ClaimSlots{RequestId("r"), 3, 2, r.expiry, nullptr, {SimpleJob("j1", "r")}});
    b.Add(store::ClaimSlots{
        RequestId("r"), 2, 1, r.expiry + std::chrono::seconds(5), params, {SimpleJob("j2", "r")}});
    ASSERT_TRUE(s.Apply(b));
    EXPECT_EQ(*params, R"({"n":1})");

    Batch stale;
    stale.Add(store::ClaimSlots{RequestId("r"), 2, 1, r.expiry, nullptr, {SimpleJob("j3", "r")}});
    const Status st = s.Apply(stale);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(st.error().message, "precondition failed");
    const store::Snapshot snap = LoadOk(s);
    EXPECT_EQ(snap.requests.at(0).n, 1);
    EXPECT_EQ(snap.requests.at(0).expiry, r.expiry + std::chrono::seconds(5));
    EXPECT_EQ(snap.requests.at(0).prompt, r.prompt);
    ASSERT_EQ(snap.jobs.size(), 2u);
    EXPECT_EQ(snap.jobs[1].id.value(), "j2");
    EXPECT_FALSE(
        s.Apply(One(store::ClaimSlots{RequestId("missing"), 0, 0, r.expiry, nullptr, {}})));
    EXPECT_FALSE(s.Apply(
        One(store::ClaimSlots{RequestId("r"), 1, 0, r.expiry, nullptr, {SimpleJob("j4", "x")}})));
}

TEST(MemoryStoreTest, DeleteRequestDeletesTheJobsItNamesAndLoadLeavesOutJobsWithoutRequest) {
    MemoryStore s;
    Batch b;
    b.Add(store::PutJob{SimpleJob("j0", "r0")});  // may precede its request in a batch
    b.Add(store::PutRequest{SimpleRequest("r0", 1)});
    b.Add(store::PutRequest{SimpleRequest("r1", 2)});
    b.Add(store::PutRequest{SimpleRequest("r2", 1)});
    b.Add(store::PutJob{SimpleJob("j1", "r1")});
    b.Add(store::PutJob{SimpleJob("j2", "r1")});
    b.Add(store::PutJob{SimpleJob("j3", "r2")});
    b.Add(store::PutJob{SimpleJob("j4", "missing")});
    ASSERT_TRUE(s.Apply(b));
    ASSERT_TRUE(s.Apply(One(store::DeleteRequest{RequestId("r1"), {JobId("j1")}})));
    const store::Snapshot snap = LoadOk(s);
    ASSERT_EQ(snap.requests.size(), 2u);
    ASSERT_EQ(snap.jobs.size(), 2u);
    EXPECT_EQ(snap.jobs[0].id.value(), "j0");
    EXPECT_EQ(snap.jobs[1].id.value(), "j3");
}

TEST(MemoryStoreTest, UniqueWorkerNamesAndKeyHashes) {
    MemoryStore s;
    domain::Worker w1;
    w1.id = WorkerId("w1");
    w1.name = "same";
    domain::Worker w2 = w1;
    w2.id = WorkerId("w2");
    Batch b;
    b.Add(store::PutWorker{w1});
    b.Add(store::PutWorker{w2});
    EXPECT_FALSE(s.Apply(b));
    EXPECT_TRUE(LoadOk(s).workers.empty());

    domain::User a;
    a.id = UserId(1);
    a.api_key_hash = "h";
    domain::User c = a;
    c.id = UserId(2);
    ASSERT_TRUE(s.Apply(One(store::PutUser{a})));
    EXPECT_FALSE(s.Apply(One(store::PutUser{c})));
    c.api_key_hash.clear();
    domain::User d = c;
    d.id = UserId(7);
    Batch no_keys;
    no_keys.Add(store::PutUser{c});
    no_keys.Add(store::PutUser{d});  // empty hashes never collide
    ASSERT_TRUE(s.Apply(no_keys));
    EXPECT_EQ(LoadOk(s).next_user_id, 8);
}

TEST(MemoryStoreTest, LoadOrdersLikeTheSqliteStore) {
    MemoryStore s;
    domain::Worker wb;
    wb.id = WorkerId("b");
    wb.name = "b";
    domain::Worker wa;
    wa.id = WorkerId("a");
    wa.name = "a";
    domain::Request late = SimpleRequest("r-late", 1, 1);
    late.created = kNow + std::chrono::seconds(5);
    domain::Request early = SimpleRequest("r-early", 1, 2);
    Batch b;
    b.Add(store::PutWorker{wb});
    b.Add(store::PutWorker{wa});
    b.Add(store::PutRequest{late});
    b.Add(store::PutRequest{early});
    ASSERT_TRUE(s.Apply(b));
    wb.info = "updated";
    ASSERT_TRUE(s.Apply(One(store::PutWorker{wb})));  // an upsert keeps its place
    const store::Snapshot snap = LoadOk(s);
    ASSERT_EQ(snap.workers.size(), 2u);
    EXPECT_EQ(snap.workers[0].id.value(), "b");
    EXPECT_EQ(snap.workers[0].info, "updated");
    ASSERT_EQ(snap.requests.size(), 2u);
    EXPECT_EQ(snap.requests[0].id.value(), "r-early");
}

TEST(MemoryStoreTest, FailNextApplyFailsOnceAndWritesNothing) {
    MemoryStore s;
    s.FailNextApply();
    EXPECT_TRUE(s.Apply(Batch{}));  // an empty batch does not consume the failure
    const Status st = s.Apply(One(store::PutSetting{"k", "v"}));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::kStoreUnavailable);
    EXPECT_TRUE(LoadOk(s).settings.empty());
    ASSERT_TRUE(s.Apply(One(store::PutSetting{"k", "v"})));
    EXPECT_EQ(LoadOk(s).settings.at("k"), "v");
    EXPECT_EQ(s.committed_batches(), 1);
    EXPECT_EQ(*s.ExternalChangeCounter(), 0);
    EXPECT_TRUE(s.Compact());
}

TEST(MemoryStoreTest, CheckLedgerReportsDrift) {
    MemoryStore s;
    ASSERT_TRUE(s.Apply(One(store::PostEntry{
        domain::TransferEntry("t1", UserId(1), UserId(2), Kudos::FromWhole(5), kNow)})));
    EXPECT_TRUE(CheckOk(s).drift_milli.empty());
    s.CorruptBalanceForTest("user:1", 7);
    s.CorruptBalanceForTest("user:99", -11);
    const std::map<std::string, int64_t> expected{{"user:1", 7}, {"user:99", -11}};
    EXPECT_EQ(CheckOk(s).drift_milli, expected);
    EXPECT_EQ(s.BalanceMilli("user:2"), 5'000);
    EXPECT_EQ(s.Entries().size(), 1u);
}

}  // namespace
}  // namespace horde::testing
