"""The error table: what a client sees for bad input (contract §0, §0.1; reference.md §2, §5).

Every 4xx is a JSON object with `message` and `rc` (assert_error checks that)."""

from __future__ import annotations

import json
import select
import socket
import uuid

import pytest
import requests

from conftest import ANON_KEY, HTTP_TIMEOUT_S, assert_error


@pytest.fixture(scope="module")
def h(module_horde):
    return module_horde


@pytest.fixture(scope="module")
def req(h):
    return h.user(kudos=100000)


@pytest.fixture(scope="module")
def owner(h):
    return h.user(trusted=True)


def post_raw(h, path: str, data: bytes, key: str | None = None,
             ctype: str = "application/json") -> requests.Response:
    headers = {"Content-Type": ctype}
    if key:
        headers["apikey"] = key
    return requests.post(h.api + path, data=data, headers=headers, timeout=HTTP_TIMEOUT_S)


# --- malformed bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/generate/async", "/generate/text/async", "/generate/pop",
                                  "/generate/submit", "/generate/text/pop",
                                  "/generate/text/submit"])
@pytest.mark.parametrize("body", [b"{not json", b"", b"[]", b"[{\"prompt\": \"x\"}]", b"\"x\"",
                                  b"42", b"null", b"{\"prompt\": \"x\"} trailing"])
def test_bad_json_bodies(h, req, path, body):
    assert_error(post_raw(h, path, body, req.key), 400)


def test_wrong_type_steps(h, req):
    r = req.client.post("/generate/async", json={"prompt": "x", "params": {"steps": "30"}})
    body = assert_error(r, 400)
    assert isinstance(body.get("errors"), dict) and body["errors"], body


@pytest.mark.parametrize("params", [{"steps": 0}, {"steps": 501}, {"width": 65},
                                    {"width": 32}, {"height": 3136}, {"n": 21}, {"n": 0},
                                    {"cfg_scale": 101}, {"sampler_name": "k_nope"},
                                    {"post_processing": ["NotAPostProcessor"]},
                                    {"clip_skip": 13}, {"denoising_strength": 1.5}])
def test_out_of_range_image_params(h, req, params):
    r = req.client.post("/generate/async", json={"prompt": "x", "params": params})
    body = assert_error(r, 400)
    assert body["rc"] in ("BadRequest",), body


@pytest.mark.parametrize("params", [{"max_length": 15}, {"max_length": 4097},
                                    {"max_context_length": 79}, {"n": 21},
                                    {"temperature": 6}, {"top_k": 201}])
def test_out_of_range_text_params(h, req, params):
    r = req.client.post("/generate/text/async", json={"prompt": "x", "params": params})
    assert_error(r, 400)


@pytest.mark.parametrize("body", [{"prompt": 5}, {"prompt": "x", "params": []},
                                  {"prompt": "x", "models": "stable_diffusion"},
                                  {"prompt": "x", "nsfw": "yes"},
                                  {"prompt": "x", "params": {"karras": "true"}},
                                  {"prompt": "x", "params": {"n": 1.5}}])
def test_wrong_types(h, req, body):
    assert_error(req.client.post("/generate/async", json=body), 400)


@pytest.mark.parametrize("body,rc", [
    ({"params": {"post_processing": ["RealESRGAN_x4plus", "RealESRGAN_x2plus"]}},
     "TooManyUpscalers"),
    ({"params": {"loras": [{"name": str(i)} for i in range(6)]}}, "TooManyLoras"),
    ({"params": {"loras": [{"name": "abc", "is_version": True}]}}, "BadLoraVersion"),
    ({"params": {"cfg_scale": 7.123}}, "BadCFGDecimals"),
    ({"source_mask": "aGVsbG8="}, "SourceMaskUnnecessary"),
    ({"source_image": "aGVsbG8=", "params": {"control_type": "canny",
                                            "image_is_control": True,
                                            "return_control_map": True}},
     "ControlNetInvalidPayload"),
])
def test_image_semantic_errors(h, req, body, rc):
    r = req.client.post("/generate/async", json={"prompt": "x", **body})
    assert_error(r, 400, rc)


@pytest.mark.parametrize("params,rc", [
    ({"stop_sequence": [f"s{i}" for i in range(129)]}, "TooManyStopSequences"),
    ({"stop_sequence": ["x" * 1001, "y" * 1001]}, "ExcessiveStopSequence"),
    ({"sampler_order": [0, 1, 2]}, "MissingFullSamplerOrder"),
])
def test_text_semantic_errors(h, req, params, rc):
    r = req.client.post("/generate/text/async", json={"prompt": "x", "params": params})
    assert_error(r, 400, rc)


def test_prompt_too_large(h, req):
    r = req.client.post("/generate/async", json={"prompt": "word " * 7501})
    body = assert_error(r, 400, "InvalidPromptSize")
    assert body["message"] == "Too large prompt. Please reduce the amount of tokens contained."


def test_webhook_must_be_https(h, req):
    r = req.client.post("/generate/async", json={"prompt": "x",
                                                 "webhook": "http://example.invalid/hook"})
    assert_error(r, 400)


def test_token_overflow(h, req):
    r = req.client.post("/generate/text/async", json={
        "prompt": "x", "params": {"max_length": 512, "max_context_length": 256}})
    assert_error(r, 400, "TokenOverflow")


def test_empty_prompt(h, req):
    body = assert_error(req.client.post("/generate/async", json={"prompt": ""}), 400,
                        "MissingPrompt")
    assert body["message"] == "You cannot specify an empty prompt."
    assert_error(req.client.post("/generate/async", json={"params": {}}), 400)


def test_nul_byte_escaped(h, req):
    r = req.client.post("/generate/async", json={"prompt": "a\u0000b"})
    body = assert_error(r, 400, "NulByteInPayload")
    assert body["message"] == "Request payload may not contain NUL (0x00) bytes."
    r = req.client.post("/generate/text/async", json={"prompt": "ok",
                                                      "params": {"stop_sequence": ["\u0000"]}})
    assert_error(r, 400, "NulByteInPayload")


def test_nul_byte_raw(h, req):
    r = post_raw(h, "/generate/async", b'{"prompt": "a\x00b"}', req.key)
    assert_error(r, 400)


def test_nul_byte_in_worker_name(h, owner):
    r = owner.client.post("/generate/pop", json={"name": "bad\u0000name",
                                                 "models": ["stable_diffusion"]})
    assert_error(r, 400, "NulByteInPayload")


def _raw_http(h, head: bytes, body_len: int, chunk: bytes) -> tuple[int, dict, bytes]:
    """Sends a request whose body is `body_len` bytes, stopping early if the server answers
    (or closes) first; returns (status, headers, body) of the answer."""
    s = socket.create_connection(("127.0.0.1", h.port), timeout=HTTP_TIMEOUT_S)
    try:
        s.sendall(head)
        sent = 0
        while sent < body_len:
            r, _, _ = select.select([s], [], [], 0)
            if r:
                break
            try:
                n = min(len(chunk), body_len - sent)
                s.sendall(chunk[:n])
                sent += n
            except (BrokenPipeError, ConnectionResetError):
                break
        data = b""
        s.settimeout(HTTP_TIMEOUT_S)
        while b"\r\n\r\n" not in data:
            part = s.recv(65536)
            if not part:
                break
            data += part
        head_part, _, rest = data.partition(b"\r\n\r\n")
        lines = head_part.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in
                   (line.split(":", 1) for line in lines[1:] if ":" in line)}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            try:
                part = s.recv(65536)
            except ConnectionResetError:
                break
            if not part:
                break
            rest += part
        return status, headers, rest[:length]
    finally:
        s.close()


def test_oversized_body_is_413_json(h, req):
    size = 33 * 1024 * 1024
    head = (f"POST /api/v2/generate/async HTTP/1.1\r\nHost: 127.0.0.1:{h.port}\r\n"
            f"apikey: {req.key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\nConnection: close\r\n\r\n").encode()
    status, headers, body = _raw_http(h, head, size, b'{"prompt":"' + b"a" * (1 << 20))
    assert status == 413
    assert "application/json" in headers.get("content-type", "")
    parsed = json.loads(body)
    assert parsed["message"] and parsed["rc"]
    # the server is still fine afterwards
    assert requests.get(h.api + "/status/heartbeat", timeout=HTTP_TIMEOUT_S).status_code == 200


def test_large_but_allowed_body(h, req):
    # 8 MB of unknown fields: accepted and ignored
    r = req.client.post("/generate/async", json={"prompt": "big body", "junk": "x" * (8 << 20)})
    assert r.status_code == 202, r.text[:300]


# --- unknown ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("rid", [str(uuid.uuid4()), "abc", "0" * 36])
def test_unknown_request_ids(h, rid):
    c = h.client()
    body = assert_error(c.get(f"/generate/check/{rid}"), 404, "RequestNotFound")
    assert body["message"] == f"Image Waiting Prompt (Check) with ID '{rid}' not found."
    body = assert_error(c.get(f"/generate/status/{rid}"), 404, "RequestNotFound")
    assert body["message"] == f"Image Waiting Prompt (Status) with ID '{rid}' not found."
    body = assert_error(c.delete(f"/generate/status/{rid}"), 404, "RequestNotFound")
    assert body["message"] == f"Image Waiting Prompt (Delete) with ID '{rid}' not found."
    body = assert_error(c.get(f"/generate/text/status/{rid}"), 404, "RequestNotFound")
    assert body["message"] == f"Text Waiting Prompt (Status) with ID '{rid}' not found."
    body = assert_error(c.delete(f"/generate/text/status/{rid}"), 404, "RequestNotFound")
    assert body["message"] == f"Text Waiting Prompt (Delete) with ID '{rid}' not found."


@pytest.mark.parametrize("path", ["/generate/submit", "/generate/text/submit"])
@pytest.mark.parametrize("jid", [str(uuid.uuid4()), "not-a-uuid"])
def test_submit_unknown_job(h, owner, path, jid):
    r = owner.client.post(path, json={"id": jid, "generation": "R2", "seed": 1})
    body = assert_error(r, 404, "InvalidJobID")
    assert body["message"] == f"Processing Job with ID {jid} does not exist."


def test_unknown_worker(h):
    c = h.client()
    wid = str(uuid.uuid4())
    body = assert_error(c.get(f"/workers/{wid}"), 404, "WorkerNotFound")
    assert body["message"] == f"Worker with ID '{wid}' not found."
    assert_error(c.get("/workers/bad-id"), 404, "WorkerNotFound")
    assert_error(c.get("/workers/name/no-such-worker-name"), 404, "WorkerNotFound")


@pytest.mark.parametrize("uid", ["abc", "999999", "1.5", "-1"])
def test_unknown_user(h, uid):
    assert_error(h.client().get(f"/users/{uid}"), 404, "UserNotFound")


# --- authentication ------------------------------------------------------------------------------


INVALID_KEY_MSG = "No user matching sent API Key."


@pytest.mark.parametrize("method,path,body", [
    ("POST", "/generate/async", {"prompt": "x"}),
    ("POST", "/generate/text/async", {"prompt": "x"}),
    ("POST", "/generate/pop", {"name": "w-badkey", "models": ["stable_diffusion"]}),
    ("POST", "/generate/text/pop", {"name": "w-badkey2"}),
    ("POST", "/generate/submit", {"id": str(uuid.uuid4()), "generation": "R2", "seed": 1}),
])
def test_bad_apikey(h, method, path, body):
    c = h.client("definitely-not-a-key")
    r = c.request(method, path, json=body)
    body = assert_error(r, 401, "InvalidAPIKey")
    assert body["message"].startswith(INVALID_KEY_MSG), body


def test_find_user_without_key(h):
    assert_error(h.client().get("/find_user"), 401, "InvalidAPIKey")


def test_anonymous_pop_is_forbidden(h):
    for path in ("/generate/pop", "/generate/text/pop"):
        r = h.client(ANON_KEY).post(path, json={"name": "anon-worker",
                                                "models": ["stable_diffusion"]})
        body = assert_error(r, 403, "AnonForbiddenWorker")
        assert body["message"] == "Anonymous user is forbidden from performing this operation"


def test_missing_apikey_on_pop(h):
    for path in ("/generate/pop", "/generate/text/pop", "/generate/submit"):
        r = h.client().post(path, json={"name": "nokey", "id": str(uuid.uuid4()),
                                        "generation": "x", "seed": 1})
        body = assert_error(r, 400)
        assert "apikey" in body.get("errors", {}), body


def test_anonymous_may_request(h):
    r = h.client(ANON_KEY).post("/generate/async", json={"prompt": "anon request"})
    assert r.status_code == 202, r.text
    r = h.client().post("/generate/async", json={"prompt": "no key at all"})
    assert r.status_code == 202, r.text


# --- routing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v2/nonexistent", "/api/v2/generate/nope/1", "/nope",
                                  "/api/v3/status/heartbeat", "/api/v2/generate/check/"])
def test_unknown_route_is_json_404(h, path):
    r = requests.get(h.base + path, timeout=HTTP_TIMEOUT_S)
    assert_error(r, 404)


@pytest.mark.parametrize("method,path", [("GET", "/generate/async"), ("PUT", "/find_user"),
                                         ("DELETE", "/generate/pop"),
                                         ("POST", "/generate/check/x"),
                                         ("PATCH", "/status/heartbeat")])
def test_wrong_method_is_json_405(h, method, path):
    r = requests.request(method, h.api + path, timeout=HTTP_TIMEOUT_S)
    body = assert_error(r, 405)
    assert body["message"] == "The method is not allowed for the requested URL."


# --- leniency ------------------------------------------------------------------------------------


def test_unknown_fields_are_ignored(h, req):
    r = req.client.post("/generate/async", json={
        "prompt": "lenient", "some_new_field": 1, "shared": True,
        "params": {"use_gfpgan": True, "scheduler": "karras", "n": 1, "seed": "",
                   "control_type": "", "loras": [{"name": "1", "original_name": "x"}]},
        "workers": []})
    assert r.status_code == 202, r.text
    r = req.client.post("/generate/text/async", json={
        "prompt": "lenient", "params": {"gui_settings": False, "can_abort": True,
                                        "mirostat": 0, "sampler_seed": 3},
        "softprompt": ""})
    assert r.status_code == 202, r.text


def test_unknown_pop_fields_are_ignored(horde):
    owner = horde.user(trusted=True)
    r = owner.client.post("/generate/pop", json={"name": "lenient-worker",
                                                 "models": ["stable_diffusion"],
                                                 "bridge_version": 12, "future": {"x": 1}})
    assert r.status_code == 200, r.text
    r = owner.client.post("/generate/text/pop", json={"name": "lenient-text-worker",
                                                      "softprompts": [""], "bridge_version": 3})
    assert r.status_code == 200, r.text


def test_result_url_with_bad_signature(h):
    url = h.api + f"/results/{uuid.uuid4()}.webp?expires=99999999999&sig=deadbeef"
    assert_error(requests.get(url, timeout=HTTP_TIMEOUT_S), 403)
    assert_error(requests.put(url, data=b"x", timeout=HTTP_TIMEOUT_S), 403)
    assert_error(requests.get(h.api + f"/results/{uuid.uuid4()}.webp", timeout=HTTP_TIMEOUT_S),
                 403)


# --- submit errors (a fresh server each: pops take whatever matches in the queue) -------------


@pytest.fixture
def pair(horde):
    return horde.user(kudos=10000), horde.user(trusted=True)


def test_duplicate_submit(horde, pair):
    req, owner = pair
    w = owner.image_worker()
    req.image_async()
    job = w.pop_job()
    w.deliver(job)
    r = w.submit_raw(job["id"], generation="R2", seed=1)
    body = assert_error(r, 400, "DuplicateGen")
    assert body["message"] == f"Processing Generation with ID {job['id']} already submitted."


def test_text_duplicate_submit(horde, pair):
    req, owner = pair
    w = owner.text_worker()
    req.text_async()
    job = w.pop_job()
    w.submit(job["id"], "once")
    assert_error(w.submit_raw(job["id"], generation="twice"), 400, "DuplicateGen")


def test_other_user_cannot_submit(horde, pair):
    req, owner = pair
    w = owner.image_worker()
    req.image_async()
    job = w.pop_job()
    thief = horde.user(trusted=True)
    r = thief.client.post("/generate/submit", json={"id": job["id"], "generation": "R2",
                                                    "seed": 1})
    body = assert_error(r, 403, "WrongCredentials")
    assert body["message"] == "Wrong credentials to submit as this worker."
    # the rightful worker still can
    w.deliver(job)


def test_other_user_cannot_use_worker_name(horde, pair):
    _, owner = pair
    w = owner.image_worker()
    w.pop_empty()
    thief = horde.user(trusted=True)
    r = thief.client.post("/generate/pop", json={"name": w.name,
                                                 "models": ["stable_diffusion"]})
    assert_error(r, 403, "WrongCredentials")


def test_worker_name_taken_by_other_kind(horde, pair):
    _, owner = pair
    w = owner.image_worker()
    w.pop_empty()
    r = owner.client.post("/generate/text/pop", json={"name": w.name})
    assert_error(r, 400, "PolymorphicNameConflict")


def test_image_submit_needs_seed(horde, pair):
    req, owner = pair
    w = owner.image_worker()
    req.image_async()
    job = w.pop_job()
    r = owner.client.post("/generate/submit", json={"id": job["id"], "generation": "R2"})
    body = assert_error(r, 400)
    assert "seed" in body.get("errors", {}), body


def test_pop_validation(h, owner):
    assert_error(owner.client.post("/generate/pop", json={"models": ["stable_diffusion"]}), 400)
    assert_error(owner.client.post("/generate/pop", json={"name": "w-amt", "amount": 21}), 400)
    assert_error(owner.client.post("/generate/pop", json={"name": "w-thr", "threads": 0}), 400)
    assert_error(owner.client.post("/generate/pop", json={"name": "w-mod", "models": "x"}), 400)


# --- test mode gate ------------------------------------------------------------------------------


def test_dev_endpoints_absent_without_test_mode(horde_factory):
    prod = horde_factory(test_mode=False)
    r = requests.post(prod.api + "/dev/test-user", json={"username": "x"},
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 404
    r = requests.post(prod.api + "/dev/clock", json={"advance_s": 10}, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 404
    # the rest of the API works
    assert requests.get(prod.api + "/status/heartbeat", timeout=HTTP_TIMEOUT_S).status_code == 200


def test_test_user_validation(h):
    url = h.api + "/dev/test-user"
    for body, msg in [({"username": 5}, "username must be a string"),
                      ({"moderator": "yes"}, "moderator must be a boolean"),
                      ({"kudos": 1.5}, "kudos must be an integer or null"),
                      ({"kudos": -1}, "kudos must be non-negative"),
                      ({"username": "  "}, "username cannot be empty")]:
        r = requests.post(url, json=body, timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["message"] == msg
    r = requests.post(url, json=[1], timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 400


def test_test_user_created_then_refreshed(h):
    body = {"username": "refresh_me", "oauth_id": "refresh-oauth", "moderator": False,
            "trusted": True, "kudos": 123}
    r1 = requests.post(h.api + "/dev/test-user", json=body, timeout=HTTP_TIMEOUT_S)
    assert r1.status_code == 201, r1.text
    b1 = r1.json()
    assert set(b1) >= {"api_key", "user_id", "username", "alias", "kudos", "trusted",
                       "moderator", "created"}
    assert b1["created"] is True and b1["alias"] == f"refresh_me#{b1['user_id']}"
    assert isinstance(b1["user_id"], str) and len(b1["api_key"]) >= 16
    r2 = requests.post(h.api + "/dev/test-user", json={**body, "kudos": 50},
                       timeout=HTTP_TIMEOUT_S)
    assert r2.status_code == 200
    b2 = r2.json()
    assert b2["created"] is False and b2["user_id"] == b1["user_id"]
    assert b2["api_key"] != b1["api_key"] and b2["kudos"] == 50
    # the old key stopped working; the new one sees the set balance
    assert h.client(b1["api_key"]).get("/find_user").status_code in (401, 404)
    assert h.client(b2["api_key"]).get("/find_user").json()["kudos"] == 50


# --- CORS ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method,path", [("GET", "/status/heartbeat"),
                                         ("GET", "/generate/check/nope"),
                                         ("POST", "/generate/async"),
                                         ("GET", "/no/such/route")])
def test_cors_on_every_response(h, method, path):
    r = requests.request(method, h.api + path, headers={"Origin": "https://lite.example"},
                         timeout=HTTP_TIMEOUT_S)
    assert r.headers.get("Access-Control-Allow-Origin") == "*", (r.status_code, r.headers)


@pytest.mark.parametrize("path", ["/generate/async", "/generate/status/x", "/find_user",
                                  "/generate/text/async"])
def test_cors_preflight(h, path):
    r = requests.options(h.api + path, headers={
        "Origin": "https://artbot.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "apikey, client-agent, content-type, x-fields"},
        timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200
    assert r.headers.get("Access-Control-Allow-Origin") == "*"
    methods = {m.strip().upper() for m in r.headers.get("Access-Control-Allow-Methods",
                                                        "").split(",")}
    assert {"GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"} <= methods, methods
    allowed = {x.strip().lower() for x in r.headers.get("Access-Control-Allow-Headers",
                                                        "").split(",")}
    assert {"apikey", "client-agent", "content-type", "x-fields", "proxied-for"} <= allowed


def test_json_content_type_and_horde_node(h):
    r = requests.get(h.api + "/status/heartbeat", timeout=HTTP_TIMEOUT_S)
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers.get("Horde-Node"), r.headers
