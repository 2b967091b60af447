"""Figure 3 (and the hop measurement of 6b and 7c): publish -> subscriber handler start,
measured in a child process on the server CPU."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from harness import HOP_PROJECT, Figure, Options, judge, run_worker
from procs import percentile, run_in_loop


def find_step_module(project: Path, filename: str) -> ModuleType:
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve() == (project / "steps" / filename).resolve():
            return module
    raise RuntimeError(f"step module {filename} was not imported by the runtime")


def load_runtime(project: Path, queue_adapter: str, data_dir: Path | None,
                  devnull: Any, redis_url: str | None = None,
                  redis_prefix: str | None = None, database_url: str | None = None) -> Any:
    """A Runtime for `project` in start mode: memory state, the given queue adapter, the
    SQLite file (if any) under `data_dir`, the Redis server (if the queue is on Redis) at
    `redis_url` under `redis_prefix`, the PostgreSQL database (if the queue is on
    PostgreSQL) at `database_url` in a schema named after `redis_prefix`; no environment
    variables are read."""
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
    if queue_adapter == "postgres":
        if not database_url or not redis_prefix:
            raise RuntimeError("the postgres queue needs a database URL and a schema name")
        flags.update(database_url=database_url, database_schema=redis_prefix)
    settings = load_settings(project, "start", environ={}, **flags)
    if queue_adapter == "sqlite" and data_dir is None:
        raise RuntimeError("the sqlite queue needs a temporary data dir")
    return Runtime.load(settings, sink=LogSink(settings.log_level, settings.log_format,
                                               stream=devnull))


async def _hop_async(count: int, warmup: int, queue_adapter: str = "memory",
                     data_dir: Path | None = None, redis_url: str | None = None,
                     redis_prefix: str | None = None,
                     database_url: str | None = None) -> dict[str, Any]:
    from motia.clock import new_trace_id
    from motia.runtime.events import Event

    with open(os.devnull, "w") as devnull:  # noqa: ASYNC230 - before the loop does any work
        runtime = load_runtime(HOP_PROJECT, queue_adapter, data_dir, devnull, redis_url,
                                redis_prefix, database_url)
        await runtime.start()
        try:
            hop_module = find_step_module(HOP_PROJECT, "hop_step.py")
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
        "p50_ms": percentile(latencies, 50),
        "p90_ms": percentile(latencies, 90),
        "p99_ms": percentile(latencies, 99),
        "max_ms": latencies[-1],
        "mean_ms": statistics.fmean(latencies),
    }


def hop_worker(count: int, queue_adapter: str = "memory", data_dir: Path | None = None,
               redis_url: str | None = None, redis_prefix: str | None = None,
               database_url: str | None = None) -> None:
    """Runs in a child process (pinned to the server CPU) so the project's modules and the
    event loop are not shared with the harness; prints one JSON line."""
    result = run_in_loop(_hop_async(count, warmup=min(500, count // 5 + 1),
                                     queue_adapter=queue_adapter, data_dir=data_dir,
                                     redis_url=redis_url, redis_prefix=redis_prefix,
                                     database_url=database_url))
    print(json.dumps(result))


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
