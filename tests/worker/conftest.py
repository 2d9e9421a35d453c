"""Fixtures for horde-worker's end-to-end tests: a fresh horded per test, users, the fake
backends of fake_backends.py, and horde-worker processes that are always stopped at teardown.

This folder is a package (it has __init__.py) so that this conftest is imported as
`worker.conftest` and never shadows the integration suite's plain `conftest` module.
"""

from __future__ import annotations

import pathlib
from typing import Any, Callable

import pytest
import requests

from . import fake_backends
from .harness import Horde, WorkerProc, unique


@pytest.fixture
def horde(tmp_path: pathlib.Path):
    h = Horde(tmp_path / "data").start()
    yield h
    if h.proc is not None:
        h.stop()


class Users:
    def __init__(self, horde: Any):
        self.horde = horde

    def make(self, kudos: int = 100000, trusted: bool = True) -> dict:
        name = unique("wu")
        r = requests.post(self.horde.api + "/dev/test-user", json={
            "username": name, "oauth_id": "oauth-" + name, "moderator": False,
            "trusted": trusted, "kudos": kudos}, timeout=30)
        assert r.status_code in (200, 201), r.text
        return r.json()


@pytest.fixture
def users(horde):
    return Users(horde)


@pytest.fixture
def backends():
    """Starts fake backends by class name; stops them all at teardown."""
    started: list[fake_backends.FakeBackend] = []

    def make(kind: str, port: int = 0, **kw: Any) -> fake_backends.FakeBackend:
        cls = {"kobold": fake_backends.KoboldCpp, "openai": fake_backends.OpenAiCompatible,
               "a1111": fake_backends.Automatic1111, "comfyui": fake_backends.ComfyUI}[kind]
        b = cls(**kw).start(port)
        started.append(b)
        return b

    yield make
    for b in started:
        b.stop()


@pytest.fixture
def workers(tmp_path: pathlib.Path, horde) -> Callable[..., WorkerProc]:
    """Starts horde-worker processes; all are stopped at teardown (their logs stay in tmp)."""
    made: list[WorkerProc] = []

    def make(api_key: str, backend: str, backend_url: str, *args: str,
             name: str | None = None, start: bool = True) -> WorkerProc:
        w = WorkerProc(horde, api_key, backend, backend_url, tmp_path, name=name, args=args)
        made.append(w)
        return w.start() if start else w

    yield make
    for w in made:
        w.stop()
