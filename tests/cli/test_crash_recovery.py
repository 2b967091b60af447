"""Crash recovery with real processes: `kill -9` a server while accepted flows are in
flight, start it again on the same project, and every accepted flow still completes
(at least once), with duplicate handler runs only from the in-flight window."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ServerProcess, wait_for, write_project

N = 60
CONCURRENCY = 2  # per event step: keeps the chain slower than the requests
STEPS = ("reserve", "charge", "ship")

PROJECT: dict[str, str] = {
    "config.yml": """
        queue:
          leaseSeconds: 1
    """,
    "steps/__init__.py": "",
    "steps/lib/__init__.py": "",
    "steps/lib/runlog.py": """
        import os
        from pathlib import Path

        RUNS = Path(__file__).resolve().parent.parent.parent / "runs.log"

        def record(order, step, attempt):
            # append mode and a flush: the line is in the kernel at once, so a kill -9
            # right after cannot lose it
            with RUNS.open("a") as f:
                f.write(f"{order} {step} {attempt} {os.getpid()}\\n")
                f.flush()
    """,
    "steps/api/create_order_step.py": """
        config = {
            "type": "api", "name": "CreateOrder", "method": "POST", "path": "/orders",
            "emits": ["order.created"], "flows": ["orders"],
        }
        async def handler(req, ctx):
            order = req["body"]["id"]
            await ctx.emit({"topic": "order.created", "data": {"id": order}})
            return {"status": 201, "body": {"id": order}}
    """,
    "steps/api/completed_step.py": """
        config = {"type": "api", "name": "Completed", "method": "GET", "path": "/completed",
                  "flows": ["orders"]}
        async def handler(req, ctx):
            done = await ctx.state.get_group("orders-done")
            return {"status": 200, "body": {"ids": sorted(d["id"] for d in done)}}
    """,
    "steps/events/reserve_step.py": f"""
        import asyncio
        from steps.lib.runlog import record
        config = {{"type": "event", "name": "Reserve", "subscribes": ["order.created"],
                  "emits": ["order.reserved"], "flows": ["orders"],
                  "infrastructure": {{"queue": {{"concurrency": {CONCURRENCY}}}}}}}
        async def handler(data, ctx):
            record(data["id"], "reserve", ctx.attempt)  # the run has begun
            await asyncio.sleep(0.05)
            await ctx.emit({{"topic": "order.reserved", "data": data}})
    """,
    "steps/events/charge_step.py": f"""
        import asyncio
        from steps.lib.runlog import record
        config = {{"type": "event", "name": "Charge", "subscribes": ["order.reserved"],
                  "emits": ["order.charged"], "flows": ["orders"],
                  "infrastructure": {{"queue": {{"concurrency": {CONCURRENCY}}}}}}}
        async def handler(data, ctx):
            record(data["id"], "charge", ctx.attempt)  # the run has begun
            await asyncio.sleep(0.05)
            await ctx.emit({{"topic": "order.charged", "data": data}})
    """,
    "steps/events/ship_step.py": f"""
        import asyncio
        from steps.lib.runlog import record
        config = {{"type": "event", "name": "Ship", "subscribes": ["order.charged"],
                  "flows": ["orders"],
                  "infrastructure": {{"queue": {{"concurrency": {CONCURRENCY}}}}}}}
        async def handler(data, ctx):
            record(data["id"], "ship", ctx.attempt)  # the run has begun
            await asyncio.sleep(0.05)
            await ctx.state.set("orders-done", data["id"], {{"id": data["id"]}})
    """,
}


def read_runs(project: Path) -> list[tuple[str, str, int]]:
    """(order, step, attempt) for every handler run begun so far."""
    path = project / "runs.log"
    if not path.exists():
        return []
    runs = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 4:  # a line cut short by the kill is not a finished run
            runs.append((parts[0], parts[1], int(parts[2])))
    return runs


def completed_orders(server: ServerProcess) -> set[str]:
    response = server.client.get("/completed")
    assert response.status_code == 200, response.text
    return set(response.json()["ids"])


def test_kill_9_mid_flight_then_restart_completes_every_accepted_flow(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(tmp_path / "shop", PROJECT)
    started = time.monotonic()
    server = server_factory(project)

    accepted: list[str] = []
    for i in range(N):
        order = f"order-{i:03d}"
        response = server.client.post("/orders", json={"id": order})
        assert response.status_code == 201, response.text
        accepted.append(order)

    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    assert server.process.returncode == -signal.SIGKILL

    at_crash = read_runs(project)
    shipped_at_crash = {order for order, step, _ in at_crash if step == "ship"}
    # otherwise the crash interrupted nothing and the test proves nothing
    assert len(shipped_at_crash) < N, "every flow had reached its last step before the kill"
    print(f"at the kill: {len(shipped_at_crash)}/{N} flows at the last step, {len(at_crash)} runs")

    restarted = server_factory(project)
    wait_for(lambda: completed_orders(restarted) >= set(accepted), timeout=20, interval=0.2)

    runs = read_runs(project)
    counts = Counter((order, step) for order, step, _ in runs)
    for order in accepted:
        for step in STEPS:
            assert counts[(order, step)] >= 1, f"{order} never ran {step}"
    assert {order for order, _, _ in runs} == set(accepted)

    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    print(f"duplicates: {duplicates}")
    print(f"runs: {len(runs)} for {N * len(STEPS)} (order, step) pairs")
    for (order, step), n in sorted(counts.items()):
        if n > 1:
            attempts = [a for o, s, a in runs if (o, s) == (order, step)]
            print(f"  {order} {step}: {n} runs, attempts {attempts}")
    # at-least-once: only the runs in flight at the kill (at most CONCURRENCY per step)
    # may run a second time
    assert duplicates <= CONCURRENCY * len(STEPS), f"{duplicates} duplicate runs"
    # a run interrupted by the kill and run again after the restart is a new attempt
    for (order, step), n in counts.items():
        if n > 1:
            later = [a for o, s, a in runs if (o, s) == (order, step)][1:]
            assert all(a >= 2 for a in later), (order, step, later)
    assert time.monotonic() - started < 30
