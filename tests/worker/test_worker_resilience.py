"""What goes wrong around a worker: the backend fails mid-job, the horde crashes while the worker
holds a job, a job outlives its ttl, the worker is told to stop mid-job."""

from __future__ import annotations

import signal
import time

from .harness import restart_on_same_port, text_status, wait_done, wait_for
from .test_worker_text import text_request


def test_backend_failure_faults_the_job_then_it_succeeds(horde, users, backends, workers):
    kcpp = backends("kobold")
    kcpp.fail_next = 1  # the first generation dies with HTTP 500
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "kobold", kcpp.url)
    rid = text_request(horde, client["api_key"])
    status = wait_done(horde, rid, worker=w)
    assert status["restarted"] >= 1, status
    assert status["finished"] == 1 and not status["faulted"], status
    assert status["generations"][0]["text"] == kcpp.reply
    w.wait_log(r"job \w{8} koboldcpp/TestModel-7B: faulted after [\d.]+s: POST /api/v1/generate: "
               r"HTTP 500")
    w.wait_log(r"job \w{8} koboldcpp/TestModel-7B: ok in")


def test_busy_backend_is_waited_for_not_faulted(horde, users, backends, workers):
    kcpp = backends("kobold")
    kcpp.busy_next = 2  # KoboldCpp answers 503 while it serves someone else
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "kobold", kcpp.url)
    rid = text_request(horde, client["api_key"])
    status = wait_done(horde, rid, worker=w)
    assert (status["finished"], status["restarted"]) == (1, 0), status
    assert len(kcpp.calls("POST", "/api/v1/generate")) == 3


def test_server_crash_while_job_held_submit_retries_and_lands(horde, users, backends, workers):
    kcpp = backends("kobold")
    kcpp.delay_s = 2.0
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "kobold", kcpp.url)
    rid = text_request(horde, client["api_key"])
    assert kcpp.generation_started.wait(15), w.log()[-2000:]
    horde.kill9()  # the job is in the worker's hands, the horde is gone
    w.wait_log(r"submit failed \(.*\); keeping the job and retrying", timeout=15)
    restart_on_same_port(horde)
    status = wait_done(horde, rid, worker=w)
    assert status["finished"] == 1 and status["restarted"] == 0, status
    assert status["generations"][0]["text"] == kcpp.reply
    w.wait_log(r"job \w{8} koboldcpp/TestModel-7B: ok in")
    assert w.alive


def test_job_past_its_ttl_is_dropped_and_the_worker_goes_on(horde, users, backends, workers):
    kcpp = backends("kobold")
    kcpp.delay_s = 2.0
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "kobold", kcpp.url)
    rid = text_request(horde, client["api_key"])
    assert kcpp.generation_started.wait(15), w.log()[-2000:]
    kcpp.delay_s = 0.0  # the next try is fast
    horde.advance(400)  # past the 150 s text ttl: the sweep aborts the job and requeues it
    w.wait_log(r"not delivered: the horde aborted it")
    status = wait_done(horde, rid, worker=w)
    assert status["restarted"] >= 1 and status["finished"] == 1, status
    assert w.alive


def test_sigterm_during_a_job_finishes_it_and_exits_0(horde, users, backends, workers):
    kcpp = backends("kobold")
    kcpp.delay_s = 1.5
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "kobold", kcpp.url, "--threads", "2")
    rid = text_request(horde, client["api_key"])
    assert kcpp.generation_started.wait(15), w.log()[-2000:]
    started = time.monotonic()
    w.signal(signal.SIGTERM)
    assert w.wait_exit(15) == 0
    assert time.monotonic() - started < 10
    status = text_status(horde, rid)
    assert status["done"] and status["finished"] == 1, status
    assert status["generations"][0]["text"] == kcpp.reply
    log = w.log()
    assert "stopping: no more jobs; 1 job(s) in hand will finish" in log
    assert "horde-worker stopped" in log


def test_sigterm_with_a_short_shutdown_timeout_faults_the_job(horde, users, backends, workers):
    kcpp = backends("kobold")
    kcpp.delay_s = 30.0  # far longer than the worker will wait
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "kobold", kcpp.url, "--shutdown-timeout", "0.5")
    rid = text_request(horde, client["api_key"])
    assert kcpp.generation_started.wait(15), w.log()[-2000:]
    started = time.monotonic()
    w.signal(signal.SIGTERM)
    assert w.wait_exit(15) == 0
    assert time.monotonic() - started < 10
    # The worker asked KoboldCpp to abort its generation and told the horde the job faulted,
    # so the request went back to the queue at once.
    assert kcpp.aborted_keys and kcpp.aborted_keys[0].startswith("HORDE")
    status = wait_for(lambda: (s := text_status(horde, rid))["restarted"] >= 1 and s,
                      timeout=10, what="the job to be reported faulted")
    assert status["processing"] == 0 and status["finished"] == 0, status


def test_server_crash_during_an_image_job_upload_retries_and_lands(horde, users, backends,
                                                                   workers):
    from .test_worker_image import assert_webp, download, image_request
    sd = backends("a1111")
    sd.delay_s = 1.5
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "a1111", sd.url)
    rid = image_request(horde, client["api_key"], params={"steps": 5, "seed": "9"})
    assert sd.generation_started.wait(15), w.log()[-2000:]
    horde.kill9()
    w.wait_log(r"upload failed \(.*\); retrying", timeout=15)
    restart_on_same_port(horde)
    status = wait_done(horde, rid, "image", worker=w)
    assert status["finished"] == 1 and status["restarted"] == 0, status
    gen = status["generations"][0]
    assert gen["seed"] == "9"
    assert_webp(download(gen["img"]), (512, 512))
