"""An idle worker takes what its own process publishes as it is stored (leased to it in the
same write): the message is leased like any other, so no other process runs it meanwhile,
and a publisher cancelled after its write hands the message back at once instead of
leaving it leased until the lease runs out."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from motia.logs import LogSink
from motia.runtime.events import Event
from motia.runtime.runtime import Runtime
from motia.settings import load_settings
from tests.conftest import until, write_project
from tests.unit import backend_support, redis_support

LEASE_SECONDS = 30.0  # far longer than any wait below: a message left leased would show

STEPS = {
    "steps/__init__.py": "",
    "steps/held_step.py": """
        import asyncio

        RUNS = []
        GATE = {}

        config = {"type": "event", "name": "Held", "subscribes": ["held"]}

        async def handler(data, ctx):
            RUNS.append((data["n"], ctx.attempt))
            gate = GATE.get("open")
            if gate is not None:
                await gate.wait()
    """,
}


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    backend_support.require(request.param)
    yield str(request.param)
    backend_support.cleanup(tmp_path)


def _runtime(project: Path, backend: str) -> Runtime:
    write_project(project, STEPS)
    extra = {}
    if backend == "redis":
        extra = {
            "redis_url": redis_support.REDIS_URL,
            "redis_prefix": redis_support.prefix_for(project),
        }
    settings = load_settings(
        project,
        "start",
        environ={},
        state_adapter=backend,
        queue_adapter=backend,
        queue_lease_seconds=LEASE_SECONDS,
        queue_poll_interval=5.0,  # a message must not wait for the poll to run
        **extra,
    )
    return Runtime.load(settings, sink=LogSink("info", "json", stream=io.StringIO()))


async def test_a_taken_message_is_leased_while_it_runs(tmp_path: Path, backend: str) -> None:
    runtime = _runtime(tmp_path, backend)
    await runtime.start()
    held = sys.modules["steps.held_step"]
    held.GATE["open"] = gate = asyncio.Event()
    try:
        assert runtime.queue.leases_on_publish
        await runtime.bus.publish([Event(topic="held", data={"n": 1}, trace_id="t-1")])
        await until(lambda: held.RUNS, timeout=2, what="the handler starts")
        assert held.RUNS == [(1, 1)]
        # Another process asking for the step's messages finds nothing to take.
        assert await runtime.queue.lease("Held", 10, LEASE_SECONDS) == []
        stats = await runtime.queue.stats("Held")
        assert (stats.waiting, stats.in_flight) == (0, 1)
        gate.set()

        async def idle() -> bool:
            stats = await runtime.queue.stats("Held")
            return stats.waiting == 0 and stats.in_flight == 0

        await until(idle, timeout=2, what="the message completed")
        assert held.RUNS == [(1, 1)]
    finally:
        gate.set()
        await runtime.stop()


async def test_a_publisher_cancelled_after_its_write_hands_the_message_back(
    tmp_path: Path,
) -> None:
    runtime = _runtime(tmp_path, "sqlite")
    await runtime.start()
    held = sys.modules["steps.held_step"]
    held.GATE.pop("open", None)
    try:
        published = asyncio.ensure_future(
            runtime.bus.publish([Event(topic="held", data={"n": 2}, trace_id="t-2")])
        )
        await asyncio.sleep(0)  # the write is made; its commit comes at the next turn
        published.cancel()
        with pytest.raises(asyncio.CancelledError):
            await published
        # Committed all the same: it runs now, its attempt not counted twice, rather
        # than after LEASE_SECONDS.
        await until(lambda: held.RUNS, timeout=3, what="the message runs")
        assert held.RUNS == [(2, 1)]
    finally:
        await runtime.stop()
