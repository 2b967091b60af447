"""Figure 6: durable events on the SQLite queue against the memory queue, same run."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from fig_hop import find_step_module, load_runtime
from harness import EVENTS_PROJECT, Figure, Options, dir_bytes, judge, run_worker
from procs import run_in_loop

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
        runtime = load_runtime(EVENTS_PROJECT, queue_adapter, data_dir, devnull)
        await runtime.start()
        try:
            counter: list[int] = find_step_module(EVENTS_PROJECT, "count_step.py").COUNT
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
        "db_bytes": dir_bytes(data_dir) if data_dir is not None else 0,
    }


def events_worker(count: int, chunk: int, queue_adapter: str, data_dir: Path | None) -> None:
    """Figure 6a in a child process pinned to the server CPU; prints one JSON line."""
    result = run_in_loop(_throughput_async(count, chunk, min(2000, count // 10 + 1),
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
