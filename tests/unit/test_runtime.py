"""The runtime in-process: context calls, emits committed on success, retries, timeouts,
sync handlers and cron ticks."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from motia import jsoncodec
from motia.logs import LogSink
from motia.runtime.cron import next_fire_time
from motia.runtime.events import Event
from motia.runtime.runtime import Runtime
from motia.settings import load_settings
from tests.conftest import until, write_project

STEPS: dict[str, str] = {
    "steps/lib/record.py": "SEEN = []\n",
    "steps/forgetful_step.py": """
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "Forgetful", "subscribes": ["forget"], "emits": ["done"]}
        async def handler(data, ctx):
            ctx.state.set("forgotten", "key", data)   # not awaited on purpose
            ctx.emit({"topic": "done", "data": data})  # not awaited either
    """,
    "steps/done_step.py": """
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "Done", "subscribes": ["done"]}
        async def handler(data, ctx):
            SEEN.append(("done", data, ctx.trace_id))
    """,
    "steps/flaky_step.py": """
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "Flaky", "subscribes": ["flaky"], "emits": ["done"],
                  "infrastructure": {"queue": {"maxRetries": 1}}}
        async def handler(data, ctx):
            SEEN.append(("flaky", ctx.attempt))
            await ctx.emit({"topic": "done", "data": {"attempt": ctx.attempt}})
            if ctx.attempt == 1:
                raise RuntimeError("first attempt fails")
    """,
    "steps/undeclared_step.py": """
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "Undeclared", "subscribes": ["undeclared"],
                  "emits": ["done"], "infrastructure": {"queue": {"maxRetries": 0}}}
        async def handler(data, ctx):
            try:
                ctx.emit({"topic": "elsewhere", "data": 1})
            except Exception as exc:
                SEEN.append(("undeclared", type(exc).__name__, str(exc)))
    """,
    "steps/slow_step.py": """
        import asyncio
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "Slow", "subscribes": ["slow"],
                  "infrastructure": {"handler": {"timeout": 0.1}, "queue": {"maxRetries": 0}}}
        async def handler(data, ctx):
            await asyncio.sleep(5)
            SEEN.append(("slow finished",))
    """,
    "steps/sync_step.py": """
        import threading
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "Sync", "subscribes": ["sync"]}
        def handler(data, ctx):
            stored = ctx.state.set("sync", "k", {"thread": threading.current_thread().name})
            SEEN.append(("sync", stored, ctx.state.get("sync", "k")))
    """,
    "steps/badinput_step.py": """
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "BadInput", "subscribes": ["typed"],
                  "input": {"type": "object", "required": ["id"]}}
        async def handler(data, ctx):
            SEEN.append(("typed", data))
    """,
}


async def _run(
    tmp_path: Path, scenario: Callable[[Runtime, list[Any], io.StringIO], Awaitable[None]]
) -> None:
    write_project(tmp_path, STEPS)
    settings = load_settings(tmp_path, "start", environ={}, state_adapter="memory")
    logs = io.StringIO()
    runtime = Runtime.load(settings, sink=LogSink("debug", "json", stream=logs))
    await runtime.start()
    seen = sys.modules["steps.lib.record"].SEEN
    try:
        await scenario(runtime, seen, logs)
    finally:
        await runtime.stop()


def _event(topic: str, data: Any, trace: str = "t-1") -> Event:
    return Event(topic=topic, data=data, trace_id=trace)


async def test_forgotten_calls_still_happen(tmp_path: Path) -> None:
    async def scenario(runtime: Runtime, seen: list[Any], _: io.StringIO) -> None:
        await runtime.bus.publish([_event("forget", {"n": 1}, "trace-9")])
        await until(lambda: seen)
        assert seen == [("done", {"n": 1}, "trace-9")]
        assert await runtime.state.get("forgotten", "key") == {"n": 1}

    await _run(tmp_path, scenario)


async def test_failed_attempt_publishes_nothing_and_is_retried(tmp_path: Path) -> None:
    async def scenario(runtime: Runtime, seen: list[Any], logs: io.StringIO) -> None:
        await runtime.bus.publish([_event("flaky", {})])
        await until(lambda: ("done", {"attempt": 2}, "t-1") in seen, timeout=5)
        assert ("flaky", 1) in seen and ("flaky", 2) in seen
        # the emit of the failed first attempt never reached the subscriber
        assert [s for s in seen if s[0] == "done"] == [("done", {"attempt": 2}, "t-1")]
        assert "first attempt fails" in logs.getvalue()

    await _run(tmp_path, scenario)


async def test_undeclared_emit_raises_naming_step_and_topic(tmp_path: Path) -> None:
    async def scenario(runtime: Runtime, seen: list[Any], _: io.StringIO) -> None:
        await runtime.bus.publish([_event("undeclared", {})])
        await until(lambda: seen)
        kind, name, message = seen[0]
        assert (kind, name) == ("undeclared", "EmitNotDeclared")
        assert "'Undeclared'" in message and "'elsewhere'" in message

    await _run(tmp_path, scenario)


async def test_handler_timeout_fails_the_attempt(tmp_path: Path) -> None:
    async def scenario(runtime: Runtime, seen: list[Any], logs: io.StringIO) -> None:
        await runtime.bus.publish([_event("slow", {})])
        await until(lambda: "timeout of 0.1 s" in logs.getvalue())
        assert ("slow finished",) not in seen

    await _run(tmp_path, scenario)


async def test_sync_handler_runs_in_a_worker_thread_with_blocking_context(tmp_path: Path) -> None:
    async def scenario(runtime: Runtime, seen: list[Any], _: io.StringIO) -> None:
        await runtime.bus.publish([_event("sync", {})])
        await until(lambda: seen)
        kind, stored, read_back = seen[0]
        assert kind == "sync"
        assert stored["thread"].startswith("motia-step")
        assert read_back == stored

    await _run(tmp_path, scenario)


async def test_input_schema_violation_is_not_retried(tmp_path: Path) -> None:
    async def scenario(runtime: Runtime, seen: list[Any], logs: io.StringIO) -> None:
        await runtime.bus.publish([_event("typed", {"no": "id"}), _event("typed", {"id": "ok"})])
        await until(lambda: seen)
        await asyncio.sleep(0.05)
        assert seen == [("typed", {"id": "ok"})]
        lines = [jsoncodec.loads(line) for line in logs.getvalue().splitlines()]
        rejected = [line for line in lines if "input schema" in line["msg"]]
        assert rejected[0]["step"] == "BadInput"
        assert rejected[0]["errors"][0]["message"] == "'id' is a required property"

    await _run(tmp_path, scenario)


def test_cron_fire_times_with_and_without_seconds() -> None:
    start = datetime(2026, 1, 1, 10, 0, 7, tzinfo=UTC)
    assert next_fire_time("*/5 * * * *", start, "UTC") == datetime(2026, 1, 1, 10, 5, tzinfo=UTC)
    assert next_fire_time("*/10 * * * * *", start, "UTC") == datetime(
        2026, 1, 1, 10, 0, 10, tzinfo=UTC
    )
    berlin = next_fire_time("0 9 * * *", start, "Europe/Berlin")
    assert berlin.astimezone(UTC) == datetime(2026, 1, 2, 8, 0, tzinfo=UTC)


async def test_cron_never_fires_a_tick_twice_when_timers_wake_early(tmp_path: Path) -> None:
    """Timers may return a little before the deadline; each tick must still fire once."""
    from datetime import timedelta

    from motia.clock import Clock
    from motia.runtime.cron import CronScheduler

    class EarlyClock(Clock):
        def __init__(self) -> None:
            self.current = datetime(2026, 1, 1, tzinfo=UTC)

        def now(self) -> datetime:
            return self.current

        async def sleep(self, seconds: float) -> None:
            # wake one millisecond before the deadline, as real timers sometimes do
            self.current += timedelta(seconds=max(seconds, 0.0)) - timedelta(milliseconds=1)
            await asyncio.sleep(0)

    write_project(
        tmp_path,
        {
            "steps/tick_step.py": """
                TICKS = []
                config = {"type": "cron", "name": "Tick", "cron": "* * * * * *"}
                async def handler(ctx):
                    TICKS.append(ctx.trace_id)
            """
        },
    )

    settings = load_settings(tmp_path, "start", environ={}, state_adapter="memory")
    runtime = Runtime.load(settings, sink=LogSink("error", "json", stream=io.StringIO()))
    clock = EarlyClock()
    scheduler = CronScheduler(runtime.executor, clock, "UTC")
    scheduler.apply(runtime.project.steps)
    for _ in range(200):
        await asyncio.sleep(0)
    await scheduler.stop(1)
    ticks = sys.modules["steps.tick_step"].TICKS
    fired = sorted(scheduler.last_run.values())
    assert len(ticks) >= 5
    assert len(set(ticks)) == len(ticks)
    elapsed = clock.current - datetime(2026, 1, 1, tzinfo=UTC)
    # one tick per elapsed second at most: never two for the same second
    assert len(ticks) <= elapsed.total_seconds() + 1
    assert fired  # last_run is recorded


async def test_reload_lets_running_handlers_finish(tmp_path: Path) -> None:
    async def scenario(runtime: Runtime, seen: list[Any], logs: io.StringIO) -> None:
        (tmp_path / "steps" / "slow_step.py").write_text(
            "import asyncio\nfrom steps.lib.record import SEEN\n"
            'config = {"type": "event", "name": "Slow", "subscribes": ["slow"]}\n'
            "async def handler(data, ctx):\n"
            "    await asyncio.sleep(0.3)\n"
            "    SEEN.append(('slow finished',))\n"
        )
        assert await runtime.reload()
        seen = sys.modules["steps.lib.record"].SEEN
        await runtime.bus.publish([_event("slow", {})])
        await until(lambda: runtime.bus.in_flight() == 1)
        (tmp_path / "steps" / "slow_step.py").unlink()  # the step goes away mid-run
        assert await runtime.reload()
        await until(lambda: ("slow finished",) in seen, timeout=3)

    await _run(tmp_path, scenario)


async def test_a_lost_run_frees_its_slot_for_the_next_attempt(tmp_path: Path) -> None:
    """With concurrency 1, a run past visibilityTimeout must not keep the message from
    being delivered again."""
    write_project(
        tmp_path,
        {
            "steps/hang_step.py": """
                import asyncio
                STARTS = []
                config = {"type": "event", "name": "Hang", "subscribes": ["hang"],
                          "infrastructure": {"queue": {"concurrency": 1,
                                                       "visibilityTimeout": 0.3}}}
                async def handler(data, ctx):
                    STARTS.append(ctx.attempt)
                    if ctx.attempt == 1:
                        await asyncio.sleep(3)
            """
        },
    )

    settings = load_settings(
        tmp_path,
        "start",
        environ={},
        state_adapter="memory",
        queue_adapter="memory",
        queue_lease_seconds=0.3,
        queue_poll_interval=0.05,
    )
    runtime = Runtime.load(settings, sink=LogSink("error", "json", stream=io.StringIO()))
    await runtime.start()
    try:
        await runtime.bus.publish([_event("hang", {})])
        starts = sys.modules["steps.hang_step"].STARTS
        await until(lambda: starts == [1, 2], timeout=2.5)
    finally:
        runtime.settings = runtime.settings.with_overrides(shutdown_timeout=0.1)
        await runtime.stop()


async def test_running_a_cron_job_now_records_its_last_run(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/nightly_step.py": """
                config = {"type": "cron", "name": "Nightly", "cron": "0 3 * * *"}
                async def handler(ctx):
                    ctx.logger.info("nightly ran")
            """
        },
    )

    settings = load_settings(tmp_path, "start", environ={}, state_adapter="memory")
    logs = io.StringIO()
    runtime = Runtime.load(settings, sink=LogSink("info", "json", stream=logs))
    await runtime.start()
    try:
        assert "Nightly" not in runtime.cron.last_run
        trace_id = await runtime.cron.run_now(runtime.project.steps[0])
        assert runtime.cron.last_run["Nightly"] <= datetime.now(UTC)
        assert trace_id in logs.getvalue()
    finally:
        await runtime.stop()
