#include "domain/kudos_rules.hpp"

#include <gtest/gtest.h>

#include "domain/ledger.hpp"

namespace horde::domain {
namespace {

User Registered() {
    User u;
    u.id = UserId(7);
    return u;
}

TEST(KudosRulesTest, FloorsByAccountKind) {
    User anon;
    anon.anonymous = true;
    User pseudo;
    pseudo.pseudonymous = true;
    EXPECT_EQ(BalanceFloor(anon), Kudos::FromWhole(-50));
    EXPECT_EQ(BalanceFloor(pseudo), Kudos::FromWhole(14));
    EXPECT_EQ(BalanceFloor(Registered()), Kudos::FromWhole(25));
}

TEST(KudosRulesTest, DebitAboveFloorIsNotForgiven) {
    EXPECT_EQ(ForgivenByFloor(Kudos::FromWhole(100), Kudos::FromWhole(10), Kudos::FromWhole(25)),
              Kudos());
    // Landing exactly on the floor is allowed.
    EXPECT_EQ(ForgivenByFloor(Kudos::FromWhole(35), Kudos::FromWhole(10), Kudos::FromWhole(25)),
              Kudos());
}

TEST(KudosRulesTest, DebitCrossingTheFloorIsForgivenDownToIt) {
    // 30 − 10 = 20 would be 5 below the floor of 25: 5 of the 10 are forgiven.
    EXPECT_EQ(ForgivenByFloor(Kudos::FromWhole(30), Kudos::FromWhole(10), Kudos::FromWhole(25)),
              Kudos::FromWhole(5));
    // Anonymous at −45 paying 7.5: −52.5 is 2.5 below −50.
    EXPECT_EQ(ForgivenByFloor(Kudos::FromWhole(-45), Kudos::FromMilli(7500), Kudos::FromWhole(-50)),
              Kudos::FromMilli(2500));
}

TEST(KudosRulesTest, AccountBelowFloorIsNotToppedUp) {
    // Already at 0 with a floor of 25: the whole debit is forgiven, nothing more.
    EXPECT_EQ(ForgivenByFloor(Kudos(), Kudos::FromWhole(10), Kudos::FromWhole(25)),
              Kudos::FromWhole(10));
    EXPECT_EQ(ForgivenByFloor(Kudos(), Kudos(), Kudos::FromWhole(25)), Kudos());
}

TEST(KudosRulesTest, AvailableSubtractsFloorAndHolds) {
    EXPECT_EQ(AvailableKudos(Kudos::FromWhole(100), Kudos::FromWhole(25), Kudos::FromWhole(30)),
              Kudos::FromWhole(45));
    EXPECT_LT(AvailableKudos(Kudos::FromWhole(10), Kudos::FromWhole(25), Kudos()), Kudos());
}

TEST(KudosRulesTest, EscrowShareIsHalfForUntrustedOwners) {
    EXPECT_EQ(EscrowShare(Kudos::FromMilli(7610), false, false), Kudos::FromMilli(3810));
    EXPECT_EQ(EscrowShare(Kudos::FromMilli(7610), true, false), Kudos());
    EXPECT_EQ(EscrowShare(Kudos::FromMilli(7610), false, true), Kudos());
    EXPECT_EQ(EscrowShare(Kudos(), false, false), Kudos());
}

TEST(LedgerTest, SettlementBalancesWithEscrowAndForgiveness) {
    const auto now = TimePoint(std::chrono::seconds(1'700'000'000));
    const auto e =
        JobSettlementEntry(JobId("j"), UserId(1), Kudos::FromMilli(6850), Kudos::FromMilli(3430),
                           UserId(2), Kudos::FromMilli(8610), Kudos::FromMilli(1000), now);
    EXPECT_TRUE(IsBalanced(e));
    EXPECT_EQ(e.key, "job:j");
    Kudos owner;
    Kudos escrow;
    Kudos requester;
    for (const auto& p : e.postings) {
        if (p.account == UserAccount(UserId(1))) {
            owner += p.amount;
        } else if (p.account == EscrowAccount(UserId(1))) {
            escrow += p.amount;
        } else if (p.account == UserAccount(UserId(2))) {
            requester += p.amount;
        }
    }
    EXPECT_EQ(owner, Kudos::FromMilli(3420));
    EXPECT_EQ(escrow, Kudos::FromMilli(3430));
    EXPECT_EQ(requester, Kudos::FromMilli(-7610));
}

TEST(LedgerTest, EveryEntryBuilderBalances) {
    const auto now = TimePoint(std::chrono::seconds(1'700'000'000));
    EXPECT_TRUE(IsBalanced(ActivationEntry(RequestId("r"), UserId(3), Kudos::FromWhole(1),
                                           Kudos::FromMilli(500), now)));
    EXPECT_TRUE(IsBalanced(UptimeEntry("u", UserId(3), Kudos::FromWhole(52), true, now)));
    EXPECT_TRUE(IsBalanced(TransferEntry("t", UserId(3), UserId(4), Kudos::FromWhole(9), now)));
    EXPECT_TRUE(
        IsBalanced(GrantEntry("g", EntryKind::kAward, UserId(3), Kudos::FromWhole(9), now, "")));
    EXPECT_TRUE(IsBalanced(ReleaseEntry("r", UserId(3), Kudos::FromWhole(9), now)));
    const auto audit = AuditEntry("a", now, "memo");
    EXPECT_TRUE(audit.postings.empty());
    EXPECT_TRUE(IsBalanced(audit));
}

TEST(LedgerTest, AccountNamesRoundTrip) {
    EXPECT_EQ(AccountUser(UserAccount(UserId(42))), 42);
    EXPECT_EQ(AccountUser(EscrowAccount(UserId(42))), 42);
    EXPECT_EQ(AccountUser(kSysSpent), -1);
    EXPECT_EQ(AccountUser("user:abc"), -1);
    EntryKind k{};
    EXPECT_TRUE(ParseEntryKind(EntryKindName(EntryKind::kRelease), k));
    EXPECT_EQ(k, EntryKind::kRelease);
    KudosStat s{};
    EXPECT_TRUE(ParseKudosStat(KudosStatName(KudosStat::kForgiven), s));
    EXPECT_EQ(s, KudosStat::kForgiven);
}

}  // namespace
}  // namespace horde::domain
