"""Figure 12's Motia side, measured exactly like the peers (bench/peers/drive.py): the same
trivial handler (bench/peers/tally.py), the same warm-up, paced hop and back-to-back
throughput phases, on the SQLite queue and on the Redis queue.

(a) in-process: a child process pinned to the worker CPU loads `projects/peers` and
    publishes one event per `bus.publish` call itself (as an API step's `ctx.emit` does), so
    producer and worker share that one CPU;
(b) HTTP: `motia start` on `projects/peers` pinned to the worker CPU, and wrk on the other
    CPU sending `POST /items`, whose step emits one event; counted until every answered
    request's event was handled."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from fig_hop import load_runtime
from harness import BENCH, POST_LUA, Options, motia_argv, motia_env, servers
from procs import run_in_loop
from wrk import run_wrk

PEERS_PROJECT = BENCH / "projects" / "peers"
PEER_DIR = BENCH / "peers"
WARMUP = 200
# Environment variables that would move a server to another store than the one measured.
STORE_VARIABLES = ("MOTIA_REDIS_URL", "REDIS_URL", "MOTIA_DATABASE_URL", "DATABASE_URL",
                   "MOTIA_DATABASE_SCHEMA", "MOTIA_REDIS_PREFIX", "MOTIA_QUEUE_ADAPTER",
                   "MOTIA_STREAMS_ADAPTER", "MOTIA_STATE_ADAPTER")


def _tally(count_dir: Path) -> Any:
    os.environ["MOTIA_BENCH_COUNT_DIR"] = str(count_dir)
    if str(PEER_DIR) not in sys.path:
        sys.path.insert(0, str(PEER_DIR))
    return importlib.import_module("tally")


async def _wait_here(tally: Any, target: int, seconds: float) -> bool:
    deadline = time.perf_counter() + seconds
    while tally.handled_here() < target:
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.001)
    return True


async def _in_process(queue: str, count: int, hop_count: int, rate: float,
                      max_seconds: float, data_dir: Path, count_dir: Path,
                      redis_url: str | None, prefix: str | None) -> dict[str, Any]:
    from motia.clock import new_trace_id
    from motia.runtime.events import Event

    tally = _tally(count_dir)

    def event(sent: float) -> Event:
        return Event(topic="bench.peer", data={"sent": sent}, trace_id=new_trace_id(),
                     flows=["bench"])

    with open(os.devnull, "w") as devnull:  # noqa: ASYNC230 - before the loop does any work
        runtime = load_runtime(PEERS_PROJECT, queue, data_dir, devnull, redis_url, prefix)
        await runtime.start()
        try:
            for _ in range(WARMUP):
                await runtime.bus.publish([event(0.0)])
            if not await _wait_here(tally, WARMUP, 60.0):
                raise RuntimeError(f"warm-up: {tally.handled_here()} of {WARMUP} handled")
            started = time.perf_counter()
            for seq in range(hop_count):
                delay = started + seq / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                await runtime.bus.publish([event(time.time())])
            await _wait_here(tally, WARMUP + hop_count, 60.0)
            done = tally.handled_here()
            started = time.perf_counter()
            for _ in range(count):
                await runtime.bus.publish([event(0.0)])
            published = time.perf_counter()
            complete = await _wait_here(tally, done + count, max_seconds)
            ended = time.perf_counter()
            handled = tally.handled_here() - done
        finally:
            await runtime.stop()
    return {
        "system": f"motia-{queue}",
        "events": count,
        "handled": handled,
        "complete": complete,
        "events_per_s": handled / (ended - started),
        "publish_s": round(published - started, 3),
        "handled_s": round(ended - started, 3),
        "hop": hop_summary(tally.hop_latencies_ms(count_dir), hop_count, rate),
    }


def hop_summary(latencies: list[float], sent: int, rate: float) -> dict[str, Any]:
    from procs import percentile

    if not latencies:
        return {"sent": sent, "count": 0, "rate": rate}
    return {"sent": sent, "count": len(latencies), "rate": rate,
            "p50_ms": percentile(latencies, 50), "p90_ms": percentile(latencies, 90),
            "p99_ms": percentile(latencies, 99), "max_ms": latencies[-1],
            "mean_ms": sum(latencies) / len(latencies)}


def peers_worker(queue: str, count: int, hop_count: int, rate: float, max_seconds: float,
                 data_dir: Path, redis_url: str | None, prefix: str | None) -> None:
    """Figure 12a in a child process pinned to the worker CPU; prints one JSON line."""
    count_dir = data_dir / "counts"
    count_dir.mkdir(parents=True, exist_ok=True)
    result = run_in_loop(_in_process(queue, count, hop_count, rate, max_seconds, data_dir,
                                     count_dir, redis_url, prefix))
    print(json.dumps(result))


def _server_env(store: str, data_dir: Path, count_dir: Path, opts: Options,
                prefix: str) -> dict[str, str]:
    env = motia_env(data_dir)
    for name in STORE_VARIABLES:
        env.pop(name, None)
    env["MOTIA_BENCH_COUNT_DIR"] = str(count_dir)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PEER_DIR), env.get("PYTHONPATH")) if p)
    if store == "redis":
        env.update(MOTIA_REDIS_URL=opts.redis_url, MOTIA_REDIS_PREFIX=prefix)
    return env


def _wait_files(tally: Any, count_dir: Path, target: int, seconds: float) -> bool:
    deadline = time.perf_counter() + seconds
    while tally.total(count_dir) < target:
        if time.perf_counter() > deadline:
            return False
        time.sleep(0.002)
    return True


def http_run(store: str, wrk: str, opts: Options, workdir: Path, prefix: str) -> dict[str, Any]:
    """Figure 12b: one `motia start` (fresh, like every peer's worker), a wrk warm-up, then
    one measured wrk run; events/s = events handled / (wrk seconds + the wait until the
    last answered request's event was handled)."""
    data_dir = workdir / "data"
    count_dir = workdir / "counts"
    count_dir.mkdir(parents=True, exist_ok=True)
    tally = _tally(count_dir)
    name = f"motia-{store}-http"
    spec = [(name, motia_argv(PEERS_PROJECT, "{port}"),
             _server_env(store, data_dir, count_dir, opts, prefix), "/hello")]
    with servers(spec, workdir) as running:
        url = running[name].url("/items")
        warm = run_wrk(wrk, url, opts.warmup, opts.connections, POST_LUA)
        if not _wait_files(tally, count_dir, warm.requests - warm.non_2xx, 60.0):
            raise RuntimeError(f"{name}: the warm-up's events were not all handled in 60 s")
        time.sleep(0.3)  # requests wrk left in flight may still emit
        before = tally.total(count_dir)
        load = run_wrk(wrk, url, opts.duration, opts.connections, POST_LUA)
        ended = time.perf_counter()
        answered = load.requests - load.non_2xx
        complete = _wait_files(tally, count_dir, before + answered, opts.peers_max_seconds)
        drain = time.perf_counter() - ended
        handled = tally.total(count_dir) - before
    return {
        "system": name,
        "events": answered,
        "handled": handled,
        "complete": complete,
        "events_per_s": min(handled, answered) / (load.seconds + drain),
        "req_per_s": load.rps,
        "non_2xx": load.non_2xx,
        "drain_s": round(drain, 3),
        "p50_ms": load.p50_ms,
        "p99_ms": load.p99_ms,
    }
