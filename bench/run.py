"""Benchmark harness for Motia for Python: one command, figures and ratios against baselines
measured in the same run.

    /work/main/.venv/bin/python bench/run.py            # full run (about 5 minutes)
    /work/main/.venv/bin/python bench/run.py --quick    # shorter run (about 1 minute)
    /work/main/.venv/bin/python bench/run.py --json results.json

Figures (see bench/README.md for what each one means):
  1. GET req/s of a trivial API step under `motia start` vs bare Starlette (and raw ASGI)
  2. POST req/s of a validating, state-writing, emitting step vs a Starlette JSON echo
  3. in-process event hop latency p50/p99 (publish -> subscriber handler start)
  4. cold start of a 20-step project: spawn of `motia start` -> first HTTP 200 (median of 5)
  5. idle RSS of `motia start` on examples/resources vs the bare Starlette app
  6. durable events: events/s through a trivial subscriber and hop latency p50/p99 with the
     SQLite queue (the default), each against the memory queue measured in the same run
  7. Redis scale-out: events/s and POST req/s with `motia start --workers 2` against one
     worker process, both on Redis (ratios from one run), and hop latency through Redis
  8. a separate script, bench/runners.py: JavaScript, TypeScript and Ruby event steps in their
     runner processes vs a Python step, publish -> handler start p50/p99 and invocations/s

Servers are pinned to CPU 0 and wrk (and this harness) to CPU 1 when `taskset` exists and
the machine has two or more cores. Everything binds to 127.0.0.1; every child process is
killed on exit, and every load run is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV_BIN = Path(sys.executable).parent
API_PROJECT = BENCH / "projects" / "api"
HOP_PROJECT = BENCH / "projects" / "hop"
EVENTS_PROJECT = BENCH / "projects" / "events"
REDIS_PROJECT = BENCH / "projects" / "redis"
EXAMPLE_PROJECT = REPO / "examples" / "resources"
BASELINE_DIR = BENCH / "baseline"
POST_LUA = BENCH / "post.lua"
HOST = "127.0.0.1"
POST_BODY = b'{"name":"widget","kind":"document","quantity":3}'

SERVER_CPU = "0"
CLIENT_CPU = "1"
ALL_CPUS = f"0-{(os.cpu_count() or 1) - 1}"  # figure 7: the workers may use every core
DEFAULT_REDIS_URL = os.environ.get("MOTIA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

# --------------------------------------------------------------------------------------
# Child processes: one registry, killed on every way out.
# --------------------------------------------------------------------------------------

_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _kill(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """Stop one child (and its process group, which it leads): SIGTERM, then SIGKILL."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=grace)
    _CHILDREN.pop(proc.pid, None)


def _kill_all() -> None:
    for proc in list(_CHILDREN.values()):
        with contextlib.suppress(Exception):
            _kill(proc, grace=2.0)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    _kill_all()
    raise SystemExit(128 + signum)


def spawn(argv: Sequence[str], *, env: dict[str, str] | None = None, log: Path | None = None,
          cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a child in its own session (so it and anything it starts can be killed together)."""
    out = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    finally:
        if log is not None and not isinstance(out, int):
            out.close()
    _CHILDREN[proc.pid] = proc
    return proc


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def can_pin() -> bool:
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pinned(argv: Sequence[str], cpu: str) -> list[str]:
    return ["taskset", "-c", cpu, *argv] if can_pin() else list(argv)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def http_request(port: int, method: str, path: str, body: bytes | None = None,
                 timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_for_200(proc: subprocess.Popen[bytes], port: int, path: str, timeout: float,
                 poll: float = 0.002) -> float:
    """Poll `GET path` until it answers 200; returns the perf_counter of that answer."""
    deadline = time.perf_counter() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before answering {path}")
        try:
            status, _ = http_request(port, "GET", path, timeout=1.0)
            if status == 200:
                return time.perf_counter()
        except (ConnectionError, OSError, http.client.HTTPException):
            pass
        if time.perf_counter() > deadline:
            raise TimeoutError(f"no HTTP 200 from {path} within {timeout:g} s")
        time.sleep(poll)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def motia_env(data_dir: Path) -> dict[str, str]:
    """The environment for `motia start`: SQLite state in a temporary folder (the projects
    under bench/ and examples/ stay untouched)."""
    env = dict(os.environ)
    env["MOTIA_DATA_DIR"] = str(data_dir)
    env.pop("MOTIA_STATE_ADAPTER", None)
    env.pop("LOG_LEVEL", None)
    env.pop("MOTIA_LOG_LEVEL", None)
    return env


def motia_argv(project: Path, port: int | str) -> list[str]:
    return [str(VENV_BIN / "motia"), "start", "--dir", str(project), "--port", str(port),
            "--host", HOST]


def uvicorn_argv(module: str, port: int | str) -> list[str]:
    return [sys.executable, "-m", "uvicorn", f"{module}:app", "--app-dir", str(BASELINE_DIR),
            "--host", HOST, "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--workers", "1", "--no-access-log", "--log-level", "warning"]


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"


@contextlib.contextmanager
def servers(specs: Sequence[tuple[str, list[str], dict[str, str] | None, str]],
            workdir: Path, cpu: str = SERVER_CPU) -> Iterator[dict[str, Server]]:
    """Start every (name, argv-without-port-placeholder, env, ready path) on a free port, pinned
    to `cpu` (the server CPU); yields them once each answers 200 on its ready path; always
    kills them."""
    started: dict[str, Server] = {}
    try:
        for name, argv, env, _ready in specs:
            port = free_port()
            log = workdir / f"{name}.log"
            full = pinned([a.replace("{port}", str(port)) for a in argv], cpu)
            proc = spawn(full, env=env, log=log, cwd=REPO)
            started[name] = Server(name, proc, port, log)
        for name, _argv, _env, ready in specs:
            server = started[name]
            try:
                wait_for_200(server.proc, server.port, ready, timeout=30.0, poll=0.05)
            except Exception as exc:
                tail = server.log.read_text(errors="replace")[-2000:] if server.log.exists() else ""
                raise RuntimeError(f"{name} did not start: {exc}\n{tail}") from exc
        yield started
    finally:
        for server in started.values():
            _kill(server.proc)


# --------------------------------------------------------------------------------------
# wrk
# --------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit(
            "bench: `wrk` is not installed and this is not root, so it cannot be installed "
            "here. Install it with `sudo apt-get install -y wrk` (Debian package `wrk`) and "
            "run again."
        )
    print("bench: installing wrk with apt-get ...", flush=True)
    install = ["apt-get", "install", "-y", "wrk"]
    result = subprocess.run(install, capture_output=True, timeout=600, check=False)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, timeout=600, check=False)
        result = subprocess.run(install, capture_output=True, timeout=600, check=False)
    found = shutil.which("wrk")
    if result.returncode != 0 or not found:
        raise SystemExit(
            "bench: `apt-get install -y wrk` failed:\n"
            + result.stderr.decode(errors="replace")[-2000:]
        )
    return found


@dataclass
class WrkResult:
    rps: float
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float | None
    p99_ms: float | None


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _latency_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"cannot read wrk latency {text!r}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s*([\d.]+)", output)
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if rps is None or total is None:
        raise RuntimeError(f"cannot read wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    p50 = re.search(r"^\s*50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+(\S+)", output, re.MULTILINE)
    return WrkResult(
        rps=float(rps.group(1)),
        requests=int(total.group(1)),
        seconds=_latency_ms(total.group(2) + total.group(3)) / 1000,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
        p50_ms=_latency_ms(p50.group(1)) if p50 else None,
        p99_ms=_latency_ms(p99.group(1)) if p99 else None,
    )


def run_wrk(wrk: str, url: str, seconds: float, connections: int,
            script: Path | None = None, cpu: str = CLIENT_CPU) -> WrkResult:
    duration = max(1, round(seconds))
    argv = [wrk, "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "5s", "--latency"]
    if script is not None:
        argv += ["-s", str(script)]
    argv.append(url)
    proc = subprocess.Popen(pinned(argv, cpu), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    _CHILDREN[proc.pid] = proc
    try:
        out, _ = proc.communicate(timeout=duration + 30)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"wrk against {url} did not finish within {duration + 30} s") from exc
    finally:
        _kill(proc)
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"wrk exited with {proc.returncode}:\n{text}")
    return parse_wrk(text)


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


@dataclass
class Figure:
    key: str
    label: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    ratio: float | None = None
    target: str = ""
    aim: str = ""
    status: str = ""  # PASS, AIM (target and aim met), FAIL, or "" for reference figures
    details: dict[str, Any] = field(default_factory=dict)


def judge(value: float, target: float, aim: float | None, higher_is_better: bool) -> str:
    def ok(limit: float) -> bool:
        return value >= limit if higher_is_better else value <= limit

    if not ok(target):
        return "FAIL"
    return "AIM" if aim is not None and ok(aim) else "PASS"


@dataclass
class Options:
    duration: float
    warmup: float
    rounds: int
    connections: int
    hop_count: int
    cold_runs: int
    events_count: int
    events_chunk: int
    events_rounds: int
    only: set[int]
    redis_url: str = DEFAULT_REDIS_URL


def measure_load(wrk: str, targets: dict[str, Server], path: str, opts: Options,
                 script: Path | None = None,
                 warm: dict[str, WrkResult] | None = None,
                 cpu: str = CLIENT_CPU) -> dict[str, list[WrkResult]]:
    """Warm every target up, then measure them in interleaved rounds (so slow drift of the
    machine spreads over all of them instead of hitting one)."""
    for name, server in targets.items():
        print(f"  warm-up {name} {path} ({opts.warmup:g} s)", flush=True)
        result = run_wrk(wrk, server.url(path), opts.warmup, opts.connections, script, cpu)
        if warm is not None:
            warm[name] = result
    results: dict[str, list[WrkResult]] = {name: [] for name in targets}
    for round_no in range(opts.rounds):
        for name, server in targets.items():
            time.sleep(0.5)
            result = run_wrk(wrk, server.url(path), opts.duration, opts.connections, script, cpu)
            results[name].append(result)
            print(f"  round {round_no + 1}/{opts.rounds} {name:10s} {path:7s} "
                  f"{result.rps:10.0f} req/s  p50 {result.p50_ms or 0:.2f} ms  "
                  f"p99 {result.p99_ms or 0:.2f} ms  non-2xx {result.non_2xx}  "
                  f"socket errors {result.socket_errors}", flush=True)
    return results


def median_rps(results: list[WrkResult]) -> float:
    return statistics.median(r.rps for r in results)


def load_details(results: list[WrkResult]) -> dict[str, Any]:
    return {
        "runs_rps": [round(r.rps, 1) for r in results],
        "p50_ms": statistics.median(r.p50_ms or 0.0 for r in results),
        "p99_ms": statistics.median(r.p99_ms or 0.0 for r in results),
        "non_2xx": sum(r.non_2xx for r in results),
        "socket_errors": sum(r.socket_errors for r in results),
    }


def bench_http(wrk: str, opts: Options, workdir: Path) -> list[Figure]:
    """Figures 1 and 2: all servers up at once on CPU 0, measured one at a time by wrk."""
    data_dir = workdir / "api-data"
    specs: list[tuple[str, list[str], dict[str, str] | None, str]] = [
        ("motia", motia_argv(API_PROJECT, "{port}"), motia_env(data_dir), "/hello"),
        ("starlette", uvicorn_argv("starlette_app", "{port}"), None, "/hello"),
        ("raw-asgi", uvicorn_argv("raw_asgi_app", "{port}"), None, "/hello"),
    ]
    figures: list[Figure] = []
    with servers(specs, workdir) as running:
        for name, server in running.items():
            status, body = http_request(server.port, "POST", "/items", POST_BODY)
            if status != 201:
                raise RuntimeError(f"{name} POST /items answered {status}: {body[:200]!r}")
        if 1 in opts.only:
            print("[1] trivial GET", flush=True)
            get = measure_load(wrk, running, "/hello", opts)
            motia, starlette, raw = (median_rps(get[n]) for n in ("motia", "starlette", "raw-asgi"))
            figures.append(Figure(
                "get_rps", "1. GET trivial step req/s", motia, "req/s", starlette,
                "Starlette", motia / starlette, ">= 0.7x", ">= 1.0x",
                judge(motia / starlette, 0.7, 1.0, True),
                {"round_ratios": _round_ratios(get["motia"], get["starlette"]),
                 "motia": load_details(get["motia"]),
                 "starlette": load_details(get["starlette"]),
                 "raw_asgi": load_details(get["raw-asgi"])},
            ))
            figures.append(Figure(
                "get_rps_vs_raw_asgi", "1b. GET trivial step vs raw ASGI", motia, "req/s", raw,
                "raw ASGI", motia / raw, "reference", "",
            ))
        if 2 in opts.only:
            print("[2] POST validate + state + emit", flush=True)
            before = _event_count(running["motia"].port)
            warm: dict[str, WrkResult] = {}
            post = measure_load(wrk, running, "/items", opts, POST_LUA, warm)
            motia_post = post["motia"]
            answered = sum(r.requests - r.non_2xx for r in [warm["motia"], *motia_post])
            at_end = _event_count(running["motia"].port)
            drained, drain_s = _wait_events(running["motia"].port, at_end)
            motia, starlette, raw = (
                median_rps(post[n]) for n in ("motia", "starlette", "raw-asgi")
            )
            details = {
                "round_ratios": _round_ratios(motia_post, post["starlette"]),
                "motia": load_details(motia_post),
                "starlette": load_details(post["starlette"]),
                "raw_asgi": load_details(post["raw-asgi"]),
                "events_delivered_during_load": at_end - before,
                "events_delivered_total": drained - before,
                "post_201_seen_by_wrk": answered,
                "event_backlog_drain_s": round(drain_s, 3),
                "db_bytes": _dir_bytes(data_dir),
            }
            if drained - before < answered:
                print(f"  warning: only {drained - before} events reached the subscriber for "
                      f"{answered} answered POSTs", flush=True)
            figures.append(Figure(
                "post_rps", "2. POST validate+state+emit req/s", motia, "req/s", starlette,
                "Starlette echo", motia / starlette, ">= 0.4x", ">= 0.6x",
                judge(motia / starlette, 0.4, 0.6, True), details,
            ))
            figures.append(Figure(
                "post_rps_vs_raw_asgi", "2b. POST step vs raw ASGI echo", motia, "req/s", raw,
                "raw ASGI echo", motia / raw, "reference", "",
            ))
    return figures


def _round_ratios(motia: list[WrkResult], baseline: list[WrkResult]) -> list[float]:
    """motia/baseline per interleaved round: a view of the noise behind the median ratio."""
    return [round(m.rps / b.rps, 3) for m, b in zip(motia, baseline, strict=True)]


def _event_count(port: int) -> int:
    status, body = http_request(port, "GET", "/bench/stats")
    if status != 200:
        raise RuntimeError(f"GET /bench/stats answered {status}")
    return int(json.loads(body)["itemCreatedEvents"])


def _wait_events(port: int, seen: int, timeout: float = 30.0) -> tuple[int, float]:
    """Wait until the subscriber stops receiving (the backlog of figure 2 is drained)."""
    start = time.perf_counter()
    last = seen
    last_change = start
    while time.perf_counter() - start < timeout:
        time.sleep(0.1)
        now = _event_count(port)
        if now != last:
            last, last_change = now, time.perf_counter()
        elif time.perf_counter() - last_change >= 0.5:
            break
    return last, last_change - start


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


# ---- figure 3: in-process event hop ----------------------------------------------------


def _find_step_module(project: Path, filename: str) -> ModuleType:
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve() == (project / "steps" / filename).resolve():
            return module
    raise RuntimeError(f"step module {filename} was not imported by the runtime")


def _load_runtime(project: Path, queue_adapter: str, data_dir: Path | None,
                  devnull: Any, redis_url: str | None = None,
                  redis_prefix: str | None = None) -> Any:
    """A Runtime for `project` in start mode: memory state, the given queue adapter, the
    SQLite file (if any) under `data_dir`, the Redis server (if the queue is on Redis) at
    `redis_url` under `redis_prefix`; no environment variables are read."""
    from motia.logs import LogSink
    from motia.runtime.runtime import Runtime
    from motia.settings import load_settings

    flags: dict[str, Any] = {"state_adapter": "memory", "queue_adapter": queue_adapter}
    if data_dir is not None:
        flags["data_dir"] = data_dir.resolve()
    if queue_adapter == "redis":
        if not redis_url or not redis_prefix:
            raise RuntimeError("the redis queue needs a Redis URL and a key prefix")
        flags.update(redis_url=redis_url, redis_prefix=redis_prefix)
    settings = load_settings(project, "start", environ={}, **flags)
    if queue_adapter == "sqlite" and data_dir is None:
        raise RuntimeError("the sqlite queue needs a temporary data dir")
    return Runtime.load(settings, sink=LogSink(settings.log_level, settings.log_format,
                                               stream=devnull))


async def _hop_async(count: int, warmup: int, queue_adapter: str = "memory",
                     data_dir: Path | None = None, redis_url: str | None = None,
                     redis_prefix: str | None = None) -> dict[str, Any]:
    from motia.clock import new_trace_id
    from motia.runtime.events import Event

    with open(os.devnull, "w") as devnull:  # noqa: ASYNC230 - before the loop does any work
        runtime = _load_runtime(HOP_PROJECT, queue_adapter, data_dir, devnull, redis_url,
                                redis_prefix)
        await runtime.start()
        try:
            hop_module = _find_step_module(HOP_PROJECT, "hop_step.py")
            arrivals: list[tuple[int, float]] = hop_module.ARRIVALS
            arrivals.clear()
            latencies: list[float] = []
            for seq in range(warmup + count):
                event = Event(topic="bench.hop", data={"seq": seq}, trace_id=new_trace_id(),
                              flows=["bench"])
                expected = len(arrivals) + 1
                sent = time.perf_counter()
                await runtime.bus.publish([event])
                deadline = sent + 2.0
                while len(arrivals) < expected:
                    await asyncio.sleep(0)
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"event {seq} did not reach its handler within 2 s")
                got, arrived = arrivals[-1]
                if got != seq:
                    raise RuntimeError(f"expected event {seq}, the handler saw {got}")
                if seq >= warmup:
                    latencies.append((arrived - sent) * 1000)
        finally:
            await runtime.stop()
    latencies.sort()
    return {
        "queue": queue_adapter,
        "count": len(latencies),
        "p50_ms": _percentile(latencies, 50),
        "p90_ms": _percentile(latencies, 90),
        "p99_ms": _percentile(latencies, 99),
        "max_ms": latencies[-1],
        "mean_ms": statistics.fmean(latencies),
    }


def _percentile(ordered: list[float], pct: float) -> float:
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _run_in_loop(coro: Any) -> dict[str, Any]:
    """Run a measuring coroutine on uvloop (as `motia start` does) when it is installed."""
    try:
        import uvloop

        loop_name = "uvloop"
        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        loop_name = "asyncio"
        runner = asyncio.Runner()
    with runner:
        result: dict[str, Any] = runner.run(coro)
    result["loop"] = loop_name
    return result


def hop_worker(count: int, queue_adapter: str = "memory", data_dir: Path | None = None,
               redis_url: str | None = None, redis_prefix: str | None = None) -> None:
    """Runs in a child process (pinned to the server CPU) so the project's modules and the
    event loop are not shared with the harness; prints one JSON line."""
    result = _run_in_loop(_hop_async(count, warmup=min(500, count // 5 + 1),
                                     queue_adapter=queue_adapter, data_dir=data_dir,
                                     redis_url=redis_url, redis_prefix=redis_prefix))
    print(json.dumps(result))


def run_worker(mode_args: list[str], what: str, timeout: float = 120.0) -> dict[str, Any]:
    """Run this script as a measuring child pinned to the server CPU; returns its JSON line."""
    argv = pinned([sys.executable, str(Path(__file__).resolve()), *mode_args], SERVER_CPU)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO)
    _CHILDREN[proc.pid] = proc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{what} did not finish within {timeout:g} s") from exc
    finally:
        _kill(proc)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def bench_hop(opts: Options) -> list[Figure]:
    print(f"[3] in-process event hop ({opts.hop_count} sequential publishes)", flush=True)
    result = run_worker(["--hop-worker", "--hop-count", str(opts.hop_count),
                         "--queue", "memory"], "hop worker")
    print(f"  p50 {result['p50_ms']:.3f} ms  p99 {result['p99_ms']:.3f} ms  "
          f"(loop {result['loop']})", flush=True)
    return [
        Figure("hop_p50_ms", "3. event hop p50", result["p50_ms"], "ms", None, "", None,
               "<= 0.5 ms", "", judge(result["p50_ms"], 0.5, None, False), result),
        Figure("hop_p99_ms", "3. event hop p99", result["p99_ms"], "ms", None, "", None,
               "reference", ""),
    ]


# ---- figure 4: cold start ----------------------------------------------------------------


def write_cold_project(root: Path) -> None:
    """20 steps: 8 API (4 GET, 4 POST with body schemas), 8 event (a chain, with input
    schemas), 4 cron, plus a shared helper module."""
    files: dict[str, str] = {
        "config.yml": "state:\n  adapter: sqlite\n",
        "steps/lib/__init__.py": "",
        "steps/lib/helpers.py": """
            def describe(item):
                return f"{item.get('name', '?')} x{item.get('quantity', 1)}"
        """,
    }
    for i in range(8):
        if i < 4:
            files[f"steps/api/get_{i}_step.py"] = f"""
                from ..lib.helpers import describe

                config = {{
                    "type": "api", "name": "Get{i}", "method": "GET", "path": "/cold/api{i}",
                    "emits": [], "flows": ["cold"],
                }}

                async def handler(req, ctx):
                    return {{"status": 200, "body": {{"step": {i}, "d": describe({{}})}}}}
            """
        else:
            files[f"steps/api/post_{i}_step.py"] = f"""
                config = {{
                    "type": "api", "name": "Post{i}", "method": "POST", "path": "/cold/api{i}",
                    "bodySchema": {{
                        "type": "object",
                        "properties": {{"name": {{"type": "string"}},
                                        "quantity": {{"type": "integer", "minimum": 1}}}},
                        "required": ["name"],
                    }},
                    "emits": ["cold.e0"], "flows": ["cold"],
                }}

                async def handler(req, ctx):
                    await ctx.state.set("cold", ctx.trace_id, req["body"])
                    await ctx.emit({{"topic": "cold.e0", "data": req["body"]}})
                    return {{"status": 201, "body": {{"ok": True}}}}
            """
        nxt = f'["cold.e{i + 1}"]' if i < 7 else "[]"
        emit = f'await ctx.emit({{"topic": "cold.e{i + 1}", "data": data}})' if i < 7 else "pass"
        files[f"steps/events/e{i}_step.py"] = f"""
            config = {{
                "type": "event", "name": "Event{i}", "subscribes": ["cold.e{i}"],
                "emits": {nxt},
                "input": {{"type": "object", "properties": {{"name": {{"type": "string"}}}}}},
                "flows": ["cold"],
            }}

            async def handler(data, ctx):
                ctx.logger.info("event {i}", {{"name": data.get("name")}})
                {emit}
        """
    for i in range(4):
        files[f"steps/cron/c{i}_step.py"] = f"""
            config = {{
                "type": "cron", "name": "Cron{i}", "cron": "*/{i + 5} * * * *",
                "emits": [], "flows": ["cold"],
            }}

            async def handler(ctx):
                ctx.logger.info("cron {i}")
        """
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip())


def _time_to_200(argv: list[str], env: dict[str, str] | None, port: int, path: str,
                 log: Path) -> float:
    started = time.perf_counter()
    proc = spawn(pinned(argv, SERVER_CPU), env=env, log=log, cwd=REPO)
    try:
        answered = wait_for_200(proc, port, path, timeout=30.0)
    except Exception as exc:
        raise RuntimeError(f"cold start failed: {exc}\n{log.read_text()[-2000:]}") from exc
    finally:
        _kill(proc)
    return answered - started


def bench_cold_start(opts: Options, workdir: Path) -> list[Figure]:
    """Spawn -> first HTTP 200, the 20-step project under `motia start` interleaved with the
    bare Starlette app under uvicorn (the floor: interpreter, uvicorn and Starlette imports)."""
    print(f"[4] cold start of a 20-step project ({opts.cold_runs} runs each)", flush=True)
    project = workdir / "cold"
    write_cold_project(project)
    step_files = len(list(project.rglob("*_step.py")))
    motia_times: list[float] = []
    star_times: list[float] = []
    for run in range(opts.cold_runs):
        port = free_port()
        motia_times.append(_time_to_200(
            motia_argv(project, port), motia_env(workdir / f"cold-data-{run}"), port,
            "/cold/api0", workdir / f"cold-{run}.log",
        ))
        port = free_port()
        star_times.append(_time_to_200(
            uvicorn_argv("starlette_app", port), None, port, "/hello",
            workdir / f"cold-starlette-{run}.log",
        ))
        print(f"  run {run + 1}: motia {motia_times[-1] * 1000:.0f} ms   "
              f"starlette {star_times[-1] * 1000:.0f} ms", flush=True)
    motia, star = statistics.median(motia_times), statistics.median(star_times)
    return [Figure("cold_start_s", "4. cold start, 20 steps", motia, "s", star,
                   "Starlette app", motia / star, "<= 1 s", "", judge(motia, 1.0, None, False),
                   {"runs_s": [round(t, 4) for t in motia_times],
                    "starlette_runs_s": [round(t, 4) for t in star_times],
                    "step_files": step_files})]


# ---- figure 5: idle RSS --------------------------------------------------------------------


def bench_rss(workdir: Path) -> list[Figure]:
    print("[5] idle RSS", flush=True)
    specs: list[tuple[str, list[str], dict[str, str] | None, str]] = [
        ("motia-example", motia_argv(EXAMPLE_PROJECT, "{port}"), motia_env(workdir / "rss-data"),
         "/__motia/health"),
        ("starlette-rss", uvicorn_argv("starlette_app", "{port}"), None, "/hello"),
        ("raw-asgi-rss", uvicorn_argv("raw_asgi_app", "{port}"), None, "/hello"),
    ]
    with servers(specs, workdir) as running:
        motia = running["motia-example"]
        for _ in range(20):
            status, body = http_request(motia.port, "POST", "/resources",
                                        b'{"name":"report","kind":"document"}')
            if status != 201:
                raise RuntimeError(f"example POST /resources answered {status}: {body[:200]!r}")
            rid = json.loads(body)["id"]
            http_request(motia.port, "GET", f"/resources/{rid}")
        http_request(motia.port, "GET", "/resources/missing")
        for name in ("starlette-rss", "raw-asgi-rss"):
            for _ in range(20):
                http_request(running[name].port, "GET", "/hello")
                http_request(running[name].port, "POST", "/items", POST_BODY)
        time.sleep(2.0)  # let the example's event chain finish and the servers go idle
        values = {name: rss_mb(server.proc.pid) for name, server in running.items()}
    print("  " + "  ".join(f"{k} {v:.1f} MB" for k, v in values.items()), flush=True)
    motia_mb, star_mb = values["motia-example"], values["starlette-rss"]
    return [
        Figure("idle_rss_mb", "5. idle RSS, example project", motia_mb, "MB", star_mb,
               "Starlette", motia_mb / star_mb, "<= 60 MB", "",
               judge(motia_mb, 60.0, None, False), {k: round(v, 2) for k, v in values.items()}),
        Figure("idle_rss_vs_raw_asgi", "5b. idle RSS vs raw ASGI", motia_mb, "MB",
               values["raw-asgi-rss"], "raw ASGI", motia_mb / values["raw-asgi-rss"],
               "reference", ""),
    ]


# ---- figure 6: durable events ------------------------------------------------------------

COUNT_SUBSCRIBER = "Count"  # the step name in projects/events/steps/count_step.py


async def _wait_count(counter: list[int], target: int, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while counter[0] < target:
        await asyncio.sleep(0.0005)
        if time.perf_counter() > deadline:
            raise RuntimeError(f"only {counter[0]} of {target} events reached the subscriber "
                               f"within {timeout:g} s")


async def _throughput_async(count: int, chunk: int, warmup: int, queue_adapter: str,
                            data_dir: Path | None) -> dict[str, Any]:
    """Publish `count` events in chunks of `chunk` per `bus.publish` call (as that many API
    requests emitting `chunk` events each would), back to back, and time until the trivial
    subscriber has handled every one of them (and until the queue has acknowledged them)."""
    from motia.clock import new_trace_id
    from motia.runtime.events import Event

    def batch(first: int, n: int) -> list[Event]:
        return [Event(topic="bench.count", data={"seq": first + i, "name": "widget"},
                      trace_id=new_trace_id(), flows=["bench"]) for i in range(n)]

    with open(os.devnull, "w") as devnull:  # noqa: ASYNC230 - before the loop does any work
        runtime = _load_runtime(EVENTS_PROJECT, queue_adapter, data_dir, devnull)
        await runtime.start()
        try:
            counter: list[int] = _find_step_module(EVENTS_PROJECT, "count_step.py").COUNT
            counter[0] = 0
            warm = batch(0, warmup)
            for i in range(0, warmup, chunk):
                await runtime.bus.publish(warm[i:i + chunk])
            await _wait_count(counter, warmup, 60.0)
            events = batch(warmup, count)
            target = warmup + count
            started = time.perf_counter()
            for i in range(0, count, chunk):
                await runtime.bus.publish(events[i:i + chunk])
            published = time.perf_counter()
            handled_when_published = counter[0] - warmup
            await _wait_count(counter, target, 120.0)
            handled = time.perf_counter()
            while True:  # the last completions commit on the next loop turns
                stats = await runtime.queue.stats(COUNT_SUBSCRIBER)
                if stats.waiting + stats.in_flight == 0:
                    break
                if time.perf_counter() - handled > 30.0:
                    raise RuntimeError(f"the queue still holds {stats} after 30 s")
                await asyncio.sleep(0.0005)
            acked = time.perf_counter()
            await asyncio.sleep(0.05)
            extra = counter[0] - target  # deliveries beyond one per event (should be 0)
        finally:
            await runtime.stop()
    seconds = handled - started
    return {
        "queue": queue_adapter,
        "events": count,
        "chunk": chunk,
        "warmup_events": warmup,
        "events_per_s": count / seconds,
        "handled_s": seconds,
        "publish_s": published - started,
        "acked_s": acked - started,
        "handled_when_publishing_ended": handled_when_published,
        "extra_deliveries": extra,
        "db_bytes": _dir_bytes(data_dir) if data_dir is not None else 0,
    }


def events_worker(count: int, chunk: int, queue_adapter: str, data_dir: Path | None) -> None:
    """Figure 6a in a child process pinned to the server CPU; prints one JSON line."""
    result = _run_in_loop(_throughput_async(count, chunk, min(2000, count // 10 + 1),
                                            queue_adapter, data_dir))
    print(json.dumps(result))


QUEUES = ("sqlite", "memory")


def bench_durable(opts: Options, workdir: Path) -> list[Figure]:
    """Figure 6: the durable SQLite queue (the default) against the memory queue, children
    interleaved (sqlite, memory, sqlite, ...) so drift of the machine hits both alike."""
    print(f"[6] durable events: {opts.events_count} events in chunks of {opts.events_chunk}, "
          f"{opts.hop_count} sequential hops; {opts.events_rounds} round(s) per queue",
          flush=True)
    runs: dict[str, list[dict[str, Any]]] = {q: [] for q in QUEUES}
    hops: dict[str, list[dict[str, Any]]] = {q: [] for q in QUEUES}
    for round_no in range(opts.events_rounds):
        for queue in QUEUES:
            data_dir = workdir / f"events-{queue}-{round_no}"
            result = run_worker(["--events-worker", "--queue", queue, "--data-dir", str(data_dir),
                                 "--events-count", str(opts.events_count),
                                 "--events-chunk", str(opts.events_chunk)], "events worker")
            if queue == "sqlite" and not (data_dir / "motia.db").is_file():
                raise RuntimeError(f"the sqlite queue wrote no database under {data_dir}")
            runs[queue].append(result)
            print(f"  round {round_no + 1}/{opts.events_rounds} {queue:6s} throughput "
                  f"{result['events_per_s']:8.0f} events/s  (publish {result['publish_s']:.3f} s"
                  f", handled {result['handled_s']:.3f} s, acked {result['acked_s']:.3f} s, "
                  f"extra deliveries {result['extra_deliveries']})", flush=True)
    for round_no in range(opts.events_rounds):
        for queue in QUEUES:
            result = run_worker(["--hop-worker", "--hop-count", str(opts.hop_count), "--queue",
                                 queue, "--data-dir", str(workdir / f"hop-{queue}-{round_no}")],
                                "hop worker")
            hops[queue].append(result)
            print(f"  round {round_no + 1}/{opts.events_rounds} {queue:6s} hop p50 "
                  f"{result['p50_ms']:.3f} ms  p99 {result['p99_ms']:.3f} ms", flush=True)

    def median(rows: list[dict[str, Any]], key: str) -> float:
        return float(statistics.median(row[key] for row in rows))

    durable, memory = median(runs["sqlite"], "events_per_s"), median(runs["memory"], "events_per_s")
    p50, p50_mem = median(hops["sqlite"], "p50_ms"), median(hops["memory"], "p50_ms")
    p99, p99_mem = median(hops["sqlite"], "p99_ms"), median(hops["memory"], "p99_ms")
    return [
        Figure("durable_events_per_s", "6a. durable events/s (SQLite queue)", durable,
               "events/s", memory, "memory queue", durable / memory, ">= 3,000 events/s", "",
               judge(durable, 3000.0, None, True),
               {"sqlite_runs": runs["sqlite"], "memory_runs": runs["memory"]}),
        Figure("durable_hop_p50_ms", "6b. durable hop p50 (SQLite queue)", p50, "ms", p50_mem,
               "memory queue", p50 / p50_mem, "<= 3 ms", "", judge(p50, 3.0, None, False),
               {"sqlite_runs": hops["sqlite"], "memory_runs": hops["memory"]}),
        Figure("durable_hop_p99_ms", "6b. durable hop p99 (SQLite queue)", p99, "ms", p99_mem,
               "memory queue", p99 / p99_mem, "reference", ""),
    ]


# ---- figure 7: Redis scale-out -----------------------------------------------------------

WORKER_COUNTS = (1, 2)
BURST_CONNECTIONS = 4


def redis_reachable(url: str) -> bool:
    try:
        import redis
    except ImportError:
        return False
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def _redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)


def delete_redis_prefix(url: str, prefix: str) -> int:
    """Delete every key under `prefix` (SCAN, then DEL in batches); returns how many."""
    client = _redis_client(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start:start + 500])
        return len(keys)
    finally:
        client.close()


def _queue_left(client: Any, prefix: str, subscriber: str) -> int:
    """Messages of `subscriber` not completed yet, read from the Redis queue's keys
    (`<prefix>:q:{<subscriber>}:ready|delayed|leased|parked`): works across processes."""
    pipe = client.pipeline(transaction=False)
    for part in ("ready", "delayed", "leased", "parked"):
        pipe.zcard(f"{prefix}:q:{{{subscriber}}}:{part}")
    return sum(int(n) for n in pipe.execute())


def _dead_letters(client: Any, prefix: str, subscriber: str) -> int:
    return int(client.zcard(f"{prefix}:q:{{{subscriber}}}:dead"))


def _wait_drained(client: Any, prefix: str, subscriber: str, timeout: float,
                  poll: float = 0.002) -> float:
    """Wait until every message of `subscriber` is completed; returns the perf_counter."""
    deadline = time.perf_counter() + timeout
    while _queue_left(client, prefix, subscriber) > 0:
        if time.perf_counter() > deadline:
            left = _queue_left(client, prefix, subscriber)
            raise RuntimeError(f"{left} {subscriber} messages still queued after {timeout:g} s")
        time.sleep(poll)
    return time.perf_counter()


def _send_bursts(port: int, first: int, count: int, chunk: int) -> None:
    """`POST /burst` (each emitting `chunk` events) until `count` events are published, over
    a few keep-alive connections so every worker process takes requests."""
    import threading

    starts = list(range(first, first + count, chunk))
    lock = threading.Lock()
    errors: list[str] = []

    def sender() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            while True:
                with lock:
                    if not starts or errors:
                        return
                    start = starts.pop(0)
                n = min(chunk, first + count - start)
                body = json.dumps({"first": start, "n": n}).encode()
                conn.request("POST", "/burst", body=body,
                             headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                if response.status != 202:
                    with lock:
                        errors.append(f"POST /burst answered {response.status}")
        except (OSError, http.client.HTTPException) as exc:
            with lock:
                errors.append(f"POST /burst failed: {exc}")
        finally:
            conn.close()

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(BURST_CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if errors or any(t.is_alive() for t in threads):
        raise RuntimeError(errors[0] if errors else "POST /burst senders did not finish in 120 s")


def _worker_pids(supervisor: int) -> list[int]:
    """The processes `motia start --workers N` forked (multiprocessing's helper left out)."""
    pids: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{supervisor}/task").iterdir():
            for child in (task / "children").read_text().split():
                with contextlib.suppress(OSError):
                    cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
                    if b"resource_tracker" not in cmdline:
                        pids.append(int(child))
    return pids


def _cpu_seconds(pids: Sequence[int]) -> float:
    """utime + stime of processes, from /proc/PID/stat (0 for one that is gone)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _local_redis_pid(client: Any) -> int | None:
    """The Redis server's pid when it runs on this machine (its CPU time is then readable);
    None for a remote one."""
    with contextlib.suppress(Exception):
        pid = int(client.info("server")["process_id"])
        if b"redis" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    return None


def _median_cpu(runs: list[dict[str, Any]]) -> dict[str, float | None]:
    """Median CPU per event of 7a's runs: the worker processes and (a local) Redis."""
    redis = [r["redis_cpu_us_per_event"] for r in runs if r["redis_cpu_us_per_event"] is not None]
    return {"workers_us": statistics.median(r["worker_cpu_us_per_event"] for r in runs),
            "redis_us": statistics.median(redis) if redis else None}


def bench_redis(wrk: str, opts: Options, workdir: Path) -> list[Figure]:
    """Figure 7: `motia start` (one process) and `motia start --workers 2`, both on Redis
    under prefixes of this run's own, up at the same time and measured interleaved; then
    the hop latency through the Redis queue in-process. Nothing is pinned for the servers
    here (the point is to use both cores); every key of the run is deleted at the end."""
    url = opts.redis_url
    run_prefix = f"motia-bench-{os.getpid()}-{int(time.time())}"
    print(f"[7] Redis scale-out on {url} (key prefix {run_prefix}*): 1 vs 2 worker processes",
          flush=True)
    names = {n: f"{n}-worker" + ("s" if n > 1 else "") for n in WORKER_COUNTS}
    prefixes = {n: f"{run_prefix}-w{n}" for n in WORKER_COUNTS}
    specs: list[tuple[str, list[str], dict[str, str] | None, str]] = []
    for n in WORKER_COUNTS:
        env = motia_env(workdir / f"redis-data-w{n}")
        env.update(MOTIA_REDIS_URL=url, MOTIA_REDIS_PREFIX=prefixes[n])
        argv = motia_argv(REDIS_PROJECT, "{port}") + (["--workers", str(n)] if n > 1 else [])
        specs.append((names[n], argv, env, "/hello"))
    client = _redis_client(url)
    events: dict[int, list[dict[str, Any]]] = {n: [] for n in WORKER_COUNTS}
    loads: dict[int, list[WrkResult]] = {n: [] for n in WORKER_COUNTS}
    drains: dict[int, list[float]] = {n: [] for n in WORKER_COUNTS}
    hops: list[dict[str, Any]] = []
    workers_seen: dict[int, int] = {}
    try:
        with servers(specs, workdir, cpu=ALL_CPUS) as running:
            for n in WORKER_COUNTS:
                server = running[names[n]]
                workers_seen[n] = len(_worker_pids(server.proc.pid)) if n > 1 else 1
                if workers_seen[n] != n:
                    raise RuntimeError(f"{names[n]}: {workers_seen[n]} worker processes running")
            # 7a: events/s through the shared queue, and the CPU time the worker processes
            # and Redis spent per event (Redis's includes other clients of a shared server)
            redis_pid = _local_redis_pid(client)
            cpu_pids = {n: _worker_pids(running[names[n]].proc.pid) if n > 1
                        else [running[names[n]].proc.pid] for n in WORKER_COUNTS}
            warmup = min(2000, opts.events_count // 10 + 1)
            next_seq = 0
            for n in WORKER_COUNTS:
                server = running[names[n]]
                _send_bursts(server.port, next_seq, warmup, opts.events_chunk)
                next_seq += warmup
                _wait_drained(client, prefixes[n], "Count", 60.0)
            for round_no in range(opts.events_rounds):
                for n in WORKER_COUNTS:
                    server = running[names[n]]
                    time.sleep(0.5)
                    cpu_before = (_cpu_seconds(cpu_pids[n]),
                                  _cpu_seconds([redis_pid]) if redis_pid else 0.0)
                    started = time.perf_counter()
                    _send_bursts(server.port, next_seq, opts.events_count, opts.events_chunk)
                    next_seq += opts.events_count
                    published = time.perf_counter()
                    drained = _wait_drained(client, prefixes[n], "Count", 120.0)
                    per_event = 1e6 / opts.events_count
                    result = {"events": opts.events_count, "chunk": opts.events_chunk,
                              "events_per_s": opts.events_count / (drained - started),
                              "publish_s": published - started, "handled_s": drained - started,
                              "worker_cpu_us_per_event": round(
                                  (_cpu_seconds(cpu_pids[n]) - cpu_before[0]) * per_event, 1),
                              "redis_cpu_us_per_event": round(
                                  (_cpu_seconds([redis_pid]) - cpu_before[1]) * per_event, 1)
                              if redis_pid else None}
                    events[n].append(result)
                    redis_cpu = result["redis_cpu_us_per_event"]
                    print(f"  round {round_no + 1}/{opts.events_rounds} {names[n]:10s} "
                          f"{result['events_per_s']:8.0f} events/s  (published in "
                          f"{result['publish_s']:.3f} s, all handled in "
                          f"{result['handled_s']:.3f} s; CPU per event: workers "
                          f"{result['worker_cpu_us_per_event']:.0f} us, Redis "
                          f"{'-' if redis_cpu is None else f'{redis_cpu:.0f}'} us)", flush=True)
            # 7b: POST + emit req/s under wrk; the backlog is drained after every run
            for n in WORKER_COUNTS:
                server = running[names[n]]
                print(f"  warm-up {names[n]} /items ({opts.warmup:g} s)", flush=True)
                run_wrk(wrk, server.url("/items"), opts.warmup, opts.connections, POST_LUA,
                        ALL_CPUS)
                _wait_drained(client, prefixes[n], "ItemCreated", 120.0)
            for round_no in range(opts.rounds):
                for n in WORKER_COUNTS:
                    server = running[names[n]]
                    time.sleep(0.5)
                    load = run_wrk(wrk, server.url("/items"), opts.duration, opts.connections,
                                   POST_LUA, ALL_CPUS)
                    ended = time.perf_counter()
                    drain = _wait_drained(client, prefixes[n], "ItemCreated", 120.0) - ended
                    loads[n].append(load)
                    drains[n].append(drain)
                    print(f"  round {round_no + 1}/{opts.rounds} {names[n]:10s} /items "
                          f"{load.rps:10.0f} req/s  p50 {load.p50_ms or 0:.2f} ms  "
                          f"p99 {load.p99_ms or 0:.2f} ms  non-2xx {load.non_2xx}  "
                          f"socket errors {load.socket_errors}  backlog drained "
                          f"{drain:.2f} s after", flush=True)
                    if load.non_2xx:
                        errors = [line for line in server.log.read_text(errors="replace")
                                  .splitlines() if '"level":"error"' in line]
                        print(f"  {len(errors)} errors logged by {names[n]} so far; last: "
                              f"{errors[-1][:400] if errors else '-'}", flush=True)
            dead = {f"{names[n]}/{s}": _dead_letters(client, prefixes[n], s)
                    for n in WORKER_COUNTS for s in ("Count", "ItemCreated")}
        # 7c: hop latency through Redis, in-process (like figures 3 and 6b)
        for round_no in range(opts.events_rounds):
            result = run_worker(["--hop-worker", "--hop-count", str(opts.hop_count),
                                 "--queue", "redis", "--redis-url", url,
                                 "--redis-prefix", f"{run_prefix}-hop{round_no}"],
                                "redis hop worker")
            hops.append(result)
            print(f"  round {round_no + 1}/{opts.events_rounds} redis hop p50 "
                  f"{result['p50_ms']:.3f} ms  p99 {result['p99_ms']:.3f} ms", flush=True)
    finally:
        client.close()
        deleted = delete_redis_prefix(url, run_prefix)
        print(f"  deleted {deleted} Redis keys under {run_prefix}*", flush=True)

    one, two = WORKER_COUNTS
    ev1 = statistics.median(r["events_per_s"] for r in events[one])
    ev2 = statistics.median(r["events_per_s"] for r in events[two])
    rps1, rps2 = median_rps(loads[one]), median_rps(loads[two])
    # Requests per second until their events were handled too: a process that answers fast
    # but leaves a backlog has only deferred the work.
    sustained = {n: statistics.median(load.requests / (load.seconds + drain)
                                      for load, drain in zip(loads[n], drains[n], strict=True))
                 for n in WORKER_COUNTS}
    p50 = float(statistics.median(h["p50_ms"] for h in hops))
    p99 = float(statistics.median(h["p99_ms"] for h in hops))
    common = {"redis_url": url, "worker_processes": workers_seen, "cpus": os.cpu_count(),
              "pinned": "no: servers, wrk and Redis share every core", "dead_letters": dead}
    return [
        Figure("redis_events_per_s_2w", "7a. events/s on Redis, 2 workers", ev2, "events/s",
               ev1, "1 worker", ev2 / ev1, ">= 1.6x", "", judge(ev2 / ev1, 1.6, None, True),
               {**common, "round_ratios": [round(b["events_per_s"] / a["events_per_s"], 3)
                                           for a, b in zip(events[one], events[two],
                                                           strict=True)],
                "cpu_us_per_event": {n: _median_cpu(events[n]) for n in WORKER_COUNTS},
                "one_worker_runs": events[one], "two_worker_runs": events[two]}),
        Figure("redis_post_rps_2w", "7b. POST+emit req/s on Redis, 2 workers", rps2, "req/s",
               rps1, "1 worker", rps2 / rps1, ">= 1.6x", "", judge(rps2 / rps1, 1.6, None, True),
               {**common, "round_ratios": _round_ratios(loads[two], loads[one]),
                "one_worker": {**load_details(loads[one]), "drain_s": drains[one]},
                "two_workers": {**load_details(loads[two]), "drain_s": drains[two]}}),
        Figure("redis_post_sustained_2w", "7b. the same, events handled too, 2 workers",
               sustained[two], "req/s", sustained[one], "1 worker",
               sustained[two] / sustained[one], ">= 1.6x", "",
               judge(sustained[two] / sustained[one], 1.6, None, True),
               {"definition": "requests / (wrk seconds + seconds until the backlog drained)"}),
        Figure("redis_hop_p50_ms", "7c. hop p50 through Redis", p50, "ms", None, "", None,
               "<= 2 ms", "", judge(p50, 2.0, None, False), {"runs": hops}),
        Figure("redis_hop_p99_ms", "7c. hop p99 through Redis", p99, "ms", None, "", None,
               "reference", ""),
    ]


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit in ("req/s", "events/s"):
        return f"{value:,.0f} {unit}"
    if unit == "ms":
        return f"{value:.3f} {unit}"
    if unit == "s":
        return f"{value * 1000:.0f} ms"
    return f"{value:.1f} {unit}".strip()


def print_table(figures: list[Figure]) -> None:
    rows = [("Figure", "Value", "Baseline", "Ratio", "Target (aim)", "Status")]
    for f in figures:
        baseline = f"{_fmt(f.baseline, f.unit)} ({f.baseline_label})" if f.baseline else "-"
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
        target = f.target + (f" ({f.aim})" if f.aim else "")
        rows.append((f.label, _fmt(f.value, f.unit), baseline, ratio, target, f.status))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    line = "  ".join("-" * w for w in widths)
    print()
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            print(line)
    print("\nStatus: AIM = target and aim met, PASS = target met, FAIL = target missed.")


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "pinned": can_pin(),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    return info


def cpu_busy(seconds: float = 1.0) -> float:
    """The share of all CPUs busy over `seconds` (from /proc/stat); other work on the machine
    skews every figure, so it is reported with them."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return 0.0
    spent = total1 - total0
    return 0.0 if spent <= 0 else 1.0 - (idle1 - idle0) / spent


def code_version() -> dict[str, Any]:
    def git(*args: str) -> str:
        result = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                                timeout=10, check=False)
        return result.stdout.strip()

    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return {"commit": git("rev-parse", "--short", "HEAD"),
                "src_modified": bool(git("status", "--porcelain", "--", "src"))}
    return {}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true",
                        help="shorter run: 3 s measurements, 1 round, 1 s warm-up")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds of each measured wrk run (default 10, quick 3)")
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds of wrk warm-up per server (default 3, quick 1)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="measured wrk runs per server; the median is reported "
                        "(default 3, quick 1)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--only", default="1,2,3,4,5,6,7",
                        help="comma-separated figures to run, e.g. 1,3 (default all; figure 7 "
                        "is left out with a warning when no Redis answers, unless named here)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                        help="the Redis server of figure 7 (default $MOTIA_BENCH_REDIS_URL or "
                        "redis://127.0.0.1:6379/0); its keys live under a prefix of the run's "
                        "own, deleted at the end")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                        help="first wait up to this long for other work on the machine to stop")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when a figure misses its target")
    parser.add_argument("--hop-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--hop-count", type=int, default=None,
                        help="sequential publishes of figures 3 and 6b (default 5000, quick 2000)")
    parser.add_argument("--events-count", type=int, default=None,
                        help="events of figure 6a per run (default 20000, quick 10000)")
    parser.add_argument("--events-chunk", type=int, default=100,
                        help="events per bus.publish call in figure 6a (100)")
    parser.add_argument("--events-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--queue", choices=("sqlite", "memory", "redis"), default="memory",
                        help=argparse.SUPPRESS)
    parser.add_argument("--redis-prefix", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.hop_worker:
        hop_worker(args.hop_count or 3000, args.queue, args.data_dir, args.redis_url,
                   args.redis_prefix)
        return 0
    if args.events_worker:
        events_worker(args.events_count or 20000, args.events_chunk, args.queue, args.data_dir)
        return 0
    opts = Options(
        duration=args.duration or (3.0 if args.quick else 10.0),
        warmup=args.warmup or (1.0 if args.quick else 3.0),
        rounds=args.rounds or (1 if args.quick else 3),
        connections=args.connections,
        hop_count=args.hop_count or (2000 if args.quick else 5000),
        cold_runs=5,
        events_count=args.events_count or (10000 if args.quick else 20000),
        events_chunk=max(1, args.events_chunk),
        events_rounds=args.rounds or (1 if args.quick else 3),
        only={int(x) for x in args.only.split(",") if x.strip()},
        redis_url=args.redis_url,
    )
    if 7 in opts.only and not redis_reachable(opts.redis_url):
        message = f"no Redis server answers at {opts.redis_url} (start redis-server or pass " \
                  "--redis-url)"
        if "--only" in " ".join(sys.argv if argv is None else argv):
            raise SystemExit(f"bench: figure 7 needs Redis: {message}")
        print(f"bench: warning: figure 7 left out: {message}", flush=True)
        opts.only.discard(7)
    atexit.register(_kill_all)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    if can_pin():
        os.sched_setaffinity(0, {int(CLIENT_CPU)})  # keep this harness off the server's CPU
    wrk = ensure_wrk() if opts.only & {1, 2, 7} else ""
    busy_before = cpu_busy()
    waited_until = time.monotonic() + args.wait_idle
    while busy_before > 0.15 and time.monotonic() < waited_until:
        print(f"bench: the machine is {busy_before:.0%} busy; waiting for it to go idle",
              flush=True)
        time.sleep(4.0)
        busy_before = cpu_busy()
    if busy_before > 0.15:
        print(f"bench: warning: the machine is already {busy_before:.0%} busy; other work "
              "skews the figures (ratios less so: baselines run interleaved)", flush=True)
    started = time.time()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="motia-bench-") as tmp:
        workdir = Path(tmp)
        try:
            if opts.only & {1, 2}:
                figures += bench_http(wrk, opts, workdir)
            if 3 in opts.only:
                figures += bench_hop(opts)
            if 4 in opts.only:
                figures += bench_cold_start(opts, workdir)
            if 5 in opts.only:
                figures += bench_rss(workdir)
            if 6 in opts.only:
                figures += bench_durable(opts, workdir)
            if 7 in opts.only:
                figures += bench_redis(wrk, opts, workdir)
        finally:
            _kill_all()
    busy_after = cpu_busy()
    print_table(figures)
    print(f"Machine busy before/after the run (other processes): {busy_before:.0%} / "
          f"{busy_after:.0%}")
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "elapsed_s": round(time.time() - started, 1),
        "machine": {**machine_info(), "busy_before": round(busy_before, 3),
                    "busy_after": round(busy_after, 3)},
        "code": code_version(),
        "options": {**asdict(opts), "only": sorted(opts.only)},
        "figures": [asdict(f) for f in figures],
    }
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"results written to {args.json}")
    return 1 if args.strict and any(f.status == "FAIL" for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
