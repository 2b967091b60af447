"""CPU per request of figure 2's path with the network out of the way: `POST /items`
(validation, a state write, one emit) and its event's run, through Motia's own HTTP
protocol and app in one process, on SQLite. `--path emit` measures figure 12b's path
instead: `POST /items` of `projects/peers` (no body schema, no state, one emit) and the
run of its trivial subscriber.

Each request goes through the real protocol (httptools parser, header limits, the lean
cycle), `MotiaApp` and a runtime on a fresh copy of `projects/api`; the transport is a
stand-in that takes the answer and sends the connection's next request, `--connections`
at a time. The figure is the process's CPU time from the first request until every event
has been handled, divided by the requests. Without sockets and wrk it moves less with the
machine's load than the figures over HTTP, which makes it the quick before/after check:

    PYTHONPATH=src .venv/bin/python bench/inprocess_cpu.py --compare-src /tmp/before/src

(`git archive <commit> src | tar -x -C /tmp/before` makes the other copy). Each run is a
child process pinned to the server CPU; the copies alternate, round by round.

`--instructions` counts instructions instead of seconds: each child runs under
`valgrind --tool=callgrind` twice, with `--requests` and with twice as many, and the
figure is the difference over `--requests` (start-up and the final drain cancel out).
Other work on the machine does not move the count, but the run's own timing still does
(how many requests share a commit, how many events a lease takes): runs of the same code
differ by a few percent. It weighs every instruction alike (a cache miss costs nothing in
it), so it complements the seconds. `--with otel` (every trace sampled,
exported to an OTLP/HTTP receiver in the harness process) and `--with metrics` measure
the same path with those on, next to `off`:

    PYTHONPATH=src .venv/bin/python bench/inprocess_cpu.py --instructions --requests 2000 \
        --with off,otel,metrics

`--profile FILE` runs one child of this copy under cProfile (CPU-time clock, requests
only) and keeps the stats for `python -m pstats FILE`. `--statements` runs one child of
this copy with every SQLite statement timed by the event loop thread's CPU clock and prints
the statements by their share of a request (`--with memory` next to `off` shows the whole
cost of the SQLite store, Python included).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fig_otel import otlp_receiver
from harness import API_PROJECT, POST_BODY, SERVER_CPU
from peer_motia import PEER_DIR, PEERS_PROJECT
from procs import pinned

# What `--with` switches on in the child, beside `off` (nothing).
MODES = {
    "off": {},
    "otel": {"OTEL_TRACES_SAMPLER": "always_on"},  # the endpoint is added per run
    "metrics": {"MOTIA_METRICS_ENABLED": "true"},
    # The same path on the in-memory state and queue: what SQLite costs is the difference.
    "memory": {"MOTIA_STATE_ADAPTER": "memory", "MOTIA_QUEUE_ADAPTER": "memory"},
    # On Redis (`$MOTIA_BENCH_REDIS_URL` or the local one), under a prefix of its own.
    "redis": {"MOTIA_REDIS_URL": os.environ.get("MOTIA_BENCH_REDIS_URL",
                                                "redis://127.0.0.1:6379/0")},
}


def _post(body: bytes) -> bytes:
    return (
        b"POST /items HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )


# Each path: the project, the request every connection sends, the answer's status line.
PATHS = {
    "items": (API_PROJECT, _post(POST_BODY), b"HTTP/1.1 201 "),
    "emit": (PEERS_PROJECT, _post(b"{}"), b"HTTP/1.1 202 "),
}


class _Transport(asyncio.Transport):
    """Takes each answer whole (the protocol writes one per request) and reports it."""

    def __init__(self, answered: Any, status: bytes) -> None:
        super().__init__()
        self._answered = answered
        self._status = status
        self._closed = False
        self.protocol: Any = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not bytes(data).startswith(self._status):
            raise RuntimeError(f"unexpected answer: {bytes(data)[:200]!r}")
        self._answered()

    def close(self) -> None:
        self._closed = True

    def is_closing(self) -> bool:
        return self._closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_protocol(self) -> Any:
        return self.protocol

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 3000)}.get(
            name, default
        )


class _TimedConnection:
    """A SQLite connection whose statements are timed (thread CPU clock), by their text."""

    def __init__(self, connection: Any, spent: dict[str, list[float]]) -> None:
        self._connection = connection
        self._spent = spent

    def execute(self, sql: str, params: Any = ()) -> Any:
        started = time.thread_time()
        try:
            return self._connection.execute(sql, params)
        finally:
            entry = self._spent.setdefault(sql, [0, 0.0])
            entry[0] += 1
            entry[1] += time.thread_time() - started

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def _print_statements(spent: dict[str, list[float]], requests: int) -> None:
    total = sum(seconds for _, seconds in spent.values())
    print(f"SQLite statements: {total / requests * 1e6:.1f} us per request", file=sys.stderr)
    for sql, (calls, seconds) in sorted(spent.items(), key=lambda item: -item[1][1])[:12]:
        text = " ".join(sql.split())[:80]
        print(f"{seconds / requests * 1e6:7.2f} us/request {calls:7d} calls "
              f"{seconds / calls * 1e6:7.2f} us/call  {text}", file=sys.stderr)


async def _measure(
    path: str, requests: int, connections: int, profile: str | None, statements: bool = False
) -> float:
    """One run in this process; returns CPU microseconds per request and its event."""
    from uvicorn.server import ServerState

    from motia.http.app import MotiaApp
    from motia.http.http_protocol import HeaderLimits, LimitedHttpProtocol, ServerConfig
    from motia.runtime.runtime import Runtime
    from motia.settings import load_settings

    source, request, status = PATHS[path]
    if path == "emit":  # the subscriber counts what it handles (bench/peers/tally.py)
        sys.path.insert(0, str(PEER_DIR))
        os.environ["MOTIA_BENCH_COUNT_DIR"] = tempfile.mkdtemp()
    project = Path(tempfile.mkdtemp()) / "project"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns(".motia"))
    runtime = Runtime.load(load_settings(project, "start", log_level="warn"))
    spent: dict[str, list[float]] = {}
    if statements:
        database = runtime.queue._db  # type: ignore[attr-defined]  # the SQLite store's
        database._conn = _TimedConnection(database._conn, spent)
    app = MotiaApp(runtime)
    await runtime.start()
    loop = asyncio.get_running_loop()
    config = ServerConfig(
        app,
        header_limits=HeaderLimits(),
        lifespan="off",
        log_level="critical",
        access_log=False,
        proxy_headers=False,
    )
    server_state = ServerState()
    to_send = requests
    answered = 0
    all_answered = loop.create_future()

    def connect() -> LimitedHttpProtocol:
        protocol = LimitedHttpProtocol(config, server_state, {}, loop)

        def on_answer() -> None:
            nonlocal to_send, answered
            answered += 1
            if to_send > 0:
                to_send -= 1
                loop.call_soon(protocol.data_received, request)
            elif answered == requests and not all_answered.done():
                all_answered.set_result(None)

        transport = _Transport(on_answer, status)
        transport.protocol = protocol
        protocol.connection_made(transport)
        return protocol

    profiler = cProfile.Profile(time.process_time) if profile else None
    started = time.process_time()
    if profiler:
        profiler.enable()
    for protocol in [connect() for _ in range(connections)]:
        to_send -= 1
        protocol.data_received(request)
    await all_answered
    # Asked every 10 ms: each answer reads the queue's counts (a query per subscriber, on
    # Redis a round trip), whose cost would otherwise weigh on the figure.
    while (await runtime.pending()).total:  # noqa: ASYNC110 - the count is asked, not heard
        await asyncio.sleep(0.01)
    used = time.process_time() - started
    if profiler and profile:
        profiler.disable()
        profiler.dump_stats(profile)
    if statements:
        _print_statements(spent, requests)
    await runtime.stop()
    shutil.rmtree(project.parent, ignore_errors=True)
    if os.environ.get("MOTIA_REDIS_PREFIX"):
        _delete_redis_keys(os.environ["MOTIA_REDIS_URL"], os.environ["MOTIA_REDIS_PREFIX"])
    return used / requests * 1e6


def _delete_redis_keys(url: str, prefix: str) -> None:
    """What a run on Redis left (the state it wrote) goes with it."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


def _child_env(src: Path, mode: dict[str, str], endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "MOTIA_"))}
    env["PYTHONPATH"] = f"{src.resolve()}{os.pathsep}{Path(__file__).parent}"
    env["PYTHONHASHSEED"] = "0"  # the same dict layouts in every run
    env.update(mode)
    if "MOTIA_REDIS_URL" in mode:
        env["MOTIA_REDIS_PREFIX"] = f"motia_bench_inprocess_{os.getpid()}_{time.time_ns()}"
    if "OTEL_TRACES_SAMPLER" in mode:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
    return env


def _child_argv(path: str, requests: int, connections: int) -> list[str]:
    return [sys.executable, __file__, "--child", "--path", path, "--requests", str(requests),
            "--connections", str(connections)]


def _run_child(src: Path, argv: list[str], env: dict[str, str]) -> float:
    argv = pinned(argv, SERVER_CPU)
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"run from {src} failed:\n{out.stderr[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def _instructions(path: str, requests: int, connections: int, env: dict[str, str]) -> int:
    """Instructions of one whole child run under callgrind (every thread)."""
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
            *_child_argv(path, requests, connections)]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=3600)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind run failed:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def _instructions_per_request(
    path: str, requests: int, connections: int, env: dict[str, str]
) -> float:
    once = _instructions(path, requests, connections, env)
    twice = _instructions(path, 2 * requests, connections, env)
    return (twice - once) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", choices=sorted(PATHS), default="items",
                        help="items: figure 2's path (default); emit: figure 12b's")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare-src", type=Path, default=None,
                        help="also run this copy of the package's source, alternating")
    parser.add_argument("--with", dest="modes", default="off",
                        help="comma-separated: off, otel, metrics (default off)")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions under callgrind instead of CPU seconds")
    parser.add_argument("--profile", type=Path, default=None,
                        help="one run of this copy under cProfile; stats to this file")
    parser.add_argument("--statements", action="store_true",
                        help="one run of this copy with each SQLite statement timed")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import uvloop

        profile = str(args.profile) if args.profile else None
        used = uvloop.run(
            _measure(args.path, args.requests, args.connections, profile, args.statements)
        )
        print(f"{used:.2f}")
        return
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        parser.error(f"--with: unknown {', '.join(unknown)} (known: {', '.join(MODES)})")
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind (Debian package valgrind)")
    here = Path(__file__).resolve().parent.parent / "src"
    child = _child_argv(args.path, args.requests, args.connections)
    if args.statements:
        env = _child_env(here, MODES["off"], "")
        argv = pinned([*child, "--statements"], SERVER_CPU)
        out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise SystemExit(f"the run failed:\n{out.stderr[-2000:]}")
        print(out.stderr.strip())
        print(f"{float(out.stdout.strip().splitlines()[-1]):,.1f} CPU us/request (statements "
              "timed: the clock calls add to it)")
        return
    if args.profile:
        env = _child_env(here, MODES[modes[0]], "")
        used = _run_child(here, [*child, "--profile", str(args.profile.resolve())], env)
        print(f"{used:,.1f} CPU us/request under cProfile; stats in {args.profile}")
        return
    sources = {"this": here, **({"compare": args.compare_src} if args.compare_src else {})}
    runs = [(f"{name}/{mode}", name, src, mode) for name, src in sources.items() for mode in modes]
    unit = "instructions/request" if args.instructions else "CPU us/request"
    results: dict[str, list[float]] = {label: [] for label, _, _, _ in runs}
    with otlp_receiver() as (endpoint, received):
        for round_no in range(1 if args.instructions else args.rounds):
            for label, _, src, mode in runs:
                env = _child_env(src, MODES[mode], endpoint)
                if args.instructions:
                    value = _instructions_per_request(
                        args.path, args.requests, args.connections, env)
                else:
                    value = _run_child(src, child, env)
                results[label].append(value)
                print(f"round {round_no + 1} {label:16s} {value:12,.1f} {unit}", flush=True)
    if "otel" in modes:
        print(f"the OTLP receiver took {received.posts} exports ({received.bytes:,} bytes)")
    for label, name, src, _ in runs:
        values = results[label]
        base = statistics.median(results[f"{name}/{modes[0]}"])
        print(f"{label:16s} median {statistics.median(values):12,.1f} {unit} "
              f"({statistics.median(values) / base:.3f}x of {modes[0]}; "
              f"min {min(values):,.1f}, max {max(values):,.1f}; {src})")


if __name__ == "__main__":
    main()
