#pragma once
// Balance rules (api-contract.md §4.7): floors, and how a debit below the floor is forgiven.

#include "common/kudos.hpp"
#include "domain/entities.hpp"

namespace horde::domain {

/// The lowest balance a debit may leave: anonymous −50, pseudonymous 14, others 25. A debit
/// that would go lower is forgiven down to the floor (the reference's policy: kudos decide
/// priority and large requests, never basic service).
Kudos BalanceFloor(const User& user);

/// How much of `debit` (≥ 0) is forgiven for an account at `balance` with `floor`: the amount
/// that keeps the balance from ending below the floor (0 when it stays above).
Kudos ForgivenByFloor(Kudos balance, Kudos debit, Kudos floor);

/// Kudos available to spend or reserve: balance − floor − active holds (may be negative).
Kudos AvailableKudos(Kudos balance, Kudos floor, Kudos holds);

/// An untrusted worker owner gets half of a job reward (rounded to 0.01) into evaluation
/// escrow and the rest into the balance; returns the escrow part.
Kudos EscrowShare(Kudos owner_credit, bool owner_trusted, bool owner_anonymous);

}  // namespace horde::domain
