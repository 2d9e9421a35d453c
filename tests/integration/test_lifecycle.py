"""Job timeouts, worker faults, request expiry and purge (contract §2.4-§2.6).

Time passes only through POST /dev/clock, which also runs the periodic sweep at once."""

from __future__ import annotations

import uuid

from conftest import TINY_WEBP, assert_error

REQUEST_LIFETIME_S = 20 * 60


def test_job_timeout_requeues_and_late_submit_is_aborted(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True, kudos=0)
    slow = owner.image_worker()
    other = owner.image_worker()
    rid = req.image_async()["id"]
    job = slow.pop_job()
    ttl = job["ttl"]
    other.pop_empty()  # nothing left while the job is out
    horde.advance(ttl - 5)
    other.pop_empty()  # not yet timed out
    c = req.client.get(f"/generate/check/{rid}").json()
    assert c["processing"] == 1
    horde.advance(10)  # now past the ttl: the sweep aborts it and requeues the slot
    c = req.client.get(f"/generate/check/{rid}").json()
    assert (c["processing"], c["restarted"], c["waiting"], c["done"]) == (0, 1, 1, False), c
    job2 = other.pop_job()
    assert job2["id"] != job["id"]
    # the late worker's upload and submit are refused
    late = slow.submit_raw(job["id"], generation="R2", seed=1)
    body = assert_error(late, 400, "AbortedGen")
    assert body["message"].startswith(f"Processing Generation with ID {job['id']} took too long "
                                      "to process and has been aborted!"), body["message"]
    b64 = slow.submit_raw(job["id"], generation="aGVsbG8=", seed=1)
    assert_error(b64, 400, "AbortedGen")
    # the second worker finishes the request; nobody paid for the aborted job
    reward = other.deliver(job2)["reward"]
    st = req.client.get(f"/generate/status/{rid}").json()
    assert st["done"] is True and st["finished"] == 1 and st["restarted"] == 1
    assert [g["id"] for g in st["generations"]] == [job2["id"]]
    assert abs(owner.kudos() - round(reward * 0.9, 2)) <= 0.02
    assert slow.details()["uncompleted_jobs"] == 1


def test_text_job_timeout(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    w = owner.text_worker()
    rid = req.text_async()["id"]
    job = w.pop_job()
    assert job["ttl"] == 150
    horde.advance(151)
    s = req.client.get(f"/generate/text/status/{rid}").json()
    assert (s["processing"], s["waiting"], s["restarted"]) == (0, 1, 1), s
    assert_error(w.submit_raw(job["id"], generation="late"), 400, "AbortedGen")
    job2 = w.pop_job()
    w.submit(job2["id"], "on time")
    s = req.client.get(f"/generate/text/status/{rid}").json()
    assert s["done"] is True and s["generations"][0]["text"] == "on time"


def test_worker_fault_requeues_then_faults_the_request(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True, kudos=0)
    w = owner.image_worker()
    rid = req.image_async()["id"]
    for attempt in range(1, 4):
        job = w.pop_job()
        r = w.submit_raw(job["id"], generation="", state="faulted", seed=0)
        assert r.status_code == 200, r.text
        assert r.json() == {"reward": 0} or r.json()["reward"] == 0
        horde.advance(61)  # one periodic pass, whichever pass marks faulted requests
        c = req.client.get(f"/generate/check/{rid}").json()
        assert c["restarted"] == attempt, c
        if attempt < 3:
            assert (c["faulted"], c["done"], c["waiting"]) == (False, False, 1), c
    c = req.client.get(f"/generate/check/{rid}").json()
    assert c["faulted"] is True and c["done"] is True, c
    st = req.client.get(f"/generate/status/{rid}").json()
    assert st["faulted"] is True and st["generations"] == []
    w.pop_empty()
    assert owner.kudos() == 0
    # a faulted job cannot be submitted afterwards
    assert_error(w.submit_raw(job["id"], generation="R2", seed=1), 400, "AbortedGen")


def test_text_worker_fault_requeues(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    w = owner.text_worker()
    rid = req.text_async()["id"]
    job = w.pop_job()
    r = w.submit_raw(job["id"], generation="", state="faulted")
    assert r.status_code == 200 and r.json()["reward"] == 0, r.text
    s = req.client.get(f"/generate/text/status/{rid}").json()
    assert (s["waiting"], s["restarted"], s["done"]) == (1, 1, False), s
    w.run_one("second try")
    s = req.client.get(f"/generate/text/status/{rid}").json()
    assert s["done"] is True and s["generations"][0]["text"] == "second try"


def _store_has(horde, needle: bytes) -> bool:
    return needle in horde.raw_store_bytes()


def test_delivered_request_expires_and_is_purged(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    w = owner.image_worker()
    canary = "expiry-canary-" + uuid.uuid4().hex
    rid = req.image_async(prompt=f"a {canary} on a hill")["id"]
    job = w.pop_job()
    w.deliver(job, data=TINY_WEBP + b"result-bytes")
    assert req.client.get(f"/generate/status/{rid}").status_code == 200
    result_files = [p.name for p in horde.results_dir.iterdir()]
    assert any(name.startswith(job["id"]) for name in result_files), result_files
    assert horde.sql("SELECT count(*) FROM jobs") == [(1,)]

    # Results stay retrievable for a while after delivery...
    horde.advance(REQUEST_LIFETIME_S - 60)
    assert req.client.get(f"/generate/status/{rid}").status_code == 200
    # ...and are gone once the request expired and a sweep ran.
    horde.advance(120)
    assert_error(req.client.get(f"/generate/status/{rid}"), 404, "RequestNotFound")
    assert_error(req.client.get(f"/generate/check/{rid}"), 404, "RequestNotFound")
    assert_error(req.client.delete(f"/generate/status/{rid}"), 404, "RequestNotFound")

    assert not any(p.name.startswith(job["id"]) for p in horde.results_dir.iterdir()), \
        list(horde.results_dir.iterdir())
    assert not _store_has(horde, canary.encode()), "the prompt is still in the store files"
    assert horde.sql("SELECT count(*) FROM requests") == [(0,)]
    assert horde.sql("SELECT count(*) FROM jobs") == [(0,)]
    # a worker still holding the job id gets the usual answer
    assert_error(w.submit_raw(job["id"], generation="R2", seed=1), 404, "InvalidJobID")


def test_delivered_text_request_is_purged(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    w = owner.text_worker()
    prompt_canary = "prompt-canary-" + uuid.uuid4().hex
    text_canary = "text-canary-" + uuid.uuid4().hex
    rid = req.text_async(prompt=f"Tell me about {prompt_canary}")["id"]
    w.run_one(f"It is {text_canary}.")
    horde.advance(REQUEST_LIFETIME_S + 61)
    assert_error(req.client.get(f"/generate/text/status/{rid}"), 404, "RequestNotFound")
    raw = horde.raw_store_bytes()
    assert prompt_canary.encode() not in raw
    assert text_canary.encode() not in raw
    assert horde.sql("SELECT count(*) FROM requests") == [(0,)]
    assert horde.sql("SELECT count(*) FROM jobs") == [(0,)]


def test_unserved_request_expires(horde):
    req = horde.user(kudos=1000)
    rid = req.image_async()["id"]
    horde.advance(REQUEST_LIFETIME_S - 60)
    assert req.client.get(f"/generate/check/{rid}").status_code == 200
    horde.advance(120)
    assert_error(req.client.get(f"/generate/check/{rid}"), 404, "RequestNotFound")
    owner = horde.user(trusted=True)
    owner.image_worker().pop_empty()


def test_pop_refreshes_expiry(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    w = owner.text_worker()
    rid = req.text_async(params={"n": 2})["id"]
    horde.advance(REQUEST_LIFETIME_S - 60)
    job = w.pop_job()  # pushes the expiry to now + 20 min
    w.submit(job["id"], "first")
    horde.advance(120)  # past the original expiry
    s = req.client.get(f"/generate/text/status/{rid}")
    assert s.status_code == 200, s.text
    assert s.json()["waiting"] == 1


def test_job_ttl(horde):
    req = horde.user(kudos=100000)
    owner = horde.user(trusted=True)
    w = owner.image_worker(max_pixels=1024 * 1024)
    req.image_async()
    assert w.pop_job()["ttl"] == 150  # the floor
    req.image_async(params={"width": 1024, "height": 1024, "steps": 50})
    assert w.pop_job()["ttl"] == 30 + 50 * 2 * 4
    slow = owner.image_worker(extra_slow_worker=True)
    req.image_async(extra_slow_workers=True)
    assert slow.pop_job()["ttl"] == 3 * 150


def test_a_flood_of_timeouts_requeues_every_job(horde):
    """More jobs time out at once than one pass of the sweep aborts under one hold of the lock
    (512): every one is aborted, its slot requeued, and the worker's count adds up."""
    owner = horde.user(trusted=True)
    gone = owner.image_worker()
    rids = []
    for _ in range(20):  # 26 jobs each: within a user's limit of parallel jobs
        req = horde.user(kudos=100000)
        rids += [(req, req.image_async(params={"n": 2})["id"]) for _ in range(13)]
    jobs = []
    while len(jobs) < 520:
        job = gone.pop()
        if job["id"] is None:
            break
        jobs.append(job)
    assert len(jobs) == 520
    horde.advance(max(j["ttl"] for j in jobs) + 1)  # one sweep, at once
    # Read at once (the next background sweep is up to a second away): the last jobs popped,
    # the last the sweep reaches, first.
    assert gone.details()["uncompleted_jobs"] == 520
    for req, rid in reversed(rids):
        c = req.client.get(f"/generate/check/{rid}").json()
        assert (c["processing"], c["restarted"], c["waiting"]) == (0, 2, 2), c
    # the requeued slots are handed out again
    assert gone.pop_job()["id"] not in {j["id"] for j in jobs}
