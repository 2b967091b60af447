"""Figure 14: scheduled emits. Many emits scheduled within a minute, each fired on time.

One child per store schedules `count` emits whose fire times are spread evenly over
`window` seconds, starting once the store has had time to take them all (at least 5 s,
more on a slower store), in chunks of 100 per `bus.publish` call (as 100 requests
scheduling one emit each would). The subscriber records how late each one starts
(handler start - fire time). The same child first
publishes a fifth as many immediate emits to the same subscriber: the scheduling rate is
reported against that immediate rate, measured in the same process on the same store.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from fig_hop import find_step_module, load_runtime
from fig_redis import delete_redis_prefix, redis_reachable
from fig_stores import drop_postgres_schemas, postgres_reachable
from harness import BENCH, Figure, Options, judge, run_worker
from procs import percentile, run_in_loop

SCHEDULED_PROJECT = BENCH / "projects" / "scheduled"
CHUNK = 100


async def _drain(runtime: Any, subscriber: str, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while True:
        stats = await runtime.queue.stats(subscriber)
        if stats.waiting + stats.in_flight == 0:
            return
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the queue still holds {stats} after {timeout:g} s")
        await asyncio.sleep(0.01)


async def _scheduled_async(count: int, window: float, lead: float, queue_adapter: str,
                           data_dir: Path | None, redis_url: str | None, prefix: str | None,
                           database_url: str | None) -> dict[str, Any]:
    from motia.clock import new_trace_id
    from motia.runtime.events import Event

    def event(seq: int, fire_at: float | None) -> Event:
        data = {"seq": seq, "fireAt": fire_at}
        return Event(topic="bench.fire", data=data, trace_id=new_trace_id(), flows=["bench"],
                     fire_at=fire_at)

    with open(os.devnull, "w") as devnull:  # noqa: ASYNC230 - before the loop does any work
        runtime = load_runtime(SCHEDULED_PROJECT, queue_adapter, data_dir, devnull, redis_url,
                               prefix, database_url)
        await runtime.start()
        try:
            module = find_step_module(SCHEDULED_PROJECT, "fire_step.py")
            lateness: list[float] = module.LATENESS
            seen: set[int] = module.SEEN

            # The baseline: immediate emits to the same subscriber, then let them drain.
            immediate = [event(seq, None) for seq in range(count // 5)]
            started = time.perf_counter()
            for i in range(0, len(immediate), CHUNK):
                await runtime.bus.publish(immediate[i:i + CHUNK])
            immediate_s = time.perf_counter() - started
            await _drain(runtime, "Fire", 120.0)

            # Room to schedule them all before the first is due: scheduling runs at about
            # half the immediate rate, so a fire time that passes while scheduling is rare.
            lead = max(lead, 2.5 * count / (len(immediate) / immediate_s) + 2.0)
            first = time.time() + lead
            step = window / count
            scheduled = [event(len(immediate) + n, first + n * step) for n in range(count)]
            started = time.perf_counter()
            for i in range(0, count, CHUNK):
                await runtime.bus.publish(scheduled[i:i + CHUNK])
            scheduling_s = time.perf_counter() - started
            scheduled_by = time.time()  # any fire time before this was late by construction
            early_fired = len(lateness)
            deadline = time.perf_counter() + lead + window + 120.0
            while len(lateness) < count and time.perf_counter() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)  # the handler is the project's; it signals nothing
            await _drain(runtime, "Fire", 30.0)
            await asyncio.sleep(0.5)  # a duplicate delivery would show up by now
        finally:
            await runtime.stop()
    ordered = sorted(lateness)
    return {
        "queue": queue_adapter,
        "scheduled": count,
        "window_s": window,
        "lead_s": lead,
        "immediate_per_s": len(immediate) / immediate_s,
        "scheduling_per_s": count / scheduling_s,
        "scheduling_s": scheduling_s,
        "scheduling_ended_before_first_fire_s": first - scheduled_by,
        "fired_while_scheduling": early_fired,
        "fired": len(ordered),
        "missing": count - len(ordered),
        "handled_total": len(seen),
        "duplicates": module.DUPLICATES[0],
        "early_ms": max(0.0, -ordered[0] * 1000) if ordered else 0.0,
        "late_p50_ms": percentile([x * 1000 for x in ordered], 50) if ordered else 0.0,
        "late_p99_ms": percentile([x * 1000 for x in ordered], 99) if ordered else 0.0,
        "late_max_ms": ordered[-1] * 1000 if ordered else 0.0,
    }


def scheduled_worker(count: int, window: float, lead: float, queue_adapter: str,
                     data_dir: Path | None, redis_url: str | None, prefix: str | None,
                     database_url: str | None) -> None:
    """Figure 14 in a child process pinned to the server CPU; prints one JSON line."""
    print(json.dumps(run_in_loop(_scheduled_async(count, window, lead, queue_adapter, data_dir,
                                                  redis_url, prefix, database_url))))


def bench_scheduled(opts: Options, workdir: Path) -> list[Figure]:
    """Figure 14 on SQLite, and on Redis and PostgreSQL when they answer."""
    stores = ["sqlite"]
    if redis_reachable(opts.redis_url):
        stores.append("redis")
    if postgres_reachable(opts.database_url):
        stores.append("postgres")
    count, window = opts.scheduled_count, opts.scheduled_window
    lead = 5.0  # at least; each child stretches it to fit its store's scheduling rate
    run_name = f"motia_bench_sched_{uuid.uuid4().hex[:8]}"
    print(f"[14] scheduled emits: {count} scheduled within {window:g} s; on "
          f"{', '.join(stores)}", flush=True)
    figures: list[Figure] = []
    try:
        for store in stores:
            args = ["--scheduled-worker", "--queue", store, "--scheduled-count", str(count),
                    "--scheduled-window", str(window), "--scheduled-lead", str(lead),
                    "--data-dir", str(workdir / f"scheduled-{store}"),
                    "--redis-url", opts.redis_url, "--database-url", opts.database_url,
                    "--redis-prefix", f"{run_name}_{store}"]
            result = run_worker(args, f"scheduled worker ({store})",
                                timeout=window + 900.0)
            ratio = result["scheduling_per_s"] / result["immediate_per_s"]
            print(f"  {store:8s} scheduled {result['scheduling_per_s']:8.0f}/s (immediate "
                  f"{result['immediate_per_s']:.0f}/s), fired {result['fired']}/{count}, "
                  f"late p50 {result['late_p50_ms']:.1f} ms p99 {result['late_p99_ms']:.1f} ms "
                  f"max {result['late_max_ms']:.1f} ms, early {result['early_ms']:.1f} ms, "
                  f"duplicates {result['duplicates']}, first due {result['lead_s']:.1f} s after "
                  f"scheduling began", flush=True)
            on_time = result["fired"] == count and result["duplicates"] == 0
            p99 = result["late_p99_ms"]
            figures += [
                Figure(f"scheduled_per_s_{store}", f"14. emits scheduled/s ({store})",
                       result["scheduling_per_s"], "emits/s", result["immediate_per_s"],
                       "immediate emits, same store", ratio, "reference", "", "", result),
                Figure(f"scheduled_late_p99_ms_{store}", f"14. scheduled lateness p99 ({store})",
                       p99, "ms", None, "", None, "<= 100 ms, all fired once", "",
                       judge(p99, 100.0, None, False) if on_time else "FAIL"),
            ]
    finally:
        if "redis" in stores:
            delete_redis_prefix(opts.redis_url, run_name)
        if "postgres" in stores:
            drop_postgres_schemas(opts.database_url, run_name)
    return figures
