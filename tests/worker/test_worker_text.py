"""Text end to end: a client request -> horded -> horde-worker -> KoboldCpp / OpenAI-compatible
test backend -> the client reads the text."""

from __future__ import annotations

import requests

from .harness import text_status, wait_done, wait_for, worker_details


def text_request(horde, key: str, prompt: str = "Once upon a time", **params) -> str:
    r = requests.post(f"{horde.api}/generate/text/async", headers={"apikey": key},
                      json={"prompt": prompt, "params": params}, timeout=30)
    assert r.status_code == 202, r.text
    return r.json()["id"]


def test_kobold_round_trip(horde, users, backends, workers):
    kcpp = backends("kobold")
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "kobold", kcpp.url)
    rid = text_request(horde, client["api_key"], "Once upon a time", max_length=60,
                       max_context_length=1024, temperature=0.7, rep_pen=1.1, top_k=40,
                       stop_sequence=["\nYou:"])
    status = wait_done(horde, rid, worker=w)
    gen = status["generations"]
    assert len(gen) == 1, status
    assert gen[0]["text"] == kcpp.reply
    assert gen[0]["model"] == "koboldcpp/TestModel-7B"
    assert gen[0]["worker_name"] == w.name
    assert isinstance(gen[0]["seed"], int)
    assert (status["finished"], status["restarted"], status["faulted"]) == (1, 0, False)

    # The backend got the horde's parameters under KoboldAI names, clamped, with our extras.
    body = kcpp.calls("POST", "/api/v1/generate")[-1]
    assert body["prompt"] == "Once upon a time"
    assert body["max_length"] == 60 and body["max_context_length"] == 1024
    assert body["temperature"] == 0.7 and body["rep_pen"] == 1.1 and body["top_k"] == 40
    assert body["stop_sequence"] == ["\nYou:"]
    assert body["quiet"] is True and body["genkey"].startswith("HORDE")
    assert body["sampler_seed"] == gen[0]["seed"]
    assert "n" not in body

    # What the horde knows about the worker.
    details = worker_details(horde, w.name)
    assert details is not None and details["type"] == "text"
    assert details["bridge_agent"].startswith("Horde Worker:")
    assert details["models"] == ["koboldcpp/TestModel-7B"]
    assert details["max_context_length"] == 4096  # the backend's true context, below the default
    assert details["max_length"] == 512
    w.wait_log(r"job \w{8} koboldcpp/TestModel-7B: ok in [\d.]+s")


def test_openai_round_trip_and_parameter_mapping(horde, users, backends, workers):
    oai = backends("openai", context=2048)
    oai.api_key = "sk-local-123"
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "openai", oai.url + "/v1/", "--backend-api-key", "sk-local-123",
                "--models", "llama-3-8b=Llama-3-8B-Instruct.Q4_K_M.gguf")
    rid = text_request(horde, client["api_key"], "Q: what is six times seven?\nA:",
                       max_length=32, max_context_length=2048, temperature=0.5, top_p=0.9,
                       top_k=0, typical=1, min_p=0.05, rep_pen=1.08, rep_pen_range=256,
                       stop_sequence=["\nQ:", "###"], singleline=True)
    status = wait_done(horde, rid, worker=w)
    gen = status["generations"][0]
    assert gen["text"] == oai.reply
    assert gen["model"] == "llama-3-8b"

    body = oai.calls("POST", "/v1/completions")[-1]
    assert body["model"] == "Llama-3-8B-Instruct.Q4_K_M.gguf"
    assert body["prompt"] == "Q: what is six times seven?\nA:"
    assert body["max_tokens"] == 32
    assert body["temperature"] == 0.5 and body["top_p"] == 0.9 and body["min_p"] == 0.05
    assert "top_k" not in body  # 0 = off in KoboldAI terms
    assert "typical_p" not in body  # 1 = off
    assert body["repetition_penalty"] == 1.08 and body["repeat_penalty"] == 1.08
    assert body["repeat_last_n"] == 256
    assert body["stop"] == ["\nQ:", "###"]
    assert body["seed"] == gen["seed"]
    assert body["stream"] is False

    details = worker_details(horde, w.name)
    assert details["models"] == ["llama-3-8b"]
    assert details["max_context_length"] == 2048  # llama.cpp /props n_ctx


def test_only_models_the_backend_has_are_offered(horde, users, backends, workers):
    kcpp = backends("kobold")
    owner = users.make()
    w = workers(owner["api_key"], "kobold", kcpp.url,
                "--models", "koboldcpp/TestModel-7B,koboldcpp/NotLoaded-70B,Friendly=*")
    w.wait_log(r"model 'koboldcpp/NotLoaded-70B' is not on the backend")
    details = wait_for(lambda: worker_details(horde, w.name), what="the worker's first pop")
    assert sorted(details["models"]) == ["Friendly", "koboldcpp/TestModel-7B"]


def test_backend_down_at_start_then_up(horde, users, backends, workers):
    from .harness import free_port
    port = free_port()
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "kobold", f"http://127.0.0.1:{port}")
    w.wait_log(r"backend KoboldAI is down")
    rid = text_request(horde, client["api_key"])
    # No pops while the backend is down: the horde does not even know the worker yet.
    assert worker_details(horde, w.name) is None
    assert text_status(horde, rid)["processing"] == 0
    kcpp = backends("kobold", port=port)
    w.wait_log(r"backend KoboldCpp 1.75.2 is up")
    status = wait_done(horde, rid, worker=w)
    assert status["generations"][0]["text"] == kcpp.reply
