"""PUT /api/v2/users/{id}: the less common fields of contract §1.4 — monthly kudos (granted now
and every 30 days, kudos_details.recurring), usage_multiplier (scales usage records only),
education (concurrency 200 unless given), the moderator flags and admin_comment."""

from __future__ import annotations

import pytest
import requests

from conftest import HTTP_TIMEOUT_S, assert_error

ADMIN_NAME = "monthlyboss"


@pytest.fixture
def h(horde_factory):
    h = horde_factory(extra_args=("--admins", f"{ADMIN_NAME}#1"))
    h.admin = h.user(name=ADMIN_NAME, kudos=0)
    return h


def put(h, uid, body, key):
    return requests.put(f"{h.api}/users/{uid}", json=body, headers={"apikey": key},
                        timeout=HTTP_TIMEOUT_S)


def details(h, user) -> dict:
    return user.client.get("/find_user").json()


def test_monthly_kudos_granted_now_and_after_30_days(h):
    u = h.user(kudos=100)
    r = put(h, u.id, {"monthly_kudos": 50}, h.admin.key)
    assert r.status_code == 200, r.text
    assert r.json()["monthly_kudos"] == 50
    assert u.kudos() == 150
    assert details(h, u)["kudos_details"]["recurring"] == 50
    h.advance(29 * 24 * 3600)
    assert u.kudos() == 150  # not a month yet
    h.advance(2 * 24 * 3600)
    assert u.kudos() == 200
    assert details(h, u)["kudos_details"]["recurring"] == 100
    # Moderators (here: the admin) see the monthly grant and its date.
    mod_view = requests.get(f"{h.api}/users/{u.id}", headers={"apikey": h.admin.key},
                            timeout=HTTP_TIMEOUT_S).json()
    assert mod_view["monthly_kudos"]["amount"] == 50
    assert mod_view["monthly_kudos"]["last_received"].endswith("GMT")
    out = h.run_cli("ledger", "check")
    assert out.returncode == 0, out.stdout


def test_monthly_kudos_needs_an_admin(h):
    mod = h.user(kudos=0, moderator=True)
    u = h.user(kudos=0)
    assert_error(put(h, u.id, {"monthly_kudos": 50}, mod.key), 403, "NotAdmin")


def test_usage_multiplier_scales_usage_records_not_kudos(h):
    owner = h.user(kudos=0, trusted=True)
    half = h.user(kudos=1000)
    full = h.user(kudos=1000)
    r = put(h, half.id, {"usage_multiplier": 0.5}, h.admin.key)
    assert r.status_code == 200 and r.json()["usage_multiplier"] == 0.5
    w = owner.image_worker()
    for u in (half, full):
        before = u.kudos()
        u.image_async()
        w.run_one()
        u.charged = before - u.kudos()
    assert abs(half.charged - full.charged) <= 0.011  # kudos unaffected
    mps_half = details(h, half)["records"]["usage"]["megapixelsteps"]
    mps_full = details(h, full)["records"]["usage"]["megapixelsteps"]
    assert mps_full > 0
    assert abs(mps_half - mps_full / 2) <= 0.01


def test_education_sets_concurrency_unless_given(h):
    mod = h.user(kudos=0, moderator=True)
    u = h.user(kudos=0)
    r = put(h, u.id, {"education": True}, mod.key)
    assert r.status_code == 200 and r.json()["education"] is True
    assert details(h, u)["concurrency"] == 200
    assert details(h, u)["education"] is True
    r = put(h, u.id, {"education": False, "concurrency": 42}, mod.key)
    assert r.status_code == 200
    assert details(h, u)["concurrency"] == 42


def test_moderator_flags_and_admin_comment(h):
    mod = h.user(kudos=0, moderator=True)
    u = h.user(kudos=0)
    r = put(h, u.id, {"customizer": True, "vpn": True, "special": True, "service": True,
                      "admin_comment": "seen at the meetup"}, mod.key)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["customizer"] and body["vpn"] and body["special"] and body["service"]
    assert body["admin_comment"] == "seen at the meetup"
    view = requests.get(f"{h.api}/users/{u.id}", headers={"apikey": mod.key},
                        timeout=HTTP_TIMEOUT_S).json()
    assert view["customizer"] is True and view["service"] is True
    assert view["admin_comment"] == "seen at the meetup"
    # Not a moderator: the same flags are refused.
    other = h.user(kudos=0)
    assert_error(put(h, u.id, {"customizer": False}, other.key), 403, "NotModerator")
