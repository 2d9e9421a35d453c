"""The C interface (libhorde.so) through Python ctypes, as a binding would use it: status codes,
per-handle/per-thread last errors with the server's HTTP status and rc, background jobs."""

from __future__ import annotations

import ctypes
import json
import threading
import time

import pytest

from .client_harness import BUILD, Server, closed_port_url, sanitized_build

HORDE_OK, HORDE_ERR_NETWORK, HORDE_ERR_AUTH, HORDE_ERR_REJECTED, HORDE_ERR_NOT_FOUND = 0, 2, 3, 4, 5
HORDE_ERR_INVALID_ARGUMENT, HORDE_ERR_CANCELLED = 1, 11
KIND_IMAGE, KIND_TEXT = 0, 1


class Progress(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int) for name in (
        "finished", "processing", "restarted", "waiting", "done", "faulted", "is_possible",
        "queue_position", "wait_time_s")] + [("kudos", ctypes.c_double),
                                              ("elapsed_s", ctypes.c_double)]


pytestmark = pytest.mark.skipif(
    sanitized_build(), reason="an ASan-built libhorde.so cannot be loaded into an uninstrumented "
    "python; the C example covers the library in sanitizer builds")


@pytest.fixture(scope="module")
def lib():
    path = BUILD / "src" / "client" / "libhorde.so"
    if not path.exists():
        pytest.fail(f"{path} not found (set HORDE_BUILD=...)")
    lib = ctypes.CDLL(str(path))
    P, S, I, D = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_double
    sigs = {
        "horde_version": (S, []),
        "horde_status_name": (S, [I]),
        "horde_free": (None, [P]),
        "horde_client_new": (P, [S, S, S]),
        "horde_client_free": (None, [P]),
        "horde_client_set_poll_interval_ms": (I, [P, I]),
        "horde_last_error": (S, [P]),
        "horde_last_http_status": (I, [P]),
        "horde_last_rc": (S, [P]),
        "horde_submit_json": (I, [P, I, S, ctypes.POINTER(P)]),
        "horde_submit_text_simple": (I, [P, S, S, I, I, D, ctypes.POINTER(P)]),
        "horde_check": (I, [P, S, I, ctypes.POINTER(Progress)]),
        "horde_cancel": (I, [P, S, I]),
        "horde_job_start": (P, [P, S, I, D]),
        "horde_job_poll": (I, [P, ctypes.POINTER(Progress)]),
        "horde_job_cancel": (None, [P]),
        "horde_job_finish": (I, [P, ctypes.POINTER(P)]),
        "horde_result_count": (ctypes.c_size_t, [P]),
        "horde_result_text": (S, [P, ctypes.c_size_t]),
        "horde_result_json": (S, [P]),
        "horde_result_request_id": (S, [P]),
        "horde_result_free": (None, [P]),
        "horde_find_user": (I, [P, ctypes.POINTER(P), ctypes.POINTER(D)]),
        "horde_transfer_kudos": (I, [P, S, D, ctypes.POINTER(D)]),
        "horde_get_json": (I, [P, S, ctypes.POINTER(P)]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    return lib


def take_string(lib, p: ctypes.c_void_p) -> str:
    s = ctypes.cast(p, ctypes.c_char_p).value.decode()
    lib.horde_free(p)
    return s


def client(lib, server_url: str, key: str | None):
    c = lib.horde_client_new(server_url.encode(), key.encode() if key else None, b"ctypes:1:test")
    assert c
    return c


def test_find_user_and_get_json(lib, server: Server):
    acct = server.user(kudos=321)
    c = client(lib, server.url, acct.key)
    try:
        name, kudos = ctypes.c_void_p(), ctypes.c_double()
        assert lib.horde_find_user(c, ctypes.byref(name), ctypes.byref(kudos)) == HORDE_OK
        assert take_string(lib, name) == acct.alias
        assert kudos.value == 321
        assert lib.horde_last_error(c) == b""
        out = ctypes.c_void_p()
        assert lib.horde_get_json(c, b"/status/heartbeat", ctypes.byref(out)) == HORDE_OK
        assert json.loads(take_string(lib, out))["message"] == "OK"
        assert lib.horde_version().decode().count(".") == 2
    finally:
        lib.horde_client_free(c)


def test_errors_carry_status_rc_and_message(lib, server: Server):
    c = client(lib, server.url, "bad-key-789")
    try:
        rid = ctypes.c_void_p()
        st = lib.horde_submit_json(c, KIND_TEXT, b'{"prompt":"hi"}', ctypes.byref(rid))
        assert st == HORDE_ERR_AUTH
        assert lib.horde_status_name(st) == b"HORDE_ERR_AUTH"
        assert lib.horde_last_http_status(c) == 401
        assert lib.horde_last_rc(c) == b"InvalidAPIKey"
        assert b"No user matching sent API Key" in lib.horde_last_error(c)
        assert not rid.value
        # Argument errors are reported too, without any HTTP.
        assert lib.horde_submit_json(c, KIND_TEXT, None, ctypes.byref(rid)) == \
            HORDE_ERR_INVALID_ARGUMENT
        assert lib.horde_last_http_status(c) == 0
        # 404 with the server's rc.
        p = Progress()
        st = lib.horde_check(c, b"00000000-0000-4000-8000-000000000000", KIND_IMAGE,
                             ctypes.byref(p))
        assert st == HORDE_ERR_NOT_FOUND
        assert lib.horde_last_rc(c) == b"RequestNotFound"
    finally:
        lib.horde_client_free(c)
    down = client(lib, closed_port_url(), None)
    try:
        assert lib.horde_find_user(down, None, None) == HORDE_ERR_NETWORK
        assert b"cannot reach" in lib.horde_last_error(down)
    finally:
        lib.horde_client_free(down)


def test_last_error_is_per_thread(lib, server: Server):
    acct = server.user()
    c = client(lib, server.url, acct.key)
    results: dict[str, tuple] = {}

    def failing():
        rid = ctypes.c_void_p()
        st = lib.horde_submit_json(c, KIND_TEXT, b'{"prompt":""}', ctypes.byref(rid))
        time.sleep(0.2)  # the other thread succeeds meanwhile
        results["fail"] = (st, lib.horde_last_error(c))

    def succeeding():
        time.sleep(0.1)
        st = lib.horde_find_user(c, None, None)
        results["ok"] = (st, lib.horde_last_error(c))

    threads = [threading.Thread(target=failing), threading.Thread(target=succeeding)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    lib.horde_client_free(c)
    assert results["ok"] == (HORDE_OK, b"")
    assert results["fail"][0] == HORDE_ERR_REJECTED
    assert b"HTTP 400" in results["fail"][1]


def test_background_job_for_event_loops(lib, server: Server, account, worker_factory):
    worker_factory("text", text="From the game loop.")
    c = client(lib, server.url, account.key)
    try:
        lib.horde_client_set_poll_interval_ms(c, 200)
        rid = ctypes.c_void_p()
        assert lib.horde_submit_text_simple(c, b"Say something", None, 32, 0, -1.0,
                                            ctypes.byref(rid)) == HORDE_OK, \
            lib.horde_last_error(c)
        request_id = take_string(lib, rid)
        job = lib.horde_job_start(c, request_id.encode(), KIND_TEXT, 30.0)
        assert job
        p = Progress()
        deadline = time.monotonic() + 20
        while lib.horde_job_poll(job, ctypes.byref(p)) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # "one frame"
        assert p.done == 1
        res = ctypes.c_void_p()
        assert lib.horde_job_finish(job, ctypes.byref(res)) == HORDE_OK, lib.horde_last_error(c)
        assert lib.horde_result_count(res) == 1
        assert lib.horde_result_text(res, 0) == b"From the game loop."
        assert lib.horde_result_text(res, 5) is None
        assert lib.horde_result_request_id(res).decode() == request_id
        assert json.loads(lib.horde_result_json(res))["generations"][0]["text"] == \
            "From the game loop."
        lib.horde_result_free(res)
    finally:
        lib.horde_client_free(c)


def test_cancelled_job_cancels_on_the_server(lib, server: Server, account):
    c = client(lib, server.url, account.key)
    try:
        rid = ctypes.c_void_p()
        assert lib.horde_submit_json(c, KIND_IMAGE, b'{"prompt":"nobody serves this"}',
                                     ctypes.byref(rid)) == HORDE_OK
        request_id = take_string(lib, rid)
        job = lib.horde_job_start(c, request_id.encode(), KIND_IMAGE, 30.0)
        time.sleep(0.3)
        lib.horde_job_cancel(job)
        res = ctypes.c_void_p()
        assert lib.horde_job_finish(job, ctypes.byref(res)) == HORDE_ERR_CANCELLED
        assert not res.value
        check = server.get(f"/generate/check/{request_id}").json()
        assert check["done"] is True and check["waiting"] == 0
    finally:
        lib.horde_client_free(c)


def test_transfer_error_path(lib, server: Server):
    acct, other = server.user(), server.user()
    c = client(lib, server.url, acct.key)
    try:
        st = lib.horde_transfer_kudos(c, other.alias.encode(), 5.0, None)
        # Not served yet (404); once the kudos issue lands this becomes HORDE_OK.
        assert st in (HORDE_OK, HORDE_ERR_NOT_FOUND), lib.horde_last_error(c)
    finally:
        lib.horde_client_free(c)
