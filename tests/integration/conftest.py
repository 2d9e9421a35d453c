"""Fixtures for the black-box integration tests of horded.

Every test talks to a real `horded` process over HTTP, exactly as clients and workers do.
The binary comes from $HORDED (default: build/apps/horded/horded in the repository).

Fixtures:
  horde          a fresh server (fresh data dir) for one test
  module_horde   one server shared by all tests of a module (for tests that only read, or that
                 keep to their own users, workers and requests)
  horded_bin     path of the binary (for CLI subcommands)

A `Horde` object gives clients (`horde.client(key)`), users (`horde.user(...)`), the clock
(`horde.advance(seconds)`), a crash (`horde.kill9()`), restarts, and the data dir paths.
Waits are bounded everywhere; nothing sleeps to let time pass on the server: `advance` moves
the server's test clock and runs its periodic sweep at once.
"""

from __future__ import annotations

import base64
import itertools
import os
import pathlib
import re
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO / "build" / "apps" / "horded" / "horded"

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
HTTP_TIMEOUT_S = 30.0

ANON_KEY = "0000000000"

# A 1x1 lossless WebP (the smallest well-formed WebP file); workers upload result images.
TINY_WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")

# A current official image worker: has every capability up to flux (bridge table of §3.4).
REGEN_AGENT = "AI Horde Worker reGen:9.0.0:https://example.invalid/regen"

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

_names = itertools.count(1)


def unique(prefix: str = "t") -> str:
    """A short unique name (usernames are cut at 30 characters by the server)."""
    return f"{prefix}{next(_names)}x{uuid.uuid4().hex[:6]}"


def horded_path() -> pathlib.Path:
    return pathlib.Path(os.environ.get("HORDED", str(DEFAULT_BIN)))


# ------------------------------------------------------------------------------------------------
# HTTP client


class Client:
    """A thin requests wrapper: paths are relative to /api/v2, the apikey header is added."""

    def __init__(self, api: str, apikey: str | None = None, client_agent: str | None = None):
        self.api = api
        self.apikey = apikey
        self.session = requests.Session()
        self.session.headers["Connection"] = "close"
        if client_agent:
            self.session.headers["Client-Agent"] = client_agent

    def url(self, path: str) -> str:
        if path.startswith("http://") or path.startswith("https://"):
            return path
        return self.api + (path if path.startswith("/") else "/" + path)

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", None) or {})
        if self.apikey is not None and "apikey" not in {k.lower() for k in headers}:
            headers["apikey"] = self.apikey
        kw.setdefault("timeout", HTTP_TIMEOUT_S)
        return self.session.request(method, self.url(path), headers=headers, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> requests.Response:
        if json is not None:
            kw["json"] = json
        return self.request("POST", path, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> requests.Response:
        if json is not None:
            kw["json"] = json
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def close(self) -> None:
        self.session.close()


def assert_error(resp: requests.Response, status: int, rc: str | None = None) -> dict:
    """A 4xx/5xx as clients see it: the status, a JSON object with `message` and `rc`."""
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert "application/json" in resp.headers.get("Content-Type", ""), resp.headers
    body = resp.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("message"), str) and body["message"], body
    assert isinstance(body.get("rc"), str) and body["rc"], body
    if rc is not None:
        assert body["rc"] == rc, body
    return body


# ------------------------------------------------------------------------------------------------
# Users and workers


@dataclass
class User:
    name: str
    id: int
    alias: str
    key: str
    client: Client
    horde: "Horde"

    def kudos(self) -> float:
        r = self.client.get("/find_user")
        assert r.status_code == 200, r.text
        return r.json()["kudos"]

    def find(self) -> dict:
        r = self.client.get("/find_user")
        assert r.status_code == 200, r.text
        return r.json()

    # Requests -----------------------------------------------------------------------------

    def image_async(self, expect: int = 202, **body: Any) -> dict:
        body.setdefault("prompt", unique("a painting of "))
        r = self.client.post("/generate/async", json=body)
        assert r.status_code == expect, r.text
        return r.json()

    def text_async(self, expect: int = 202, **body: Any) -> dict:
        body.setdefault("prompt", unique("Once upon a time "))
        r = self.client.post("/generate/text/async", json=body)
        assert r.status_code == expect, r.text
        return r.json()

    def image_worker(self, name: str | None = None, **profile: Any) -> "ImageWorker":
        return ImageWorker(self, name or unique("iw"), profile)

    def text_worker(self, name: str | None = None, **profile: Any) -> "TextWorker":
        return TextWorker(self, name or unique("tw"), profile)


class _Worker:
    kind = ""
    defaults: dict[str, Any] = {}

    def __init__(self, owner: User, name: str, profile: dict[str, Any]):
        self.owner = owner
        self.name = name
        self.profile = {**self.defaults, **profile}

    @property
    def client(self) -> Client:
        return self.owner.client

    def pop_raw(self, **overrides: Any) -> requests.Response:
        body = {"name": self.name, **self.profile, **overrides}
        return self.client.post(self.pop_path, json=body)

    def pop(self, **overrides: Any) -> dict:
        r = self.pop_raw(**overrides)
        assert r.status_code == 200, r.text
        return r.json()

    def pop_job(self, **overrides: Any) -> dict:
        job = self.pop(**overrides)
        assert job["id"] is not None, f"expected a job, got an empty pop: {job}"
        return job

    def pop_empty(self, **overrides: Any) -> dict:
        job = self.pop(**overrides)
        assert job["id"] is None, f"expected an empty pop, got a job: {job}"
        assert job["ids"] == []
        return job

    def submit_raw(self, job_id: str, **body: Any) -> requests.Response:
        return self.client.post(self.submit_path, json={"id": job_id, **body})

    def details(self) -> dict:
        r = self.client.get(f"/workers/name/{self.name}")
        assert r.status_code == 200, r.text
        return r.json()

    @property
    def id(self) -> str:
        return self.details()["id"]


class ImageWorker(_Worker):
    kind = "image"
    pop_path = "/generate/pop"
    submit_path = "/generate/submit"
    defaults = {
        "models": ["stable_diffusion"],
        "bridge_agent": REGEN_AGENT,
        "nsfw": True,
        "max_pixels": 262144,
        "threads": 1,
    }

    def upload(self, url: str, data: bytes = TINY_WEBP) -> requests.Response:
        # A presigned PUT as workers send it: raw bytes, no apikey.
        return requests.put(url, data=data, headers={"Content-Type": "image/webp"},
                            timeout=HTTP_TIMEOUT_S)

    def submit(self, job_id: str, generation: str = "R2", seed: int = 1234, expect: int = 200,
               **extra: Any) -> dict:
        r = self.submit_raw(job_id, generation=generation, seed=seed, **extra)
        assert r.status_code == expect, r.text
        return r.json()

    def deliver(self, job: dict, index: int = 0, data: bytes = TINY_WEBP, seed: int = 1234,
                via_r2: bool = True) -> dict:
        """Upload (R2) or inline (base64) the result of job['ids'][index] and submit it."""
        jid = job["ids"][index]
        if via_r2:
            up = self.upload(job["r2_uploads"][index], data)
            assert up.status_code in (200, 201, 204), (up.status_code, up.text)
            return self.submit(jid, "R2", seed)
        return self.submit(jid, base64.b64encode(data).decode(), seed)

    def run_one(self, **pop_overrides: Any) -> tuple[dict, dict]:
        job = self.pop_job(**pop_overrides)
        out = None
        for i in range(len(job["ids"])):
            out = self.deliver(job, i)
        return job, out


class TextWorker(_Worker):
    kind = "text"
    pop_path = "/generate/text/pop"
    submit_path = "/generate/text/submit"
    defaults = {
        "models": ["koboldcpp/TestModel-7B"],
        "bridge_agent": "AI Horde Worker:24:https://example.invalid/worker",
        "max_length": 512,
        "max_context_length": 4096,
        "nsfw": True,
        "threads": 1,
    }

    def submit(self, job_id: str, generation: str = "the end.", seed: int = 0, expect: int = 200,
               **extra: Any) -> dict:
        r = self.submit_raw(job_id, generation=generation, seed=seed, **extra)
        assert r.status_code == expect, r.text
        return r.json()

    def run_one(self, generation: str = "the end.", **pop_overrides: Any) -> tuple[dict, dict]:
        job = self.pop_job(**pop_overrides)
        return job, self.submit(job["id"], generation)


# ------------------------------------------------------------------------------------------------
# The server process


class Horde:
    """One horded process on a data dir; can be stopped, killed and restarted on the same dir."""

    def __init__(self, data_dir: pathlib.Path, test_mode: bool = True,
                 extra_args: tuple[str, ...] = ()):
        self.bin = horded_path()
        self.data_dir = pathlib.Path(data_dir)
        self.test_mode = test_mode
        self.extra_args = tuple(extra_args)
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"
        self._clients: list[Client] = []
        self._log_offset = 0

    # Paths ---------------------------------------------------------------------------------

    @property
    def db_path(self) -> pathlib.Path:
        return self.data_dir / "horde.sqlite3"

    @property
    def results_dir(self) -> pathlib.Path:
        return self.data_dir / "results"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return self.base + "/api/v2"

    # Process control -----------------------------------------------------------------------

    def start(self, port: int = 0) -> "Horde":
        assert self.proc is None, "already running"
        if not self.bin.exists():
            pytest.fail(f"horded binary not found at {self.bin} (set HORDED=...)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [str(self.bin), "--port", str(port), "--bind", "127.0.0.1",
                "--data-dir", str(self.data_dir), *self.extra_args]
        if self.test_mode:
            args.append("--test-mode")
        log = open(self.log_path, "ab")
        self._log_offset = log.tell()
        # stdout and stderr go to a file: a pipe nobody reads would block the server.
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            text = self._new_log()
            m = re.search(r"^LISTENING (\d+)\s*$", text, re.M)
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"horded exited with {self.proc.returncode}:\n{text[-3000:]}")
            time.sleep(0.02)
        self.proc.kill()
        self.proc.wait(5)
        self.proc = None
        raise RuntimeError(f"horded did not print LISTENING within {START_TIMEOUT_S} s:\n"
                           f"{self._new_log()[-3000:]}")

    def _new_log(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_offset)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, chars: int = 4000) -> str:
        return self._new_log()[-chars:]

    def _close_clients(self) -> None:
        for c in self._clients:
            c.close()

    def stop(self) -> int | None:
        """SIGTERM and wait (bounded). Returns the exit status."""
        if self.proc is None:
            return None
        self._close_clients()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            rc = None
        self.proc = None
        return rc

    def kill9(self) -> None:
        """A crash: SIGKILL, no chance to flush or checkpoint anything."""
        assert self.proc is not None
        self._close_clients()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(STOP_TIMEOUT_S)
        self.proc = None

    def restart(self, same_port: bool = True) -> "Horde":
        """Starts again on the same data dir (and by default the same port, so URLs handed out
        before, like r2_upload, still point at it)."""
        old = self.port
        if self.proc is not None:
            self.stop()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                return self.start(old if same_port and old else 0)
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def run_cli(self, *args: str, timeout: float = 30.0,
                data_dir_last: bool = False) -> subprocess.CompletedProcess:
        """`horded --data-dir <this data dir> <args>` (run it while the server is stopped).
        With data_dir_last the option goes after the subcommand, as the docs write it."""
        dd = ["--data-dir", str(self.data_dir)]
        argv = [str(self.bin), *args, *dd] if data_dir_last else [str(self.bin), *dd, *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)

    # HTTP ------------------------------------------------------------------------------------

    def client(self, apikey: str | None = None, client_agent: str | None = None) -> Client:
        c = Client(self.api, apikey, client_agent)
        self._clients.append(c)
        return c

    def user(self, name: str | None = None, kudos: int = 10000, trusted: bool = False,
             moderator: bool = False, oauth_id: str | None = None) -> User:
        name = name or unique("u")
        r = requests.post(self.api + "/dev/test-user", json={
            "username": name, "oauth_id": oauth_id or ("oauth-" + name),
            "moderator": moderator, "trusted": trusted, "kudos": kudos,
        }, timeout=HTTP_TIMEOUT_S)
        assert r.status_code in (200, 201), r.text
        b = r.json()
        return User(b["username"], int(b["user_id"]), b["alias"], b["api_key"],
                    self.client(b["api_key"]), self)

    def advance(self, seconds: float) -> dict:
        r = requests.post(self.api + "/dev/clock", json={"advance_s": seconds},
                          timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 200, r.text
        return r.json()

    def anon(self) -> Client:
        return self.client(ANON_KEY)

    # Store inspection -----------------------------------------------------------------------

    def raw_store_bytes(self) -> bytes:
        """The bytes of the database file and its WAL, as they are on disk right now."""
        out = b""
        for suffix in ("", "-wal"):
            p = pathlib.Path(str(self.db_path) + suffix)
            if p.exists():
                out += p.read_bytes()
        return out

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        import sqlite3
        con = sqlite3.connect(str(self.db_path), timeout=10)
        try:
            return con.execute(query, params).fetchall()
        finally:
            con.close()


def _new_horde(tmp: pathlib.Path, **kw: Any) -> Horde:
    return Horde(tmp / "data", **kw)


@pytest.fixture
def horde(tmp_path: pathlib.Path):
    h = _new_horde(tmp_path).start()
    yield h
    h.stop()


@pytest.fixture(scope="module")
def module_horde(tmp_path_factory: pytest.TempPathFactory):
    h = _new_horde(tmp_path_factory.mktemp("horde")).start()
    yield h
    h.stop()


@pytest.fixture
def horde_factory(tmp_path: pathlib.Path):
    """Makes extra servers (e.g. without --test-mode); all are stopped at teardown."""
    made: list[Horde] = []

    def make(test_mode: bool = True, extra_args: tuple[str, ...] = (), start: bool = True,
             data_dir: pathlib.Path | None = None) -> Horde:
        h = Horde(data_dir or tmp_path / f"data{len(made)}", test_mode=test_mode,
                  extra_args=extra_args)
        made.append(h)
        return h.start() if start else h

    yield make
    for h in made:
        h.stop()


@pytest.fixture(scope="session")
def horded_bin() -> pathlib.Path:
    p = horded_path()
    if not p.exists():
        pytest.fail(f"horded binary not found at {p} (set HORDED=...)")
    return p


def run_threads(fn, args_list: list[tuple], timeout: float = 60.0) -> list[Any]:
    """Runs fn(*args) for each args in parallel threads; returns results in order."""
    results: list[Any] = [None] * len(args_list)
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(args_list))

    def body(i: int, args: tuple) -> None:
        try:
            barrier.wait(10)
            results[i] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i, a), daemon=True)
               for i, a in enumerate(args_list)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "threads did not finish in time"
    if errors:
        raise errors[0]
    return results


def approx_kudos(a: float, b: float, tol: float = 0.011) -> bool:
    return abs(a - b) <= tol
