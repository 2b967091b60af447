"""Scheduled emits due a moment apart each fire at their time, not a poll interval late.

A worker that leases one due copy learns when the next is due; by the time it has the
answer the next may already be due. It must look again at once: waiting for the poll
interval (5 s here) would make every such emit seconds late. Every backend, real clock.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from motia.logs import LogSink
from motia.runtime.events import Event
from motia.runtime.runtime import Runtime
from motia.settings import load_settings
from tests.conftest import until, write_project
from tests.unit import backend_support, postgres_support, redis_support

POLL_INTERVAL = 5.0
COUNT = 400
SPACING = 0.001

STEPS = {
    "steps/__init__.py": "",
    "steps/due_step.py": """
        import time

        config = {"type": "event", "name": "Due", "subscribes": ["due"], "emits": []}
        LATENESS = []

        async def handler(data, ctx):
            LATENESS.append(time.time() - data["fireAt"])
    """,
}


@pytest.fixture(params=backend_support.NAMES)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    backend_support.require(request.param)
    yield str(request.param)
    backend_support.cleanup(tmp_path)


async def test_emits_due_a_moment_apart_fire_on_time(tmp_path: Path, backend: str) -> None:
    project = write_project(tmp_path, STEPS)
    overrides: dict[str, object] = {}
    if backend == "redis":
        overrides.update(
            redis_url=redis_support.REDIS_URL, redis_prefix=redis_support.prefix_for(project)
        )
    if backend == "postgres":
        overrides.update(
            database_url=postgres_support.DATABASE_URL,
            database_schema=postgres_support.schema_for(project),
        )
    settings = load_settings(
        project,
        "start",
        environ={},
        state_adapter=backend,
        queue_adapter=backend,
        queue_poll_interval=POLL_INTERVAL,
        **overrides,
    )
    runtime = Runtime.load(settings, sink=LogSink("warn", "json", stream=io.StringIO()))
    await runtime.start()
    try:
        lateness: list[float] = sys.modules["steps.due_step"].LATENESS
        first = time.time() + 0.5
        events = [
            Event(
                topic="due",
                data={"fireAt": first + n * SPACING},
                trace_id=f"t-{n}",
                fire_at=first + n * SPACING,
            )
            for n in range(COUNT)
        ]
        await runtime.bus.publish(events)
        await until(lambda: len(lateness) == COUNT, 4.0, what=f"{COUNT} scheduled emits fired")
    finally:
        await runtime.stop()
    assert min(lateness) >= -0.01, "fired before its time"
    # A poll interval late would be up to 5 s; on time is a few milliseconds.
    assert max(lateness) < 1.0, sorted(lateness)[-5:]
