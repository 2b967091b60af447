"""Figure 15: what flow control costs. Events/s through an event step with `concurrency`
per key, `throttle` per key (limits no load reaches, so every event is counted and none
waits) and an `idempotencyKey`, against the same trivial step without them, on the SQLite
queue (the default), rounds interleaved in one run; reported as a ratio."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from fig_hop import find_step_module, load_runtime
from harness import Figure, Options, judge
from procs import run_in_loop

KEYS = 16  # distinct concurrency and throttle keys the events spread over
STEP = """
COUNT = [0]

config = {{
    "type": "event",
    "name": "{name}",
    "subscribes": ["bench.flow"],
    "emits": [],
    {extra}
}}


async def handler(data, ctx):
    COUNT[0] += 1
"""
GUARDED = (
    '"concurrency": {"limit": 10000, "key": "data.k"}, '
    '"throttle": {"limit": 1000000, "period": 1, "key": "data.k"}, '
    '"idempotencyKey": "data.id",'
)
# The guarded step against the plain one: flow control costs a store round trip or two per
# event, so a third of the plain rate is the floor.
TARGET = 0.33
AIM = 0.6


def _project(root: Path, guarded: bool) -> Path:
    steps = root / "steps"
    steps.mkdir(parents=True, exist_ok=True)
    name = "Guarded" if guarded else "Plain"
    (steps / "flow_step.py").write_text(
        STEP.format(name=name, extra=GUARDED if guarded else "")
    )
    return root


async def _rate(project: Path, data_dir: Path, count: int, chunk: int) -> dict[str, Any]:
    from motia.clock import new_trace_id
    from motia.runtime.events import Event

    with open(os.devnull, "w") as devnull:  # noqa: ASYNC230 - before the loop does any work
        runtime = load_runtime(project, "sqlite", data_dir, devnull)
        await runtime.start()
        try:
            counter: list[int] = find_step_module(project, "flow_step.py").COUNT
            counter[0] = 0
            events = [
                Event(topic="bench.flow", data={"id": f"e{i}", "k": f"k{i % KEYS}"},
                      trace_id=new_trace_id(), flows=["bench"])
                for i in range(count)
            ]
            started = time.perf_counter()
            for i in range(0, count, chunk):
                await runtime.bus.publish(events[i:i + chunk])
            deadline = started + 120.0
            while counter[0] < count:
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"only {counter[0]} of {count} events were handled")
                await asyncio.sleep(0.001)
            seconds = time.perf_counter() - started
        finally:
            await runtime.stop()
    return {"events": count, "seconds": seconds, "events_per_s": count / seconds}


def bench_flow(opts: Options, workdir: Path) -> list[Figure]:
    count = max(1000, opts.events_count // 4)
    print(f"[15] flow control on vs off: {count} events over {KEYS} keys, SQLite queue, "
          f"{opts.events_rounds} round(s)", flush=True)
    runs: dict[str, list[float]] = {"plain": [], "guarded": []}
    for round_no in range(opts.events_rounds):
        for label in ("plain", "guarded"):
            root = workdir / f"flow-{label}-{round_no}"
            result = run_in_loop(
                _rate(_project(root, label == "guarded"), root / "data", count,
                      opts.events_chunk)
            )
            runs[label].append(result["events_per_s"])
            print(f"  round {round_no + 1}/{opts.events_rounds} {label:8s} "
                  f"{result['events_per_s']:8.0f} events/s", flush=True)
    plain = sorted(runs["plain"])[len(runs["plain"]) // 2]
    guarded = sorted(runs["guarded"])[len(runs["guarded"]) // 2]
    ratio = guarded / plain
    return [
        Figure(
            key="15",
            label="events/s with concurrency + throttle + idempotency (SQLite)",
            value=guarded,
            unit="events/s",
            baseline=plain,
            baseline_label="same step without flow control",
            ratio=ratio,
            target=f">= {TARGET:g}x",
            aim=f">= {AIM:g}x",
            status=judge(ratio, TARGET, AIM, higher_is_better=True),
            details={"rounds": runs, "keys": KEYS, "events": count},
        )
    ]
