"""Text requests end to end, and cancellation (contract §1.2, §2.6, §9.2)."""

from __future__ import annotations

from conftest import UUID_RE, approx_kudos, assert_error, unique

TEXT_POP_KEYS = {"payload", "id", "ids", "messages", "ttl", "extra_source_images", "skipped",
                 "softprompt", "model"}


def test_text_round_trip(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True, kudos=0)
    worker = owner.text_worker(models=["koboldcpp/TestModel-7B"])
    worker.pop_empty()
    req_before, owner_before = req.kudos(), owner.kudos()
    prompt = unique("The old lighthouse keeper said: ")
    acc = req.text_async(prompt=prompt, models=["koboldcpp/TestModel-7B"],
                         params={"max_length": 120, "max_context_length": 1024,
                                 "temperature": 0.7, "n": 1})
    assert UUID_RE.match(acc["id"]), acc
    assert isinstance(acc["kudos"], (int, float))
    rid = acc["id"]

    job = worker.pop_job()
    assert TEXT_POP_KEYS <= set(job), sorted(job)
    assert UUID_RE.match(job["id"]) and job["ids"] == [job["id"]]
    assert job["model"] == "koboldcpp/TestModel-7B"
    assert job["ttl"] == 150
    assert job["skipped"] == {}
    p = job["payload"]
    assert p["prompt"] == prompt
    assert p["n"] == 1
    assert p["max_length"] == 120 and p["max_context_length"] == 1024
    assert p["temperature"] == 0.7

    st = req.client.get(f"/generate/text/status/{rid}").json()
    assert (st["processing"], st["waiting"], st["done"]) == (1, 0, False), st

    text = "and the sea was calm that night, calmer than anyone remembered."
    sub = worker.submit(job["id"], text, seed=4242)
    assert set(sub) == {"reward"} and sub["reward"] > 0

    st = req.client.get(f"/generate/text/status/{rid}")
    assert st.status_code == 200
    s = st.json()
    assert s["done"] is True and s["finished"] == 1 and s["processing"] == 0
    assert len(s["generations"]) == 1
    g = s["generations"][0]
    assert g["text"] == text
    assert g["seed"] == 4242 and isinstance(g["seed"], int)  # int on the text side
    assert g["worker_name"] == worker.name
    assert g["worker_id"] == worker.id
    assert g["model"] == "koboldcpp/TestModel-7B"
    assert g["state"] == "ok"
    assert "img" not in g
    for key in ("finished", "processing", "restarted", "waiting", "done", "faulted",
                "wait_time", "queue_position", "kudos", "is_possible"):
        assert key in s, key
    assert s["kudos"] > 0
    assert approx_kudos(req_before - req.kudos(), s["kudos"])
    assert approx_kudos(owner.kudos() - owner_before, sub["reward"])


def test_text_seed_defaults_to_zero(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    worker = owner.text_worker()
    rid = req.text_async()["id"]
    job = worker.pop_job()
    r = worker.submit_raw(job["id"], generation="no seed sent")
    assert r.status_code == 200, r.text
    g = req.client.get(f"/generate/text/status/{rid}").json()["generations"][0]
    assert g["seed"] == 0


def test_text_has_no_check_endpoint_but_status_404s_for_image_ids(horde):
    req = horde.user(kudos=1000)
    rid = req.text_async()["id"]
    # a text id is not an image request
    assert_error(req.client.get(f"/generate/status/{rid}"), 404, "RequestNotFound")
    assert req.client.get(f"/generate/text/status/{rid}").status_code == 200


def test_cancel_queued_text_request(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    worker = owner.text_worker()
    rid = req.text_async(params={"n": 2})["id"]
    r = req.client.delete(f"/generate/text/status/{rid}")
    assert r.status_code == 200, r.text
    before = r.json()
    # DELETE answers the status as it was before the cancel
    assert before["waiting"] == 2 and before["done"] is False
    assert isinstance(before["generations"], list)
    s = req.client.get(f"/generate/text/status/{rid}").json()
    assert s["done"] is True, s
    assert s["waiting"] == 0
    worker.pop_empty()
    # cancelling twice is harmless
    assert req.client.delete(f"/generate/text/status/{rid}").status_code == 200


def test_cancel_queued_image_request(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    worker = owner.image_worker()
    rid = req.image_async(params={"n": 3})["id"]
    r = req.client.delete(f"/generate/status/{rid}")
    assert r.status_code == 200, r.text
    assert r.json()["waiting"] == 3
    c = req.client.get(f"/generate/check/{rid}").json()
    assert c["done"] is True and c["waiting"] == 0, c
    worker.pop_empty()


def test_cancel_needs_no_apikey(horde):
    req = horde.user(kudos=1000)
    rid = req.image_async()["id"]
    anon = horde.client()
    assert anon.delete(f"/generate/status/{rid}").status_code == 200


def test_in_flight_text_job_settles_after_cancel(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True, kudos=0)
    worker = owner.text_worker()
    rid = req.text_async(params={"n": 2})["id"]
    job = worker.pop_job()  # one of two jobs in flight
    req_before, owner_before = req.kudos(), owner.kudos()
    r = req.client.delete(f"/generate/text/status/{rid}")
    assert r.status_code == 200
    assert r.json()["processing"] == 1
    s = req.client.get(f"/generate/text/status/{rid}").json()
    assert s["done"] is False and s["processing"] == 1 and s["waiting"] == 0, s
    worker.pop_empty()  # the other slot is gone
    sub = worker.submit(job["id"], "finished despite the cancel")
    assert sub["reward"] > 0
    s = req.client.get(f"/generate/text/status/{rid}").json()
    assert s["done"] is True, s
    assert s["finished"] == 1
    assert s["generations"][0]["text"] == "finished despite the cancel"
    # the delivery was settled: worker paid, requester charged
    assert approx_kudos(owner.kudos() - owner_before, sub["reward"])
    assert req.kudos() < req_before


def test_in_flight_image_job_settles_after_cancel(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True, kudos=0)
    worker = owner.image_worker()
    rid = req.image_async(params={"n": 2})["id"]
    job = worker.pop_job()
    before = req.kudos()
    r = req.client.delete(f"/generate/status/{rid}")
    assert r.status_code == 200 and r.json()["processing"] == 1
    worker.pop_empty()
    sub = worker.deliver(job)
    assert sub["reward"] > 0
    st = req.client.get(f"/generate/status/{rid}").json()
    assert st["done"] is True and st["finished"] == 1
    assert len(st["generations"]) == 1
    assert owner.kudos() > 0
    assert req.kudos() < before


def test_text_status_has_no_shared_and_censored_state(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    w = owner.text_worker()
    rid = req.text_async()["id"]
    job = w.pop_job()
    r = w.submit_raw(job["id"], generation="[redacted]", state="censored", seed=1)
    assert r.status_code == 200, r.text
    s = req.client.get(f"/generate/text/status/{rid}").json()
    assert "shared" not in s
    g = s["generations"][0]
    assert g["state"] == "censored"
    # censored: the requester pays activation 1 + (0 + 1)
    assert s["kudos"] == 2


def test_cancel_after_partial_delivery(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    w = owner.image_worker()
    rid = req.image_async(params={"n": 3})["id"]
    first = w.pop_job()
    w.deliver(first)
    second = w.pop_job()
    r = req.client.delete(f"/generate/status/{rid}")
    assert r.status_code == 200
    before = r.json()
    assert (before["finished"], before["processing"], before["waiting"]) == (1, 1, 1), before
    assert len(before["generations"]) == 1  # DELETE returns what was delivered so far
    c = req.client.get(f"/generate/check/{rid}").json()
    assert (c["finished"], c["processing"], c["waiting"], c["done"]) == (1, 1, 0, False), c
    w.pop_empty()
    w.deliver(second)
    st = req.client.get(f"/generate/status/{rid}").json()
    assert st["done"] is True and st["finished"] == 2
    assert {g["id"] for g in st["generations"]} == {first["id"], second["id"]}


def test_fault_after_cancel_does_not_requeue(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    w = owner.text_worker()
    rid = req.text_async(params={"n": 2})["id"]
    job = w.pop_job()
    assert req.client.delete(f"/generate/text/status/{rid}").status_code == 200
    r = w.submit_raw(job["id"], generation="", state="faulted")
    assert r.status_code == 200, r.text
    s = req.client.get(f"/generate/text/status/{rid}").json()
    assert s["done"] is True and s["waiting"] == 0, s
    w.pop_empty()


def test_timeout_after_cancel_does_not_requeue(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    w = owner.image_worker()
    rid = req.image_async()["id"]
    w.pop_job()
    assert req.client.delete(f"/generate/status/{rid}").status_code == 200
    horde.advance(200)
    c = req.client.get(f"/generate/check/{rid}").json()
    assert c["done"] is True and c["waiting"] == 0 and c["processing"] == 0, c
    w.pop_empty()
