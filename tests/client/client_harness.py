"""Test harness for the tests of the `horde` CLI, the C++ client library and its C interface.

Everything runs against a real `horded` (test mode, fresh data dir, port 0) with a scripted worker
written in Python: a thread that pops jobs, uploads image bytes to the presigned URL
(`r2_upload`) and submits, exactly as a real worker does.

Binaries:
  $HORDED          horded (default: <repo>/build/apps/horded/horded)
  $HORDE_BUILD     build directory holding apps/horde/horde and src/client/libhorde.so
                   (default: <repo>/build)
"""

from __future__ import annotations

import base64
import itertools
import os
import pathlib
import queue
import re
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("HORDE_BUILD", str(REPO / "build")))
HORDED = pathlib.Path(os.environ.get("HORDED",
                                     str(REPO / "build" / "apps" / "horded" / "horded")))
HORDE_CLI = BUILD / "apps" / "horde" / "horde"

START_TIMEOUT_S = 20.0
HTTP_TIMEOUT_S = 10.0
CLI_TIMEOUT_S = 30.0

# A 1x1 lossless WebP; the scripted worker appends the job id so every upload is distinct.
TINY_WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
REGEN_AGENT = "AI Horde Worker reGen:9.0.0:https://example.invalid/regen"
TEXT_AGENT = "AI Horde Worker:24:https://example.invalid/worker"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

_names = itertools.count(1)


def sanitized_build() -> bool:
    """True when $HORDE_BUILD was configured with HORDE_SANITIZE=ON (ASan + UBSan)."""
    cache = BUILD / "CMakeCache.txt"
    return cache.exists() and re.search(r"^HORDE_SANITIZE:BOOL=ON$",
                                        cache.read_text(errors="replace"), re.M) is not None


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}x{uuid.uuid4().hex[:6]}"


@dataclass
class Account:
    username: str
    alias: str
    key: str


class Server:
    """One horded process in test mode on a fresh data dir."""

    def __init__(self, data_dir: pathlib.Path):
        self.data_dir = data_dir
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log_path = data_dir.parent / (data_dir.name + ".log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return self.url + "/api/v2"

    def start(self) -> "Server":
        if not HORDED.exists():
            pytest.fail(f"horded not found at {HORDED} (set HORDED=...)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(HORDED), "--port", "0", "--bind", "127.0.0.1", "--data-dir", str(self.data_dir),
             "--test-mode"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            m = re.search(r"^LISTENING (\d+)\s*$", self.log_path.read_text(errors="replace"),
                          re.M)
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"horded exited: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.02)
        self.proc.kill()
        raise RuntimeError("horded did not print LISTENING")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None

    def user(self, kudos: int = 1000) -> Account:
        name = unique("u")
        r = requests.post(self.api + "/dev/test-user", json={
            "username": name, "oauth_id": "oauth-" + name, "kudos": kudos,
            "moderator": False, "trusted": True}, timeout=HTTP_TIMEOUT_S)
        assert r.status_code in (200, 201), r.text
        b = r.json()
        return Account(b["username"], b["alias"], b["api_key"])

    def get(self, path: str, key: str | None = None) -> requests.Response:
        headers = {"apikey": key} if key else {}
        return requests.get(self.api + path, headers=headers, timeout=HTTP_TIMEOUT_S)


class ScriptedWorker:
    """A worker in a thread: pop, (image: PUT the bytes to r2_upload), submit.

    mode "ok" delivers; mode "fault" submits state=faulted for every job.
    `uploads` maps the seed submitted for an image job to the bytes uploaded for it.
    """

    def __init__(self, server: Server, kind: str, owner: Account, mode: str = "ok",
                 text: str = "It was a dark and stormy night."):
        self.server = server
        self.kind = kind
        self.owner = owner
        self.mode = mode
        self.text = text
        self.name = unique("worker-")
        self.uploads: dict[str, bytes] = {}
        self.jobs: list[dict] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._seeds = itertools.count(1000)
        self.session = requests.Session()
        self.session.headers["apikey"] = owner.key

    def start(self) -> "ScriptedWorker":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.session.close()

    def _pop_body(self) -> dict[str, Any]:
        if self.kind == "image":
            return {"name": self.name, "models": ["stable_diffusion"], "nsfw": True,
                    "bridge_agent": REGEN_AGENT, "max_pixels": 1048576, "threads": 1,
                    "amount": 4}
        return {"name": self.name, "models": ["koboldcpp/TestModel-7B"], "nsfw": True,
                "bridge_agent": TEXT_AGENT, "max_length": 512, "max_context_length": 4096,
                "threads": 1}

    def _run(self) -> None:
        pop = "/generate/pop" if self.kind == "image" else "/generate/text/pop"
        while not self._stop.is_set():
            try:
                r = self.session.post(self.server.api + pop, json=self._pop_body(),
                                      timeout=HTTP_TIMEOUT_S)
                if r.status_code != 200:
                    self.errors.append(f"pop {r.status_code}: {r.text[:200]}")
                    self._stop.wait(0.2)
                    continue
                job = r.json()
                if not job.get("id"):
                    self._stop.wait(0.05)
                    continue
                self.jobs.append(job)
                self._deliver(job)
            except requests.RequestException as e:  # server stopping at teardown
                self.errors.append(repr(e))
                self._stop.wait(0.2)

    def _deliver(self, job: dict) -> None:
        submit = "/generate/submit" if self.kind == "image" else "/generate/text/submit"
        ids = job.get("ids") or [job["id"]]
        for i, jid in enumerate(ids):
            if self.mode == "fault":
                body = {"id": jid, "generation": "", "state": "faulted", "seed": 0}
            elif self.kind == "image":
                seed = str(next(self._seeds))
                data = TINY_WEBP + jid.encode()
                up = requests.put(job["r2_uploads"][i], data=data,
                                  headers={"Content-Type": "image/webp"}, timeout=HTTP_TIMEOUT_S)
                if up.status_code not in (200, 201, 204):
                    self.errors.append(f"upload {up.status_code}: {up.text[:200]}")
                self.uploads[seed] = data
                body = {"id": jid, "generation": "R2", "seed": int(seed)}
            else:
                body = {"id": jid, "generation": self.text, "seed": 0}
            r = self.session.post(self.server.api + submit, json=body, timeout=HTTP_TIMEOUT_S)
            if r.status_code != 200:
                self.errors.append(f"submit {r.status_code}: {r.text[:200]}")


@dataclass
class Cli:
    """Runs the `horde` binary against one server."""

    server: Server
    env: dict[str, str] = field(default_factory=dict)

    def base_env(self, key: str | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("HORDE_URL", "HORDE_API_KEY", "HORDE_TIMEOUT")}
        env["HOME"] = str(self.server.data_dir.parent)  # no user config file
        env.pop("XDG_CONFIG_HOME", None)
        env["HORDE_URL"] = self.server.url
        env["HORDE_MIN_POLL_MS"] = "200"  # private test horde: poll faster than 1/s
        if key is not None:
            env["HORDE_API_KEY"] = key
        env.update(self.env)
        return env

    def run(self, *args: str, key: str | None = None,
            timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess:
        if not HORDE_CLI.exists():
            pytest.fail(f"horde CLI not found at {HORDE_CLI} (set HORDE_BUILD=...)")
        return subprocess.run([str(HORDE_CLI), *args], capture_output=True, text=True,
                              timeout=timeout, env=self.base_env(key), stdin=subprocess.DEVNULL)

    def popen(self, *args: str, key: str | None = None) -> "LiveProcess":
        proc = subprocess.Popen([str(HORDE_CLI), *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.base_env(key),
                                stdin=subprocess.DEVNULL)
        return LiveProcess(proc)


class LiveProcess:
    """A running CLI whose stderr lines can be awaited."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def wait_line(self, pattern: str, timeout: float = 15.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            m = re.search(pattern, line)
            if m:
                return m
        raise AssertionError(f"no stderr line matching {pattern!r}; got {''.join(self.stderr)}")


def closed_port_url() -> str:
    """An address where nothing listens (a port we bound and released)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
