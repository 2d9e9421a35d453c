#!/usr/bin/env python3
"""Load benchmark of horded (issue 6).

Builds a realistic state through the public API (users with varied kudos, image and text
workers with varied capabilities, N queued image and text requests over 50 models of each
kind), then measures each endpoint for a fixed time with a fixed number of connections
using Debian's `wrk` (bench/lua/replay.lua replays prepared request lists).

    python3 bench/run.py --preset smoke     # small, < 60 s, CI: exits 0 when every phase ran
    python3 bench/run.py --preset full      # 100k requests, 1k users, 1k workers, < 10 min

Requires: python3 (stdlib only) and wrk (apt-get install wrk). Load goes to 127.0.0.1 only.
Prints a table (req/s, p50, p99, ratio to the same-run heartbeat baseline), the share of the
pops that got work (the pop phase runs after another N/2 requests are queued, so that its
pops drain the queue around N rather than below it), and, with --json FILE, writes the
results as JSON.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import http.client
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LUA = REPO / "bench" / "lua" / "replay.lua"

# Mean pause of each connection between an answer and its next request in the paced pop phase.
PACED_THINK_MS = 4

# error_text: keep the text of failed answers in the measured phases (wrk then copies every
# answer into Lua); without it they are only counted (4xx/5xx: wrk's errors.status). On in the smoke run (CI), where a failure
# should say what went wrong; off in the full run, where it would cost wrk CPU on the 2 cores
# the server uses (--error-text turns it on).
PRESETS = {
    "smoke": dict(requests=2000, users=50, workers=60, nomatch_workers=8, duration=2.0,
                  connections=8, intake_pool=3000, rt_threads=2, worker_jobs=30,
                  submit_jobs=1500, error_text=True),
    "full": dict(requests=100_000, users=1000, workers=1000, nomatch_workers=16, duration=10.0,
                 connections=16, intake_pool=60_000, rt_threads=4, worker_jobs=300,
                 submit_jobs=30_000, error_text=False),
}

IMAGE_MODELS = [f"BenchDiffusion {i:02d}" for i in range(45)] + [
    f"BenchDiffusion XL {i:02d}" for i in range(5)]
TEXT_MODELS = [f"koboldcpp/BenchLM-{[7, 8, 13, 20, 70][i % 5]}B-v{i:02d}" for i in range(50)]
REGEN = "AI Horde Worker reGen:9.0.2:https://github.com/Haidra-Org/horde-worker-reGen"
KOBOLD = "KoboldCppEmbedWorker:2:https://github.com/LostRuins/koboldcpp"
WORDS = ("a lighthouse at dusk over a stormy sea with gulls and rain oil painting portrait of an "
         "old fisherman detailed cinematic lighting castle forest dragon city night neon").split()


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Server


class Server:
    def __init__(self, binary: Path, data_dir: Path, threads: int, wrapper=(),
                 start_timeout_s: float = 30):
        """`wrapper`: a command the server runs under (valgrind, for bench/ab.py --callgrind)."""
        self.proc = subprocess.Popen(
            [*wrapper, str(binary), "--port", "0", "--bind", "127.0.0.1", "--data-dir",
             str(data_dir), "--test-mode", "--threads", str(threads), "--log-level", "warn"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.log_path = data_dir.parent / "horded.log"
        deadline = time.time() + start_timeout_s
        self.port = None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.match(r"LISTENING (\d+)", line.strip())
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.proc.kill()
            raise SystemExit("horded did not print LISTENING <port>")
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        """Keeps the server's log (its stdout and stderr) in horded.log next to the data."""
        with open(self.log_path, "w") as log_f:
            for line in self.proc.stdout:
                log_f.write(line)
                log_f.flush()

    def rss_kib(self, field: str = "VmRSS") -> int:
        """VmRSS (all resident memory) or RssAnon (the process's own memory, without the file
        pages of the memory-mapped database, which are page cache the kernel can drop)."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def cpu_s(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / tick

    def stop(self, timeout_s: float = 15):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Client:
    """One keep-alive connection per thread (http.client)."""

    def __init__(self, port: int):
        self.port = port
        self.local = threading.local()

    def conn(self):
        c = getattr(self.local, "c", None)
        if c is None:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.local.c = c
        return c

    def call(self, method, path, body=None, key=None):
        headers = {"Content-Type": "application/json", "Client-Agent": "horde-bench:1:local"}
        if key:
            headers["apikey"] = key
        data = json.dumps(body) if body is not None else None
        for attempt in range(2):
            c = self.conn()
            try:
                c.request(method, path, body=data, headers=headers)
                r = c.getresponse()
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None)
            except (http.client.HTTPException, OSError):
                c.close()
                self.local.c = None
                if attempt:
                    raise
        raise AssertionError


# ---------------------------------------------------------------------------------------------
# State


def prompt(rng: random.Random) -> str:
    n = rng.choice([4, 8, 16, 32, 64])
    return " ".join(rng.choice(WORDS) for _ in range(n))


def image_request(rng: random.Random) -> dict:
    models = [rng.choice(IMAGE_MODELS)] if rng.random() < 0.9 else rng.sample(IMAGE_MODELS, 2)
    params = {
        "width": rng.choice(range(512, 1025, 64)),
        "height": rng.choice(range(512, 1025, 64)),
        "steps": rng.choice([10, 20, 25, 30, 40]),
        "sampler_name": rng.choice(["k_euler_a", "k_dpmpp_2m", "k_euler"]),
        "cfg_scale": rng.choice([5.0, 7.0, 7.5]),
        "karras": rng.random() < 0.5,
        "n": 1 if rng.random() < 0.9 else 2,
    }
    if rng.random() < 0.1:
        params["post_processing"] = ["GFPGAN"]
    if rng.random() < 0.05:
        params["hires_fix"] = True
    return {
        "prompt": prompt(rng),
        "params": params,
        "models": models,
        "nsfw": rng.random() < 0.3,
        "censor_nsfw": rng.random() < 0.2,
        "trusted_workers": rng.random() < 0.1,
        "slow_workers": rng.random() < 0.9,
        "allow_downgrade": True,
        "r2": True,
    }


def text_request(rng: random.Random) -> dict:
    return {
        "prompt": prompt(rng) * rng.choice([1, 2, 4]),
        "params": {"max_length": rng.choice([80, 120, 200, 512]),
                   "max_context_length": rng.choice([1024, 2048, 4096]), "n": 1},
        "models": [rng.choice(TEXT_MODELS)],
        "trusted_workers": rng.random() < 0.1,
        "allow_downgrade": True,
    }


def worker_pop_body(rng: random.Random, name: str, image: bool, models=None) -> dict:
    if image:
        return {
            "name": name,
            "models": models or rng.sample(IMAGE_MODELS, rng.choice([1, 2, 5, 10])),
            "bridge_agent": REGEN,
            "max_pixels": rng.choice([262144, 589824, 1048576, 4194304]),
            "nsfw": rng.random() < 0.7,
            "threads": rng.choice([1, 1, 2]),
            "allow_img2img": True, "allow_painting": rng.random() < 0.5,
            "allow_post_processing": rng.random() < 0.7, "allow_lora": rng.random() < 0.5,
            "allow_controlnet": False, "amount": 1,
        }
    return {
        "name": name,
        "models": models or rng.sample(TEXT_MODELS, rng.choice([1, 1, 2, 3])),
        "bridge_agent": KOBOLD,
        "max_length": 512, "max_context_length": rng.choice([2048, 4096, 8192]),
        "threads": 1, "nsfw": rng.random() < 0.7, "amount": 1,
    }


def pmap(fn, items, workers=8):
    with cf.ThreadPoolExecutor(workers) as ex:
        return list(ex.map(fn, items))


# ---------------------------------------------------------------------------------------------
# wrk driver


def write_lines(path: Path, rows):
    with open(path, "w") as f:
        for method, p, key, tag, body in rows:
            b = json.dumps(body, separators=(",", ":")) if body is not None else ""
            assert "\t" not in b and "\n" not in b
            f.write(f"{method}\t{p}\t{key or ''}\t{tag}\t{b}\n")


# wrk's threads per run (--wrk-threads); 0: one per connection. One per core (wrk's own advice)
# costs wrk ~40 % less CPU per request on 2 cores, but left the server idle part of the time
# under durable intake (-15 % req/s in an A/B, session 9), and the phases' history is per
# connection; see docs/benchmarks.md.
WRK_THREADS = 0


def wrk_threads(connections: int) -> int:
    return max(1, min(connections, WRK_THREADS)) if WRK_THREADS > 0 else connections


def run_wrk(port, lines_file: Path, duration: float, connections: int, mode="cycle",
            capture: Path | None = None, expected: int | None = None, timeout_s=None,
            errors_only=False, think_ms: int = 0, error_text=True):
    """Runs wrk; returns its BENCHJSON dict (+ captured rows when capture is set).

    A capture of every answer needs one connection per wrk thread (answers come back in request
    order only then); other runs use wrk_threads(). With `think_ms`, each connection waits that
    long after an answer before its next request (a paced load). An errors-only `cycle` run
    without `error_text` leaves answers out of Lua (BENCH_ANSWERS=none, cheaper for wrk) and
    only counts the 4xx/5xx ones (wrk's errors.status). With `expected`, wrk is
    interrupted (SIGINT, it then prints its summary) as soon as that many answers were
    captured, so `once` runs are timed by their real length."""
    threads = connections if capture and not errors_only else wrk_threads(connections)
    cmd = ["wrk", "-t", str(threads), "-c", str(connections),
           "-d", f"{int(timeout_s or duration)}s" if (timeout_s or duration) >= 1 else "1s",
           "--timeout", "30s", "-s", str(LUA), f"http://127.0.0.1:{port}", "--",
           str(lines_file), str(threads), mode, str(capture) if capture else "",
           "errors" if errors_only else "all"]
    if capture:
        for f in capture.parent.glob(capture.name + "*"):
            f.unlink()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = dict(os.environ)
    env.pop("BENCH_ANSWERS", None)  # set here only, never inherited
    if think_ms:
        env["BENCH_THINK_MS"] = str(think_ms)
    if errors_only and mode == "cycle" and not error_text:
        env["BENCH_ANSWERS"] = "none"
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    if expected is not None and capture is not None:
        files = [Path(str(capture) + str(i)) for i in range(1, threads + 1)]
        for f in files:
            _line_cache.pop(f, None)
        while proc.poll() is None:
            time.sleep(0.1)
            if sum(_count_lines(f) for f in files) >= expected:
                proc.send_signal(signal.SIGINT)
                break
    out, _ = proc.communicate()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = re.search(r"BENCHJSON (\{.*\})", out)
    if not m:
        raise RuntimeError("wrk failed:\n" + out)
    res = json.loads(m.group(1))
    # wrk's own CPU (it shares the cores with the server): user+system of the reaped child.
    res["client_cpu_s"] = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    if capture:
        rows = []
        for i in range(1, threads + 1):
            f = Path(str(capture) + str(i))
            if f.exists():
                for line in f.read_text().splitlines():
                    key, tag, status, rid = line.split("\t", 3)
                    rows.append((key, tag, int(status), rid))
        res["captured"] = rows
    return res


_line_cache: dict = {}


def _count_lines(f: Path) -> int:
    off, n = _line_cache.get(f, (0, 0))
    try:
        with open(f, "rb") as fh:
            fh.seek(off)
            chunk = fh.read()
    except FileNotFoundError:
        return 0
    n += chunk.count(b"\n")
    _line_cache[f] = (off + len(chunk), n)
    return n


# ---------------------------------------------------------------------------------------------
# Benchmark


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="smoke")
    ap.add_argument("--horded", default=os.environ.get("HORDED", str(REPO / "build/apps/horded/horded")))
    ap.add_argument("--threads", type=int, default=0,
                    help="horded --threads (default 0: its default, one per core)")
    ap.add_argument("--worker", default=str(REPO / "build/apps/horde-worker/horde-worker"),
                    help="horde-worker binary for the worker-overhead phase (skipped if absent)")
    ap.add_argument("--requests", type=int)
    ap.add_argument("--users", type=int)
    ap.add_argument("--workers", type=int)
    ap.add_argument("--duration", type=float, help="seconds per measured phase")
    ap.add_argument("--connections", type=int)
    ap.add_argument("--wrk-threads", type=int, default=0,
                    help="wrk threads per phase (default 0: one per connection); answers kept "
                         "for later phases always use one per connection")
    ap.add_argument("--error-text", action="store_true",
                    help="keep the text of non-2xx answers in every phase (the smoke preset "
                         "does; the full one only counts them, which costs wrk less CPU)")
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--json", help="write results as JSON to this file")
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    ap.add_argument("--perf", metavar="SUBSTR",
                    help="perf-record the server during phases whose name contains SUBSTR "
                         "(comma-separated list); "
                         "flat profile written to bench/out/perf-<phase>.txt")
    args = ap.parse_args()
    global WRK_THREADS
    WRK_THREADS = args.wrk_threads
    cfg = dict(PRESETS[args.preset])
    for k in ("requests", "users", "workers", "duration", "connections"):
        if getattr(args, k) is not None:
            cfg[k] = getattr(args, k)
    cfg["error_text"] = cfg["error_text"] or args.error_text
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    rng = random.Random(args.seed)
    t_start = time.time()
    tmp = Path(tempfile.mkdtemp(prefix="horde-bench-"))
    binary = tmp / "horded"
    shutil.copy2(args.horded, binary)  # a rebuild during the run must not swap the binary
    (tmp / "data").mkdir()
    D, C = cfg["duration"], cfg["connections"]
    results: dict = {"preset": args.preset, "config": cfg, "phases": {}, "memory": {},
                     "machine": machine()}
    failures = []
    srv = Server(binary, tmp / "data", args.threads)
    cl = Client(srv.port)
    try:
        time.sleep(1.0)
        cl.call("GET", "/api/v2/status/heartbeat")
        rss_idle = srv.rss_kib()
        log(f"[bench] horded pid {srv.proc.pid} port {srv.port}: idle RSS {rss_idle} KiB")

        # --- users ---------------------------------------------------------------------------
        st, admin = cl.call("POST", "/api/v2/dev/test-user",
                            {"username": "bench_admin", "oauth_id": "bench_admin",
                             "kudos": 10_000_000, "trusted": True, "moderator": True})
        assert st in (200, 201), (st, admin)
        admin_key = admin["api_key"]
        kudos_choices = [0, 10, 100, 1000, 10_000, 100_000, 1_000_000]

        def mk_user(i):
            st, u = cl.call("POST", "/api/v2/dev/test-user",
                            {"username": f"bench_u{i}", "oauth_id": f"bench_u{i}",
                             "kudos": kudos_choices[i % len(kudos_choices)],
                             "trusted": i % 3 == 0, "moderator": False})
            assert st in (200, 201), (st, u)
            st2, b2 = cl.call("PUT", f"/api/v2/users/{u['user_id']}",
                              {"concurrency": 500}, key=admin_key)
            assert st2 == 200, (st2, b2)
            return u["api_key"]

        t0 = time.time()
        user_keys = pmap(mk_user, range(cfg["users"]))
        log(f"[bench] {len(user_keys)} users in {time.time() - t0:.1f}s")

        # --- workers (they register on their first pop, queue still empty) --------------------
        workers = []  # (key, kind, body)
        for i in range(cfg["workers"]):
            image = i % 5 < 3
            body = worker_pop_body(rng, f"bench_w{i}", image)
            workers.append((user_keys[i % len(user_keys)], "image" if image else "text", body))
        nomatch = []
        for i in range(cfg["nomatch_workers"]):
            body = worker_pop_body(rng, f"bench_nomatch{i}", True, models=["Unrequested Model"])
            body["max_pixels"] = 4194304
            body["nsfw"] = True
            nomatch.append((user_keys[i % len(user_keys)], "image", body))

        def pop_path(kind):
            return "/api/v2/generate/pop" if kind == "image" else "/api/v2/generate/text/pop"

        def register(w):
            st, b = cl.call("POST", pop_path(w[1]), w[2], key=w[0])
            assert st == 200, (st, b)

        t0 = time.time()
        pmap(register, workers + nomatch)
        log(f"[bench] {len(workers) + len(nomatch)} workers registered in {time.time() - t0:.1f}s")
        rss_before = srv.rss_kib()
        anon_before = srv.rss_kib("RssAnon")

        # --- fill: N async requests through wrk (durable intake) ------------------------------
        def async_rows(n, r):
            rows, prompt_bytes = [], 0
            for _ in range(n):
                key = user_keys[r.randrange(len(user_keys))]
                if r.random() < 0.6:
                    body = image_request(r)
                    rows.append(("POST", "/api/v2/generate/async", key, "image", body))
                else:
                    body = text_request(r)
                    rows.append(("POST", "/api/v2/generate/text/async", key, "text", body))
                prompt_bytes += len(body["prompt"])
            return rows, prompt_bytes

        fill_rows, prompt_bytes = async_rows(cfg["requests"], rng)
        fill_file = tmp / "fill.txt"
        write_lines(fill_file, fill_rows)
        fc = max(C, 16)
        log(f"[bench] filling {len(fill_rows)} requests with {fc} connections ...")
        t0 = time.time()
        res = run_wrk(srv.port, fill_file, 0, fc, mode="once", capture=tmp / "cap_fill_",
                      expected=len(fill_rows), timeout_s=3600)
        fill_s = time.time() - t0
        accepted = [(k, tag, rid) for k, tag, status, rid in res["captured"] if status == 202]
        bad = [s for _, _, s, _ in res["captured"] if s != 202]
        if bad:
            ex = next(x for x in res["captured"] if x[2] != 202)
            failures.append(f"fill: {len(bad)} non-202 answers, e.g. {ex[2]} {ex[3]}")
        # wrk's own duration: from its start to the SIGINT sent once every answer was in.
        record(results, "intake (fill, durable)", res,
               len(res["captured"]) / max(1e-6, res["duration_us"] / 1e6))
        log("[bench] fill wrk:", {k: v for k, v in res.items() if k != "captured"})
        time.sleep(0.5)
        rss_after = srv.rss_kib()
        anon_after = srv.rss_kib("RssAnon")
        log(f"[bench] queued {len(accepted)} in {fill_s:.1f}s; RSS {rss_before} -> {rss_after} KiB"
            f" (RssAnon {anon_before} -> {anon_after} KiB)")
        bad_tags = 0
        for _, tag, rid in accepted[:: max(1, len(accepted) // 40)]:
            path = "/api/v2/generate/check/" if tag == "image" else "/api/v2/generate/text/status/"
            st, b = cl.call("GET", path + rid)
            if st != 200:
                bad_tags += 1
                log(f"[bench] sanity: {tag} {rid} -> {st} {b}")
        if bad_tags:
            failures.append(f"fill: {bad_tags} sampled ids not found under their kind")
        image_ids = [rid for _, tag, rid in accepted if tag == "image"]
        text_ids = [rid for _, tag, rid in accepted if tag == "text"]
        results["memory"] = {
            "idle_rss_kib": rss_idle,
            "before_queueing_rss_kib": rss_before,
            "after_queueing_rss_kib": rss_after,
            "before_queueing_anon_kib": anon_before,
            "after_queueing_anon_kib": anon_after,
            "queued": len(accepted),
            # The process's own memory per queued request (RssAnon; VmRSS also counts the
            # database's memory-mapped file pages).
            "bytes_per_request": (anon_after - anon_before) * 1024 / max(1, len(accepted)),
            "vmrss_bytes_per_request": (rss_after - rss_before) * 1024 / max(1, len(accepted)),
            "avg_prompt_bytes": prompt_bytes / max(1, len(fill_rows)),
        }
        results["memory"]["bytes_per_request_beyond_prompt"] = (
            results["memory"]["bytes_per_request"] - results["memory"]["avg_prompt_bytes"])

        def settle():
            """Waits (up to 60 s) until the server has finished the previous phase's requests
            still in flight (slow endpoints leave a backlog behind wrk): < 30 % of a core."""
            t_end = time.time() + 60
            while time.time() < t_end:
                c0 = srv.cpu_s()
                time.sleep(0.5)
                if srv.cpu_s() - c0 < 0.15:
                    return
            log("[bench] warning: server still busy after 60 s")

        def phase(name, rows, mode="cycle", capture=None, expected=None, conns=C, think_ms=0,
                  count_claims=False):
            """`count_claims`: count the pops that got work (queued_slots)."""
            f = tmp / (re.sub(r"\W+", "_", name) + ".txt")
            write_lines(f, rows)
            settle()
            slots_before = queued_slots(cl) if count_claims else None
            cpu0 = srv.cpu_s()
            prof = None
            if args.perf and any(x and x in name for x in args.perf.split(",")):
                prof = subprocess.Popen(
                    ["perf", "record", "-F", "999", "--call-graph",
                     os.environ.get("BENCH_CALLGRAPH", "fp"), "-p", str(srv.proc.pid), "-o",
                     str(tmp / "perf.data"), "--", "sleep", str(max(1, int(D)))],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            r = run_wrk(srv.port, f, D, conns, mode=mode,
                        capture=tmp / (capture or ("err_" + f.stem + "_")), expected=expected,
                        timeout_s=D, errors_only=capture is None, think_ms=think_ms,
                        error_text=cfg["error_text"])
            r["server_cpu_s"] = srv.cpu_s() - cpu0
            slots_after = queued_slots(cl) if count_claims else None
            if slots_before is not None and slots_after is not None and r["requests"]:
                r["queued_slots_before"], r["queued_slots_after"] = slots_before, slots_after
                r["claimed"] = slots_before - slots_after
                r["work_fraction"] = r["claimed"] / r["requests"]
                r["work_rps"] = r["claimed"] / (r["duration_us"] / 1e6)
            if prof:
                prof.wait()
                out = subprocess.run(
                    ["perf", "report", "-i", str(tmp / "perf.data"), "--no-children",
                     "--stdio", "-g", "none", "--percent-limit", "1.5"],
                    capture_output=True, text=True).stdout
                name_f = REPO / "bench" / "out" / ("perf-" + re.sub(r"\W+", "_", name) + ".txt")
                name_f.parent.mkdir(exist_ok=True)
                name_f.write_text(out)
                # Who calls the hottest symbols (call chains of the symbols above 5 %).
                calls = subprocess.run(
                    ["perf", "report", "-i", str(tmp / "perf.data"), "--no-children",
                     "--stdio", "-g", "caller,0.5,callee,function,percent", "--percent-limit",
                     "5"], capture_output=True, text=True).stdout
                name_f.with_name(name_f.stem + "-calls.txt").write_text(calls)
                log(f"[bench] perf profile of '{name}' -> {name_f}")
            rps = r["requests"] / (r["duration_us"] / 1e6)
            record(results, name, r, rps)
            errs = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
            if r["requests"] == 0:
                failures.append(f"{name}: no request completed")
            elif errs:
                bad = [x for x in r.get("captured", []) if not 200 <= x[2] < 300]
                failures.append(f"{name}: {errs} errors/non-2xx of {r['requests']}"
                                + (f"; e.g. {bad[0][2]} {bad[0][3]}" if bad else
                                   "" if cfg["error_text"] else " (--error-text shows them)"))
            log(f"[bench] {name}: {rps:.0f} req/s p50 {r['p50_us']} us p99 {r['p99_us']} us")
            if "claimed" in r:
                log(f"[bench] {name}: {r['claimed']} of {r['requests']} pops got work "
                    f"({100 * r['work_fraction']:.0f} %; the others found nothing their worker "
                    f"can do), {r['work_rps']:.0f} pops with work/s; queued slots "
                    f"{r['queued_slots_before']} -> "
                    f"{r['queued_slots_after']}")
            return r

        # --- baselines ----------------------------------------------------------------------------
        heartbeat = [("GET", "/api/v2/status/heartbeat", "", "-", None)]
        phase("heartbeat (baseline)", heartbeat)
        # heartbeat counts the queue (O(queued)); /status/modes is the transport floor.
        phase("status/modes (floor)", [("GET", "/api/v2/status/modes", "", "-", None)])

        # --- check / status over many ids -------------------------------------------------------
        ids_sample = image_ids[:]
        rng.shuffle(ids_sample)
        phase("image check", [("GET", f"/api/v2/generate/check/{i}", "", "-", None)
                              for i in ids_sample[:20000]])
        st_rows = [("GET", f"/api/v2/generate/text/status/{i}", "", "-", None)
                   for i in text_ids[:10000]]
        st_rows += [("GET", f"/api/v2/generate/status/{i}", "", "-", None)
                    for i in ids_sample[:10000]]
        rng.shuffle(st_rows)
        phase("status (image+text)", st_rows)

        # --- pop when nothing matches (walks the queue; skipped counts computed) ----------------
        st, sample = cl.call("POST", "/api/v2/generate/pop", nomatch[0][2], key=nomatch[0][0])
        results["nomatch_sample_skipped"] = sample.get("skipped") if isinstance(sample, dict) else None
        if st != 200 or sample.get("id") is not None:
            failures.append(f"pop nomatch sample: {st} {sample}")
        log(f"[bench] nothing-matches pop skipped: {results['nomatch_sample_skipped']}")
        phase("pop, nothing matches", [("POST", pop_path(k), key, k, b) for key, k, b in nomatch])

        def unmeasured(name, rows):
            """Sends each row once, keeping every answer (not a measured phase); returns the
            captured rows and lists failures (non-2xx answers, socket errors, missing answers)."""
            f = tmp / (re.sub(r"\W+", "_", name) + ".txt")
            write_lines(f, rows)
            settle()
            res = run_wrk(srv.port, f, 0, C, mode="once", capture=tmp / ("cap_" + f.stem + "_"),
                          expected=len(rows), timeout_s=max(60, len(rows) // 200))
            got = res["captured"]
            bad = [x for x in got if not 200 <= x[2] < 300]
            errs = res["connect"] + res["read"] + res["write"] + res["timeout"]
            if bad or errs or len(got) < len(rows):
                failures.append(f"{name}: {len(got)} answers of {len(rows)}, {len(bad)} non-2xx, "
                                f"{errs} socket errors"
                                + (f"; e.g. {bad[0][2]} {bad[0][3]}" if bad else ""))
            return got

        # --- pop when work matches ----------------------------------------------------------------
        pm_rows = [("POST", pop_path(k), key, k, b) for key, k, b in workers]
        rng.shuffle(pm_rows)
        # At ~10k pops/s a phase takes about as many slots as the fill queued: without more, its
        # later pops would find their workers' work gone (and answer faster: in session 15, a
        # fifth of the pops). Half a fill more (not measured) centres the phase on `requests`
        # queued: ~1.5x at its start, ~0.6-0.8x at its end at 9-11k pops/s (a whole fill more
        # measured it at 1.4-2x, and a pop's instructions grow with the queue: +10 % at 2x).
        unmeasured("top-up before the pops", async_rows(cfg["requests"] // 2,
                                                        random.Random(args.seed + 3))[0])
        phase("pop, work matches", pm_rows, count_claims=True)

        # --- async intake for a fixed time ------------------------------------------------------
        in_rows, _ = async_rows(cfg["intake_pool"], random.Random(args.seed + 1))
        phase("async intake (durable)", [(m, p, k, t, b) for m, p, k, t, b in in_rows])

        # --- jobs for the submit phase (not measured) ---------------------------------------------
        # Text workers pop `submit_jobs` times, their answers kept: which worker got which job
        # needs one connection per wrk thread (answers in order) and every answer in Lua, which
        # costs wrk a tenth more CPU per pop, so the measured pop phase keeps nothing. After the
        # intake phase, whose fresh requests make sure text work is queued.
        text_pops = [row for row in pm_rows if row[3] == "text"]
        want = cfg["submit_jobs"]
        text_jobs = []
        if text_pops:
            got = unmeasured("pops for submit",
                             (text_pops * (want // len(text_pops) + 1))[:want])
            text_jobs = [(k, rid) for k, tag, status, rid in got
                         if 200 <= status < 300 and rid != "-"]
        results["submit_jobs"] = len(text_jobs)
        log(f"[bench] {len(text_jobs)} text jobs popped for the submit phase")

        # --- submit (the text jobs just popped, each once) --------------------------------------
        if text_jobs:
            sub_rows = [("POST", "/api/v2/generate/text/submit", k, "text",
                         {"id": rid, "generation": "Once upon a time, in a benchmark far away.",
                          "state": "ok", "seed": 0}) for k, rid in text_jobs]
            phase("submit (text)", sub_rows, mode="once", capture="cap_sub_",
                  expected=len(sub_rows))
            # As many fresh text requests as those pops took (not measured), so that the paced
            # pop below finds the queue as full as it did before they were added.
            rr = random.Random(args.seed + 2)
            unmeasured("text refill", [
                ("POST", "/api/v2/generate/text/async", user_keys[rr.randrange(len(user_keys))],
                 "text", text_request(rr)) for _ in text_jobs])
        else:
            failures.append("submit: no text job was popped")

        # --- pop when work matches, paced below saturation: its latency -----------------------
        # Each connection waits a random time (exponential, mean PACED_THINK_MS) between an
        # answer and its next pop, so pops arrive at random times as independent workers' do
        # (~40 % of the saturated rate here). At saturation a closed loop's latency is set by
        # the queue in front of the server (16 connections / rate, Little's law), not by it.
        # The same pacing on the heartbeat: the latency floor of this machine and load generator.
        phase(f"heartbeat, paced ({PACED_THINK_MS} ms think)", heartbeat, think_ms=PACED_THINK_MS)
        phase(f"pop, work matches, paced ({PACED_THINK_MS} ms think)", pm_rows,
              think_ms=PACED_THINK_MS, count_claims=True)

        # --- full round trip: async -> pop -> submit -> status (python, sequential per thread) --
        settle()
        results["phases"]["round trip (async+pop+submit+status)"] = round_trip(
            cl, admin_key, D, cfg["rt_threads"], failures)
        rt = results["phases"]["round trip (async+pop+submit+status)"]
        log(f"[bench] round trip: {rt['rps']:.0f}/s p50 {rt['p50_us']} us p99 {rt['p99_us']} us")

        # --- the worker's own overhead per job against an instant KoboldCpp-style backend -------
        settle()
        results["worker_overhead"] = worker_overhead(cl, admin_key, tmp, cfg["worker_jobs"],
                                                     Path(args.worker), failures)
        results["memory"]["end_rss_kib"] = srv.rss_kib()
    finally:
        srv.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"[bench] kept {tmp}")
    results["wall_s"] = time.time() - t_start
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if failures:
        print("\nFAILURES:\n  " + "\n  ".join(failures))
        return 1
    print(f"\nOK: every phase ran and got 2xx answers ({results['wall_s']:.0f}s)")
    return 0


def round_trip(cl: Client, admin_key: str, duration: float, nthreads: int, failures):
    """Each thread: a priority requester (front of the queue) and its own text worker."""
    lat = []
    lock = threading.Lock()
    stop = time.time() + duration
    errors = []

    def run(t):
        c = Client(cl.port)
        st, u = c.call("POST", "/api/v2/dev/test-user",
                       {"username": f"bench_rt{t}", "oauth_id": f"bench_rt{t}",
                        "kudos": 100_000_000, "trusted": True, "moderator": False})
        key = u["api_key"]
        c.call("PUT", f"/api/v2/users/{u['user_id']}", {"concurrency": 500}, key=admin_key)
        model = f"koboldcpp/BenchRoundTrip-7B-t{t}"
        wbody = {"name": f"bench_rt_worker{t}", "models": [model], "bridge_agent": KOBOLD,
                 "max_length": 512, "max_context_length": 4096, "amount": 1}
        mine = []
        while time.time() < stop:
            t0 = time.perf_counter()
            st1, a = c.call("POST", "/api/v2/generate/text/async",
                            {"prompt": "Hello there", "params": {"max_length": 80},
                             "models": [model]}, key=key)
            st2, p = c.call("POST", "/api/v2/generate/text/pop", wbody, key=key)
            jid = p.get("id") if isinstance(p, dict) else None
            st3, _ = c.call("POST", "/api/v2/generate/text/submit",
                            {"id": jid, "generation": "General Kenobi.", "seed": 0}, key=key)
            st4, s = c.call("GET", f"/api/v2/generate/text/status/{a['id']}")
            dt = time.perf_counter() - t0
            if (st1, st2, st3, st4) != (202, 200, 200, 200) or not s.get("done"):
                errors.append((st1, st2, st3, st4, jid, s))
                break
            mine.append(dt)
        with lock:
            lat.extend(mine)

    t0 = time.time()
    pmap(run, range(nthreads), nthreads)
    elapsed = time.time() - t0
    if errors:
        failures.append(f"round trip: {errors[:2]}")
    if not lat:
        failures.append("round trip: none completed")
        return {"rps": 0, "p50_us": 0, "p99_us": 0, "requests": 0}
    lat.sort()
    return {"rps": len(lat) / elapsed, "requests": len(lat), "connections": nthreads,
            "p50_us": int(lat[len(lat) // 2] * 1e6),
            "p99_us": int(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e6),
            "note": "python client, 4 HTTP calls per round trip"}


def proc_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_overhead(cl: Client, admin_key: str, tmp: Path, jobs: int, worker: Path, failures):
    """Queues `jobs` text requests only one horde-worker (threads 1) can serve, at the front of
    the queue, and times the worker from its first to its last delivery: wall and CPU per job.
    The backend is tests/worker/fake_backends.KoboldCpp (instant answers)."""
    if not worker.exists():
        log(f"[bench] worker overhead: {worker} not found, skipped")
        return {"skipped": f"{worker} not found"}
    sys.path.insert(0, str(REPO / "tests" / "worker"))
    import socketserver

    from fake_backends import KoboldCpp  # noqa: E402

    # http.server writes headers and body in two sends: without TCP_NODELAY, Nagle + delayed ACK
    # add ~40 ms per backend call, which would be charged to the worker.
    socketserver.StreamRequestHandler.disable_nagle_algorithm = True

    model = "koboldcpp/BenchWorker-7B"
    backend = KoboldCpp(model=model).start()
    st, u = cl.call("POST", "/api/v2/dev/test-user",
                    {"username": "bench_wk", "oauth_id": "bench_wk", "kudos": 1_000_000_000,
                     "trusted": True, "moderator": False})
    key = u["api_key"]
    cl.call("PUT", f"/api/v2/users/{u['user_id']}", {"concurrency": 500}, key=admin_key)
    ids = []
    for _ in range(jobs):
        st, a = cl.call("POST", "/api/v2/generate/text/async",
                        {"prompt": "Tell me a story", "params": {"max_length": 64,
                                                                 "max_context_length": 1024},
                         "models": [model]}, key=key)
        if st != 202:
            failures.append(f"worker overhead: async {st} {a}")
            backend.stop()
            return {"skipped": "could not queue"}
        ids.append(a["id"])
    logf = open(tmp / "worker.log", "wb")
    proc = subprocess.Popen(
        [str(worker), "--horde-url", f"http://127.0.0.1:{cl.port}", "--api-key", key,
         "--name", "bench_real_worker", "--backend", "kobold", "--backend-url", backend.url,
         "--threads", "1", "--backoff-max", "0.3", "--health-interval", "60",
         "--status-interval", "3600", "--log-level", "warn"],
        stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def done(rid):
        st, s = cl.call("GET", f"/api/v2/generate/text/status/{rid}")
        return st == 200 and s.get("done")

    out = {"jobs": jobs}
    try:
        t_launch = time.time()
        deadline = t_launch + 120
        while not done(ids[0]):
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError("first job not delivered")
            time.sleep(0.01)
        t_first, cpu_first = time.time(), proc_cpu_s(proc.pid)
        while not done(ids[-1]):
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError("last job not delivered")
            time.sleep(0.02)
        t_last, cpu_last = time.time(), proc_cpu_s(proc.pid)
        n = jobs - 1
        out.update({
            "first_job_after_launch_s": t_first - t_launch,
            "wall_ms_per_job": (t_last - t_first) * 1000 / n,
            "worker_cpu_ms_per_job": (cpu_last - cpu_first) * 1000 / n,
            "backend_calls": backend.generations,
        })
        log(f"[bench] worker overhead: {out}")
    except RuntimeError as e:
        failures.append(f"worker overhead: {e}; see log")
        out["error"] = str(e)
        out["log_tail"] = (tmp / "worker.log").read_text(errors="replace")[-2000:]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        backend.stop()
    return out


def queued_slots(cl: Client):
    """The queued slots (the heartbeat's `queue`), None if it fails. A pop phase's pops that
    got work are the slots it took, when its pops ask for one each and nothing else queues or
    claims meanwhile."""
    st, hb = cl.call("GET", "/api/v2/status/heartbeat")
    return hb.get("queue") if st == 200 and isinstance(hb, dict) else None


def record(results, name, r, rps):
    d = {k: v for k, v in r.items() if k != "captured"}
    d["rps"] = rps
    results["phases"][name] = d


def machine():
    model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model}


def report(results):
    m = results["machine"]
    print(f"\nhorde bench, preset {results['preset']}: {results['config']}")
    print(f"machine: {m['nproc']} CPUs, {m['cpu']}")
    base = results["phases"].get("heartbeat (baseline)", {}).get("rps") or 0
    floor = results["phases"].get("status/modes (floor)", {}).get("rps") or 0
    print(f"\n{'phase':38} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'x heartb':>9} "
          f"{'x floor':>8} {'srv cpu ms/req':>15} {'wrk cpu ms/req':>15}")
    for name, p in results["phases"].items():
        ratio = p["rps"] / base if base else 0
        ratio_f = p["rps"] / floor if floor else 0
        p["ratio_heartbeat"], p["ratio_floor"] = ratio, ratio_f
        cpu = p.get("server_cpu_s")
        cpu_per = f"{cpu * 1000 / p['requests']:.3f}" if cpu is not None and p.get("requests") else "-"
        ccpu = p.get("client_cpu_s")
        ccpu_per = f"{ccpu * 1000 / p['requests']:.3f}" if ccpu is not None and p.get("requests") else "-"
        print(f"{name:38} {p['rps']:9.0f} {p['p50_us'] / 1000:8.2f} {p['p99_us'] / 1000:8.2f} "
              f"{ratio:9.3f} {ratio_f:8.3f} {cpu_per:>15} {ccpu_per:>15}")
    mem = results["memory"]
    if mem:
        print(f"\nRSS idle {mem['idle_rss_kib'] / 1024:.1f} MiB; before queueing "
              f"{mem['before_queueing_rss_kib'] / 1024:.1f} MiB; after queueing {mem['queued']} "
              f"requests {mem['after_queueing_rss_kib'] / 1024:.1f} MiB; end "
              f"{mem.get('end_rss_kib', 0) / 1024:.1f} MiB\n"
              f"RssAnon before queueing {mem['before_queueing_anon_kib'] / 1024:.1f} MiB, after "
              f"{mem['after_queueing_anon_kib'] / 1024:.1f} MiB: "
              f"{mem['bytes_per_request']:.0f} B/request ({mem['bytes_per_request_beyond_prompt']:.0f} "
              f"B beyond the {mem['avg_prompt_bytes']:.0f} B average prompt); VmRSS "
              f"{mem['vmrss_bytes_per_request']:.0f} B/request with the mapped database pages")
    wo = results.get("worker_overhead") or {}
    if "wall_ms_per_job" in wo:
        print(f"worker overhead ({wo['jobs']} text jobs, threads 1, instant KoboldCpp test backend): "
              f"{wo['wall_ms_per_job']:.2f} ms wall/job, {wo['worker_cpu_ms_per_job']:.2f} ms "
              f"worker CPU/job")
    for name, p in results["phases"].items():
        if "work_fraction" in p:
            print(f"{name}: {100 * p['work_fraction']:.0f} % of the pops got work "
                  f"({p['work_rps']:.0f} pops with work/s)")
    if results.get("nomatch_sample_skipped"):
        print(f"pop with nothing matching reports skipped = {results['nomatch_sample_skipped']}")


if __name__ == "__main__":
    sys.exit(main())
