"""Kudos transfers and awards (contract §1.6, §4.6; issue 3 item 4).

POST /api/v2/kudos/transfer {username: "name#id", amount: int} moves whole kudos between two
registered users; each rule of §4.6 has its rc. The Idempotency-Key header makes a retry return
the first result without moving money again, also across a crash. POST /kudos/award is for
user 1 and the admins.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from conftest import HTTP_TIMEOUT_S, assert_error

REGISTERED_FLOOR = 25


def transfer(user, username: str, amount, key: str | None = None) -> requests.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return user.client.post("/kudos/transfer", json={"username": username, "amount": amount},
                            headers=headers)


def transfer_ok(user, username: str, amount: int, key: str | None = None) -> dict:
    r = transfer(user, username, amount, key)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == {"transferred": amount}, body
    return body


def details(user) -> dict:
    return user.find()["kudos_details"]


def ledger_ok(horde) -> None:
    out = horde.run_cli("ledger", "check")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "OK" in out.stdout.split(), out.stdout
    rows = horde.sql("SELECT COALESCE(SUM(amount_milli), 0) FROM ledger_postings")
    assert rows[0][0] == 0, rows


# --- the happy path -------------------------------------------------------------------------------


def test_transfer_moves_exact_amounts(horde):
    a = horde.user(kudos=1000)
    b = horde.user(kudos=100)
    da, db = details(a), details(b)
    transfer_ok(a, b.alias, 300)
    assert a.kudos() == 700
    assert b.kudos() == 400
    # kudos_details: the sender's `gifted` (negative, as the reference records it) and the
    # receiver's `received` each move by the amount; nothing else changes.
    da2, db2 = details(a), details(b)
    assert abs(da2["gifted"] - da["gifted"]) == 300, (da, da2)
    assert db2["received"] - db["received"] == 300, (db, db2)
    assert da2["received"] == da["received"] and db2["gifted"] == db["gifted"]
    for k in ("generated", "used", "uptime", "awarded", "admin"):
        assert da2[k] == da[k] and db2[k] == db[k], k
    # The public view of both users agrees.
    assert requests.get(f"{horde.api}/users/{a.id}", timeout=HTTP_TIMEOUT_S).json()["kudos"] == 700
    assert requests.get(f"{horde.api}/users/{b.id}", timeout=HTTP_TIMEOUT_S).json()["kudos"] == 400
    ledger_ok(horde)


def test_transfer_several_times_same_direction(horde):
    a = horde.user(kudos=1000)
    b = horde.user(kudos=0)
    for amount in (1, 2, 3, 94):
        transfer_ok(a, b.alias, amount)  # same direction is never "too fast"
    assert (a.kudos(), b.kudos()) == (900, 100)
    assert details(b)["received"] == 100


def test_default_amount_is_100(horde):
    a = horde.user(kudos=1000)
    b = horde.user(kudos=0)
    r = a.client.post("/kudos/transfer", json={"username": b.alias})
    assert r.status_code == 200, r.text
    assert r.json() == {"transferred": 100}
    assert (a.kudos(), b.kudos()) == (900, 100)


# --- each rule with its rc ------------------------------------------------------------------------


def test_from_anonymous(horde):
    b = horde.user(kudos=0)
    r = horde.anon().post("/kudos/transfer", json={"username": b.alias, "amount": 5})
    assert_error(r, 400, "KudosTransferFromAnon")
    assert b.kudos() == 0


def test_without_apikey_is_rejected(horde):
    b = horde.user(kudos=0)
    r = requests.post(f"{horde.api}/kudos/transfer", json={"username": b.alias, "amount": 5},
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code in (400, 401), r.text
    assert b.kudos() == 0


@pytest.mark.parametrize("target", ["nobody#987654", "no_such_user_at_all", "#", "x#"])
def test_unknown_target(horde, target):
    a = horde.user(kudos=1000)
    assert_error(transfer(a, target, 5), 400, "InvalidTargetUsername")
    assert a.kudos() == 1000


def test_to_anonymous(horde):
    a = horde.user(kudos=1000)
    assert_error(transfer(a, "Anonymous#0", 5), 400, "KudosTransferToAnon")
    assert a.kudos() == 1000
    assert requests.get(f"{horde.api}/users/0", timeout=HTTP_TIMEOUT_S).json()["kudos"] == 0


def test_to_self(horde):
    a = horde.user(kudos=1000)
    assert_error(transfer(a, a.alias, 5), 400, "KudosTransferToSelf")
    assert a.kudos() == 1000


def test_ping_pong_within_60_s(horde):
    a = horde.user(kudos=1000)
    b = horde.user(kudos=1000)
    transfer_ok(a, b.alias, 10)
    assert_error(transfer(b, a.alias, 10), 400, "TooFastKudosTransfers")
    horde.advance(30)
    assert_error(transfer(b, a.alias, 10), 400, "TooFastKudosTransfers")
    horde.advance(31)  # 61 s after a -> b
    transfer_ok(b, a.alias, 10)
    assert (a.kudos(), b.kudos()) == (1000, 1000)
    # and now a -> b is the reverse of a fresh b -> a
    assert_error(transfer(a, b.alias, 10), 400, "TooFastKudosTransfers")
    # a third party is unaffected
    c = horde.user(kudos=1000)
    transfer_ok(c, a.alias, 1)
    transfer_ok(b, c.alias, 1)


def test_flagged_source_and_target(horde):
    mod = horde.user(moderator=True)
    a = horde.user(kudos=1000)
    b = horde.user(kudos=1000)
    r = mod.client.put(f"/users/{a.id}", json={"flagged": True})
    assert r.status_code == 200, r.text
    assert r.json().get("flagged") is True
    assert_error(transfer(a, b.alias, 10), 400, "SourceAccountFlagged")
    assert_error(transfer(b, a.alias, 10), 400, "TargetAccountFlagged")
    assert (a.kudos(), b.kudos()) == (1000, 1000)
    # unflagging restores both directions
    assert mod.client.put(f"/users/{a.id}", json={"flagged": False}).status_code == 200
    transfer_ok(a, b.alias, 10)
    horde.advance(61)
    transfer_ok(b, a.alias, 10)


@pytest.mark.parametrize("amount,rc", [
    (0, "InvalidKudosTransferAmount"),
    (-5, "NegativeKudosTransfer"),
    (-1, "NegativeKudosTransfer"),
    (1.5, "InvalidKudosTransferAmount"),
    (0.01, "InvalidKudosTransferAmount"),
])
def test_bad_amounts(horde, amount, rc):
    a = horde.user(kudos=1000)
    b = horde.user(kudos=1000)
    assert_error(transfer(a, b.alias, amount), 400, rc)
    assert (a.kudos(), b.kudos()) == (1000, 1000)


def test_whole_float_amount_is_accepted(horde):
    a = horde.user(kudos=1000)
    b = horde.user(kudos=0)
    r = transfer(a, b.alias, 7.0)
    assert r.status_code == 200, r.text
    assert r.json()["transferred"] == 7
    assert (a.kudos(), b.kudos()) == (993, 7)


def test_non_numeric_amount_is_400(horde):
    a = horde.user(kudos=1000)
    b = horde.user(kudos=0)
    r = transfer(a, b.alias, "ten")
    assert r.status_code == 400, r.text
    assert a.kudos() == 1000


def test_available_is_balance_minus_floor(horde):
    a = horde.user(kudos=1000)
    b = horde.user(kudos=0)
    available = 1000 - REGISTERED_FLOOR
    assert_error(transfer(a, b.alias, available + 1), 400, "KudosTransferNotEnough")
    assert a.kudos() == 1000
    transfer_ok(a, b.alias, available)
    assert (a.kudos(), b.kudos()) == (REGISTERED_FLOOR, available)
    assert_error(transfer(a, b.alias, 1), 400, "KudosTransferNotEnough")
    assert a.kudos() == REGISTERED_FLOOR


def test_poor_user_cannot_send(horde):
    a = horde.user(kudos=20)  # already below the floor of 25
    b = horde.user(kudos=0)
    assert_error(transfer(a, b.alias, 1), 400, "KudosTransferNotEnough")
    assert (a.kudos(), b.kudos()) == (20, 0)


def test_transfer_to_alias_of_renamed_user(horde):
    """The alias is name#id: the id decides (a stale name with the right id still works)."""
    a = horde.user(kudos=1000)
    b = horde.user(kudos=0)
    assert b.client.put(f"/users/{b.id}", json={"username": "renamed_b"}).status_code == 200
    transfer_ok(a, f"renamed_b#{b.id}", 5)
    assert b.kudos() == 5


# --- Idempotency-Key ------------------------------------------------------------------------------


def test_idempotency_same_key_same_body(horde):
    a = horde.user(kudos=1000)
    b = horde.user(kudos=0)
    key = str(uuid.uuid4())
    transfer_ok(a, b.alias, 50, key)
    transfer_ok(a, b.alias, 50, key)  # a retry: same answer
    transfer_ok(a, b.alias, 50, key)
    assert (a.kudos(), b.kudos()) == (950, 50)
    assert details(b)["received"] == 50
    # a new key moves money again
    transfer_ok(a, b.alias, 50, str(uuid.uuid4()))
    assert (a.kudos(), b.kudos()) == (900, 100)
    ledger_ok(horde)


def test_idempotency_same_key_different_body(horde):
    a = horde.user(kudos=1000)
    b = horde.user(kudos=0)
    c = horde.user(kudos=0)
    key = "retry-" + uuid.uuid4().hex
    transfer_ok(a, b.alias, 50, key)
    assert_error(transfer(a, b.alias, 51, key), 400, "IdempotencyKeyConflict")
    assert_error(transfer(a, c.alias, 50, key), 400, "IdempotencyKeyConflict")
    assert (a.kudos(), b.kudos(), c.kudos()) == (950, 50, 0)
    # the original body still replays
    transfer_ok(a, b.alias, 50, key)
    assert (a.kudos(), b.kudos()) == (950, 50)


def test_idempotency_replay_does_not_need_funds_again(horde):
    a = horde.user(kudos=1000)
    b = horde.user(kudos=0)
    key = uuid.uuid4().hex
    transfer_ok(a, b.alias, 975, key)  # everything above the floor
    transfer_ok(a, b.alias, 975, key)  # the replay answers 200 although a has nothing left
    assert (a.kudos(), b.kudos()) == (25, 975)


def test_idempotency_key_is_per_sender(horde):
    """Another user's key cannot replay (or block) someone else's transfer."""
    a = horde.user(kudos=1000)
    b = horde.user(kudos=1000)
    c = horde.user(kudos=0)
    key = "shared-" + uuid.uuid4().hex
    transfer_ok(a, c.alias, 10, key)
    transfer_ok(b, c.alias, 10, key)  # b's first use of this key: money moves
    assert (a.kudos(), b.kudos(), c.kudos()) == (990, 990, 20)


def test_failed_transfer_does_not_burn_the_key(horde):
    a = horde.user(kudos=100)
    b = horde.user(kudos=0)
    key = uuid.uuid4().hex
    assert_error(transfer(a, b.alias, 500, key), 400, "KudosTransferNotEnough")
    # the key was not used by a transfer: a smaller one with it goes through
    transfer_ok(a, b.alias, 50, key)
    assert (a.kudos(), b.kudos()) == (50, 50)


def test_idempotency_concurrent_retries_move_once(horde):
    from conftest import run_threads

    a = horde.user(kudos=10000)
    b = horde.user(kudos=0)
    key = uuid.uuid4().hex

    def send(_i):
        c = horde.client(a.key)
        return c.post("/kudos/transfer", json={"username": b.alias, "amount": 100},
                      headers={"Idempotency-Key": key})

    results = run_threads(send, [(i,) for i in range(12)])
    assert [r.status_code for r in results] == [200] * 12, [r.text for r in results]
    assert all(r.json() == {"transferred": 100} for r in results)
    assert (a.kudos(), b.kudos()) == (9900, 100)


def test_idempotency_survives_kill9(horde):
    a = horde.user(kudos=1000)
    b = horde.user(kudos=0)
    key = uuid.uuid4().hex
    transfer_ok(a, b.alias, 120, key)
    horde.kill9()
    horde.restart()
    assert (a.kudos(), b.kudos()) == (880, 120)
    transfer_ok(a, b.alias, 120, key)  # replay after the crash: 200, nothing moves
    assert (a.kudos(), b.kudos()) == (880, 120)
    assert_error(transfer(a, b.alias, 121, key), 400, "IdempotencyKeyConflict")
    assert (a.kudos(), b.kudos()) == (880, 120)
    assert details(b)["received"] == 120
    ledger_ok(horde)


# --- awards ---------------------------------------------------------------------------------------


def test_user_1_awards(horde):
    one = horde.user(kudos=0)
    assert one.id == 1, "the first user of a fresh horde is user 1"
    b = horde.user(kudos=10)
    before = details(b)
    r = one.client.post("/kudos/award", json={"username": b.alias, "amount": 500})
    assert r.status_code == 200, r.text
    assert r.json() == {"awarded": 500}
    assert b.kudos() == 510
    after = details(b)
    assert after["awarded"] - before["awarded"] == 500
    assert after["received"] == before["received"]
    assert one.kudos() == 0  # an award is not paid by the awarder
    ledger_ok(horde)


def test_award_default_amount(horde):
    one = horde.user(kudos=0)
    b = horde.user(kudos=0)
    r = one.client.post("/kudos/award", json={"username": b.alias})
    assert r.status_code == 200, r.text
    assert r.json() == {"awarded": 100}
    assert b.kudos() == 100


def test_admin_awards(horde_factory):
    h = horde_factory(extra_args=("--admins", "bossuser#2"))
    h.user(kudos=0)  # user 1
    boss = h.user(name="bossuser", kudos=0)
    assert boss.alias == "bossuser#2"
    b = h.user(kudos=0)
    r = boss.client.post("/kudos/award", json={"username": b.alias, "amount": 42})
    assert r.status_code == 200, r.text
    assert r.json() == {"awarded": 42}
    assert b.kudos() == 42
    assert details(b)["awarded"] == 42


def test_award_forbidden_to_others(horde):
    horde.user(kudos=0)  # user 1
    mod = horde.user(moderator=True, kudos=1000)
    plain = horde.user(kudos=1000)
    b = horde.user(kudos=0)
    for caller in (mod, plain):
        r = caller.client.post("/kudos/award", json={"username": b.alias, "amount": 5})
        assert_error(r, 403, "NotAllowedAwards")
    assert b.kudos() == 0
    r = horde.anon().post("/kudos/award", json={"username": b.alias, "amount": 5})
    assert r.status_code in (401, 403), r.text
    assert b.kudos() == 0


def test_award_unknown_and_anonymous(horde):
    one = horde.user(kudos=0)
    r = one.client.post("/kudos/award", json={"username": "ghost#424242", "amount": 5})
    assert_error(r, 400, "InvalidAwardUsername")
    r = one.client.post("/kudos/award", json={"username": "Anonymous#0", "amount": 5})
    assert_error(r, 400, "KudosAwardToAnon")
    assert requests.get(f"{horde.api}/users/0", timeout=HTTP_TIMEOUT_S).json()["kudos"] == 0


def test_idempotency_key_too_long(horde):
    a = horde.user(kudos=1000)
    b = horde.user(kudos=0)
    r = transfer(a, b.alias, 5, "k" * 256)
    assert r.status_code == 400, r.text
    transfer_ok(a, b.alias, 5, "k" * 255)
    assert (a.kudos(), b.kudos()) == (995, 5)


# --- concurrency ----------------------------------------------------------------------------------


def test_concurrent_transfers_never_overdraw(horde):
    """20 parallel transfers of 100 from an account with 1000 available: exactly 10 succeed."""
    from conftest import run_threads

    a = horde.user(kudos=1000 + REGISTERED_FLOOR)
    sinks = [horde.user(kudos=0) for _ in range(4)]

    def send(i):
        c = horde.client(a.key)
        return c.post("/kudos/transfer", json={"username": sinks[i % 4].alias, "amount": 100})

    results = run_threads(send, [(i,) for i in range(20)])
    codes = sorted(r.status_code for r in results)
    assert codes == [200] * 10 + [400] * 10, [r.text for r in results]
    for r in results:
        if r.status_code == 400:
            assert r.json()["rc"] == "KudosTransferNotEnough", r.text
    assert a.kudos() == REGISTERED_FLOOR
    assert sum(s.kudos() for s in sinks) == 1000
    ledger_ok(horde)
