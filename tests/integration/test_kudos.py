"""Uptime rewards and upfront kudos (contract §4.4, §4.5)."""

from __future__ import annotations

import pytest

from conftest import assert_error


def _keep_online(horde, worker, seconds: int, step: int = 250) -> None:
    """Pops every `step` s (under the 300 s online window) for `seconds` of server time."""
    worker.pop_empty()
    elapsed = 0
    while elapsed < seconds:
        horde.advance(step)
        elapsed += step
        worker.pop_empty()


def test_uptime_reward_trusted_owner(horde):
    owner = horde.user(trusted=True, kudos=0)
    w = owner.image_worker(models=["stable_diffusion", "Deliberate"])
    _keep_online(horde, w, 500)
    assert owner.kudos() == 0  # not yet 10 minutes
    _keep_online(horde, w, 250)  # 750 s online in all
    reward = 50 + 2 * 2
    assert owner.kudos() == reward
    d = w.details()
    assert d["kudos_details"]["uptime"] == reward
    assert d["kudos_rewards"] == reward
    assert d["uptime"] >= 600


def test_uptime_reward_goes_to_escrow_for_untrusted(horde):
    owner = horde.user(trusted=False, kudos=0)
    w = owner.image_worker(models=["stable_diffusion"])
    _keep_online(horde, w, 750)
    assert owner.kudos() == 0
    assert w.details()["kudos_details"]["uptime"] == 52


def test_stale_worker_earns_no_uptime(horde):
    owner = horde.user(trusted=True, kudos=0)
    w = owner.image_worker()
    w.pop_empty()
    horde.advance(400)  # offline (> 300 s without a pop)
    w.pop_empty()
    horde.advance(280)
    w.pop_empty()
    assert owner.kudos() == 0  # the 400 s gap does not count




@pytest.mark.parametrize("body", [
    {"params": {"steps": 60}},
    {"params": {"width": 1536, "height": 1536}},
    {"slow_workers": False},
])
def test_image_upfront_kudos(horde, body):
    poor = horde.user(kudos=0)
    r = poor.client.post("/generate/async", json={"prompt": "expensive", **body})
    msg = assert_error(r, 403, "KudosUpfront")["message"]
    assert "kudos" in msg
    rich = horde.user(kudos=100000)
    assert rich.client.post("/generate/async",
                            json={"prompt": "expensive", **body}).status_code == 202


def test_image_upfront_downgrade(horde):
    poor = horde.user(kudos=0)
    r = poor.client.post("/generate/async", json={"prompt": "shrink me", "allow_downgrade": True,
                                                  "params": {"steps": 60}})
    assert r.status_code == 202, r.text
    owner = horde.user(trusted=True)
    job = owner.image_worker().pop_job()
    assert job["payload"]["ddim_steps"] <= 40


def test_text_upfront_kudos(horde):
    poor = horde.user(kudos=0)
    r = poor.client.post("/generate/text/async",
                         json={"prompt": "long", "params": {"max_length": 1024,
                                                            "max_context_length": 4096}})
    assert_error(r, 403, "KudosUpfront")
    rich = horde.user(kudos=100000)
    r = rich.client.post("/generate/text/async",
                         json={"prompt": "long", "params": {"max_length": 1024,
                                                            "max_context_length": 4096}})
    assert r.status_code == 202, r.text
