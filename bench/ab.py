#!/usr/bin/env python3
"""A/B of "pop, work matches" between horded builds, in alternating order.

On a shared machine the full benchmark's phases swing by 10-20 % from run to run, more than a
change to the pop path usually moves them. This script measures only the matching pop, many
times and interleaved:

1. for each binary, `run.py --duration 1 --keep` builds the benchmark state with that binary
   (users, workers, the fill, one second of each phase) and keeps its data directory and its
   list of worker pops;
2. each round, in alternating order (A B, then B A, ...), it starts each binary on a fresh
   copy of its own data directory, waits until the server is idle (after its first periodic
   sweep, which times out the state's unsubmitted jobs once they are past their ttl), pops
   for 2 s to warm up,
   then measures `--duration` seconds of the same pops with `--connections` connections;
3. it prints each run (pops/s, server CPU per pop, p50, p99, and the share of the pops that got
   work: the queued slots the run took, from the heartbeat's `queue`) and the means per binary.
   The pops drain the queue as they go, and a pop that finds nothing is faster: compare builds
   at a similar share.

With `--think-ms T` the measured runs are paced as the full benchmark's paced phase: each
connection waits a random time (exponential, mean T ms) after an answer, so the pops come below
saturation and their p50/p99 are the latency under load (the warm-up is not paced).

With `--callgrind` each run counts instructions instead of timing: the server runs under
valgrind's callgrind with one I/O thread, counting only while the measured pops run (after the
warm-up), and the script prints the instructions per pop of the I/O thread (reading, deciding,
answering) and of the writer thread (its group commits, with whatever else it wrote meanwhile:
the periodic sweep's and the workers' check-in writes, more often per pop than natively since
the server runs ~50x slower). User-space instructions only (no kernel, no waiting), but they do
not swing with the machine's load: a few per cent between runs, where the timings swing by
20-40 % (docs/benchmarks.md, session 13). One round is usually enough. `--keep-profiles DIR`
keeps each run's callgrind output there (`callgrind_annotate --inclusive=yes FILE` shows where
the instructions went).

Queued requests expire 20 minutes after they were made, so the rounds must end by then (the
script says so if they do not). Usage:

    python3 bench/ab.py OLD_HORDED NEW_HORDED [--rounds 4] [--duration 8] [--preset full]
                        [--think-ms 4] [--callgrind [--keep-profiles DIR]]
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402  (the benchmark's server and wrk helpers)

EXPIRY_S = 20 * 60


def build_state(binary: Path, preset: str, into: Path) -> Path:
    """Runs the benchmark with `binary` for one second per phase and keeps its state in `into`."""
    out = subprocess.run(
        [sys.executable, str(bench.REPO / "bench/run.py"), "--preset", preset, "--duration",
         "1", "--horded", str(binary), "--worker", "/nonexistent", "--keep"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    m = re.search(r"\[bench\] kept (\S+)", out.stdout)
    if out.returncode != 0 or not m:
        sys.stdout.write(out.stdout)
        raise SystemExit(f"building the state with {binary} failed")
    kept = Path(m.group(1))
    into.mkdir(parents=True)
    shutil.copytree(kept / "data", into / "data")
    shutil.copy2(kept / "pop_work_matches.txt", into / "pops.txt")
    shutil.rmtree(kept, ignore_errors=True)
    return into


def wait_idle(srv, first_s: float, window_s: float, timeout_s: float) -> None:
    """Waits `first_s`, then until the server used under a tenth of a core over `window_s`."""
    time.sleep(first_s)
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        before = srv.cpu_s()
        time.sleep(window_s)
        if srv.cpu_s() - before < 0.1 * window_s:
            return


def checked_pops(binary: Path, w: dict) -> int:
    """The pops of a wrk run; stops the script if there were none, or errors."""
    n = w["requests"]
    errs = sum(w.get(k, 0) for k in ("connect", "read", "write", "timeout"))
    if n == 0 or w.get("status", 0) or errs:
        raise SystemExit(f"{binary}: {n} pops, {w.get('status', 0)} 4xx/5xx answers, "
                         f"{errs} socket errors")
    return n


def measure(binary: Path, state: Path, scratch: Path, duration: float, connections: int,
            think_ms: int = 0):
    """One run: `binary` on a fresh copy of `state`; returns (pops/s, CPU ms/pop, p50, p99)."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    shutil.copytree(state / "data", scratch / "data")
    srv = bench.Server(binary, scratch / "data", 0)
    try:
        # Idle: less than 10 % of a core over a second, looked at from 1.5 s after the start, so
        # that the first periodic sweep (every second) has begun: once the state is older than
        # a job's ttl, it times out the thousands of jobs that the state's phases popped and
        # never submitted, which takes seconds of server time that must not fall in a round.
        wait_idle(srv, first_s=1.5, window_s=1.0, timeout_s=120)  # a migration may take a while
        # Answers stay out of wrk's Lua (BENCH_ANSWERS=none): 4xx/5xx are counted, not kept.
        quiet = dict(errors_only=True, error_text=False)
        bench.run_wrk(srv.port, state / "pops.txt", 2, connections, **quiet)  # warm-up
        time.sleep(0.5)
        slots_before = queued_slots(srv)
        cpu_before = srv.cpu_s()
        w = bench.run_wrk(srv.port, state / "pops.txt", duration, connections, think_ms=think_ms,
                          **quiet)
        cpu = srv.cpu_s() - cpu_before
        claimed = slots_before - queued_slots(srv)
    finally:
        srv.stop()
    n = checked_pops(binary, w)
    return (n / (w["duration_us"] / 1e6), cpu / n * 1000, w["p50_us"] / 1000, w["p99_us"] / 1000,
            claimed / n)


def queued_slots(srv) -> int:
    slots = bench.queued_slots(bench.Client(srv.port))
    if slots is None:
        raise SystemExit("the heartbeat did not answer with its queue")
    return slots


def inclusive_ir(annotated: str, function: str) -> int:
    """The largest inclusive instruction count callgrind_annotate gives a line naming
    `function` (the function's own total, over all threads that ran it)."""
    best = 0
    for line in annotated.splitlines():
        m = re.match(r"\s*([\d,]+) \(", line)
        if m and function in line:
            best = max(best, int(m.group(1).replace(",", "")))
    return best


def measure_instructions(binary: Path, state: Path, scratch: Path, duration: float,
                         connections: int, keep_as: Path | None = None):
    """One run under callgrind; returns (pops, I/O thread kIr/pop, writer kIr/pop)."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    shutil.copytree(state / "data", scratch / "data")
    out_file = scratch / "callgrind.out"
    srv = bench.Server(binary, scratch / "data", 1,
                       wrapper=("valgrind", "--tool=callgrind", "--instr-atstart=no",
                                f"--callgrind-out-file={out_file}"),
                       start_timeout_s=600)
    try:
        wait_idle(srv, first_s=5, window_s=2.0, timeout_s=900)  # as measure(), ~50x slower
        quiet = dict(errors_only=True, error_text=False)
        bench.run_wrk(srv.port, state / "pops.txt", 10, connections, **quiet)  # warm-up
        subprocess.run(["callgrind_control", "-i", "on", str(srv.proc.pid)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        w = bench.run_wrk(srv.port, state / "pops.txt", duration, connections, **quiet)
        subprocess.run(["callgrind_control", "-i", "off", str(srv.proc.pid)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        srv.stop(timeout_s=300)
    n = checked_pops(binary, w)
    if keep_as is not None:
        shutil.copy2(out_file, keep_as)
    annotated = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out_file)],
        check=True, stdout=subprocess.PIPE, text=True).stdout
    io = inclusive_ir(annotated, "boost::asio::detail::scheduler::run(")
    writer = inclusive_ir(annotated, "horde::service::CommitQueue::Run()")
    if io == 0:  # (the writer has nothing to do when no pop found work)
        kept = Path(tempfile.gettempdir()) / "horde-ab-callgrind.out"
        shutil.copy2(out_file, kept)
        raise SystemExit(f"{binary}: no I/O thread in callgrind's output (symbols?); kept {kept}")
    return n, io / n / 1000, writer / n / 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binaries", nargs="+", help="horded builds to compare (two or more)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--duration", type=float, default=8, help="measured seconds per run")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--preset", default="full", choices=sorted(bench.PRESETS))
    ap.add_argument("--think-ms", type=int, default=0,
                    help="pace the measured pops: mean pause (ms) after each answer")
    ap.add_argument("--callgrind", action="store_true",
                    help="count instructions per pop (valgrind) instead of timing")
    ap.add_argument("--keep-profiles", type=Path, metavar="DIR",
                    help="with --callgrind: keep each run's callgrind output in DIR")
    args = ap.parse_args()
    if len(args.binaries) < 2:
        raise SystemExit("give two or more binaries")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    if args.keep_profiles and not args.callgrind:
        raise SystemExit("--keep-profiles needs --callgrind")
    if args.keep_profiles:
        args.keep_profiles.mkdir(parents=True, exist_ok=True)
    if args.callgrind and shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found: apt-get install -y valgrind")
    tmp = Path(tempfile.mkdtemp(prefix="horde-ab-"))
    try:
        # Private copies, labelled by position: a rebuild meanwhile must not swap a binary.
        bins = []
        for i, b in enumerate(args.binaries):
            copy = tmp / f"bin{i}" / "horded"
            copy.parent.mkdir()
            shutil.copy2(b, copy)
            bins.append((f"{chr(ord('A') + i)} {b}", copy))
        started = time.time()
        states = {}
        for label, binary in bins:
            print(f"[ab] building the state with {label} ...", flush=True)
            states[label] = build_state(binary, args.preset, tmp / f"state-{label[0]}")
        results = {label: [] for label, _ in bins}
        for r in range(args.rounds):
            order = bins if r % 2 == 0 else list(reversed(bins))
            for label, binary in order:
                if args.callgrind:
                    keep_as = (args.keep_profiles / f"callgrind.{label[0]}.round{r + 1}.out"
                               if args.keep_profiles else None)
                    pops, io, writer = measure_instructions(binary, states[label], tmp / "run",
                                                            args.duration, args.connections,
                                                            keep_as)
                    results[label].append((io, writer))
                    print(f"round {r + 1}  {label:50s} {pops:6d} pops  I/O thread {io:7.1f} "
                          f"kIr/pop  writer {writer:6.1f} kIr/pop", flush=True)
                    continue
                row = measure(binary, states[label], tmp / "run", args.duration,
                              args.connections, args.think_ms)
                results[label].append(row)
                print(f"round {r + 1}  {label:50s} {row[0]:8.0f} pops/s  {row[1]:.3f} ms CPU/pop"
                      f"  p50 {row[2]:.2f} ms  p99 {row[3]:.2f} ms  {100 * row[4]:.0f} % got work",
                      flush=True)
        if time.time() - started > EXPIRY_S:
            print("[ab] warning: the rounds ended more than 20 minutes after the first state "
                  "was built; its requests had begun to expire")
        print()
        for label, rows in results.items():
            if args.callgrind:
                io = sum(x[0] for x in rows) / len(rows)
                writer = sum(x[1] for x in rows) / len(rows)
                print(f"mean  {label:50s} I/O thread {io:7.1f} kIr/pop  writer {writer:6.1f} "
                      f"kIr/pop  ({min(x[0] for x in rows):.1f}-{max(x[0] for x in rows):.1f})")
                continue
            rate = sum(x[0] for x in rows) / len(rows)
            cpu = sum(x[1] for x in rows) / len(rows)
            p50 = sum(x[2] for x in rows) / len(rows)
            p99 = sum(x[3] for x in rows) / len(rows)
            work = sum(x[4] for x in rows) / len(rows)
            print(f"mean  {label:50s} {rate:8.0f} pops/s  {cpu:.3f} ms CPU/pop  p50 {p50:.2f} ms"
                  f"  p99 {p99:.2f} ms  {100 * work:.0f} % got work  ({min(x[0] for x in rows):.0f}-"
                  f"{max(x[0] for x in rows):.0f} pops/s, p99 {min(x[3] for x in rows):.2f}-"
                  f"{max(x[3] for x in rows):.2f} ms)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
