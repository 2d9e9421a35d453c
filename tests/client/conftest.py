"""Fixtures of tests/client; the helpers live in client_harness.py."""

from __future__ import annotations

from typing import Any

import pytest

from .client_harness import Cli, ScriptedWorker, Server, Account


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    s = Server(tmp_path_factory.mktemp("horde") / "data").start()
    yield s
    s.stop()


@pytest.fixture
def cli(server: Server) -> Cli:
    return Cli(server)


@pytest.fixture
def account(server: Server) -> Account:
    return server.user()


@pytest.fixture
def worker_factory(server: Server):
    """Starts scripted workers (owned by a fresh user); all are stopped at teardown."""
    made: list[ScriptedWorker] = []

    def make(kind: str, mode: str = "ok", **kw: Any) -> ScriptedWorker:
        w = ScriptedWorker(server, kind, server.user(), mode, **kw).start()
        made.append(w)
        return w

    yield make
    for w in made:
        w.stop()
