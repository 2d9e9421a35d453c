"""Image requests end to end: what a client and a worker see (contract §1.1, §2, §4.1)."""

from __future__ import annotations

import base64

import requests

from conftest import (HTTP_TIMEOUT_S, TINY_WEBP, UUID_RE, approx_kudos, assert_error, run_threads,
                      unique)

CHECK_KEYS = {"finished": int, "processing": int, "restarted": int, "waiting": int, "done": bool,
              "faulted": bool, "wait_time": int, "queue_position": int, "kudos": (int, float),
              "is_possible": bool}

POP_JOB_KEYS = {"payload", "id", "ids", "messages", "ttl", "skipped", "model", "source_image",
                "source_processing", "source_mask", "extra_source_images", "r2_upload",
                "r2_uploads"}


def check_shape(body: dict) -> None:
    for key, typ in CHECK_KEYS.items():
        assert key in body, (key, body)
        assert isinstance(body[key], typ) and not (typ is int and isinstance(body[key], bool)), \
            (key, body[key])


def test_async_accepts_with_id_and_price(horde):
    req = horde.user(kudos=500)
    r = req.client.post("/generate/async", json={"prompt": "a lighthouse at dusk",
                                                 "params": {"steps": 30}})
    assert r.status_code == 202, r.text
    body = r.json()
    assert UUID_RE.match(body["id"]), body
    assert isinstance(body["kudos"], (int, float)) and body["kudos"] > 0
    # No worker is online yet: the request is queued anyway, with a warning.
    assert any(w["code"] == "NoAvailableWorker" for w in body.get("warnings", [])), body
    assert isinstance(body.get("message"), str)
    assert req.client.get(f"/generate/check/{body['id']}").status_code == 200


def test_dry_run_prices_and_stores_nothing(horde):
    req = horde.user(kudos=500)
    before = req.find()
    r = req.client.post("/generate/async", json={"prompt": "dry", "dry_run": True,
                                                 "params": {"n": 2}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "id" not in body, body
    assert isinstance(body["kudos"], (int, float)) and body["kudos"] > 0
    # A bigger request costs more.
    r2 = req.client.post("/generate/async", json={"prompt": "dry", "dry_run": True,
                                                  "params": {"n": 4}})
    assert r2.status_code == 200 and r2.json()["kudos"] > body["kudos"], r2.text
    after = req.find()
    assert after["kudos"] == before["kudos"]
    assert after["records"]["request"]["image"] == before["records"]["request"]["image"]
    assert horde.sql("SELECT count(*) FROM requests") == [(0,)]
    # And no worker can get anything.
    owner = horde.user(trusted=True)
    owner.image_worker().pop_empty()


def test_check_and_status_shapes_while_queued(horde):
    req = horde.user(kudos=500)
    rid = req.image_async(params={"n": 2})["id"]
    chk = req.client.get(f"/generate/check/{rid}")
    assert chk.status_code == 200
    c = chk.json()
    check_shape(c)
    assert set(c) == set(CHECK_KEYS), sorted(c)
    assert (c["waiting"], c["processing"], c["finished"], c["done"]) == (2, 0, 0, False)
    assert c["queue_position"] == 1
    st = req.client.get(f"/generate/status/{rid}")
    assert st.status_code == 200
    s = st.json()
    check_shape(s)
    assert s["generations"] == []
    assert isinstance(s["shared"], bool)
    # status and check need no apikey at all
    assert requests.get(horde.api + f"/generate/status/{rid}", timeout=HTTP_TIMEOUT_S).status_code == 200


def test_r2_round_trip_and_accounting(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True, kudos=0)
    worker = owner.image_worker(models=["stable_diffusion"])
    worker.pop_empty()  # registers the worker
    req_before = req.kudos()
    owner_before = owner.kudos()
    prompt = unique("a red fox in snow ")
    acc = req.image_async(prompt=prompt, models=["stable_diffusion"],
                          params={"steps": 20, "width": 512, "height": 512})
    rid = acc["id"]
    assert "warnings" not in acc or not any(w["code"] == "NoAvailableWorker"
                                           for w in acc["warnings"]), acc

    job = worker.pop_job()
    assert POP_JOB_KEYS <= set(job), sorted(job)
    assert UUID_RE.match(job["id"]) and job["ids"] == [job["id"]]
    assert job["model"] == "stable_diffusion"
    assert isinstance(job["ttl"], int) and job["ttl"] >= 150
    assert job["skipped"] == {}
    p = job["payload"]
    assert p["prompt"] == prompt
    assert p["ddim_steps"] == 20 and p["n_iter"] == 1
    assert p["width"] == 512 and p["height"] == 512
    assert isinstance(p["seed"], str) and p["seed"].isdigit(), p
    assert "n" not in p and "steps" not in p
    assert job["r2_upload"] == job["r2_uploads"][0]
    assert job["r2_upload"].startswith("http")

    chk = req.client.get(f"/generate/check/{rid}").json()
    assert (chk["processing"], chk["waiting"], chk["done"]) == (1, 0, False), chk

    data = TINY_WEBP + unique("payload").encode()
    up = worker.upload(job["r2_upload"], data)
    assert up.status_code in (200, 201, 204), up.text
    sub = worker.submit(job["id"], "R2", seed=987654321)
    assert set(sub) == {"reward"} and isinstance(sub["reward"], (int, float))
    assert sub["reward"] > 0

    chk = req.client.get(f"/generate/check/{rid}").json()
    assert (chk["finished"], chk["processing"], chk["waiting"], chk["done"]) == (1, 0, 0, True)
    st = req.client.get(f"/generate/status/{rid}").json()
    check_shape(st)
    assert len(st["generations"]) == 1
    g = st["generations"][0]
    assert g["id"] == job["id"]
    assert g["seed"] == "987654321"  # seed reported as a string on the image side
    assert g["worker_name"] == worker.name
    assert g["worker_id"] == worker.id
    assert g["model"] == "stable_diffusion"
    assert g["state"] == "ok" and g["censored"] is False
    assert isinstance(g["gen_metadata"], list)
    assert g["img"].startswith("http")
    dl = requests.get(g["img"], timeout=HTTP_TIMEOUT_S)
    assert dl.status_code == 200
    assert dl.content == data

    # Kudos: the requester paid exactly what status reports; the worker's owner got paid.
    req_after = req.kudos()
    owner_after = owner.kudos()
    assert st["kudos"] > 0
    assert approx_kudos(req_before - req_after, st["kudos"]), (req_before, req_after, st["kudos"])
    assert owner_after > owner_before
    assert owner_after - owner_before <= sub["reward"] + 0.011
    # The reward is at least the advertised per-job price (SD1 model, multiplier 1) before the
    # bridge multiplier (0.9 for an older official reGen).
    assert approx_kudos(sub["reward"], acc["kudos"], 0.02), (sub, acc)
    assert approx_kudos(owner_after - owner_before, round(sub["reward"] * 0.9, 2), 0.02)
    # check reports the same consumed kudos as status
    assert req.client.get(f"/generate/check/{rid}").json()["kudos"] == st["kudos"]


def test_base64_submit_and_r2_false_returns_base64(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    worker = owner.image_worker()
    rid = req.image_async(r2=False)["id"]
    job = worker.pop_job()
    data = TINY_WEBP + b"\x00\x01inline"
    sub = worker.submit(job["id"], base64.b64encode(data).decode(), seed=42)
    assert sub["reward"] > 0
    st = req.client.get(f"/generate/status/{rid}").json()
    assert st["done"] is True
    g = st["generations"][0]
    assert not g["img"].startswith("http"), g["img"][:80]
    assert base64.b64decode(g["img"]) == data
    assert g["seed"] == "42"


def test_base64_submit_with_r2_true_is_downloadable(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    worker = owner.image_worker()
    rid = req.image_async()["id"]
    job = worker.pop_job()
    data = TINY_WEBP + b"via-base64"
    worker.submit(job["id"], base64.b64encode(data).decode(), seed=7)
    g = req.client.get(f"/generate/status/{rid}").json()["generations"][0]
    dl = requests.get(g["img"], timeout=HTTP_TIMEOUT_S)
    assert dl.status_code == 200 and dl.content == data


def test_batching_n3_amount2(horde):
    req = horde.user(kudos=2000)
    owner = horde.user(trusted=True)
    # max_pixels 4x the image so that a batch of 2 fits (safe amount rule, §3.4)
    worker = owner.image_worker(max_pixels=1024 * 1024)
    rid = req.image_async(params={"n": 3, "seed": "100", "seed_variation": 5})["id"]
    first = worker.pop_job(amount=2)
    assert len(first["ids"]) == 2 and len(set(first["ids"])) == 2
    assert first["id"] == first["ids"][0]
    assert len(first["r2_uploads"]) == 2 and len(set(first["r2_uploads"])) == 2
    assert first["payload"]["n_iter"] == 2
    chk = req.client.get(f"/generate/check/{rid}").json()
    assert (chk["processing"], chk["waiting"]) == (2, 1), chk
    second = worker.pop_job(amount=2)
    assert len(second["ids"]) == 1
    assert second["payload"]["n_iter"] == 1
    # seed_variation: job k of the request gets seed + variation * k
    assert first["payload"]["seed"] == "100"
    assert second["payload"]["seed"] == "110"
    assert not set(second["ids"]) & set(first["ids"])
    worker.pop_empty(amount=2)
    for i in range(2):
        worker.deliver(first, i, data=TINY_WEBP + bytes([i]), seed=100 + i)
    worker.deliver(second, 0, data=TINY_WEBP + b"\x02", seed=110)
    st = req.client.get(f"/generate/status/{rid}").json()
    assert st["done"] is True and st["finished"] == 3
    assert sorted(g["id"] for g in st["generations"]) == sorted(first["ids"] + second["ids"])
    for g in st["generations"]:
        dl = requests.get(g["img"], timeout=HTTP_TIMEOUT_S)
        assert dl.status_code == 200 and dl.content.startswith(TINY_WEBP)


def test_seed_is_passed_to_worker(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    worker = owner.image_worker()
    req.image_async(params={"seed": "31337"})
    job = worker.pop_job()
    assert job["payload"]["seed"] == "31337"
    # a text seed becomes the integer of its UTF-8 bytes, little-endian (§1.1)
    req.image_async(params={"seed": "abc"})
    assert worker.pop_job()["payload"]["seed"] == str(0x636261)
    # no seed: a random one per job, still a decimal string
    req.image_async(params={"seed": ""})
    seed = worker.pop_job()["payload"]["seed"]
    assert seed.isdigit() and int(seed) < 2**32


def test_default_payload(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    req.image_async(prompt="defaults ### ugly")
    p = owner.image_worker().pop_job()["payload"]
    assert p["prompt"] == "defaults ### ugly"
    assert (p["width"], p["height"], p["ddim_steps"], p["n_iter"]) == (512, 512, 30, 1)
    assert p["sampler_name"] == "k_euler_a"
    assert p["cfg_scale"] == 5.0 and p["karras"] is True  # server-side defaults (§1.1)
    for flag in ("tiling", "hires_fix", "transparent", "image_is_control", "return_control_map"):
        assert p[flag] is False, flag
    assert p.get("use_nsfw_censor") in (None, False)  # nsfw defaults to true: no censor


def test_upload_url_rejects_tampering(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    worker = owner.image_worker()
    req.image_async()
    job = worker.pop_job()
    bad = job["r2_upload"].replace("sig=", "sig=00")
    r = requests.put(bad, data=b"x", timeout=HTTP_TIMEOUT_S)
    assert 400 <= r.status_code < 500
    # An R2 submit without an upload is refused; the job can still be delivered properly.
    r = worker.submit_raw(job["id"], generation="R2", seed=1)
    assert 400 <= r.status_code < 500, r.text
    worker.deliver(job)


def test_kudos_totals_over_several_jobs(horde):
    req = horde.user(kudos=5000)
    owner = horde.user(trusted=True, kudos=0)
    worker = owner.image_worker(bridge_agent="AI Horde Worker reGen:13.0.0:x",
                                max_pixels=4 * 262144)
    before = req.kudos()
    rid = req.image_async(params={"n": 4})["id"]
    rewards = 0.0
    while True:
        job = worker.pop(amount=2)
        if job["id"] is None:
            break
        for i in range(len(job["ids"])):
            rewards += worker.deliver(job, i)["reward"]
    st = req.client.get(f"/generate/status/{rid}").json()
    assert st["finished"] == 4 and st["done"] is True
    assert approx_kudos(before - req.kudos(), st["kudos"]), st["kudos"]
    # The latest reGen gets the full reward (bridge multiplier 1).
    assert approx_kudos(owner.kudos(), rewards, 0.03), (owner.kudos(), rewards)
    fin = worker.details()
    assert fin["requests_fulfilled"] == 4
    assert approx_kudos(fin["kudos_rewards"], rewards, 0.03)


def test_is_possible_follows_workers(horde):
    req = horde.user(kudos=1000)
    rid = req.image_async(models=["Deliberate"])["id"]
    assert req.client.get(f"/generate/check/{rid}").json()["is_possible"] is False
    owner = horde.user(trusted=True)
    owner.image_worker(models=["stable_diffusion"]).pop_empty()
    assert req.client.get(f"/generate/check/{rid}").json()["is_possible"] is False
    owner.image_worker(models=["Deliberate"], nsfw=True, max_pixels=262144,
                       bridge_agent="AI Horde Worker reGen:9.0.0:x").pop()
    # that worker took the job: a job in flight makes it possible
    assert req.client.get(f"/generate/check/{rid}").json()["is_possible"] is True


def test_censored_delivery(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True, kudos=0)
    w = owner.image_worker()
    before = req.kudos()
    rid = req.image_async()["id"]
    job = w.pop_job()
    assert w.upload(job["r2_upload"]).status_code in (200, 201, 204)
    meta = [{"type": "censorship", "value": "nsfw"}]
    sub = w.submit(job["id"], "R2", seed=3, gen_metadata=meta)
    assert sub["reward"] > 0  # the worker did the work
    st = req.client.get(f"/generate/status/{rid}").json()
    g = st["generations"][0]
    assert g["censored"] is True
    assert g["gen_metadata"] == meta
    # a censored image costs the requester only the flat parts: activation 1 + burn(0) = 1
    assert st["kudos"] == 2
    assert abs(before - req.kudos() - 2) <= 0.011


def test_untrusted_owner_is_paid_half_into_escrow(horde):
    # §4.7: an untrusted owner gets half of each reward as evaluating kudos (escrow), half spendable.
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=False, kudos=0)
    w = owner.image_worker()
    req.image_async()
    _, sub = w.run_one()
    credit = round(sub["reward"] * 0.9, 2)  # our worker's bridge_agent multiplier
    escrow = round(credit / 2 + 1e-9, 2)
    me = owner.client.get("/find_user").json()
    assert abs(me["kudos"] - (credit - escrow)) <= 0.011
    assert abs(me["evaluating_kudos"] - escrow) <= 0.011


def test_concurrency_limit(horde):
    req = horde.user(kudos=100000)
    req.image_async(params={"n": 20})
    r = req.client.post("/generate/async", json={"prompt": "one too many", "params": {"n": 20}})
    body = assert_error(r, 429, "TooManyPrompts")
    assert "exceeded user limit (30)" in body["message"], body
    # text requests are counted separately
    assert req.client.post("/generate/text/async", json={"prompt": "t"}).status_code == 202


def test_download_url_expires_but_status_renews_it(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True)
    w = owner.image_worker()
    rid = req.image_async(params={"n": 2})["id"]
    w.deliver(w.pop_job(), data=TINY_WEBP + b"one")
    old_url = req.client.get(f"/generate/status/{rid}").json()["generations"][0]["img"]
    assert requests.get(old_url, timeout=HTTP_TIMEOUT_S).status_code == 200
    horde.advance(19 * 60)
    w.deliver(w.pop_job(), data=TINY_WEBP + b"two")  # keeps the request alive
    horde.advance(12 * 60)  # 31 min after the first URL was signed
    expired = requests.get(old_url, timeout=HTTP_TIMEOUT_S)
    assert_error(expired, 403)
    gens = req.client.get(f"/generate/status/{rid}").json()["generations"]
    got = sorted(requests.get(g["img"], timeout=HTTP_TIMEOUT_S).content for g in gens)
    assert got == sorted([TINY_WEBP + b"one", TINY_WEBP + b"two"])


def test_concurrency_limit_holds_under_parallel_requests(horde):
    req = horde.user(kudos=100000)
    results = run_threads(
        lambda: req.client.post("/generate/async", json={"prompt": "race", "params": {"n": 5}}),
        [() for _ in range(12)])
    codes = sorted(r.status_code for r in results)
    assert codes.count(202) == 6 and codes.count(429) == 6, codes  # 6 x 5 = 30 = concurrency
