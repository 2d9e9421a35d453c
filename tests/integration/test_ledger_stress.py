"""The ledger invariants under load and crashes (issue 3 item 7): runs tests/stress/ledger_stress.py
(short preset) against the real binary; see tests/stress/README.md to run it longer."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

from conftest import REPO, horded_path

DRIVER = REPO / "tests" / "stress" / "ledger_stress.py"
sys.path.insert(0, str(DRIVER.parent))


def test_ledger_invariants_under_load_and_sigkill(tmp_path: pathlib.Path, horded_bin):
    env = dict(os.environ, HORDED=str(horded_path()))
    proc = subprocess.run(
        [sys.executable, str(DRIVER), "--preset", "short", "--work-dir", str(tmp_path / "w")],
        capture_output=True, text=True, timeout=150, env=env, cwd=str(REPO))
    out = proc.stdout
    assert proc.returncode == 0, (out[-6000:] + "\n--- stderr ---\n" + proc.stderr[-6000:])
    assert "OK: ledger invariants held" in out
    summary = json.loads(out[out.index("{"):out.rindex("}") + 1])
    s = summary["stats"]
    # the run did real work: crashes, deliveries, transfers, replays, cancels
    assert s.get("kills", 0) >= 4, s
    assert s.get("accepted_image", 0) > 20 and s.get("accepted_text", 0) > 20, s
    assert s.get("submit_200", 0) > 20, s
    assert s.get("transfers_keyed_ok", 0) > 5 and s.get("transfers_plain_ok", 0) > 5, s
    assert s.get("final_replays", 0) > 5 and s.get("cancels", 0) > 0, s
    assert s.get("final_status_checks", 0) > 20, s
    assert summary["store"]["after_stop"]["entries"] > 100
    assert summary["anomalies"] == []


def test_store_checks_catch_drift_and_imbalance(horde):
    """The checker itself is not vacuous: a tampered store fails both checks."""
    import ledger_stress

    a = horde.user(kudos=1000)
    b = horde.user(kudos=0)
    r = a.client.post("/kudos/transfer", json={"username": b.alias, "amount": 10})
    assert r.status_code == 200, r.text
    users = {"a": ledger_stress.U(a.name, a.id, a.key, 1000, False),
             "b": ledger_stress.U(b.name, b.id, b.key, 0, False)}
    horde.stop()
    clean = ledger_stress.Anomalies()
    ledger_stress.store_checks(horde, users, clean, "clean")
    assert clean.items == []

    import sqlite3

    con = sqlite3.connect(str(horde.db_path))
    con.execute("UPDATE balances SET balance_milli = balance_milli + 1 WHERE account = ?",
                (f"user:{b.id}",))
    con.commit()
    con.close()
    drift = ledger_stress.Anomalies()
    ledger_stress.store_checks(horde, users, drift, "drift")
    assert any("ledger check failed" in x for x in drift.items), drift.items
    assert any(f"account user:{b.id}" in x for x in drift.items), drift.items

    con = sqlite3.connect(str(horde.db_path))
    con.execute("UPDATE ledger_postings SET amount_milli = amount_milli - 1 WHERE account = ?",
                (f"user:{b.id}",))
    con.execute("UPDATE balances SET balance_milli = balance_milli - 2 WHERE account = ?",
                (f"user:{b.id}",))
    con.commit()
    con.close()
    imbalance = ledger_stress.Anomalies()
    ledger_stress.store_checks(horde, users, imbalance, "imbalance")
    assert any("SUM(amount_milli)" in x for x in imbalance.items), imbalance.items
    assert any("unbalanced entries" in x for x in imbalance.items), imbalance.items
