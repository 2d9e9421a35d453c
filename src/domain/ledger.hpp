#pragma once
// The kudos ledger's rules. Every movement of kudos is one LedgerEntry whose postings sum to
// zero over all accounts, system accounts included, in integer milli-kudos. Balances are the
// sums of postings; nothing else changes them.
//
// Accounts are strings: "user:<id>" (spendable balance), "escrow:<id>" (evaluating kudos held
// for untrusted worker owners), and system accounts "sys:<name>" listed below.

#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/kudos.hpp"

namespace horde::domain {

/// Where kudos come from and go to outside user accounts.
inline constexpr const char* kSysGeneration = "sys:generation";  // mints job rewards
inline constexpr const char* kSysUptime = "sys:uptime";          // mints uptime rewards
inline constexpr const char* kSysSpent = "sys:spent";            // receives what requesters pay
inline constexpr const char* kSysAdmin = "sys:admin";            // admin adjustments and awards
inline constexpr const char* kSysFloor = "sys:floor";  // debits forgiven below an account's floor

std::string UserAccount(UserId id);
std::string EscrowAccount(UserId id);
/// The user id of a "user:<id>" or "escrow:<id>" account, or -1 for system accounts.
int64_t AccountUser(const std::string& account);

enum class EntryKind {
    kGeneration,  // a delivered job: reward to the owner, charge to the requester
    kActivation,  // the request's activation tax
    kUptime,      // uptime reward
    kTransfer,    // user to user
    kAward,       // award by the award role
    kAdmin,       // admin adjustment
    kRelease,     // escrow released to the balance
    kAudit,       // no money moves: a recorded change of a user's settings
    kRecurring,   // monthly kudos
};
std::string_view EntryKindName(EntryKind kind);
bool ParseEntryKind(std::string_view name, EntryKind& out);

/// The statistic a posting counts toward in the user's kudos_details.
enum class KudosStat {
    kNone,
    kAccumulated,
    kUsed,
    kUptime,
    kGifted,
    kReceived,
    kAwarded,
    kAdmin,
    kForgiven,
    kRecurring,
    kEvaluating,
};
std::string_view KudosStatName(KudosStat stat);
bool ParseKudosStat(std::string_view name, KudosStat& out);

struct Posting {
    std::string account;
    Kudos amount;  // positive = credit to the account
    KudosStat stat = KudosStat::kNone;
};

struct LedgerEntry {
    std::string key;  // idempotency key, unique over the ledger's life ("job:<id>", ...)
    EntryKind kind = EntryKind::kGeneration;
    TimePoint created;
    std::vector<Posting> postings;
    std::string memo;
};

/// True when the postings sum to exactly zero.
bool IsBalanced(const LedgerEntry& entry);

/// A delivered job: `owner_credit` minted to the worker's owner (of which `owner_escrow` goes to
/// its evaluation escrow), `charge` taken from the requester, `forgiven` of that charge given
/// back by the floor rule (sys:floor).
LedgerEntry JobSettlementEntry(const JobId& job, UserId owner, Kudos owner_credit,
                               Kudos owner_escrow, UserId requester, Kudos charge, Kudos forgiven,
                               TimePoint now);
/// The one-off activation tax of a request (`forgiven` as above).
LedgerEntry ActivationEntry(const RequestId& request, UserId requester, Kudos tax, Kudos forgiven,
                            TimePoint now);
/// Moves `amount` from the user's evaluation escrow to its balance (the user became trusted).
LedgerEntry ReleaseEntry(const std::string& key, UserId user, Kudos amount, TimePoint now);
/// A recorded change without money (admin/moderator edits of a user).
LedgerEntry AuditEntry(const std::string& key, TimePoint now, std::string memo);
/// An uptime reward for `worker` (to escrow when `to_escrow`).
LedgerEntry UptimeEntry(const std::string& key, UserId owner, Kudos reward, bool to_escrow,
                        TimePoint now);
/// A user-to-user transfer.
LedgerEntry TransferEntry(const std::string& key, UserId from, UserId to, Kudos amount,
                          TimePoint now);
/// An award or admin adjustment (negative amounts allowed for adjustments).
LedgerEntry GrantEntry(const std::string& key, EntryKind kind, UserId to, Kudos amount,
                       TimePoint now, std::string memo);

}  // namespace horde::domain
