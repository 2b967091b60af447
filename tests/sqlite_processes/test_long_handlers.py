"""A long `async def` handler that computes without awaiting does not hold the SQLite
write lock while it computes, so other processes can write meanwhile.

Writes made in one loop turn share a transaction that commits when the turn ends; a
handler computing in that turn would keep every other process from writing. A step
whose runs take long starts only once its process's open write is committed. Here a
second connection (another process, as far as SQLite knows) tries to take the write
lock, without waiting, while each handler computes."""

from __future__ import annotations

import io
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

from motia.logs import LogSink
from motia.runtime.events import Event
from motia.runtime.runtime import Runtime
from motia.settings import load_settings
from tests.conftest import until, write_project

RUNS = 6

STEPS = {
    "steps/__init__.py": "",
    "steps/spin_step.py": """
        import threading
        import time

        config = {"type": "event", "name": "Spin", "subscribes": ["spin"], "emits": []}
        PROBE = threading.Event()   # set while a handler computes: probe the lock now
        PROBED = threading.Event()  # set by the prober when it has tried
        DONE = []

        async def handler(data, ctx):
            PROBED.clear()
            PROBE.set()
            # Computes without awaiting until the prober has tried (at most 2 s).
            PROBED.wait(2.0)
            PROBE.clear()
            until = time.perf_counter() + 0.005
            while time.perf_counter() < until:  # and a few milliseconds of real work
                pass
            DONE.append(data["n"])
    """,
}


def probe_lock(db: Path, module: Any, results: list[bool], stop: threading.Event) -> None:
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        while not stop.is_set():
            if not module.PROBE.wait(0.05):
                continue
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                results.append(True)
            except sqlite3.OperationalError:
                results.append(False)
            module.PROBE.clear()
            module.PROBED.set()
    finally:
        conn.close()


async def test_a_long_handler_computes_without_holding_the_write_lock(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", STEPS)
    settings = load_settings(project, "start", environ={}, data_dir=tmp_path / "data")
    runtime = Runtime.load(settings, sink=LogSink("warn", "json", stream=io.StringIO()))
    await runtime.start()
    module = sys.modules["steps.spin_step"]
    results: list[bool] = []
    stop = threading.Event()
    prober = threading.Thread(
        target=probe_lock, args=(tmp_path / "data" / "motia.db", module, results, stop)
    )
    prober.start()
    try:
        await runtime.bus.publish(
            [Event(topic="spin", data={"n": n}, trace_id=f"t-{n}") for n in range(RUNS)]
        )
        await until(lambda: len(module.DONE) == RUNS, 20.0, what=f"{RUNS} runs")
    finally:
        stop.set()
        prober.join()
        await runtime.stop()
    assert len(results) == RUNS
    # The first run is what shows the step runs long; every later one starts after the
    # commit of what its process wrote before it.
    assert results[1:] == [True] * (RUNS - 1), results
