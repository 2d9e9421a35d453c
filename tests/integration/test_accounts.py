"""Users, workers and status endpoints (contract §1.4, §1.5, §1.7; reference.md §3)."""

from __future__ import annotations

import re
import subprocess

import pytest
import requests

from conftest import ANON_KEY, HTTP_TIMEOUT_S, UUID_RE, assert_error, unique

KUDOS_DETAILS = {"accumulated", "gifted", "donated", "admin", "received", "recurring", "awarded",
                 "styled"}
USER_ALWAYS = {"username", "id", "kudos", "concurrency", "worker_invited", "moderator",
               "kudos_details", "worker_count", "styles", "trusted", "flagged", "pseudonymous",
               "service", "deleted", "education", "customizer", "account_age", "usage",
               "contributions", "records"}
WORKER_ALWAYS = {"type", "name", "id", "online", "requests_fulfilled", "uncompleted_jobs",
                 "kudos_rewards", "kudos_details", "performance", "threads", "uptime",
                 "maintenance_mode", "trusted", "flagged", "team", "bridge_agent", "nsfw",
                 "models"}
IMAGE_WORKER = {"max_pixels", "megapixelsteps_generated", "img2img", "painting",
                "post-processing", "controlnet", "sdxl_controlnet", "lora"}
TEXT_WORKER = {"max_length", "max_context_length"}
MODEL_KEYS = {"name": str, "count": int, "performance": (int, float), "queued": (int, float),
              "jobs": (int, float), "eta": int, "type": str}
PERF_KEYS = {"queued_requests", "queued_text_requests", "worker_count", "text_worker_count",
             "thread_count", "text_thread_count", "queued_megapixelsteps",
             "past_minute_megapixelsteps", "queued_forms", "interrogator_count",
             "interrogator_thread_count", "queued_tokens", "past_minute_tokens"}


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_user_shape(u: dict) -> None:
    assert USER_ALWAYS <= set(u), sorted(USER_ALWAYS - set(u))
    assert re.fullmatch(r".+#\d+", u["username"]), u["username"]
    assert u["username"].endswith(f"#{u['id']}")
    assert is_int(u["id"]) and is_num(u["kudos"]) and is_int(u["account_age"])
    assert is_int(u["concurrency"]) and is_int(u["worker_count"])
    assert KUDOS_DETAILS <= set(u["kudos_details"]), u["kudos_details"]
    rec = u["records"]
    assert set(rec) >= {"usage", "contribution", "fulfillment", "request", "style"}, rec
    assert set(rec["usage"]) >= {"megapixelsteps", "tokens"}
    assert set(rec["contribution"]) >= {"megapixelsteps", "tokens"}
    for k in ("fulfillment", "request", "style"):
        assert set(rec[k]) >= {"image", "text", "interrogation"}, rec[k]
    assert u["usage"] == {"megapixelsteps": None, "requests": None}
    assert u["contributions"] == {"megapixelsteps": None, "fulfillments": None}
    for flag in ("moderator", "trusted", "flagged", "pseudonymous", "service", "deleted",
                 "education", "customizer"):
        assert isinstance(u[flag], bool), flag


# --- find_user and users -------------------------------------------------------------------------


def test_find_user_fields(horde):
    u = horde.user(name="finder", kudos=321, trusted=True)
    me = u.find()
    check_user_shape(me)
    assert me["username"] == u.alias == f"finder#{u.id}"
    assert me["id"] == u.id
    assert me["kudos"] == 321
    assert me["trusted"] is True and me["moderator"] is False
    assert me["worker_ids"] == [] and me["worker_count"] == 0
    w = u.image_worker(models=["stable_diffusion"])
    w.pop_empty()
    me = u.find()
    assert me["worker_ids"] == [w.id] and me["worker_count"] == 1
    assert all(UUID_RE.match(i) for i in me["worker_ids"])


def test_find_user_records_follow_usage(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    req.image_async(params={"n": 2})
    req.text_async()
    owner.image_worker().run_one()
    owner.text_worker().run_one("abcdefgh" * 10)
    r, o = req.find()["records"], owner.find()["records"]
    assert r["request"]["image"] == 2 and r["request"]["text"] == 1
    assert o["fulfillment"]["image"] == 1 and o["fulfillment"]["text"] == 1
    assert o["contribution"]["megapixelsteps"] > 0 and o["contribution"]["tokens"] > 0
    assert r["usage"]["megapixelsteps"] > 0 and r["usage"]["tokens"] > 0


def test_find_user_unknown_key_is_404(horde):
    body = assert_error(horde.client("no-such-key-123").get("/find_user"), 404, "UserNotFound")
    assert body["message"] == "User with api_key 'no-such-key-123' not found."


def test_anonymous_user_exists(horde):
    r = horde.client().get("/users/0")
    assert r.status_code == 200
    u = r.json()
    check_user_shape(u)
    assert u["id"] == 0 and u["username"] == "Anonymous#0"
    me = horde.client(ANON_KEY).get("/find_user")
    assert me.status_code == 200 and me.json()["id"] == 0


def test_user_by_id_privileges(horde):
    u = horde.user(kudos=10)
    other = horde.user()
    mod = horde.user(moderator=True)
    w = u.image_worker()
    w.pop_empty()
    public = horde.client().get(f"/users/{u.id}").json()
    check_user_shape(public)
    assert public["id"] == u.id and public["kudos"] == 10
    assert "worker_ids" not in public  # public_workers is off by default
    assert "sharedkey_ids" not in public
    as_other = other.client.get(f"/users/{u.id}").json()
    assert "worker_ids" not in as_other
    as_self = u.client.get(f"/users/{u.id}").json()
    assert as_self["worker_ids"] == [w.id]
    assert "sharedkey_ids" in as_self
    as_mod = mod.client.get(f"/users/{u.id}").json()
    assert "evaluating_kudos" in as_mod and "worker_ids" in as_mod
    assert_error(horde.client("bad-key").get(f"/users/{u.id}"), 401, "InvalidAPIKey")


def test_users_paging_and_sort(horde):
    made = [horde.user(kudos=1000 + 7 * i) for i in range(30)]
    c = horde.client()
    p1 = c.get("/users?page=1").json()
    p2 = c.get("/users", params={"page": 2}).json()
    assert len(p1) == 25
    everyone = p1 + p2
    ids = [u["id"] for u in everyone]
    assert len(ids) == len(set(ids))
    assert {m.id for m in made} <= set(ids)
    assert 0 in ids  # anonymous is a user too
    kudos = [u["kudos"] for u in everyone]
    assert kudos == sorted(kudos, reverse=True)
    assert c.get("/users?page=3").json() == []
    by_age = c.get("/users?page=1&sort=age").json() + c.get("/users?page=2&sort=age").json()
    assert [u["id"] for u in by_age] == sorted(ids)
    assert c.get("/users?page=10001").json() == []
    for u in p1:
        check_user_shape(u)


def test_api_keys_are_stored_hashed(horde):
    u = horde.user(name="hashme", kudos=5)
    assert u.client.get("/find_user").status_code == 200
    horde.user(name="other")  # more writes after the key was set
    raw = horde.raw_store_bytes()
    assert u.key.encode() not in raw
    rows = horde.sql("SELECT * FROM users")
    assert rows, "the users table is empty?"
    assert not any(u.key in str(col) for row in rows for col in row)


# --- CLI -----------------------------------------------------------------------------------------


def _parse_cli_user(out: subprocess.CompletedProcess) -> tuple[str, int, str]:
    assert out.returncode == 0, out.stdout + out.stderr
    m = re.search(r"^user (\S+)#(\d+) api_key (\S+)$", out.stdout, re.M)
    assert m, out.stdout
    return m.group(1), int(m.group(2)), m.group(3)


def test_cli_user_create_and_reset_key(horde_factory):
    h = horde_factory(start=False)
    name, uid, key = _parse_cli_user(h.run_cli("user", "create", "--name", "cliuser",
                                               "--kudos", "55", "--trusted"))
    assert name == "cliuser"
    h.start()
    me = h.client(key).get("/find_user")
    assert me.status_code == 200, me.text
    assert me.json()["username"] == f"cliuser#{uid}"
    assert me.json()["kudos"] == 55 and me.json()["trusted"] is True
    assert h.stop() == 0
    _, uid2, new_key = _parse_cli_user(h.run_cli("user", "reset-key", "--id", str(uid)))
    assert uid2 == uid and new_key != key
    h.start()
    assert_error(h.client(key).post("/generate/async", json={"prompt": "x"}), 401,
                 "InvalidAPIKey")
    assert h.client(new_key).get("/find_user").json()["id"] == uid
    assert h.stop() == 0
    out = h.run_cli("ledger", "check")
    assert out.returncode == 0 and "OK" in out.stdout.split(), out.stdout + out.stderr


def test_cli_accepts_data_dir_after_subcommand(horde_factory):
    h = horde_factory(start=False)
    _parse_cli_user(h.run_cli("user", "create", "--name", "late", data_dir_last=True))
    out = h.run_cli("ledger", "check", data_dir_last=True)
    assert out.returncode == 0, out.stdout + out.stderr


# --- workers -------------------------------------------------------------------------------------


def check_worker_shape(d: dict, kind: str) -> None:
    assert WORKER_ALWAYS <= set(d), sorted(WORKER_ALWAYS - set(d))
    assert d["type"] == kind
    assert UUID_RE.match(d["id"])
    assert is_int(d["requests_fulfilled"]) and is_int(d["uncompleted_jobs"])
    assert is_num(d["kudos_rewards"]) and is_int(d["threads"]) and is_int(d["uptime"])
    assert set(d["kudos_details"]) >= {"generated", "uptime"}
    assert isinstance(d["performance"], str)
    assert d["performance"].endswith("megapixelsteps per second" if kind == "image"
                                     else "tokens per second"), d["performance"]
    assert isinstance(d["online"], bool) and isinstance(d["maintenance_mode"], bool)
    assert d["team"] == {"name": None, "id": None} or set(d["team"]) >= {"name", "id"}
    assert isinstance(d["models"], list)
    assert (IMAGE_WORKER if kind == "image" else TEXT_WORKER) <= set(d), sorted(d)


def test_worker_details(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    w = owner.image_worker(name=unique("Worker"), models=["stable_diffusion", "Deliberate"],
                           max_pixels=1048576, threads=2, allow_lora=True)
    w.pop_empty()
    d = w.details()
    check_worker_shape(d, "image")
    assert d["name"] == w.name
    assert sorted(d["models"]) == ["Deliberate", "stable_diffusion"]
    assert d["max_pixels"] == 1048576 and d["threads"] == 2 and d["lora"] is True
    assert d["bridge_agent"] == w.profile["bridge_agent"]
    assert d["online"] is True and d["requests_fulfilled"] == 0 and d["kudos_rewards"] == 0
    assert d["trusted"] is True
    by_id = horde.client().get(f"/workers/{d['id']}").json()
    assert by_id["name"] == w.name and by_id["id"] == d["id"]
    req.image_async()
    _, sub = w.run_one()
    d = w.details()
    assert d["requests_fulfilled"] == 1
    assert d["kudos_rewards"] > 0
    assert d["megapixelsteps_generated"] > 0
    # the owner sees owner info; the public does not (public_workers off)
    assert "owner" not in horde.client().get(f"/workers/{d['id']}").json()


def test_text_worker_details(horde):
    owner = horde.user(trusted=True)
    w = owner.text_worker(max_length=300, max_context_length=8192,
                          models=["koboldcpp/A-13B", "koboldcpp/B-7B"])
    w.pop_empty()
    d = w.details()
    check_worker_shape(d, "text")
    assert d["max_length"] == 300 and d["max_context_length"] == 8192
    assert sorted(d["models"]) == ["koboldcpp/A-13B", "koboldcpp/B-7B"]


def test_workers_list_online_only(horde):
    owner = horde.user(trusted=True)
    iw = owner.image_worker()
    tw = owner.text_worker()
    iw.pop_empty()
    horde.advance(200)
    tw.pop_empty()
    c = horde.client()
    all_ids = {w["id"] for w in c.get("/workers").json()}
    assert {iw.id, tw.id} <= all_ids
    images = c.get("/workers?type=image").json()
    assert [w["id"] for w in images] == [iw.id]
    check_worker_shape(images[0], "image")
    texts = c.get("/workers?type=text").json()
    assert [w["id"] for w in texts] == [tw.id]
    assert [w["id"] for w in c.get("/workers", params={"name": iw.name.upper()}).json()] \
        == [iw.id]
    # 301 s after its last check-in the image worker is offline; the text one is not yet
    horde.advance(101.5)
    listed = {w["id"] for w in c.get("/workers").json()}
    assert iw.id not in listed and tw.id in listed
    d = c.get(f"/workers/{iw.id}").json()  # still found by id, but offline
    assert d["online"] is False
    assert c.get(f"/workers/name/{iw.name}").json()["online"] is False
    # a pop brings it back
    iw.pop_empty()
    assert c.get(f"/workers/{iw.id}").json()["online"] is True
    assert_error(c.get("/workers?type=nonsense"), 400)


# --- status --------------------------------------------------------------------------------------


def test_heartbeat(horde):
    r = requests.get(horde.api + "/status/heartbeat", timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200
    b = r.json()
    assert b["message"] == "OK"
    assert isinstance(b["version"], str) and b["version"]
    assert is_int(b["queue"]) and is_int(b["threads"]) and is_int(b["active_count"])
    assert b["db_connection"] is True


def test_status_models(horde):
    req = horde.user(kudos=10000)
    owner = horde.user(trusted=True)
    iw = owner.image_worker(models=["stable_diffusion", "Deliberate"], threads=3)
    tw = owner.text_worker(models=["koboldcpp/Model-7B"], threads=2)
    iw.pop_empty()
    tw.pop_empty()
    req.image_async(models=["stable_diffusion"], params={"n": 3})
    req.text_async(models=["koboldcpp/Model-7B"], params={"n": 2, "max_length": 100})
    c = horde.client()
    images = c.get("/status/models", params={"type": "image"}).json()
    default = c.get("/status/models").json()
    assert {m["name"] for m in default} == {m["name"] for m in images}
    by_name = {m["name"]: m for m in images}
    assert {"stable_diffusion", "Deliberate"} <= set(by_name)
    sd = by_name["stable_diffusion"]
    for k, t in MODEL_KEYS.items():
        assert isinstance(sd[k], t) and not isinstance(sd[k], bool), (k, sd[k])
    assert sd["type"] == "image" and sd["count"] == 3
    assert sd["jobs"] == 3
    assert sd["queued"] > 0
    assert by_name["Deliberate"]["jobs"] == 0 and by_name["Deliberate"]["count"] == 3
    texts = c.get("/status/models?type=text").json()
    assert [m["name"] for m in texts] == ["koboldcpp/Model-7B"]
    t = texts[0]
    assert t["type"] == "text" and t["count"] == 2 and t["jobs"] == 2
    assert t["queued"] == 200  # 2 jobs x max_length 100 tokens
    one = c.get("/status/models/stable_diffusion").json()
    assert [m["name"] for m in one] == ["stable_diffusion"] and one[0]["jobs"] == 3
    assert c.get("/status/models?min_count=4").json() == []
    assert_error(c.get("/status/models?type=audio"), 400)
    assert_error(c.get("/status/models?model_state=weird"), 400)


def test_models_drop_offline_workers(horde):
    owner = horde.user(trusted=True)
    owner.image_worker(models=["Deliberate"]).pop_empty()
    c = horde.client()
    assert {m["name"]: m["count"] for m in c.get("/status/models").json()}.get("Deliberate") == 1
    horde.advance(301)
    counts = {m["name"]: m["count"] for m in c.get("/status/models").json()}
    assert counts.get("Deliberate", 0) == 0


def test_status_performance(horde):
    req = horde.user(kudos=10000)
    owner = horde.user(trusted=True)
    c = horde.client()
    p0 = c.get("/status/performance").json()
    assert set(p0) >= PERF_KEYS
    for k in PERF_KEYS:
        assert is_num(p0[k]), (k, p0[k])
    assert p0["queued_requests"] == 0 and p0["worker_count"] == 0
    owner.image_worker(threads=4, models=["Deliberate"]).pop_empty()  # not what is requested
    owner.text_worker(models=["koboldcpp/Unrequested-7B"]).pop_empty()
    req.text_async(models=["koboldcpp/Model-7B"], params={"max_length": 50})
    req.image_async(params={"n": 2})
    p = c.get("/status/performance").json()
    assert p["queued_requests"] == 2 and p["queued_text_requests"] == 1
    assert p["worker_count"] == 1 and p["text_worker_count"] == 1
    assert p["thread_count"] == 4 and p["text_thread_count"] == 1
    assert p["queued_megapixelsteps"] > 0 and p["queued_tokens"] == 50
    hb = c.get("/status/heartbeat").json()
    assert hb["active_count"] == 2 and hb["threads"] == 5
    # a delivery shows up in past_minute_megapixelsteps, for a minute
    w = owner.image_worker(models=["stable_diffusion"])
    w.run_one()
    p = c.get("/status/performance").json()
    assert p["past_minute_megapixelsteps"] > 0
    assert p["queued_requests"] == 1
    horde.advance(61)
    assert c.get("/status/performance").json()["past_minute_megapixelsteps"] == 0


def test_status_modes(horde):
    mod = horde.user(moderator=True)
    plain = horde.user()
    m = horde.client().get("/status/modes").json()
    assert m == {"maintenance_mode": False, "invite_only_mode": False}
    as_mod = mod.client.get("/status/modes").json()
    assert as_mod["raid_mode"] is False
    assert_error(plain.client.get("/status/modes"), 403, "NotModerator")
    assert_error(horde.client("bad").get("/status/modes"), 401, "InvalidAPIKey")


def test_cli_on_a_running_server(horde):
    """Admin commands may run on the data dir of a live server; it picks the change up."""
    _, uid, key = _parse_cli_user(horde.run_cli("user", "create", "--name", "liveuser",
                                                "--kudos", "12", "--trusted"))
    horde.advance(0)  # one sweep (it also runs every second on its own)
    me = horde.client(key).get("/find_user")
    assert me.status_code == 200, me.text
    assert me.json()["id"] == uid and me.json()["kudos"] == 12
    # the new user can work right away, and the server's own users are still there
    other = horde.user(kudos=1000)
    other.image_async()
    w = horde.client(key)
    r = w.post("/generate/pop", json={"name": "live-cli-worker", "models": ["stable_diffusion"]})
    assert r.status_code == 200 and r.json()["id"], r.text
    _, _, new_key = _parse_cli_user(horde.run_cli("user", "reset-key", "--id", str(uid)))
    horde.advance(0)
    assert_error(horde.client(key).post("/generate/async", json={"prompt": "x"}), 401,
                 "InvalidAPIKey")
    assert horde.client(new_key).get("/find_user").json()["id"] == uid
    assert other.find()["records"]["request"]["image"] == 1
    out = horde.run_cli("ledger", "check")
    assert out.returncode == 0 and "OK" in out.stdout.split(), out.stdout + out.stderr
