"""Pop matching: one test per rule (contract §3). Each test gets a fresh server, so the queue
holds only what the test put there, and an empty pop's `skipped` counts only that."""

from __future__ import annotations

import base64

import pytest

from conftest import TINY_WEBP, assert_error, run_threads

ALWAYS_SKIPPED = {"bridge_version", "untrusted", "performance", "controlnet", "post-processing",
                  "lora", "nsfw", "unsafe_ip", "painting", "img2img", "worker_id", "models"}

SOURCE_B64 = base64.b64encode(TINY_WEBP).decode()


@pytest.fixture
def req(horde):
    return horde.user(kudos=100000)


@pytest.fixture
def owner(horde):
    return horde.user(trusted=True, kudos=0)


def skipped_of(pop: dict) -> dict:
    assert pop["id"] is None and pop["ids"] == [], pop
    return pop["skipped"]


def assert_only_skip(pop: dict, reason: str, count: int = 1) -> None:
    """An empty pop whose one non-zero skip reason is `reason` (count times)."""
    sk = skipped_of(pop)
    assert sk.get(reason) == count, sk
    others = {k: v for k, v in sk.items() if k != reason and v}
    assert not others, sk


# --- models ------------------------------------------------------------------------------------


def test_models_mismatch_is_skipped(req, owner):
    req.image_async(models=["stable_diffusion"])
    other = owner.image_worker(models=["Deliberate"])
    assert_only_skip(other.pop(), "models")
    right = owner.image_worker(models=["Deliberate", "stable_diffusion"])
    job = right.pop_job()
    assert job["model"] == "stable_diffusion"


def test_request_without_models_takes_any_worker(req, owner):
    req.image_async(models=[])
    w = owner.image_worker(models=["Deliberate"])
    job = w.pop_job()
    assert job["model"] == "Deliberate"


def test_default_model_is_stable_diffusion(req, owner):
    req.image_async()  # models omitted -> ["stable_diffusion"]
    assert_only_skip(owner.image_worker(models=["Deliberate"]).pop(), "models")
    assert owner.image_worker(models=["stable_diffusion"]).pop_job()["model"] == "stable_diffusion"


def test_text_models(req, owner):
    req.text_async(models=["koboldcpp/Alpha-13B"])
    w = owner.text_worker(models=["koboldcpp/Beta-7B"])
    w.pop_empty()
    job = owner.text_worker(models=["koboldcpp/Alpha-13B"]).pop_job()
    assert job["model"] == "koboldcpp/Alpha-13B"


# --- sizes ---------------------------------------------------------------------------------------


def test_max_pixels(req, owner):
    req.image_async(params={"width": 1024, "height": 1024})
    small = owner.image_worker(max_pixels=512 * 512)
    assert_only_skip(small.pop(), "max_pixels")
    big = owner.image_worker(max_pixels=1024 * 1024)
    job = big.pop_job()
    assert (job["payload"]["width"], job["payload"]["height"]) == (1024, 1024)


def test_text_max_length(req, owner):
    req.text_async(params={"max_length": 400, "max_context_length": 2048})
    short = owner.text_worker(max_length=200, max_context_length=4096)
    pop = short.pop_empty()
    assert pop["skipped"] == {"max_length": 1}, pop["skipped"]
    owner.text_worker(max_length=400, max_context_length=4096).pop_job()


def test_text_max_context_length(req, owner):
    req.text_async(params={"max_length": 80, "max_context_length": 8192})
    small = owner.text_worker(max_length=512, max_context_length=4096)
    pop = small.pop_empty()
    assert pop["skipped"] == {"max_context_length": 1}, pop["skipped"]
    owner.text_worker(max_length=512, max_context_length=8192).pop_job()


# --- flags ---------------------------------------------------------------------------------------


def test_nsfw_request_needs_nsfw_worker(req, owner):
    req.image_async(nsfw=True)
    sfw = owner.image_worker(nsfw=False)
    assert_only_skip(sfw.pop(), "nsfw")
    owner.image_worker(nsfw=True).pop_job()


def test_sfw_request_goes_to_sfw_worker(req, owner):
    req.image_async(nsfw=False)
    job = owner.image_worker(nsfw=False).pop_job()
    # nsfw false + censor_nsfw (default true) -> the worker is told to censor
    assert job["payload"].get("use_nsfw_censor") is True


def test_nsfw_default_is_true(req, owner):
    req.image_async()  # nsfw omitted: the effective default is true (§1.1)
    assert_only_skip(owner.image_worker(nsfw=False).pop(), "nsfw")


def test_trusted_workers_skip_untrusted_owner(horde, req):
    untrusted = horde.user(trusted=False)
    trusted = horde.user(trusted=True)
    req.image_async(trusted_workers=True)
    assert_only_skip(untrusted.image_worker().pop(), "untrusted")
    trusted.image_worker().pop_job()


def test_text_trusted_workers(horde, req):
    untrusted = horde.user(trusted=False)
    trusted = horde.user(trusted=True)
    req.text_async(trusted_workers=True)
    pop = untrusted.text_worker().pop_empty()
    assert pop["skipped"] == {"untrusted": 1}, pop["skipped"]
    trusted.text_worker().pop_job()


# --- worker lists --------------------------------------------------------------------------------


def _two_workers(owner):
    a = owner.image_worker()
    b = owner.image_worker()
    a.pop_empty()
    b.pop_empty()
    return a, b


def test_worker_allowlist(req, owner):
    a, b = _two_workers(owner)
    req.image_async(workers=[a.id])
    assert_only_skip(b.pop(), "worker_id")
    a.pop_job()


def test_worker_blocklist(req, owner):
    a, b = _two_workers(owner)
    req.image_async(workers=[a.id], worker_blacklist=True)
    assert_only_skip(a.pop(), "worker_id")
    b.pop_job()


def test_text_worker_allowlist(req, owner):
    a, b = owner.text_worker(), owner.text_worker()
    a.pop_empty()
    b.pop_empty()
    req.text_async(workers=[b.id])
    assert a.pop_empty()["skipped"] == {"worker_id": 1}
    b.pop_job()


def test_unknown_worker_in_list_is_404(req):
    r = req.client.post("/generate/async", json={
        "prompt": "x", "workers": ["00000000-0000-4000-8000-000000000000"]})
    assert_error(r, 404, "WorkerNotFound")


def test_blacklist_words(req, owner):
    req.image_async(prompt="A Dragon over the castle")
    picky = owner.image_worker(blacklist=["dragon"])
    assert picky.pop_empty()["skipped"].get("blacklist") == 1
    owner.image_worker(blacklist=["unicorn"]).pop_job()


# --- image features ------------------------------------------------------------------------------


def test_img2img_needs_allow_img2img(req, owner):
    req.image_async(source_image=SOURCE_B64, source_processing="img2img",
                    params={"denoising_strength": 0.5})
    assert_only_skip(owner.image_worker(allow_img2img=False).pop(), "img2img")
    job = owner.image_worker(allow_img2img=True).pop_job()
    assert job["source_processing"] == "img2img"
    assert isinstance(job["source_image"], str) and job["source_image"]


def test_source_image_is_delivered_to_worker(horde, req, owner):
    data = TINY_WEBP + b"source-marker"
    req.image_async(source_image=base64.b64encode(data).decode())
    job = owner.image_worker().pop_job()
    src = job["source_image"]
    if src.startswith("http"):
        import requests
        got = requests.get(src, timeout=30)
        assert got.status_code == 200
        assert got.content == data
    else:
        assert base64.b64decode(src) == data


def test_painting_needs_allow_painting(req, owner):
    req.image_async(source_image=SOURCE_B64, source_mask=SOURCE_B64,
                    source_processing="inpainting")
    assert_only_skip(owner.image_worker(allow_painting=False).pop(), "painting")
    job = owner.image_worker(allow_painting=True).pop_job()
    assert job["source_processing"] == "inpainting"
    assert job["source_mask"]


def test_post_processing_needs_allow(req, owner):
    req.image_async(params={"post_processing": ["GFPGAN"]})
    assert_only_skip(owner.image_worker(allow_post_processing=False).pop(), "post-processing")
    job = owner.image_worker(allow_post_processing=True).pop_job()
    assert job["payload"]["post_processing"] == ["GFPGAN"]


def test_lora_needs_allow_lora_and_a_capable_bridge(req, owner):
    req.image_async(params={"loras": [{"name": "123456", "model": 1, "clip": 1}]})
    assert_only_skip(owner.image_worker(allow_lora=False).pop(), "lora")
    # reGen 1 predates loras (capability table §3.4)
    old = owner.image_worker(allow_lora=True, bridge_agent="AI Horde Worker reGen:1.0.0:x")
    assert_only_skip(old.pop(), "bridge_version")
    job = owner.image_worker(allow_lora=True,
                             bridge_agent="AI Horde Worker reGen:9.0.0:x").pop_job()
    loras = job["payload"]["loras"]
    assert len(loras) == 1 and loras[0]["name"] == "123456"


def test_controlnet_needs_allow_controlnet(req, owner):
    req.image_async(source_image=SOURCE_B64, params={"control_type": "canny"})
    assert_only_skip(owner.image_worker(allow_controlnet=False).pop(), "controlnet")
    job = owner.image_worker(allow_controlnet=True).pop_job()
    assert job["payload"]["control_type"] == "canny"
    assert job["payload"]["ddim_steps"] == 20  # default steps with a control type


def test_controlnet_without_source_image_is_rejected(req):
    r = req.client.post("/generate/async", json={"prompt": "x",
                                                 "params": {"control_type": "canny"}})
    assert_error(r, 400, "ControlNetSourceMissing")


def test_unknown_bridge_lacks_img2img(req, owner):
    req.image_async(source_image=SOURCE_B64)
    w = owner.image_worker(bridge_agent="SomeCustomBridge:1.0:x")
    assert_only_skip(w.pop(), "bridge_version")


def test_limit_max_steps(req, owner):
    req.image_async(params={"steps": 50})
    assert owner.image_worker(limit_max_steps=True).pop_empty()["skipped"].get("step_count") == 1
    owner.image_worker(limit_max_steps=False).pop_job()


def test_disable_batching(horde, owner):
    trusted_req = horde.user(kudos=10000, trusted=True)
    trusted_req.image_async(disable_batching=True, params={"n": 2})
    w = owner.image_worker(max_pixels=4 * 262144)
    assert len(w.pop_job(amount=2)["ids"]) == 1
    assert len(w.pop_job(amount=2)["ids"]) == 1
    untrusted = horde.user(kudos=10000)
    r = untrusted.client.post("/generate/async", json={"prompt": "x", "disable_batching": True,
                                                       "params": {"n": 2}})
    assert_error(r, 400, "RequiresTrust")


def test_text_softprompt(req, owner):
    req.text_async(softprompt="my_softprompt")
    pop = owner.text_worker(softprompts=["other"]).pop_empty()
    assert pop["skipped"] == {"matching_softprompt": 1}, pop["skipped"]
    job = owner.text_worker(softprompts=["my_softprompt"]).pop_job()
    assert job["id"]


def test_text_validated_backends(req, owner):
    req.text_async(validated_backends=True)
    pop = owner.text_worker(bridge_agent="SomeCustomBackend:1:x").pop_empty()
    assert pop["skipped"] == {"bridge_version": 1}, pop["skipped"]
    owner.text_worker(bridge_agent="AI Horde Worker:24:x").pop_job()


def test_text_validated_backends_default_off(req, owner):
    req.text_async()
    owner.text_worker(bridge_agent="SomeCustomBackend:1:x").pop_job()


# --- speed ---------------------------------------------------------------------------------------


def test_slow_workers_false_skips_a_slow_worker(horde, req, owner):
    slow = owner.image_worker()
    fast = owner.image_worker()
    # Make `slow` measurably slow: 512x512x30 steps = 7.9 Mpixelsteps in 120 s (< 0.5 MPS/s).
    req.image_async()
    job = slow.pop_job()
    horde.advance(120)
    slow.deliver(job)
    req.image_async(slow_workers=False)
    assert_only_skip(slow.pop(), "performance")
    fast.pop_job()
    # A request that allows slow workers still goes to it.
    req.image_async(slow_workers=True)
    slow.pop_job()


def test_extra_slow_worker_needs_extra_slow_requests(req, owner):
    req.image_async()
    assert_only_skip(owner.image_worker(extra_slow_worker=True).pop(), "performance")
    req.image_async(extra_slow_workers=True)
    # the extra-slow worker takes the request that allows it (the first one is still queued)
    job = owner.image_worker(extra_slow_worker=True).pop_job()
    assert job["ttl"] == 450


# --- maintenance ---------------------------------------------------------------------------------


def _set_maintenance(owner, worker_id: str, on: bool):
    r = owner.client.put(f"/workers/{worker_id}", json={"maintenance": on})
    if r.status_code in (404, 405) and "rc" in r.json() and r.json()["rc"] in (
            "NotFound", "MethodNotAllowed"):
        pytest.skip("PUT /workers/{id} is not implemented yet")
    assert r.status_code == 200, r.text
    return r.json()


def test_worker_maintenance(horde, req, owner):
    w = owner.image_worker()
    w.pop_empty()
    _set_maintenance(owner, w.id, True)
    assert w.details()["maintenance_mode"] is True
    # Nothing for it: 403 WorkerMaintenance
    body = assert_error(w.pop_raw(), 403, "WorkerMaintenance")
    assert "maintenance" in body["message"]
    # Someone else's request is not served...
    req.image_async()
    assert_error(w.pop_raw(), 403, "WorkerMaintenance")
    # ...but the owner's own request is.
    own_rid = owner.image_async()["id"]
    w.pop_job()
    assert owner.client.get(f"/generate/check/{own_rid}").json()["processing"] == 1
    _set_maintenance(owner, w.id, False)
    w.pop_job()  # now the other request


# --- ordering ------------------------------------------------------------------------------------


def test_owner_request_served_first(horde, owner):
    rich = horde.user(kudos=1_000_000)
    rich_rid = rich.image_async()["id"]  # older, and from a user with far more kudos
    own_rid = owner.image_async()["id"]
    w = owner.image_worker()
    w.pop_job()
    assert owner.client.get(f"/generate/check/{own_rid}").json()["processing"] == 1
    assert rich.client.get(f"/generate/check/{rich_rid}").json()["processing"] == 0
    # A worker of someone else follows the general order: the rich user's request.
    stranger = horde.user(trusted=True)
    stranger.image_worker().pop_job()
    assert rich.client.get(f"/generate/check/{rich_rid}").json()["processing"] == 1


def test_general_order_is_priority_then_age(horde, owner):
    poor = horde.user(kudos=0)
    rich = horde.user(kudos=1_000_000)
    poor_rid = poor.image_async()["id"]
    rich_rid = rich.image_async()["id"]
    # the richer requester goes first even though it asked later
    assert rich.client.get(f"/generate/check/{rich_rid}").json()["queue_position"] == 1
    assert poor.client.get(f"/generate/check/{poor_rid}").json()["queue_position"] == 2
    w = owner.image_worker()
    w.pop_job()
    assert rich.client.get(f"/generate/check/{rich_rid}").json()["processing"] == 1
    w.pop_job()
    assert poor.client.get(f"/generate/check/{poor_rid}").json()["processing"] == 1


def test_priority_usernames(horde, owner):
    rich = horde.user(kudos=1_000_000)
    friend = horde.user(kudos=0)
    rich_rid = rich.image_async()["id"]
    friend_rid = friend.image_async()["id"]
    w = owner.image_worker(priority_usernames=[friend.alias])
    w.pop_job()
    assert friend.client.get(f"/generate/check/{friend_rid}").json()["processing"] == 1
    assert rich.client.get(f"/generate/check/{rich_rid}").json()["processing"] == 0


def test_text_priority_usernames(horde, owner):
    rich = horde.user(kudos=1_000_000)
    friend = horde.user(kudos=0)
    rich.text_async()
    friend_rid = friend.text_async()["id"]
    w = owner.text_worker(priority_usernames=[friend.alias])
    w.pop_job()
    assert friend.client.get(f"/generate/text/status/{friend_rid}").json()["processing"] == 1


def test_bad_priority_username(owner):
    r = owner.image_worker(priority_usernames=["nohash"]).pop_raw()
    assert_error(r, 400, "InvalidPriorityUsername")


# --- skipped shape and atomic claims ---------------------------------------------------------------


def test_empty_image_pop_shape(owner):
    pop = owner.image_worker().pop_empty()
    sk = pop["skipped"]
    assert ALWAYS_SKIPPED <= set(sk), sorted(sk)
    assert all(isinstance(v, int) and not isinstance(v, bool) for v in sk.values()), sk
    assert all(sk[k] == 0 for k in ALWAYS_SKIPPED)
    for key in ("payload", "messages", "ttl", "model", "source_image", "source_processing",
                "source_mask", "extra_source_images", "r2_upload", "r2_uploads"):
        assert key in pop, key
    assert pop["ttl"] is None and pop["model"] is None and pop["r2_upload"] is None
    assert pop["source_processing"] == "img2img"
    assert isinstance(pop["messages"], list)


def test_empty_text_pop_shape(owner):
    pop = owner.text_worker().pop_empty()
    assert pop["skipped"] == {}
    for key in ("payload", "messages", "ttl", "model", "softprompt", "extra_source_images"):
        assert key in pop, key


def test_several_skip_reasons_are_counted(req, owner):
    req.image_async(models=["Other Model"], nsfw=False)
    req.image_async(nsfw=True)
    req.image_async(nsfw=False, params={"width": 1024, "height": 1024})
    sk = owner.image_worker(nsfw=False).pop_empty()["skipped"]
    assert (sk["models"], sk["nsfw"], sk.get("max_pixels")) == (1, 1, 1), sk


def test_a_slot_is_never_given_twice(horde):
    req = horde.user(kudos=1_000_000)
    owners = [horde.user(trusted=True) for _ in range(5)]
    workers = [o.image_worker(max_pixels=4 * 262144) for o in owners for _ in range(2)]
    for w in workers:
        w.pop_empty()  # register them first, so that only the claims race below
    rid = req.image_async(params={"n": 5})["id"]
    calls = [(workers[i % len(workers)], 1 + (i % 3)) for i in range(50)]

    def pop(w, amount):
        r = w.pop_raw(amount=amount)
        assert r.status_code == 200, r.text
        return r.json()["ids"]

    results = run_threads(pop, calls)
    ids = [i for batch in results for i in batch]
    assert len(ids) == 5, results
    assert len(set(ids)) == 5
    c = req.client.get(f"/generate/check/{rid}").json()
    assert (c["processing"], c["waiting"]) == (5, 0), c


def test_a_text_slot_is_never_given_twice(horde):
    req = horde.user(kudos=1_000_000)
    req.text_async(params={"n": 4})
    owner = horde.user(trusted=True)
    workers = [owner.text_worker() for _ in range(3)]
    results = run_threads(lambda w: w.pop(amount=2)["ids"],
                          [(workers[i % 3],) for i in range(30)])
    ids = [i for batch in results for i in batch]
    assert len(ids) == 4 and len(set(ids)) == 4, results


def test_concurrent_submits_settle_once(horde):
    req = horde.user(kudos=1000)
    owner = horde.user(trusted=True, kudos=0)
    w = owner.image_worker()
    rid = req.image_async()["id"]
    job = w.pop_job()
    assert w.upload(job["r2_upload"]).status_code in (200, 201, 204)
    before = req.kudos()
    results = run_threads(lambda: w.submit_raw(job["id"], generation="R2", seed=1),
                          [() for _ in range(12)])
    codes = sorted(r.status_code for r in results)
    assert codes == [200] + [400] * 11, codes
    assert all(r.json()["rc"] == "DuplicateGen" for r in results if r.status_code == 400)
    reward = next(r.json()["reward"] for r in results if r.status_code == 200)
    assert abs(owner.kudos() - round(reward * 0.9, 2)) <= 0.02
    st = req.client.get(f"/generate/status/{rid}").json()
    assert st["finished"] == 1
    assert abs(before - req.kudos() - (reward + 1)) <= 0.011
