"""Balance floors, queue priority, the worker's require_upfront_kudos, and upfront holds
(contract §4.5, §4.7, §4.8; issue 3 items 2 and 3)."""

from __future__ import annotations

import math

import pytest
import requests

from conftest import HTTP_TIMEOUT_S, assert_error

ANON_FLOOR = -50
REGISTERED_FLOOR = 25
REQUEST_LIFETIME_S = 20 * 60


def anon_kudos(horde) -> float:
    r = requests.get(f"{horde.api}/users/0", timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    return r.json()["kudos"]


def ledger_ok(horde) -> None:
    out = horde.run_cli("ledger", "check")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "OK" in out.stdout.split(), out.stdout
    assert horde.sql("SELECT COALESCE(SUM(amount_milli), 0) FROM ledger_postings") == [(0,)]


def balance_milli(horde, account: str) -> int:
    rows = horde.sql("SELECT balance_milli FROM balances WHERE account = ?", (account,))
    return rows[0][0] if rows else 0


def transfer(user, username: str, amount: int) -> requests.Response:
    return user.client.post("/kudos/transfer", json={"username": username, "amount": amount})


def check(client, rid: str) -> dict:
    r = client.get(f"/generate/check/{rid}")
    assert r.status_code == 200, r.text
    return r.json()


def text_status(client, rid: str) -> dict:
    r = client.get(f"/generate/text/status/{rid}")
    assert r.status_code == 200, r.text
    return r.json()


# --- floors --------------------------------------------------------------------------------------


def test_anonymous_never_below_minus_50(horde):
    anon = horde.anon()
    owner = horde.user(trusted=True, kudos=0)
    iw, tw = owner.image_worker(), owner.text_worker()
    seen = []
    for i in range(14):
        if i % 3 == 2:
            r = anon.post("/generate/text/async", json={"prompt": f"anon text {i}"})
            assert r.status_code == 202, r.text  # still served at the floor
            tw.run_one()
        else:
            r = anon.post("/generate/async", json={"prompt": f"anon image {i}"})
            assert r.status_code == 202, r.text
            iw.run_one()
        k = anon_kudos(horde)
        assert k >= ANON_FLOOR, (i, k)
        seen.append(k)
    assert seen[-1] == ANON_FLOOR, seen  # reached the floor exactly, no rounding crumbs
    assert seen == sorted(seen, reverse=True), seen  # never topped back up
    assert balance_milli(horde, "user:0") == ANON_FLOOR * 1000
    # the forgiven part is a balanced credit from sys:floor
    assert balance_milli(horde, "sys:floor") < 0
    ledger_ok(horde)


def test_registered_user_with_nothing_stays_at_zero(horde):
    poor = horde.user(kudos=0)
    owner = horde.user(trusted=True, kudos=0)
    iw, tw = owner.image_worker(), owner.text_worker()
    for i in range(4):
        poor.image_async()
        iw.run_one()
        poor.text_async()
        tw.run_one()
        assert poor.kudos() == 0, i  # below its floor already: debits are forgiven, no top-up
    me = poor.find()
    assert me["records"]["request"]["image"] == 4 and me["records"]["request"]["text"] == 4
    assert me["records"]["usage"]["tokens"] > 0  # it was served all the same
    ledger_ok(horde)


def test_registered_user_stops_at_the_floor(horde):
    user = horde.user(kudos=40)
    owner = horde.user(trusted=True, kudos=0)
    iw = owner.image_worker()
    seen = []
    for _ in range(5):
        user.image_async()
        iw.run_one()
        seen.append(user.kudos())
        assert seen[-1] >= min(40, REGISTERED_FLOOR)
    assert seen[-1] == REGISTERED_FLOOR, seen
    assert balance_milli(horde, f"user:{user.id}") == REGISTERED_FLOOR * 1000
    ledger_ok(horde)


# --- priority ------------------------------------------------------------------------------------


def _popped_prompt(worker) -> str:
    job = worker.pop_job()
    return job["payload"]["prompt"]


def test_richer_request_is_popped_first(horde):
    owner = horde.user(trusted=True, kudos=0)
    poor = horde.user(kudos=100)
    rich = horde.user(kudos=100_000)
    p_id = poor.image_async(prompt="poor first")["id"]
    r_id = rich.image_async(prompt="rich later")["id"]
    assert check(rich.client, r_id)["queue_position"] == 1
    assert check(poor.client, p_id)["queue_position"] == 2
    w = owner.image_worker()
    assert _popped_prompt(w) == "rich later"
    assert check(poor.client, p_id)["queue_position"] == 1
    assert _popped_prompt(w) == "poor first"


def test_equal_kudos_older_first(horde):
    owner = horde.user(trusted=True, kudos=0)
    users = [horde.user(kudos=5000) for _ in range(3)]
    ids = [u.image_async(prompt=f"equal {i}")["id"] for i, u in enumerate(users)]
    assert [check(u.client, rid)["queue_position"] for u, rid in zip(users, ids)] == [1, 2, 3]
    w = owner.image_worker()
    assert [_popped_prompt(w) for _ in range(3)] == ["equal 0", "equal 1", "equal 2"]


def test_text_queue_follows_kudos(horde):
    owner = horde.user(trusted=True, kudos=0)
    poor = horde.user(kudos=50)
    rich = horde.user(kudos=50_000)
    p_id = poor.text_async(prompt="poor text")["id"]
    r_id = rich.text_async(prompt="rich text")["id"]
    assert text_status(rich.client, r_id)["queue_position"] == 1
    assert text_status(poor.client, p_id)["queue_position"] == 2
    w = owner.text_worker()
    assert w.pop_job()["payload"]["prompt"] == "rich text"
    assert w.pop_job()["payload"]["prompt"] == "poor text"


def test_aging_lets_an_older_poorer_request_overtake(horde):
    """Priority = balance at request time + 50 per 10 s of waiting (5 kudos/s)."""
    owner = horde.user(trusted=True, kudos=0)
    poor = horde.user(kudos=0)
    mid = horde.user(kudos=100)
    rich = horde.user(kudos=200)
    p_id = poor.image_async(prompt="old and poor")["id"]
    horde.advance(35)  # poor has waited 35 s: +150 (in 10 s steps) .. +175 (continuous)
    m_id = mid.image_async(prompt="new, 100 kudos")["id"]
    r_id = rich.image_async(prompt="new, 200 kudos")["id"]
    positions = (check(rich.client, r_id)["queue_position"],
                 check(poor.client, p_id)["queue_position"],
                 check(mid.client, m_id)["queue_position"])
    assert positions == (1, 2, 3), positions
    w = owner.image_worker()
    assert [_popped_prompt(w) for _ in range(3)] == \
        ["new, 200 kudos", "old and poor", "new, 100 kudos"]


def test_not_enough_waiting_does_not_overtake(horde):
    owner = horde.user(trusted=True, kudos=0)
    poor = horde.user(kudos=0)
    mid = horde.user(kudos=100)
    p_id = poor.image_async(prompt="old and poor")["id"]
    horde.advance(15)  # +50..+75 < 100
    m_id = mid.image_async(prompt="new, 100 kudos")["id"]
    assert check(mid.client, m_id)["queue_position"] == 1
    assert check(poor.client, p_id)["queue_position"] == 2
    assert _popped_prompt(owner.image_worker()) == "new, 100 kudos"


def test_priority_is_the_balance_at_request_time(horde):
    one = horde.user(kudos=0)  # user 1 may award
    owner = horde.user(trusted=True, kudos=0)
    poor = horde.user(kudos=0)
    rich = horde.user(kudos=1000)
    p_id = poor.image_async(prompt="queued while poor")["id"]
    r = one.client.post("/kudos/award", json={"username": poor.alias, "amount": 1_000_000})
    assert r.status_code == 200, r.text
    r_id = rich.image_async(prompt="rich")["id"]
    assert check(rich.client, r_id)["queue_position"] == 1
    assert check(poor.client, p_id)["queue_position"] == 2
    assert _popped_prompt(owner.image_worker()) == "rich"


# --- the worker's require_upfront_kudos ------------------------------------------------------------


def _kind_ops(kind: str):
    if kind == "image":
        return (lambda u, **kw: u.image_async(**kw)), (lambda o, **kw: o.image_worker(**kw))
    return (lambda u, **kw: u.text_async(**kw)), (lambda o, **kw: o.text_worker(**kw))


@pytest.mark.parametrize("kind", ["image", "text"])
def test_require_upfront_kudos_skips_poor_untrusted(horde, kind):
    ask, worker_of = _kind_ops(kind)
    owner = horde.user(trusted=True, kudos=0)
    poor = horde.user(kudos=0)
    ask(poor, prompt="poor asks")
    strict = worker_of(owner, require_upfront_kudos=True)
    out = strict.pop_empty()
    assert out["skipped"].get("kudos") == 1, out["skipped"]
    # a worker without the option serves it
    assert worker_of(owner).pop_job()["payload"]["prompt"] == "poor asks"


@pytest.mark.parametrize("kind", ["image", "text"])
def test_require_upfront_kudos_serves_rich_trusted_and_priority_users(horde, kind):
    ask, worker_of = _kind_ops(kind)
    owner = horde.user(trusted=True, kudos=0)
    poor = horde.user(kudos=0)
    poor_trusted = horde.user(kudos=0, trusted=True)
    friend = horde.user(kudos=0)
    rich = horde.user(kudos=100_000)
    ask(poor, prompt="poor")
    strict = worker_of(owner, require_upfront_kudos=True)
    ask(rich, prompt="rich")
    assert strict.pop_job()["payload"]["prompt"] == "rich"
    ask(poor_trusted, prompt="trusted")
    assert strict.pop_job()["payload"]["prompt"] == "trusted"
    ask(friend, prompt="friend")
    out = strict.pop_empty()  # poor and friend are both skipped for kudos
    assert out["skipped"].get("kudos") == 2, out["skipped"]
    friendly = worker_of(owner, require_upfront_kudos=True, priority_usernames=[friend.alias])
    assert friendly.pop_job()["payload"]["prompt"] == "friend"
    assert friendly.pop_empty()["skipped"].get("kudos") == 1  # poor is still skipped


# --- upfront holds -------------------------------------------------------------------------------


def _dry_run_estimate(user, **body) -> float:
    r = user.client.post("/generate/async", json={"prompt": "estimate", "dry_run": True, **body})
    assert r.status_code == 200, r.text
    return r.json()["kudos"]


BIG_IMAGE = {"params": {"steps": 60}}  # over 40 steps: needs upfront kudos


def test_image_hold_reserves_available_kudos(horde):
    sink = horde.user(kudos=0)
    u = horde.user(kudos=1000)
    estimate = _dry_run_estimate(u, **BIG_IMAGE)
    assert estimate > 0
    rid = u.image_async(**BIG_IMAGE)["id"]
    balance = u.kudos()
    assert balance == 999  # the activation tax; the hold is not a debit
    free = balance - REGISTERED_FLOOR - estimate
    # The whole balance above the floor is no longer available...
    assert_error(transfer(u, sink.alias, int(balance - REGISTERED_FLOOR)), 400,
                 "KudosTransferNotEnough")
    assert_error(transfer(u, sink.alias, math.floor(free) + 1), 400, "KudosTransferNotEnough")
    # ...but what lies beyond the hold is.
    r = transfer(u, sink.alias, math.floor(free))
    assert r.status_code == 200, r.text
    assert u.kudos() == balance - math.floor(free)
    # Completing the request consumes the hold and releases the rest.
    owner = horde.user(trusted=True, kudos=0)
    owner.image_worker().run_one()
    assert check(u.client, rid)["done"] is True
    after = u.kudos()
    assert after >= REGISTERED_FLOOR  # the hold covered the charge
    rest = math.floor(after - REGISTERED_FLOOR)
    if rest > 0:
        r = transfer(u, sink.alias, rest)
        assert r.status_code == 200, r.text
    ledger_ok(horde)


def test_holds_add_up_against_available(horde):
    probe = horde.user(kudos=100_000)
    estimate = _dry_run_estimate(probe, **BIG_IMAGE)
    # enough for one hold (plus the activation tax), not for two
    u = horde.user(kudos=REGISTERED_FLOOR + 1 + math.ceil(estimate) + 2)
    u.image_async(**BIG_IMAGE)
    r = u.client.post("/generate/async", json={"prompt": "second", **BIG_IMAGE})
    assert_error(r, 403, "KudosUpfront")
    # the failed request took nothing
    assert u.kudos() == REGISTERED_FLOOR + math.ceil(estimate) + 2


def test_text_hold_reserves_until_done(horde):
    sink = horde.user(kudos=0)
    u = horde.user(kudos=1000)
    body = {"params": {"max_length": 1024, "max_context_length": 4096}}
    rid = u.text_async(**body)["id"]
    balance = u.kudos()
    assert_error(transfer(u, sink.alias, int(balance - REGISTERED_FLOOR)), 400,
                 "KudosTransferNotEnough")
    owner = horde.user(trusted=True, kudos=0)
    tw = owner.text_worker(max_length=1024, max_context_length=4096)
    tw.run_one()
    assert text_status(u.client, rid)["done"] is True
    after = u.kudos()
    r = transfer(u, sink.alias, math.floor(after - REGISTERED_FLOOR))
    assert r.status_code == 200, r.text
    ledger_ok(horde)


def test_hold_released_on_expiry(horde):
    sink = horde.user(kudos=0)
    u = horde.user(kudos=1000)
    rid = u.image_async(**BIG_IMAGE)["id"]  # no worker: it waits, then expires
    assert_error(transfer(u, sink.alias, 974), 400, "KudosTransferNotEnough")
    horde.advance(REQUEST_LIFETIME_S + 5)
    assert u.client.get(f"/generate/check/{rid}").status_code == 404
    r = transfer(u, sink.alias, 974)
    assert r.status_code == 200, r.text
    assert u.kudos() == REGISTERED_FLOOR
    ledger_ok(horde)


@pytest.mark.parametrize("kind", ["image", "text"])
def test_hold_released_on_cancel(horde, kind):
    sink = horde.user(kudos=0)
    u = horde.user(kudos=1000)
    if kind == "image":
        rid = u.image_async(**BIG_IMAGE)["id"]
        path = f"/generate/status/{rid}"
    else:
        rid = u.text_async(params={"max_length": 1024, "max_context_length": 4096})["id"]
        path = f"/generate/text/status/{rid}"
    assert_error(transfer(u, sink.alias, 974), 400, "KudosTransferNotEnough")
    assert u.client.delete(path).status_code == 200
    r = transfer(u, sink.alias, 974)  # nothing was generated: all of it is available again
    assert r.status_code == 200, r.text


def test_downgraded_request_holds_nothing(horde):
    sink = horde.user(kudos=0)
    u = horde.user(kudos=30)
    r = u.client.post("/generate/async",
                      json={"prompt": "shrink me", "allow_downgrade": True, **BIG_IMAGE})
    assert r.status_code == 202, r.text
    assert u.kudos() == 29
    r = transfer(u, sink.alias, 4)  # 29 - 25: no hold in the way
    assert r.status_code == 200, r.text


def test_require_upfront_kudos_serves_a_request_covered_by_its_hold(horde):
    probe = horde.user(kudos=100_000)
    estimate = _dry_run_estimate(probe, **BIG_IMAGE)
    # just enough for the hold: the request's whole cost is reserved when it is accepted
    u = horde.user(kudos=REGISTERED_FLOOR + 1 + math.ceil(estimate) + 1)
    u.image_async(prompt="paid upfront", **BIG_IMAGE)
    owner = horde.user(trusted=True, kudos=0)
    strict = owner.image_worker(require_upfront_kudos=True)
    assert strict.pop_job()["payload"]["prompt"] == "paid upfront"


def test_pseudonymous_floor_is_14(horde):
    import uuid

    pseudo = horde.user(kudos=100, oauth_id=str(uuid.uuid4()))
    sink = horde.user(kudos=0)
    assert pseudo.find()["pseudonymous"] is True
    r = transfer(pseudo, sink.alias, 100 - 14)  # available = balance - 14
    assert r.status_code == 200, r.text
    assert pseudo.kudos() == 14


def test_flagged_requester_has_low_priority(horde):
    """§4.8: a flagged requester's priority is round(kudos / 1000) (here 100), not its kudos."""
    mod = horde.user(moderator=True)
    owner = horde.user(trusted=True, kudos=0)
    flagged = horde.user(kudos=100_000)
    plain = horde.user(kudos=500)
    assert mod.client.put(f"/users/{flagged.id}", json={"flagged": True}).status_code == 200
    f_id = flagged.image_async(prompt="flagged rich")["id"]
    p_id = plain.image_async(prompt="plain 500")["id"]
    assert check(plain.client, p_id)["queue_position"] == 1
    assert check(flagged.client, f_id)["queue_position"] == 2
    assert _popped_prompt(owner.image_worker()) == "plain 500"
