"""Helpers for the worker's end-to-end tests: the real horded (through the integration suite's
`Horde` class, loaded by path), the real horde-worker process, and bounded waits."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import re
import signal
import subprocess
import sys
import time
from typing import Any, Callable

import pytest
import requests

REPO = pathlib.Path(__file__).resolve().parents[2]

# The integration suite's conftest, loaded under its own module name (plain `import conftest`
# would be ambiguous between the test folders).
_spec = importlib.util.spec_from_file_location("horde_integration_conftest",
                                               REPO / "tests" / "integration" / "conftest.py")
itc = importlib.util.module_from_spec(_spec)
assert _spec.loader is not None
sys.modules[_spec.name] = itc  # dataclasses look their module up there
_spec.loader.exec_module(itc)

Horde = itc.Horde
unique = itc.unique
TINY_WEBP = itc.TINY_WEBP

HTTP_TIMEOUT_S = 30.0
JOB_TIMEOUT_S = 30.0


def worker_path() -> pathlib.Path:
    build = pathlib.Path(os.environ.get("HORDE_BUILD", str(REPO / "build")))
    return build / "apps" / "horde-worker" / "horde-worker"


def wait_for(predicate: Callable[[], Any], timeout: float = JOB_TIMEOUT_S, step: float = 0.05,
             what: str = "condition") -> Any:
    """Polls until predicate() is truthy; returns its value or fails the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


class WorkerProc:
    """One horde-worker process, logging to a file."""

    def __init__(self, horde: Any, api_key: str, backend: str, backend_url: str,
                 log_dir: pathlib.Path, name: str | None = None, args: tuple[str, ...] = ()):
        self.horde = horde
        self.name = name or unique("hw")
        self.argv = [str(worker_path()),
                     "--horde-url", horde.base, "--api-key", api_key, "--name", self.name,
                     "--backend", backend, "--backend-url", backend_url,
                     "--backoff-max", "0.3", "--health-interval", "1",
                     "--status-interval", "5", "--log-level", "debug", *args]
        self.log_path = log_dir / f"{self.name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "WorkerProc":
        if not worker_path().exists():
            pytest.fail(f"horde-worker not found at {worker_path()} (set HORDE_BUILD=...)")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        return self

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern: str, timeout: float = JOB_TIMEOUT_S) -> re.Match:
        def found() -> re.Match | None:
            if self.proc is not None and self.proc.poll() is not None:
                pytest.fail(f"horde-worker exited with {self.proc.returncode}:\n"
                            f"{self.log()[-3000:]}")
            return re.search(pattern, self.log(), re.M)
        try:
            return wait_for(found, timeout, what=f"worker log line /{pattern}/")
        except pytest.fail.Exception:
            raise AssertionError(f"no /{pattern}/ in the worker log:\n{self.log()[-4000:]}")

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"horde-worker did not exit within {timeout} s:\n"
                                 f"{self.log()[-3000:]}")

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            return None


def text_status(horde: Any, rid: str) -> dict:
    r = requests.get(f"{horde.api}/generate/text/status/{rid}", timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    return r.json()


def image_status(horde: Any, rid: str) -> dict:
    r = requests.get(f"{horde.api}/generate/status/{rid}", timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    return r.json()


def wait_done(horde: Any, rid: str, kind: str = "text", timeout: float = JOB_TIMEOUT_S,
              worker: WorkerProc | None = None) -> dict:
    """Waits until the request is done; returns its status."""
    status_of = text_status if kind == "text" else image_status
    last: dict = {}

    def done() -> dict | None:
        nonlocal last
        last = status_of(horde, rid)
        return last if last["done"] else None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = done()
        if s:
            return s
        time.sleep(0.1)
    raise AssertionError(f"request {rid} not done after {timeout} s: {last}\n"
                         + (worker.log()[-4000:] if worker else ""))


def worker_details(horde: Any, name: str) -> dict | None:
    r = requests.get(f"{horde.api}/workers/name/{name}", timeout=HTTP_TIMEOUT_S)
    return r.json() if r.status_code == 200 else None


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def restart_on_same_port(horde: Any) -> None:
    """horded after a crash, on the same port and data dir (retries while the port is busy)."""
    port = horde.port
    deadline = time.monotonic() + 20
    while True:
        try:
            horde.start(port)
            return
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


__all__ = ["Horde", "TINY_WEBP", "WorkerProc", "free_port", "image_status", "restart_on_same_port",
           "signal", "text_status", "unique", "wait_done", "wait_for", "worker_details",
           "worker_path"]
