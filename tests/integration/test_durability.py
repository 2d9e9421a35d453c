"""Crash safety: what was acknowledged survives `kill -9` (contract §6, §9.3)."""

from __future__ import annotations

import requests

from conftest import HTTP_TIMEOUT_S, TINY_WEBP, assert_error


def _ledger_check(horde) -> str:
    out = horde.run_cli("ledger", "check")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "OK" in out.stdout.split(), out.stdout
    return out.stdout


def test_queued_request_survives_kill9(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    prompt = "durable request " + horde.data_dir.name
    rid = req.image_async(prompt=prompt, params={"n": 2})["id"]
    horde.kill9()
    horde.restart()
    c = req.client.get(f"/generate/check/{rid}")
    assert c.status_code == 200, c.text
    assert (c.json()["waiting"], c.json()["done"]) == (2, False)
    job = owner.image_worker().pop_job(amount=1)
    assert job["payload"]["prompt"] == prompt
    assert req.client.get(f"/generate/check/{rid}").json()["processing"] == 1


def test_text_request_survives_kill9(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    rid = req.text_async(prompt="remember me")["id"]
    horde.kill9()
    horde.restart()
    assert req.client.get(f"/generate/text/status/{rid}").status_code == 200
    job = owner.text_worker().pop_job()
    assert job["payload"]["prompt"] == "remember me"


def test_popped_job_survives_kill9(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True, kudos=0)
    w = owner.image_worker()
    rid = req.image_async()["id"]
    job = w.pop_job()
    horde.kill9()
    horde.restart()  # same port, so the r2_upload URL the worker holds still works
    c = req.client.get(f"/generate/check/{rid}").json()
    assert (c["processing"], c["waiting"]) == (1, 0), c
    w.pop_empty()  # the slot is still taken by the job in flight
    reward = w.deliver(job, data=TINY_WEBP + b"after-crash")["reward"]
    assert reward > 0
    st = req.client.get(f"/generate/status/{rid}").json()
    assert st["done"] is True
    dl = requests.get(st["generations"][0]["img"], timeout=HTTP_TIMEOUT_S)
    assert dl.content == TINY_WEBP + b"after-crash"


def test_requeued_slot_and_the_next_claim_survive_kill9(horde):
    # A claim is stored with its jobs, a timeout's requeue with the request: after a crash the
    # later of the two decides how many slots are left.
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True, kudos=0)
    w = owner.image_worker()
    rid = req.image_async(params={"n": 2})["id"]
    first = w.pop_job()
    assert req.client.get(f"/generate/check/{rid}").json()["waiting"] == 1
    horde.advance(first["ttl"] + 10)  # past the ttl: the slot goes back to the queue
    c = req.client.get(f"/generate/check/{rid}").json()
    assert (c["waiting"], c["processing"], c["restarted"]) == (2, 0, 1), c
    horde.kill9()
    horde.restart()
    c = req.client.get(f"/generate/check/{rid}").json()
    assert (c["waiting"], c["processing"], c["restarted"]) == (2, 0, 1), c
    second = w.pop_job()
    assert second["id"] != first["id"]
    horde.kill9()
    horde.restart()
    c = req.client.get(f"/generate/check/{rid}").json()
    assert (c["waiting"], c["processing"]) == (1, 1), c
    third = w.pop_job()
    assert third["id"] not in (first["id"], second["id"])
    w.pop_empty()  # both slots are out: nothing is handed out twice


def test_upload_before_crash_submit_after(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    w = owner.image_worker()
    rid = req.image_async()["id"]
    job = w.pop_job()
    assert w.upload(job["r2_upload"], TINY_WEBP + b"early").status_code in (200, 201, 204)
    horde.kill9()
    horde.restart()
    w.submit(job["id"], "R2", seed=5)
    st = req.client.get(f"/generate/status/{rid}").json()
    dl = requests.get(st["generations"][0]["img"], timeout=HTTP_TIMEOUT_S)
    assert dl.content == TINY_WEBP + b"early"


def test_delivery_and_accounts_survive_kill9(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True, kudos=0)
    iw = owner.image_worker()
    tw = owner.text_worker()
    rid = req.image_async(params={"n": 2})["id"]
    tid = req.text_async()["id"]
    job = iw.pop_job()
    iw.deliver(job)
    tw.run_one("kept text")
    before = {
        "req": req.find(), "owner": owner.find(),
        "iw": iw.details(), "tw": tw.details(),
        "status": req.client.get(f"/generate/status/{rid}").json(),
        "text": req.client.get(f"/generate/text/status/{tid}").json(),
    }
    horde.kill9()
    _ledger_check(horde)  # a crash leaves a consistent ledger
    horde.restart()
    after_req, after_owner = req.find(), owner.find()
    assert after_req["kudos"] == before["req"]["kudos"]
    assert after_owner["kudos"] == before["owner"]["kudos"]
    assert after_req["records"] == before["req"]["records"]
    assert sorted(after_owner["worker_ids"]) == sorted(before["owner"]["worker_ids"])
    for key in ("iw", "tw"):
        w = iw if key == "iw" else tw
        d = w.details()
        for field in ("id", "name", "requests_fulfilled", "kudos_rewards", "models", "type"):
            assert d[field] == before[key][field], (field, d[field], before[key][field])
    st = req.client.get(f"/generate/status/{rid}").json()
    assert st["finished"] == 1 and st["waiting"] == 1
    assert st["kudos"] == before["status"]["kudos"]
    assert [g["id"] for g in st["generations"]] == [g["id"] for g in
                                                    before["status"]["generations"]]
    t = req.client.get(f"/generate/text/status/{tid}").json()
    assert t["generations"][0]["text"] == "kept text"
    # and the finished request can still be completed after the restart
    iw.run_one()
    assert req.client.get(f"/generate/status/{rid}").json()["done"] is True
    horde.stop()
    _ledger_check(horde)


def test_keys_survive_and_rotate(horde):
    u = horde.user(name="keeper", oauth_id="keeper-oauth", kudos=77)
    old_key = u.key
    horde.kill9()
    horde.restart()
    assert horde.client(old_key).get("/find_user").status_code == 200
    again = horde.user(name="keeper", oauth_id="keeper-oauth", kudos=77)
    assert again.id == u.id and again.key != old_key
    horde.kill9()
    horde.restart()
    assert horde.client(again.key).get("/find_user").json()["kudos"] == 77
    r = horde.client(old_key).post("/generate/async", json={"prompt": "x"})
    assert_error(r, 401, "InvalidAPIKey")


def test_clean_restart_keeps_everything(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    w = owner.image_worker()
    rid = req.image_async()["id"]
    w.run_one()
    before = req.find()["kudos"]
    assert horde.stop() == 0  # SIGTERM: a clean exit
    _ledger_check(horde)
    horde.restart()
    assert req.find()["kudos"] == before
    assert req.client.get(f"/generate/status/{rid}").json()["done"] is True


def test_restart_on_existing_store_with_many_rows(horde):
    req = horde.user(kudos=100000)
    owner = horde.user(trusted=True)
    w = owner.text_worker()
    ids = [req.text_async(params={"n": 1})["id"] for _ in range(20)]
    for _ in range(10):
        w.run_one("x")
    horde.kill9()
    horde.restart()
    waiting = sum(req.client.get(f"/generate/text/status/{i}").json()["waiting"] for i in ids)
    assert waiting == 10
    done = sum(req.client.get(f"/generate/text/status/{i}").json()["done"] for i in ids)
    assert done == 10
    horde.stop()
    _ledger_check(horde)
