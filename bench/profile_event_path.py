"""Per-event CPU of Motia's one-event-per-HTTP-request path, by phase.

    /work/main/.venv/bin/python bench/profile_event_path.py            # about 40 s
    /work/main/.venv/bin/python bench/profile_event_path.py --seconds 10 --connections 16

`motia start` serves figure 2's `POST /items` (`projects/api`: body validation, a state
write into SQLite, one emit to a trivial subscriber on the SQLite queue) pinned to CPU 0;
wrk loads it from CPU 1. Two passes on fresh servers:

1. plain: the server's CPU time (utime + stime of /proc/PID/stat, every thread) over the
   measured wrk run and the drain of its events, divided by the events handled: the figure
   without any profiler overhead;
2. profiled: the same run with cProfile on (CPU-time clock), switched on and off by
   signals around the measured window. Each function's self time goes to a phase by where
   it lives; time of C functions (SQLite calls, JSON, the event loop's builtins) and of
   shared plumbing (the SQLite transaction runner) goes to the phases of its callers, in
   proportion to what each caller spent in it.

The phase shares of pass 2 are applied to pass 1's CPU per event. cProfile slows Python
calls more than C code, so the shares are approximate; the top functions are printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import re
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import API_PROJECT, POST_LUA, http_request, wait_for_200
from procs import free_port, kill, kill_all, pinned, spawn
from wrk import ensure_wrk, run_wrk

Func = tuple[str, int, str]

# (phase, path pattern, function-name pattern); the first match wins.
RULES: tuple[tuple[str, str, str], ...] = (
    ("handler (step code)", r"/bench/projects/", r""),
    ("commit", r"^~$", r"commit"),
    ("commit", r"motia/adapters/sqlite/database\.py$", r"^_commit$|^_settle$"),
    ("validation", r"jsonschema|fastjsonschema|referencing|rpds|motia/steps/schema\.py|"
                   r"motia/http/json_depth\.py|typed_bodies", r""),
    ("validation", r"", r"validat"),
    ("trace creation", r"motia/clock\.py|motia/tracecontext\.py|motia/http/traceparent\.py",
     r""),
    ("state write", r"motia/adapters/state/|motia/adapters/sqlite/state\.py", r""),
    ("lease", r"motia/adapters/|motia/runtime/worker\.py", r"lease"),
    ("completion", r"motia/adapters/|motia/runtime/worker\.py",
     r"^complete$|^handled$|^_settled$|^_undone$"),
    ("outbox/queue write", r"motia/adapters/sqlite/queue\.py|motia/adapters/queue/|"
                           r"motia/runtime/bus\.py|motia/runtime/pending\.py|"
                           r"motia/runtime/events\.py", r""),
    ("observability writes", r"motia/adapters/observability|motia/adapters/sqlite/"
                             r"observability\.py|motia/runtime/recorder\.py|motia/logs\.py|"
                             r"motia/runtime/metrics\.py|motia/runtime/otel|logging/", r""),
    ("observability writes", r"motia/runtime/(executor|context|worker)\.py|motia/http/",
     r"span|record|_log|metric"),
    ("handler invocation", r"motia/runtime/(context|dispatch|invocation|executor|handler_tasks|"
                           r"hooks|sync_pool)\.py", r""),
    ("worker wake-up and scheduling", r"motia/runtime/worker\.py|asyncio/|uvloop|selectors",
     r""),
    ("HTTP parse and answer", r"uvicorn/|httptools|h11|starlette/|motia/http/|"
                              r"motia/jsoncodec\.py|json/", r""),
)
# Plumbing whose self time belongs to whoever called it.
PASS_THROUGH = re.compile(r"^~$|motia/adapters/sqlite/database\.py$|functools|contextlib|"
                          r"typing|abc\.py|enum\.py|dataclasses")


def classify(func: Func) -> str | None:
    path, _line, name = func
    for phase, path_pattern, name_pattern in RULES:
        if re.search(path_pattern, path) and re.search(name_pattern, name):
            return phase
    return None


def phases(stats: dict[Func, Any]) -> dict[str, float]:
    """Self time of every function, assigned to a phase (see the module docstring)."""
    totals: dict[str, float] = {}

    def assign(func: Func, amount: float, depth: int) -> None:
        phase = classify(func)
        if phase is None or (PASS_THROUGH.search(func[0]) and phase != "commit"):
            callers = stats.get(func, (0, 0, 0.0, 0.0, {}))[4]
            weights = {c: float(v[3]) for c, v in callers.items()}
            total = sum(weights.values())
            if depth < 6 and total > 0:
                for caller, weight in weights.items():
                    assign(caller, amount * weight / total, depth + 1)
                return
            if phase is None:
                phase = ("SQLite engine (unattributed)" if "sqlite" in func[0] or
                         "sqlite3" in func[2] else "other")
        totals[phase] = totals.get(phase, 0.0) + amount

    for func, (_cc, _nc, tottime, _ct, _callers) in stats.items():
        if tottime > 0:
            assign(func, float(tottime), 0)
    return totals


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def events_handled(port: int) -> int:
    status, body = http_request(port, "GET", "/bench/stats")
    if status != 200:
        raise RuntimeError(f"GET /bench/stats answered {status}")
    return int(json.loads(body)["itemCreatedEvents"])


def settle(port: int, quiet: float = 0.5, timeout: float = 60.0) -> int:
    """The event count once it stops moving (the backlog of the run is drained)."""
    start = last_change = time.perf_counter()
    last = events_handled(port)
    while time.perf_counter() - start < timeout:
        time.sleep(0.05)
        now = events_handled(port)
        if now != last:
            last, last_change = now, time.perf_counter()
        elif time.perf_counter() - last_change >= quiet:
            break
    return last


def one_pass(wrk: str, args: argparse.Namespace, workdir: Path, profile: Path | None
             ) -> dict[str, Any]:
    port = free_port()
    env = dict(os.environ, MOTIA_DATA_DIR=str(workdir / f"data-{'p' if profile else 'c'}"))
    for name in ("MOTIA_STATE_ADAPTER", "MOTIA_REDIS_URL", "MOTIA_QUEUE_ADAPTER", "LOG_LEVEL",
                 "MOTIA_LOG_LEVEL"):
        env.pop(name, None)
    argv = [sys.executable, str(Path(__file__).resolve()), "--serve", "--port", str(port)]
    if profile is not None:
        argv += ["--stats", str(profile)]
    proc = spawn(pinned(argv, "0"), env=env, log=workdir / "server.log", cwd=API_PROJECT)
    try:
        wait_for_200(proc, port, "/hello", timeout=60.0, poll=0.05)
        url = f"http://127.0.0.1:{port}/items"
        run_wrk(wrk, url, args.warmup, args.connections, POST_LUA)
        before = settle(port)
        cpu_before = cpu_seconds(proc.pid)
        if profile is not None:
            os.kill(proc.pid, signal.SIGUSR1)
        load = run_wrk(wrk, url, args.seconds, args.connections, POST_LUA)
        after = settle(port)
        cpu = cpu_seconds(proc.pid) - cpu_before
        if profile is not None:
            os.kill(proc.pid, signal.SIGUSR2)
            deadline = time.monotonic() + 60.0
            while not (profile.exists() and profile.with_suffix(".done").exists()):
                if time.monotonic() > deadline:
                    raise RuntimeError("the server wrote no profile within 60 s")
                time.sleep(0.1)
    finally:
        kill(proc)
    events = after - before
    if events <= 0:
        raise RuntimeError("no event was handled during the measured run")
    return {"events": events, "cpu_s": cpu, "rps": load.rps,
            "cpu_us_per_event": cpu / events * 1e6}


def serve(port: int, stats_path: Path | None) -> None:
    """`motia start` in this process; SIGUSR1 starts cProfile, SIGUSR2 stops it and writes
    the stats (then a `.done` marker)."""
    import cProfile

    from motia.cli.main import main as motia_main

    profiler = cProfile.Profile(time.process_time)

    def start(_signum: int, _frame: object) -> None:
        profiler.enable()

    def stop(_signum: int, _frame: object) -> None:
        profiler.disable()
        if stats_path is not None:
            profiler.dump_stats(str(stats_path))
            stats_path.with_suffix(".done").touch()

    if stats_path is not None:
        signal.signal(signal.SIGUSR1, start)
        signal.signal(signal.SIGUSR2, stop)
    sys.argv = ["motia", "start", "--dir", str(API_PROJECT), "--port", str(port), "--host",
                "127.0.0.1"]
    motia_main()


def report(plain: dict[str, Any], stats_file: Path, top: int) -> None:
    stats = pstats.Stats(str(stats_file))
    raw: dict[Func, Any] = stats.stats  # type: ignore[attr-defined]
    shares = phases(raw)
    total = sum(shares.values())
    per_event = plain["cpu_us_per_event"]
    print(f"\nPOST /items (validate + state + 1 emit) and its event: "
          f"{per_event:.0f} us of CPU per event ({plain['events']} events, "
          f"{plain['cpu_s']:.2f} s CPU, {plain['rps']:.0f} req/s; no profiler)\n")
    print("| Phase | us/event | share |\n|---|---|---|")
    for phase, seconds in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"| {phase} | {per_event * seconds / total:.1f} | {seconds / total:.1%} |")
    print(f"\nTop {top} functions by self time (profiled pass):\n")
    print("| Function | self share | phase |\n|---|---|---|")
    for func, row in sorted(raw.items(), key=lambda kv: -kv[1][2])[:top]:
        path, line, name = func
        where = name if path == "~" else f"{_short(path)}:{line} {name}"
        print(f"| `{where}` | {row[2] / total:.1%} | {classify(func) or '(callers)'} |")


def _short(path: str) -> str:
    for marker in ("site-packages/", "/src/", "/lib/python"):
        if marker in path:
            return path.split(marker, 1)[1]
    return Path(path).name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured wrk run (10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="wrk warm-up (3)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--top", type=int, default=15, help="functions listed (15)")
    parser.add_argument("--save", type=Path, default=None,
                        help="also keep the profiled pass's cProfile stats here (for pstats)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--stats", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.stats)
        return 0
    wrk = ensure_wrk()
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {1})
    try:
        with tempfile.TemporaryDirectory(prefix="motia-profile-") as tmp:
            workdir = Path(tmp)
            plain = one_pass(wrk, args, workdir, None)
            stats_file = workdir / "events.prof"
            profiled = one_pass(wrk, args, workdir, stats_file)
            print(f"profiled pass: {profiled['cpu_us_per_event']:.0f} us of CPU per event "
                  f"under cProfile ({profiled['rps']:.0f} req/s)")
            report(plain, stats_file, args.top)
            if args.save is not None:
                args.save.write_bytes(stats_file.read_bytes())
                print(f"\ncProfile stats written to {args.save}")
    finally:
        kill_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
