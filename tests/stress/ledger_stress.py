#!/usr/bin/env python3
"""Ledger invariant stress test against the real horded binary (issue 3, item 7).

Many threads act at once on one server: requesters (image and text, async, some needing upfront
kudos, some anonymous, with cancels and status checks), workers (pop, upload, submit, fault or
abandon their jobs), and kudos transfers between ~10 users (with and without Idempotency-Key,
retried on connection errors; keyed ones are replayed and conflicted on purpose). A controller
moves the server's test clock (job timeouts, uptime rewards, expiry), awards kudos, adjusts them
as an admin, toggles a worker owner's trust (escrow release), and SIGKILLs the server at random
moments, restarting it on the same data dir and port. Clients retry connection errors (bounded).

At the end it checks, from the store:
  * `horded ledger check` exits 0 and prints OK (sum zero, no drift, no unbalanced entry),
    once on the store as a SIGKILL left it and once after a clean stop;
  * independently with sqlite3: SUM(amount_milli) over ledger_postings is 0, every entry sums
    to 0, every account's balances.balance_milli equals the sum of its postings;
  * no balance under its floor: anonymous >= -50, a user >= min(its start, 25), escrow >= 0;
and over HTTP, after a last crash and restart:
  * every request that was answered 202 is still there, unless the server's clock has moved
    at least the request lifetime (20 min) past its creation;
  * every keyed transfer that succeeded replays as 200 with the same amount and moves nothing;
    the same key with another amount is IdempotencyKeyConflict.

Any 5xx answer, unexpected status or broken invariant is an anomaly; the exit status is 1 when
there is one. See README.md in this folder for presets and how to run it longer.
"""

from __future__ import annotations

import argparse
import base64
import collections
import json
import pathlib
import random
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import traceback
import uuid

import requests

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from conftest import REGEN_AGENT, TINY_WEBP, Horde  # noqa: E402  (process control is shared)

REQUEST_LIFETIME_S = 20 * 60
ANON_KEY = "0000000000"
ANON_FLOOR_MILLI = -50_000
REGISTERED_FLOOR_MILLI = 25_000
HTTP_TIMEOUT_S = 15.0
RETRY_BUDGET_S = 60.0  # how long one call keeps retrying connection errors
GATE_WAIT_S = 45.0  # how long a client waits for a restart to finish

PRESETS = {
    # sized so that the pytest wrapper finishes well under 90 s on two cores
    "short": {"duration": 22.0, "kills": 4},
    "medium": {"duration": 120.0, "kills": 15},
    "long": {"duration": 900.0, "kills": 100},
}


class Anomalies:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[str] = []

    def add(self, what: str) -> None:
        with self.lock:
            if len(self.items) < 200:
                self.items.append(what)
            print("ANOMALY:", what, file=sys.stderr, flush=True)


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.c: collections.Counter = collections.Counter()

    def inc(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.c[key] += n


class Control:
    """The server, its clock offset, and the gate that holds clients while it restarts."""

    def __init__(self, horde: Horde, anomalies: Anomalies, stats: Stats) -> None:
        self.horde = horde
        self.up = threading.Event()
        self.up.set()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.offset_s = 0  # acknowledged clock offset (the server's clock = real + offset)
        self.inflight_s = 0  # an advance sent but not yet acknowledged
        self.anomalies = anomalies
        self.stats = stats

    @property
    def api(self) -> str:
        return self.horde.api

    def offset_lo(self) -> int:
        with self.lock:
            return self.offset_s

    def offset_hi(self) -> int:
        with self.lock:
            return self.offset_s + self.inflight_s

    def call(self, method: str, path: str, apikey: str | None = None, body=None,
             headers: dict | None = None, data: bytes | None = None,
             url: str | None = None, retry: bool = True) -> requests.Response | None:
        """One HTTP call, retried on connection errors while the server restarts. Returns None
        when the retry budget is spent (an anomaly unless the run is stopping), or at the first
        connection error with retry=False (the outcome is then unknown)."""
        h = dict(headers or {})
        if apikey is not None:
            h["apikey"] = apikey
        h["Connection"] = "close"
        deadline = time.monotonic() + RETRY_BUDGET_S
        while True:
            if not self.up.wait(GATE_WAIT_S):
                self.anomalies.add(f"server did not come back within {GATE_WAIT_S} s")
                return None
            try:
                target = url or (self.api + path)
                if data is not None:
                    return requests.request(method, target, data=data, headers=h,
                                            timeout=HTTP_TIMEOUT_S)
                return requests.request(method, target, json=body, headers=h,
                                        timeout=HTTP_TIMEOUT_S)
            except (requests.ConnectionError, requests.Timeout):
                self.stats.inc("connection_errors")
                if not retry:
                    return None
                if time.monotonic() > deadline:
                    if not self.stop.is_set():
                        self.anomalies.add(f"{method} {path}: no answer within "
                                           f"{RETRY_BUDGET_S} s of retries")
                    return None
                time.sleep(0.02)

    def check_status(self, r: requests.Response | None, what: str, allowed: dict) -> bool:
        """allowed: status -> set of rcs (None = any). Records an anomaly otherwise."""
        if r is None:
            return False
        if r.status_code >= 500:
            self.anomalies.add(f"{what}: {r.status_code} {r.text[:300]}")
            return False
        if r.status_code not in allowed:
            self.anomalies.add(f"{what}: unexpected {r.status_code} {r.text[:300]}")
            return False
        rcs = allowed[r.status_code]
        if rcs is not None:
            try:
                rc = r.json().get("rc")
            except ValueError:
                rc = None
            if rc not in rcs:
                self.anomalies.add(f"{what}: unexpected rc {rc} ({r.status_code} "
                                   f"{r.text[:300]})")
                return False
        return True

    # Controller actions (one thread only) ------------------------------------------------

    def advance(self, seconds: int) -> None:
        with self.lock:
            self.inflight_s = seconds
        r = self.call("POST", "/dev/clock", body={"advance_s": seconds})
        with self.lock:
            if r is not None and r.status_code == 200:
                self.offset_s = int(r.json()["offset_ms"]) // 1000
            self.inflight_s = 0
        if r is None or r.status_code != 200:
            self.anomalies.add(f"advance {seconds}: {None if r is None else r.text[:200]}")

    def crash_and_restart(self) -> float:
        self.up.clear()
        t0 = time.monotonic()
        self.horde.kill9()
        self.horde.restart(same_port=True)
        # The test clock's offset lives in memory: put the server back where its clock was, so
        # that time never runs backwards for the requests, jobs and workers it stored.
        with self.lock:
            offset = self.offset_s
        if offset:
            r = requests.post(self.api + "/dev/clock", json={"advance_s": offset},
                              timeout=HTTP_TIMEOUT_S)
            if r.status_code != 200:
                self.anomalies.add(f"re-advance after restart: {r.status_code} {r.text[:200]}")
        self.up.set()
        self.stats.inc("kills")
        return time.monotonic() - t0


# ------------------------------------------------------------------------------------------------
# Users


class U:
    def __init__(self, name: str, uid: int, key: str, start_kudos: int, trusted: bool) -> None:
        self.name = name
        self.id = uid
        self.key = key
        self.start_kudos = start_kudos
        self.trusted = trusted

    @property
    def alias(self) -> str:
        return f"{self.name}#{self.id}"


def make_user(api: str, name: str, kudos: int, trusted=False, moderator=False) -> U:
    r = requests.post(api + "/dev/test-user", json={
        "username": name, "oauth_id": "oauth-" + name, "moderator": moderator,
        "trusted": trusted, "kudos": kudos}, timeout=HTTP_TIMEOUT_S)
    assert r.status_code in (200, 201), r.text
    b = r.json()
    return U(b["username"], int(b["user_id"]), b["api_key"], kudos, trusted or moderator)


# ------------------------------------------------------------------------------------------------
# The actors


class Run:
    def __init__(self, ctl: Control, rng_seed: int, users: dict[str, U]) -> None:
        self.ctl = ctl
        self.seed = rng_seed
        self.users = users
        self.stats = ctl.stats
        self.anomalies = ctl.anomalies
        self.lock = threading.Lock()
        self.tracked: dict[str, dict] = {}  # request id -> kind, submit time, offset
        self.keyed_ok: list[dict] = []  # successful keyed transfers
        # Whole kudos moved by transfers: answered 200 (keyed ones count once however often
        # they were retried), and those whose answer was lost (plain ones are not retried).
        self.moved_known = 0
        self.moved_unknown = 0

    # Requests ------------------------------------------------------------------------------

    def _path(self, kind: str, rid: str, full: bool = False) -> str:
        if kind == "text":
            return f"/generate/text/status/{rid}"
        return f"/generate/{'status' if full else 'check'}/{rid}"

    def verify_present(self, rid: str, info: dict, r: requests.Response | None) -> None:
        """A tracked request answers 200, or 404 only once its lifetime can have passed."""
        if r is None:
            return
        if r.status_code == 200:
            return
        if r.status_code == 404:
            elapsed_hi = (time.time() + self.ctl.offset_hi()) - (info["t"] + info["off"])
            if elapsed_hi >= REQUEST_LIFETIME_S:
                self.stats.inc("requests_seen_expired")
                return
            self.anomalies.add(f"request {rid} ({info['kind']}) answered 202 but is gone "
                               f"after at most {elapsed_hi:.0f} s of server time: {r.text[:200]}")
            return
        self.ctl.check_status(r, f"status of {rid}", {200: None, 404: None})

    def requester(self, idx: int) -> None:
        rng = random.Random(self.seed * 1000 + idx)
        names = ["rich", "mid", "low", "zero", "tpoor", "one", "admin", "anon", "anon"]
        while not self.ctl.stop.is_set():
            who = rng.choice(names)
            key = ANON_KEY if who == "anon" else self.users[who].key
            kind = "image" if rng.random() < 0.6 else "text"
            body: dict = {"prompt": f"stress {kind} {uuid.uuid4().hex[:8]}"}
            if kind == "image":
                params = {"steps": rng.choice([10, 20, 30]), "n": rng.choice([1, 1, 1, 2])}
                if rng.random() < 0.15:
                    params["steps"] = 60  # needs upfront kudos
                    body["allow_downgrade"] = rng.random() < 0.4
                body["params"] = params
                path = "/generate/async"
            else:
                params = {"max_length": rng.choice([64, 128, 512]), "max_context_length": 2048,
                          "n": rng.choice([1, 1, 2])}
                if rng.random() < 0.15:
                    params["max_length"] = 1024  # needs upfront kudos
                    body["allow_downgrade"] = rng.random() < 0.4
                body["params"] = params
                path = "/generate/text/async"
            t = time.time()
            off = self.ctl.offset_lo()
            r = self.ctl.call("POST", path, key, body)
            if self.ctl.check_status(r, f"POST {path}", {
                    202: None, 403: {"KudosUpfront"}, 429: {"TooManyPrompts"}}) \
                    and r.status_code == 202:
                rid = r.json()["id"]
                with self.lock:
                    self.tracked[rid] = {"kind": kind, "t": t, "off": off}
                self.stats.inc(f"accepted_{kind}")
            elif r is not None:
                self.stats.inc(f"refused_{r.status_code}")
            # now and then: look at, or cancel, something we asked for
            roll = rng.random()
            if roll < 0.35:
                with self.lock:
                    if not self.tracked:
                        continue
                    rid = rng.choice(list(self.tracked))
                    info = self.tracked[rid]
                if roll < 0.12:
                    r = self.ctl.call("DELETE", self._path(info["kind"], rid, full=True))
                    self.stats.inc("cancels")
                else:
                    r = self.ctl.call("GET", self._path(info["kind"], rid))
                    self.stats.inc("status_checks")
                self.verify_present(rid, info, r)
            time.sleep(rng.uniform(0, 0.03))

    # Workers -------------------------------------------------------------------------------

    def worker(self, idx: int, owner: str, kind: str, extra: dict) -> None:
        rng = random.Random(self.seed * 2000 + idx)
        u = self.users[owner]
        name = f"stress-{kind}-{owner}-{idx}"
        if kind == "image":
            pop_path, submit_path = "/generate/pop", "/generate/submit"
            profile = {"models": ["stable_diffusion"], "bridge_agent": REGEN_AGENT, "nsfw": True,
                       "max_pixels": 262144, "threads": 1}
        else:
            pop_path, submit_path = "/generate/text/pop", "/generate/text/submit"
            profile = {"models": ["koboldcpp/TestModel-7B"],
                       "bridge_agent": "AI Horde Worker:24:https://example.invalid/worker",
                       "max_length": 1024, "max_context_length": 4096, "nsfw": True,
                       "threads": 1}
        profile.update(extra)
        while not self.ctl.stop.is_set():
            body = {"name": name, **profile, "amount": rng.choice([1, 1, 2])}
            r = self.ctl.call("POST", pop_path, u.key, body)
            if not self.ctl.check_status(r, f"pop {name}", {200: None}):
                time.sleep(0.05)
                continue
            job = r.json()
            if job.get("id") is None:
                self.stats.inc("empty_pops")
                time.sleep(rng.uniform(0.005, 0.05))
                continue
            ids = job.get("ids") or [job["id"]]
            self.stats.inc(f"jobs_{kind}", len(ids))
            for i, jid in enumerate(ids):
                roll = rng.random()
                if roll < 0.08:
                    self.stats.inc("abandoned")
                    continue  # never answered: the job times out when the clock moves
                if roll < 0.16:
                    sub = {"id": jid, "generation": "", "state": "faulted", "seed": 0}
                    self.stats.inc("faulted")
                elif kind == "image":
                    if rng.random() < 0.7:
                        up = self.ctl.call("PUT", "", data=TINY_WEBP,
                                           headers={"Content-Type": "image/webp"},
                                           url=job["r2_uploads"][i])
                        if up is None or up.status_code not in (200, 201, 204):
                            # a job timed out and its upload URL died with it, or a 4xx for a
                            # job already settled: both legitimate under the moving clock
                            self.stats.inc("upload_refused")
                            continue
                        sub = {"id": jid, "generation": "R2", "seed": rng.randrange(1 << 31)}
                    else:
                        sub = {"id": jid, "generation": base64.b64encode(TINY_WEBP).decode(),
                               "seed": rng.randrange(1 << 31)}
                else:
                    sub = {"id": jid, "generation": "x" * rng.randrange(1, 400), "seed": 0}
                r = self.ctl.call("POST", submit_path, u.key, sub)
                if self.ctl.check_status(r, f"submit {name}", {
                        200: None, 400: {"DuplicateGen", "AbortedGen"},
                        404: {"InvalidJobID"}}):
                    self.stats.inc(f"submit_{r.status_code}")

    # Transfers -----------------------------------------------------------------------------

    def transferer(self, idx: int) -> None:
        rng = random.Random(self.seed * 3000 + idx)
        names = list(self.users)
        allowed = {200: None, 400: {"KudosTransferNotEnough", "TooFastKudosTransfers"}}
        while not self.ctl.stop.is_set():
            src, dst = rng.sample(names, 2)
            s, d = self.users[src], self.users[dst]
            amount = rng.choice([1, 2, 5, 10, 25, 60, 200, 5000])
            roll = rng.random()
            with self.lock:
                earlier = rng.choice(self.keyed_ok) if self.keyed_ok else None
            if roll < 0.12 and earlier is not None:
                # a late retry of an earlier keyed transfer: same answer, no new money
                r = self.ctl.call("POST", "/kudos/transfer", earlier["key_of"], earlier["body"],
                                  {"Idempotency-Key": earlier["key"]})
                if self.ctl.check_status(r, "keyed replay", {200: None}) and \
                        r.json() != {"transferred": earlier["body"]["amount"]}:
                    self.anomalies.add(f"replay answered {r.json()} for {earlier}")
                self.stats.inc("replays")
            elif roll < 0.18 and earlier is not None:
                body = dict(earlier["body"], amount=earlier["body"]["amount"] + 1)
                r = self.ctl.call("POST", "/kudos/transfer", earlier["key_of"], body,
                                  {"Idempotency-Key": earlier["key"]})
                self.ctl.check_status(r, "keyed conflict", {400: {"IdempotencyKeyConflict"}})
                self.stats.inc("conflicts_tried")
            elif roll < 0.65:
                key = uuid.uuid4().hex
                body = {"username": d.alias, "amount": amount}
                r = self.ctl.call("POST", "/kudos/transfer", s.key, body,
                                  {"Idempotency-Key": key})
                if self.ctl.check_status(r, "keyed transfer", allowed) and r.status_code == 200:
                    if r.json() != {"transferred": amount}:
                        self.anomalies.add(f"keyed transfer answered {r.json()} for {amount}")
                    with self.lock:
                        self.keyed_ok.append({"key": key, "key_of": s.key, "body": body})
                        self.moved_known += amount
                    self.stats.inc("transfers_keyed_ok")
                elif r is not None:
                    self.stats.inc("transfers_refused")
            else:
                # without a key a retry could move the money twice: do not retry, note it
                r = self.ctl.call("POST", "/kudos/transfer", s.key,
                                  {"username": d.alias, "amount": amount}, retry=False)
                if r is None:
                    with self.lock:
                        self.moved_unknown += amount
                    self.stats.inc("transfers_plain_lost")
                elif self.ctl.check_status(r, "transfer", allowed) and r.status_code == 200:
                    with self.lock:
                        self.moved_known += amount
                    self.stats.inc("transfers_plain_ok")
                else:
                    self.stats.inc("transfers_refused")
            time.sleep(rng.uniform(0, 0.03))


# ------------------------------------------------------------------------------------------------
# Store checks


def store_checks(horde: Horde, users: dict[str, U], anomalies: Anomalies, label: str) -> dict:
    out = horde.run_cli("ledger", "check", timeout=120)
    report = {"cli_rc": out.returncode, "cli": out.stdout.strip()}
    if out.returncode != 0 or "OK" not in out.stdout.split():
        anomalies.add(f"[{label}] horded ledger check failed (rc {out.returncode}):\n"
                      f"{out.stdout}{out.stderr}")
    con = sqlite3.connect(f"file:{horde.db_path}?mode=ro", uri=True, timeout=30)
    try:
        total = con.execute("SELECT COALESCE(SUM(amount_milli), 0), COUNT(*) "
                            "FROM ledger_postings").fetchone()
        report["postings"] = total[1]
        report["entries"] = con.execute("SELECT COUNT(*) FROM ledger_entries").fetchone()[0]
        if total[0] != 0:
            anomalies.add(f"[{label}] SUM(amount_milli) over ledger_postings = {total[0]}")
        bad_entries = con.execute(
            "SELECT entry_id, SUM(amount_milli) FROM ledger_postings GROUP BY entry_id "
            "HAVING SUM(amount_milli) != 0 LIMIT 10").fetchall()
        if bad_entries:
            anomalies.add(f"[{label}] unbalanced entries: {bad_entries}")
        orphans = con.execute(
            "SELECT COUNT(*) FROM ledger_postings p LEFT JOIN ledger_entries e "
            "ON e.id = p.entry_id WHERE e.id IS NULL").fetchone()[0]
        if orphans:
            anomalies.add(f"[{label}] {orphans} postings without an entry")
        sums = dict(con.execute(
            "SELECT account, SUM(amount_milli) FROM ledger_postings GROUP BY account"))
        balances = dict(con.execute("SELECT account, balance_milli FROM balances"))
        for acct in sorted(set(sums) | set(balances)):
            if sums.get(acct, 0) != balances.get(acct, 0):
                anomalies.add(f"[{label}] account {acct}: balance {balances.get(acct)} != "
                              f"sum of postings {sums.get(acct)}")
        report["accounts"] = len(balances)
        report["sys"] = {a: v for a, v in balances.items() if a.startswith("sys:")}
        # floors: a debit never takes a balance below min(its start, floor)
        anon = balances.get("user:0", 0)
        if anon < ANON_FLOOR_MILLI:
            anomalies.add(f"[{label}] anonymous balance {anon / 1000} below -50")
        for u in users.values():
            b = balances.get(f"user:{u.id}", 0)
            lowest = min(u.start_kudos * 1000, REGISTERED_FLOOR_MILLI)
            if b < lowest:
                anomalies.add(f"[{label}] {u.alias} balance {b / 1000} below "
                              f"min(start, 25) = {lowest / 1000}")
        for acct, b in balances.items():
            if acct.startswith("escrow:") and b < 0:
                anomalies.add(f"[{label}] {acct} negative: {b / 1000}")
    finally:
        con.close()
    return report


# ------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="short")
    ap.add_argument("--duration", type=float, help="seconds of load (default: the preset's)")
    ap.add_argument("--kills", type=int, help="SIGKILL + restart count (default: the preset's)")
    ap.add_argument("--requesters", type=int, default=3)
    ap.add_argument("--transferers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--bin", help="horded binary (default: $HORDED or build/apps/horded/horded)")
    ap.add_argument("--work-dir", help="where to put the data dir (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the data dir and log")
    args = ap.parse_args(argv)
    preset = PRESETS[args.preset]
    duration = args.duration if args.duration is not None else preset["duration"]
    kills = args.kills if args.kills is not None else preset["kills"]
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    if args.bin:
        import os
        os.environ["HORDED"] = args.bin

    work = pathlib.Path(args.work_dir or tempfile.mkdtemp(prefix="ledger-stress-"))
    work.mkdir(parents=True, exist_ok=True)
    anomalies, stats = Anomalies(), Stats()
    horde = Horde(work / "data", extra_args=("--admins", "stressadmin#2", "--threads", "4"))
    print(f"ledger stress: seed {seed}, {duration:.0f} s, {kills} kills, data in {work}",
          flush=True)
    t_start = time.monotonic()
    horde.start()
    ctl = Control(horde, anomalies, stats)
    api = horde.api
    users: dict[str, U] = {}
    try:
        users["one"] = make_user(api, "stressone", 5000, trusted=True)  # user 1: may award
        users["admin"] = make_user(api, "stressadmin", 1000, moderator=True)  # admin via flag
        assert users["one"].id == 1 and users["admin"].id == 2, "expected a fresh store"
        users["img"] = make_user(api, "stressimg", 0, trusted=True)
        users["txt"] = make_user(api, "stresstxt", 0, trusted=True)
        users["untr"] = make_user(api, "stressuntr", 0)
        users["rich"] = make_user(api, "stressrich", 100_000)
        users["mid"] = make_user(api, "stressmid", 2000)
        users["low"] = make_user(api, "stresslow", 60)
        users["zero"] = make_user(api, "stresszero", 0)
        users["tpoor"] = make_user(api, "stresstpoor", 0, trusted=True)
        run = Run(ctl, seed, users)

        threads = []

        def spawn(fn, *a):
            def body():
                try:
                    fn(*a)
                except Exception:  # noqa: BLE001 - a crashed actor is an anomaly
                    anomalies.add(f"actor {fn.__name__}{a} crashed:\n{traceback.format_exc()}")
            t = threading.Thread(target=body, daemon=True, name=f"{fn.__name__}{a}")
            t.start()
            threads.append(t)

        for i in range(args.requesters):
            spawn(run.requester, i)
        spawn(run.worker, 0, "img", "image", {})
        spawn(run.worker, 1, "txt", "text", {})
        spawn(run.worker, 2, "untr", "image", {})
        spawn(run.worker, 3, "untr", "text", {"require_upfront_kudos": True,
                                              "priority_usernames": [users["tpoor"].alias]})
        spawn(run.worker, 4, "img", "image", {"require_upfront_kudos": True})
        for i in range(args.transferers):
            spawn(run.transferer, i)

        # The controller: clock, awards, admin edits, trust, and the crashes.
        rng = random.Random(seed)
        t0 = time.monotonic()
        kill_at = sorted(rng.uniform(0.1, 0.95) * duration for _ in range(kills))
        one, admin = users["one"], users["admin"]
        while time.monotonic() - t0 < duration:
            time.sleep(rng.uniform(0.1, 0.35))
            now = time.monotonic() - t0
            if kill_at and now >= kill_at[0]:
                kill_at.pop(0)
                took = ctl.crash_and_restart()
                stats.inc("restart_ms", int(took * 1000))
                continue
            roll = rng.random()
            if roll < 0.5:
                # job ttls (150 s+), uptime rewards (600 s), ping-pong windows, aging
                ctl.advance(rng.choice([1, 2, 5, 10, 20, 40, 80, 160]))
            elif roll < 0.52:
                ctl.advance(rng.choice([400, 700]))  # workers go stale; requests may expire
            elif roll < 0.7:
                target = users[rng.choice(list(users))]
                r = ctl.call("POST", "/kudos/award", one.key,
                             {"username": target.alias, "amount": rng.choice([1, 7, 50])})
                ctl.check_status(r, "award", {200: None})
                stats.inc("awards")
            elif roll < 0.8:
                target = users[rng.choice(list(users))]
                r = ctl.call("PUT", f"/users/{target.id}", admin.key,
                             {"kudos": rng.choice([0.01, 0.5, 3.33, 10])})
                ctl.check_status(r, "admin kudos", {200: None})
                stats.inc("admin_adjustments")
            else:
                # trust on/off for the untrusted owner: on releases its escrow
                trusted = rng.random() < 0.5
                r = ctl.call("PUT", f"/users/{users['untr'].id}", admin.key,
                             {"trusted": trusted})
                ctl.check_status(r, "trust toggle", {200: None})
                stats.inc("trust_toggles")
        for _ in kill_at:  # kills not reached (very short runs)
            ctl.crash_and_restart()
        ctl.stop.set()
        for t in threads:
            t.join(RETRY_BUDGET_S + HTTP_TIMEOUT_S)
            if t.is_alive():
                anomalies.add(f"actor {t.name} did not stop")

        # 1. A crash at rest, then the store as the crash left it.
        horde.kill9()
        report = {"after_kill9": store_checks(horde, users, anomalies, "after kill -9")}
        horde.restart(same_port=True)
        if ctl.offset_s:
            requests.post(api + "/dev/clock", json={"advance_s": ctl.offset_s},
                          timeout=HTTP_TIMEOUT_S)
        ctl.stop.clear()  # calls below may retry again

        # 2. Every 202 is still there (or could have expired).
        for rid, info in list(run.tracked.items()):
            r = ctl.call("GET", run._path(info["kind"], rid))
            run.verify_present(rid, info, r)
            stats.inc("final_status_checks")

        # 3. Keyed transfers replay without moving money; another body conflicts.
        def balances() -> dict[str, float]:
            out = {}
            for name, u in users.items():
                r = ctl.call("GET", "/find_user", u.key)
                out[name] = (r.json()["kudos"], r.json().get("evaluating_kudos"))
            r = ctl.call("GET", "/users/0")
            out["anon"] = (r.json()["kudos"], None)
            return out

        before = balances()
        # Transfers moved exactly what was answered 200 (plus, at most, those whose answer was
        # lost in a crash): a keyed retry that moved money twice would show here.
        received = 0.0
        for u in users.values():
            r = ctl.call("GET", "/find_user", u.key)
            received += r.json()["kudos_details"]["received"]
        if not (run.moved_known - 0.001 <= received <= run.moved_known + run.moved_unknown
                + 0.001):
            anomalies.add(f"transfers moved {received} kudos; answered 200: "
                          f"{run.moved_known}, answers lost: {run.moved_unknown}")
        report["transferred"] = {"received": received, "known": run.moved_known,
                                 "unknown": run.moved_unknown}
        sample = run.keyed_ok if len(run.keyed_ok) <= 300 else \
            random.Random(seed).sample(run.keyed_ok, 300)
        for t in sample:
            r = ctl.call("POST", "/kudos/transfer", t["key_of"], t["body"],
                         {"Idempotency-Key": t["key"]})
            if ctl.check_status(r, "final replay", {200: None}) and \
                    r.json() != {"transferred": t["body"]["amount"]}:
                anomalies.add(f"final replay answered {r.json()} for {t['body']}")
        for t in sample[:50]:
            body = dict(t["body"], amount=t["body"]["amount"] + 1)
            r = ctl.call("POST", "/kudos/transfer", t["key_of"], body,
                         {"Idempotency-Key": t["key"]})
            ctl.check_status(r, "final conflict", {400: {"IdempotencyKeyConflict"}})
        after = balances()
        if before != after:
            anomalies.add(f"replays moved kudos: before {before} after {after}")
        stats.inc("final_replays", len(sample))

        # 4. A clean stop, and the store once more.
        rc = horde.stop()
        if rc != 0:
            anomalies.add(f"horded exited with {rc} on SIGTERM")
        report["after_stop"] = store_checks(horde, users, anomalies, "after stop")
        # What the live server showed is what its store holds (no memory-only money).
        con = sqlite3.connect(f"file:{horde.db_path}?mode=ro", uri=True, timeout=30)
        stored = dict(con.execute("SELECT account, balance_milli FROM balances"))
        con.close()
        for name, (kudos, evaluating) in after.items():
            uid = 0 if name == "anon" else users[name].id
            if abs(stored.get(f"user:{uid}", 0) / 1000 - kudos) > 0.006:
                anomalies.add(f"{name}: the server showed {kudos} kudos, the store holds "
                              f"{stored.get(f'user:{uid}', 0) / 1000}")
            if evaluating is not None and \
                    abs(stored.get(f"escrow:{uid}", 0) / 1000 - evaluating) > 0.006:
                anomalies.add(f"{name}: the server showed {evaluating} evaluating kudos, the "
                              f"store holds {stored.get(f'escrow:{uid}', 0) / 1000}")
    except Exception:  # noqa: BLE001
        anomalies.add(f"driver error:\n{traceback.format_exc()}")
        report = {}
    finally:
        ctl.stop.set()
        ctl.up.set()
        if horde.proc is not None:
            horde.stop()

    summary = {
        "seed": seed,
        "duration_s": duration,
        "wall_s": round(time.monotonic() - t_start, 1),
        "stats": dict(sorted(stats.c.items())),
        "tracked_requests": len(run.tracked) if "run" in locals() else 0,
        "keyed_transfers_ok": len(run.keyed_ok) if "run" in locals() else 0,
        "store": report,
        "anomalies": anomalies.items,
    }
    print(json.dumps(summary, indent=2, default=str), flush=True)
    if anomalies.items:
        print(f"FAILED: {len(anomalies.items)} anomalies; server log: {horde.log_path}",
              flush=True)
        print(horde.log_tail(3000), file=sys.stderr)
        return 1
    print("OK: ledger invariants held", flush=True)
    if not args.keep and not args.work_dir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
