"""The public npm SDK (@zeldafan0225/ai_horde 5.2.0) against our server: tests/compat/."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import REPO

COMPAT = REPO / "tests" / "compat"
SDK = COMPAT / "node_modules" / "@zeldafan0225" / "ai_horde"


def test_sdk_roundtrip(horde):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not SDK.is_dir():
        pytest.skip("tests/compat/node_modules is missing: run `npm ci` in tests/compat")
    requester = horde.user(kudos=1000)
    owner = horde.user(trusted=True, kudos=0)
    out = subprocess.run([node, str(COMPAT / "sdk_roundtrip.mjs"), horde.base, requester.key,
                          owner.key], cwd=COMPAT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"{out.stdout}\n{out.stderr}\n--- server log ---\n" \
                                f"{horde.log_tail(2000)}"
    assert "sdk_roundtrip: OK" in out.stdout
