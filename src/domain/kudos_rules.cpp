#include "domain/kudos_rules.hpp"

#include <algorithm>

namespace horde::domain {

namespace {

constexpr int64_t kAnonymousFloor = -50;
constexpr int64_t kPseudonymousFloor = 14;
constexpr int64_t kRegisteredFloor = 25;

}  // namespace

Kudos BalanceFloor(const User& user) {
    if (user.anonymous) {
        return Kudos::FromWhole(kAnonymousFloor);
    }
    return Kudos::FromWhole(user.pseudonymous ? kPseudonymousFloor : kRegisteredFloor);
}

Kudos ForgivenByFloor(Kudos balance, Kudos debit, Kudos floor) {
    const Kudos after = balance - debit;
    if (after >= floor || debit <= Kudos()) {
        return Kudos();
    }
    // Only the debit itself is forgiven: an account already below its floor is not topped up.
    return std::min(floor - after, debit);
}

Kudos AvailableKudos(Kudos balance, Kudos floor, Kudos holds) { return balance - floor - holds; }

Kudos EscrowShare(Kudos owner_credit, bool owner_trusted, bool owner_anonymous) {
    if (owner_trusted || owner_anonymous || owner_credit <= Kudos()) {
        return Kudos();
    }
    return Kudos::FromMilli((owner_credit.milli() / 2 + 5) / 10 * 10);
}

}  // namespace horde::domain
