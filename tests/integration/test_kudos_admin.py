"""PUT /api/v2/users/{id} (contract §1.4; issue 3 item 6): who may change what, kudos
adjustments as ledger entries, and trust releasing the evaluation escrow (§4.7)."""

from __future__ import annotations

import pytest
import requests

from conftest import HTTP_TIMEOUT_S, assert_error

ADMIN_NAME = "adminboss"


@pytest.fixture
def h(horde_factory):
    """A fresh horde whose user 1 is an admin by --admins (name#id)."""
    h = horde_factory(extra_args=("--admins", f"{ADMIN_NAME}#1"))
    h.admin = h.user(name=ADMIN_NAME, kudos=0)
    assert h.admin.alias == f"{ADMIN_NAME}#1"
    return h


def public(horde, uid: int, key: str | None = None) -> dict:
    headers = {"apikey": key} if key else {}
    r = requests.get(f"{horde.api}/users/{uid}", headers=headers, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    return r.json()


def ledger_ok(horde) -> None:
    out = horde.run_cli("ledger", "check")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "OK" in out.stdout.split(), out.stdout


# --- admin: kudos --------------------------------------------------------------------------------


def test_admin_adds_kudos(h):
    t = h.user(kudos=100)
    before = t.find()["kudos_details"]["admin"]
    r = h.admin.client.put(f"/users/{t.id}", json={"kudos": 250})
    assert r.status_code == 200, r.text
    assert r.json() == {"new_kudos": 350}
    assert t.kudos() == 350
    assert public(h, t.id)["kudos"] == 350
    assert t.find()["kudos_details"]["admin"] - before == 250
    ledger_ok(h)


def test_admin_removes_kudos(h):
    t = h.user(kudos=100)
    r = h.admin.client.put(f"/users/{t.id}", json={"kudos": -40})
    assert r.status_code == 200, r.text
    assert r.json() == {"new_kudos": 60}
    assert t.kudos() == 60
    # an admin adjustment is not a spend: it may go below the floor
    r = h.admin.client.put(f"/users/{t.id}", json={"kudos": -100})
    assert r.status_code == 200, r.text
    assert r.json() == {"new_kudos": -40}
    assert t.kudos() == -40
    ledger_ok(h)


def test_admin_fractional_kudos_are_exact(h):
    t = h.user(kudos=0)
    for delta in (0.1, 0.2, 0.3, 12.34, -0.01):
        assert h.admin.client.put(f"/users/{t.id}", json={"kudos": delta}).status_code == 200
    assert t.kudos() == pytest.approx(12.93, abs=1e-9)
    rows = h.sql("SELECT balance_milli FROM balances WHERE account = ?", (f"user:{t.id}",))
    assert rows == [(12930,)], rows
    ledger_ok(h)


def test_admin_adjustment_survives_kill9(h):
    t = h.user(kudos=10)
    assert h.admin.client.put(f"/users/{t.id}", json={"kudos": 77}).status_code == 200
    h.kill9()
    h.restart()
    assert t.kudos() == 87
    ledger_ok(h)


# --- moderator fields ----------------------------------------------------------------------------


def test_moderator_sets_trusted_flagged_concurrency_invited(h):
    mod = h.user(moderator=True)
    t = h.user(kudos=0)
    body = {"trusted": True, "flagged": True, "concurrency": 7, "worker_invited": 3}
    r = mod.client.put(f"/users/{t.id}", json=body)
    assert r.status_code == 200, r.text
    assert r.json() == body
    p = public(h, t.id)
    assert (p["trusted"], p["flagged"], p["concurrency"], p["worker_invited"]) == (True, True, 7, 3)
    r = mod.client.put(f"/users/{t.id}", json={"trusted": False, "flagged": False})
    assert r.status_code == 200, r.text
    assert r.json() == {"trusted": False, "flagged": False}
    p = public(h, t.id)
    assert (p["trusted"], p["flagged"]) == (False, False)


def test_concurrency_change_is_enforced(h):
    mod = h.user(moderator=True)
    t = h.user(kudos=1000)
    assert mod.client.put(f"/users/{t.id}", json={"concurrency": 1}).status_code == 200
    t.image_async()
    r = t.client.post("/generate/async", json={"prompt": "second"})
    assert_error(r, 429, "TooManyPrompts")


def test_admin_is_also_moderator(h):
    t = h.user(kudos=0)
    r = h.admin.client.put(f"/users/{t.id}", json={"trusted": True, "kudos": 5})
    assert r.status_code == 200, r.text
    assert r.json() == {"trusted": True, "new_kudos": 5}


# --- self fields ---------------------------------------------------------------------------------


def test_self_sets_public_workers_contact_username(h):
    t = h.user(kudos=0)
    body = {"public_workers": True, "contact": "me@example.invalid", "username": "fresh_name"}
    r = t.client.put(f"/users/{t.id}", json=body)
    assert r.status_code == 200, r.text
    assert r.json() == body
    mine = public(h, t.id, t.key)
    assert mine["username"] == f"fresh_name#{t.id}"
    assert mine["contact"] == "me@example.invalid"
    assert t.find()["username"] == f"fresh_name#{t.id}"


def test_moderator_may_set_self_fields_of_others(h):
    mod = h.user(moderator=True)
    t = h.user(kudos=0)
    r = mod.client.put(f"/users/{t.id}", json={"contact": "mod-set@example.invalid"})
    assert r.status_code == 200, r.text


# --- wrong roles ---------------------------------------------------------------------------------


def test_kudos_needs_admin(h):
    mod = h.user(moderator=True)
    t = h.user(kudos=100)
    assert_error(mod.client.put(f"/users/{t.id}", json={"kudos": 50}), 403, "NotAdmin")
    assert_error(t.client.put(f"/users/{t.id}", json={"kudos": 50}), 403, "NotAdmin")
    assert t.kudos() == 100


@pytest.mark.parametrize("body", [{"trusted": True}, {"flagged": True}, {"concurrency": 100},
                                  {"worker_invited": 5}])
def test_moderator_fields_need_moderator(h, body):
    t = h.user(kudos=0)
    other = h.user(kudos=0)
    assert_error(t.client.put(f"/users/{t.id}", json=body), 403, "NotModerator")
    assert_error(other.client.put(f"/users/{t.id}", json=body), 403, "NotModerator")
    p = public(h, t.id)
    assert (p["trusted"], p["flagged"], p["concurrency"], p["worker_invited"]) == \
        (False, False, 30, 0)


@pytest.mark.parametrize("body", [{"public_workers": True}, {"contact": "x@example.invalid"},
                                  {"username": "hijacked"}])
def test_self_fields_need_owner(h, body):
    t = h.user(kudos=0)
    other = h.user(kudos=0)
    assert_error(other.client.put(f"/users/{t.id}", json=body), 403, "NotOwner")
    assert public(h, t.id)["username"] == t.alias


def test_anonymous_cannot_modify(h):
    t = h.user(kudos=0)
    r = h.anon().put(f"/users/{t.id}", json={"contact": "anon@example.invalid"})
    assert r.status_code in (401, 403), r.text


def test_empty_body(h):
    t = h.user(kudos=0)
    assert_error(t.client.put(f"/users/{t.id}", json={}), 400, "NoUserModSelected")
    assert_error(h.admin.client.put(f"/users/{t.id}", json={}), 400, "NoUserModSelected")
    # unknown fields alone select nothing either
    assert_error(h.admin.client.put(f"/users/{t.id}", json={"bogus": 1}), 400,
                 "NoUserModSelected")


def test_bad_id(h):
    assert_error(h.admin.client.put("/users/987654", json={"kudos": 5}), 404)
    assert_error(h.admin.client.put("/users/987654", json={"trusted": True}), 404)
    assert_error(h.admin.client.put("/users/abc", json={"trusted": True}), 404)
    assert_error(h.admin.client.put("/users/-3", json={"trusted": True}), 404)


def test_admin_cannot_give_kudos_to_anonymous(h):
    r = h.admin.client.put("/users/0", json={"kudos": 100})
    assert r.status_code in (400, 403, 404), r.text
    assert public(h, 0)["kudos"] == 0


# --- trust releases the escrow -------------------------------------------------------------------


def test_trust_releases_evaluating_kudos(h):
    mod = h.user(moderator=True)
    req = h.user(kudos=1000)
    owner = h.user(trusted=False, kudos=0)
    w = owner.image_worker()
    req.image_async()
    _, sub1 = w.run_one()
    req.text_async()
    tw = owner.text_worker()
    _, sub2 = tw.run_one()
    me = owner.find()
    escrow = me["evaluating_kudos"]
    spendable = me["kudos"]
    assert escrow > 0 and spendable > 0, me
    # untrusted: half of each credit goes to escrow (rounded to 0.01)
    assert abs(escrow - spendable) <= 0.02, me
    # `generated` counts at least the spendable half (whether it also counts the escrow half is
    # not fixed by the contract).
    assert me["kudos_details"]["generated"] >= spendable - 0.011, me
    r = mod.client.put(f"/users/{owner.id}", json={"trusted": True})
    assert r.status_code == 200, r.text
    me2 = owner.find()
    assert me2["kudos"] == pytest.approx(spendable + escrow, abs=1e-9), (me, me2)
    assert me2["evaluating_kudos"] == 0
    # exact in the store too
    bal = dict(h.sql("SELECT account, balance_milli FROM balances WHERE account IN (?, ?)",
                     (f"user:{owner.id}", f"escrow:{owner.id}")))
    assert bal.get(f"escrow:{owner.id}", 0) == 0
    assert bal[f"user:{owner.id}"] == round((spendable + escrow) * 1000)
    # later earnings go straight to the balance
    req.image_async()
    _, sub3 = w.run_one()
    me3 = owner.find()
    assert me3["evaluating_kudos"] == 0
    assert me3["kudos"] > me2["kudos"]
    ledger_ok(h)


def test_trust_releases_uptime_escrow(h):
    mod = h.user(moderator=True)
    owner = h.user(trusted=False, kudos=0)
    w = owner.image_worker(models=["stable_diffusion"])
    w.pop_empty()
    for _ in range(3):  # 750 s online, popping every 250 s
        h.advance(250)
        w.pop_empty()
    me = owner.find()
    assert me["kudos"] == 0
    assert me["evaluating_kudos"] == 52  # 50 + 2 x 1 model, held in escrow
    assert mod.client.put(f"/users/{owner.id}", json={"trusted": True}).status_code == 200
    me = owner.find()
    assert (me["kudos"], me["evaluating_kudos"]) == (52, 0)
    ledger_ok(h)


def test_untrust_does_not_move_kudos_back(h):
    mod = h.user(moderator=True)
    owner = h.user(trusted=True, kudos=100)
    assert mod.client.put(f"/users/{owner.id}", json={"trusted": False}).status_code == 200
    me = owner.find()
    assert (me["kudos"], me["evaluating_kudos"]) == (100, 0)
    ledger_ok(h)
