#include "domain/ledger.hpp"

#include <array>
#include <charconv>
#include <utility>

#include "common/check.hpp"

namespace horde::domain {

std::string UserAccount(UserId id) { return "user:" + std::to_string(id.value()); }
std::string EscrowAccount(UserId id) { return "escrow:" + std::to_string(id.value()); }

int64_t AccountUser(const std::string& account) {
    const auto colon = account.find(':');
    if (colon == std::string::npos) {
        return -1;
    }
    const std::string_view prefix(account.data(), colon);
    if (prefix != "user" && prefix != "escrow") {
        return -1;
    }
    int64_t id = -1;
    const char* begin = account.data() + colon + 1;
    const char* end = account.data() + account.size();
    auto [ptr, ec] = std::from_chars(begin, end, id);
    if (ec != std::errc() || ptr != end) {
        return -1;
    }
    return id;
}

namespace {

constexpr std::array<std::pair<EntryKind, std::string_view>, 9> kKindNames{{
    {EntryKind::kGeneration, "generation"},
    {EntryKind::kActivation, "activation"},
    {EntryKind::kUptime, "uptime"},
    {EntryKind::kTransfer, "transfer"},
    {EntryKind::kAward, "award"},
    {EntryKind::kAdmin, "admin"},
    {EntryKind::kRelease, "release"},
    {EntryKind::kAudit, "audit"},
    {EntryKind::kRecurring, "recurring"},
}};

constexpr std::array<std::pair<KudosStat, std::string_view>, 11> kStatNames{{
    {KudosStat::kNone, ""},
    {KudosStat::kAccumulated, "accumulated"},
    {KudosStat::kUsed, "used"},
    {KudosStat::kUptime, "uptime"},
    {KudosStat::kGifted, "gifted"},
    {KudosStat::kReceived, "received"},
    {KudosStat::kAwarded, "awarded"},
    {KudosStat::kAdmin, "admin"},
    {KudosStat::kForgiven, "forgiven"},
    {KudosStat::kRecurring, "recurring"},
    {KudosStat::kEvaluating, "evaluating"},
}};

}  // namespace

std::string_view EntryKindName(EntryKind kind) {
    for (const auto& [k, name] : kKindNames) {
        if (k == kind) {
            return name;
        }
    }
    return "unknown";
}

bool ParseEntryKind(std::string_view name, EntryKind& out) {
    for (const auto& [k, n] : kKindNames) {
        if (n == name) {
            out = k;
            return true;
        }
    }
    return false;
}

std::string_view KudosStatName(KudosStat stat) {
    for (const auto& [s, name] : kStatNames) {
        if (s == stat) {
            return name;
        }
    }
    return "";
}

bool ParseKudosStat(std::string_view name, KudosStat& out) {
    for (const auto& [s, n] : kStatNames) {
        if (n == name) {
            out = s;
            return true;
        }
    }
    return false;
}

bool IsBalanced(const LedgerEntry& entry) {
    Kudos sum;
    for (const auto& p : entry.postings) {
        sum += p.amount;
    }
    return sum == Kudos();
}

LedgerEntry JobSettlementEntry(const JobId& job, UserId owner, Kudos owner_credit,
                               Kudos owner_escrow, UserId requester, Kudos charge, Kudos forgiven,
                               TimePoint now) {
    LedgerEntry e;
    e.key = "job:" + job.value();
    e.kind = EntryKind::kGeneration;
    e.created = now;
    e.postings.push_back({kSysGeneration, -owner_credit, KudosStat::kNone});
    e.postings.push_back(
        {UserAccount(owner), owner_credit - owner_escrow, KudosStat::kAccumulated});
    if (owner_escrow != Kudos()) {
        e.postings.push_back({EscrowAccount(owner), owner_escrow, KudosStat::kAccumulated});
    }
    e.postings.push_back({UserAccount(requester), -charge, KudosStat::kUsed});
    e.postings.push_back({kSysSpent, charge, KudosStat::kNone});
    if (forgiven != Kudos()) {
        e.postings.push_back({kSysFloor, -forgiven, KudosStat::kNone});
        e.postings.push_back({UserAccount(requester), forgiven, KudosStat::kForgiven});
    }
    HORDE_CHECK(IsBalanced(e), "settlement entry must balance");
    return e;
}

LedgerEntry ActivationEntry(const RequestId& request, UserId requester, Kudos tax, Kudos forgiven,
                            TimePoint now) {
    LedgerEntry e;
    e.key = "activation:" + request.value();
    e.kind = EntryKind::kActivation;
    e.created = now;
    e.postings.push_back({UserAccount(requester), -tax, KudosStat::kUsed});
    e.postings.push_back({kSysSpent, tax, KudosStat::kNone});
    if (forgiven != Kudos()) {
        e.postings.push_back({kSysFloor, -forgiven, KudosStat::kNone});
        e.postings.push_back({UserAccount(requester), forgiven, KudosStat::kForgiven});
    }
    return e;
}

LedgerEntry ReleaseEntry(const std::string& key, UserId user, Kudos amount, TimePoint now) {
    LedgerEntry e;
    e.key = key;
    e.kind = EntryKind::kRelease;
    e.created = now;
    e.postings.push_back({EscrowAccount(user), -amount, KudosStat::kNone});
    e.postings.push_back({UserAccount(user), amount, KudosStat::kNone});
    return e;
}

LedgerEntry AuditEntry(const std::string& key, TimePoint now, std::string memo) {
    LedgerEntry e;
    e.key = key;
    e.kind = EntryKind::kAudit;
    e.created = now;
    e.memo = std::move(memo);
    return e;
}

LedgerEntry UptimeEntry(const std::string& key, UserId owner, Kudos reward, bool to_escrow,
                        TimePoint now) {
    LedgerEntry e;
    e.key = key;
    e.kind = EntryKind::kUptime;
    e.created = now;
    e.postings.push_back({kSysUptime, -reward, KudosStat::kNone});
    e.postings.push_back(
        {to_escrow ? EscrowAccount(owner) : UserAccount(owner), reward, KudosStat::kUptime});
    return e;
}

LedgerEntry TransferEntry(const std::string& key, UserId from, UserId to, Kudos amount,
                          TimePoint now) {
    LedgerEntry e;
    e.key = key;
    e.kind = EntryKind::kTransfer;
    e.created = now;
    e.postings.push_back({UserAccount(from), -amount, KudosStat::kGifted});
    e.postings.push_back({UserAccount(to), amount, KudosStat::kReceived});
    return e;
}

LedgerEntry GrantEntry(const std::string& key, EntryKind kind, UserId to, Kudos amount,
                       TimePoint now, std::string memo) {
    LedgerEntry e;
    e.key = key;
    e.kind = kind;
    e.created = now;
    e.memo = std::move(memo);
    const KudosStat stat = kind == EntryKind::kAward       ? KudosStat::kAwarded
                           : kind == EntryKind::kRecurring ? KudosStat::kRecurring
                                                           : KudosStat::kAdmin;
    e.postings.push_back({kSysAdmin, -amount, KudosStat::kNone});
    e.postings.push_back({UserAccount(to), amount, stat});
    return e;
}

}  // namespace horde::domain
