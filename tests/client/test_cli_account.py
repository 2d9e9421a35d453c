"""`horde user`, `transfer`, `workers`, `models`, `status`, `cancel`, and where the CLI takes
its settings from (flags, environment, config file)."""

from __future__ import annotations

import json
import pathlib
import re
import time

import pytest

from .client_harness import Cli, Server, closed_port_url


def test_user_shows_name_and_kudos(cli: Cli, server: Server):
    acct = server.user(kudos=1234)
    r = cli.run("user", key=acct.key)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == acct.alias
    assert "kudos          1234" in r.stdout


def test_user_json_is_the_servers_record(cli: Cli, server: Server):
    acct = server.user(kudos=55)
    r = cli.run("user", "--json", key=acct.key)
    assert r.returncode == 0, r.stderr
    u = json.loads(r.stdout)
    assert u["username"] == acct.alias
    assert u["kudos"] == 55
    assert "records" in u and "kudos_details" in u


def test_user_with_a_bad_key_is_an_auth_error(cli: Cli):
    r = cli.run("user", key="wrong-key-123")
    assert r.returncode == 4, (r.returncode, r.stderr)
    assert "not found" in r.stderr or "No user matching" in r.stderr


def test_anonymous_without_a_key(cli: Cli):
    r = cli.run("user", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["id"] == 0


def test_transfer_reports_the_servers_error(cli: Cli, server: Server):
    # A recipient that does not exist: 400 InvalidTargetUsername from the kudos endpoint (404
    # from a horde that does not serve /kudos/transfer yet). Either way: "rejected", with the
    # server's own status, rc and message.
    acct = server.user()
    r = cli.run("transfer", "nobody#999999", "10", key=acct.key)
    assert r.returncode == 5, (r.returncode, r.stderr)
    assert re.search(r"HTTP (400|404)", r.stderr), r.stderr
    assert r.stdout == ""


def test_transfer_from_anonymous_is_refused(cli: Cli, server: Server):
    other = server.user()
    r = cli.run("transfer", other.alias, "10")
    assert r.returncode in (4, 5), (r.returncode, r.stderr)
    assert "horde: error:" in r.stderr


def test_transfer_moves_kudos(cli: Cli, server: Server):
    acct = server.user(kudos=500)
    other = server.user(kudos=0)
    r = cli.run("transfer", other.alias, "25", key=acct.key)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"transferred 25 kudos to {other.alias}"
    r = cli.run("--json", "transfer", other.alias, "5", key=acct.key)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["transferred"] == 5
    assert server.get("/find_user", other.key).json()["kudos"] == 30


def test_transfer_rejects_a_bad_amount_locally(cli: Cli, account):
    r = cli.run("transfer", "bob#2", "-3", key=account.key)
    assert r.returncode == 2


def test_workers_and_models(cli: Cli, worker_factory):
    w = worker_factory("text")
    deadline = time.monotonic() + 10  # the worker registers on its first pop
    while w.name not in cli.run("workers", "--json").stdout and time.monotonic() < deadline:
        time.sleep(0.05)
    r = cli.run("workers", "--type", "text")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("NAME")
    assert w.name in r.stdout
    assert "koboldcpp/TestModel-7B" in r.stdout
    r = cli.run("workers", "--type", "image", "--json")
    assert r.returncode == 0, r.stderr
    assert all(x["type"] == "image" for x in json.loads(r.stdout))
    r = cli.run("models", "--type", "text")
    assert r.returncode == 0, r.stderr
    assert "koboldcpp/TestModel-7B" in r.stdout
    r = cli.run("models", "--type", "text", "--json")
    models = json.loads(r.stdout)
    assert any(m["name"] == "koboldcpp/TestModel-7B" and m["count"] >= 1 for m in models)
    assert cli.run("workers", "--type", "bogus").returncode == 2


def test_status(cli: Cli, server: Server):
    r = cli.run("status")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"horde {server.url}: OK")
    assert "image:" in r.stdout and "text:" in r.stdout
    r = cli.run("status", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["heartbeat"]["message"] == "OK"
    assert "queued_requests" in out["performance"]
    r = cli.run("--url", closed_port_url(), "status")
    assert r.returncode == 3


def test_cancel_command(cli: Cli, server: Server, account):
    import requests
    r = requests.post(server.api + "/generate/async", json={"prompt": "never served"},
                      headers={"apikey": account.key}, timeout=10)
    assert r.status_code == 202, r.text
    rid = r.json()["id"]
    out = cli.run("cancel", rid, "--json")
    assert out.returncode == 0, out.stderr
    assert server.get(f"/generate/check/{rid}").json()["done"] is True
    missing = cli.run("cancel", "00000000-0000-4000-8000-000000000000")
    assert missing.returncode == 5
    assert "RequestNotFound" in missing.stderr


def test_settings_come_from_the_config_file(cli: Cli, server: Server, tmp_path: pathlib.Path):
    acct = server.user(kudos=77)
    home = server.data_dir.parent
    cfg = home / ".config" / "horde" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(f'# test\nurl = "{server.url}"\napi_key = "{acct.key}"\n')
    try:
        cli.env["HORDE_URL"] = ""  # unset: the config file's url applies
        r = cli.run("user", "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["username"] == acct.alias
        # The environment beats the config file; the flag beats both.
        other = server.user()
        r = cli.run("user", "--json", key=other.key)
        assert json.loads(r.stdout)["username"] == other.alias
        r = cli.run("--api-key", acct.key, "user", "--json", key=other.key)
        assert json.loads(r.stdout)["username"] == acct.alias
        # An explicit --config that is broken is a usage error.
        bad = tmp_path / "bad.toml"
        bad.write_text("this is not toml\n")
        r = cli.run("--config", str(bad), "user")
        assert r.returncode == 2
        assert "line 1" in r.stderr
    finally:
        cfg.unlink()
