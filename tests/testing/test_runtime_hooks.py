"""The runtime's public run hooks and its exact count of work left (`pending`, `join`),
which the recorder and the test kit are built on."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from motia.adapters.queue.base import Failure
from motia.logs import LogSink
from motia.runtime.events import Event, parse_emit
from motia.runtime.hooks import Run, RunEnd, RunHooks
from motia.runtime.runtime import Runtime
from motia.settings import load_settings
from motia.testing import create_tester
from tests.conftest import write_project

STEPS = {
    "steps/hello_step.py": """
        config = {"type": "api", "name": "Hello", "method": "POST", "path": "/hello",
                  "emits": ["work"]}
        async def handler(req, ctx):
            await ctx.emit({"topic": "work", "data": req["body"]})
            return {"status": 200, "body": {"ok": True}}
    """,
    "steps/fine_step.py": """
        config = {"type": "event", "name": "Fine", "subscribes": ["work"]}
        async def handler(data, ctx):
            await ctx.state.set("fine", "last", data)
    """,
    "steps/failing_step.py": """
        config = {"type": "event", "name": "Failing", "subscribes": ["work"],
                  "infrastructure": {"queue": {"maxRetries": 1,
                      "backoff": {"type": "fixed", "delay": 0.05, "jitter": False}}}}
        async def handler(data, ctx):
            raise ValueError(f"attempt {ctx.attempt} fails")
    """,
    "steps/later_step.py": """
        config = {"type": "event", "name": "Later", "subscribes": ["later"],
                  "infrastructure": {"queue": {"delaySeconds": 0.2}}}
        async def handler(data, ctx):
            await ctx.state.set("later", "ran", True)
    """,
    "steps/tick_step.py": """
        config = {"type": "cron", "name": "Tick", "cron": "* * * * *"}
        async def handler(ctx):
            raise RuntimeError("tick fails")
    """,
    "steps/bad_input_step.py": """
        config = {"type": "event", "name": "Strict", "subscribes": ["strict"],
                  "input": {"type": "object", "required": ["id"]}}
        async def handler(data, ctx):
            pass
    """,
}


class Journal(RunHooks):
    """Writes down every hook call as a short line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.errors: list[BaseException] = []

    def run_started(self, run: Run) -> None:
        self.lines.append(f"start {run.kind} {run.step.name} #{run.attempt}")

    def run_failed(self, run: Run, error: BaseException) -> None:
        self.errors.append(error)
        self.lines.append(f"failed {run.step.name} #{run.attempt}: {error}")

    def run_retrying(self, run: Run, delay: float, failure: Failure) -> None:
        self.lines.append(f"retry {run.step.name} #{run.attempt} in {delay:g}")

    def run_dead_lettered(self, run: Run, failure: Failure) -> None:
        self.lines.append(f"dead {run.step.name} #{run.attempt}: {failure.reason}")

    def run_ended(self, run: Run, end: RunEnd) -> None:
        self.lines.append(f"end {run.step.name} #{run.attempt} {end.status} {end.emits}")


async def test_hooks_hear_each_run_from_start_to_end(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", STEPS)

    async with create_tester(project) as tester:
        journal = Journal()
        stop = tester.runtime.add_hooks(journal)
        response = await tester.post("/hello", json={"n": 1})
        assert response.status_code == 200
        await tester.wait_until_idle(raise_errors=False)
        lines = journal.lines
        assert lines[:2] == ["start api Hello #1", "end Hello #1 ok ['work']"]
        assert "start event Fine #1" in lines and "end Fine #1 ok []" in lines
        failing = [line for line in lines if "Failing" in line]
        assert failing == [
            "start event Failing #1",
            "failed Failing #1: attempt 1 fails",
            "retry Failing #1 in 0.05",
            "end Failing #1 retrying []",
            "start event Failing #2",
            "failed Failing #2: attempt 2 fails",
            "dead Failing #2: handler failed",
            "end Failing #2 dead []",
        ]
        assert all(isinstance(error, ValueError) for error in journal.errors)

        journal.lines.clear()
        await tester.emit({"topic": "strict", "data": {"no": "id"}})
        await tester.wait_until_idle(raise_errors=False)
        assert journal.lines == [
            "start event Strict #1",
            "dead Strict #1: invalid input",
            "end Strict #1 dead []",
        ]

        journal.lines.clear()
        with pytest.raises(RuntimeError, match="tick fails"):
            await tester.run_cron("Tick")
        assert journal.lines == [
            "start cron Tick #1",
            "failed Tick #1: tick fails",
            "end Tick #1 failed []",
        ]

        stop()
        journal.lines.clear()
        await tester.post("/hello", json={"n": 2})
        await tester.wait_until_idle(raise_errors=False)
        assert journal.lines == []


async def test_a_hook_that_raises_is_logged_and_changes_nothing(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", STEPS)

    class Broken(RunHooks):
        def run_ended(self, run: Run, end: RunEnd) -> None:
            raise KeyError("oops")

    async with create_tester(project) as tester:
        tester.runtime.add_hooks(Broken())
        await tester.emit({"topic": "strict", "data": {"id": "a"}})
        await tester.wait_until_idle()
        assert await tester.dead_letters() == []
        errors = [r["msg"] for r in tester.logs if r["level"] == "error"]
        assert "run hook Broken.run_ended failed: KeyError: 'oops'" in errors


def memory_runtime(project: Path, **overrides: float) -> Runtime:
    """A `motia start` runtime of `project` on the memory stores, its logs discarded."""
    settings = load_settings(
        project,
        "start",
        environ={},
        state_adapter="memory",
        queue_adapter="memory",
        streams_adapter="memory",
        **overrides,
    )
    return Runtime.load(settings, sink=LogSink("error", "json", stream=io.StringIO()))


async def test_pending_counts_the_work_left_and_join_waits_for_it(tmp_path: Path) -> None:
    """On the real clock: join() returns once the delayed message ran, not before."""
    project = write_project(tmp_path / "p", STEPS)

    runtime = memory_runtime(project, queue_poll_interval=0.05)
    await runtime.start()
    try:
        # Cron jobs count until their timer is set; then nothing is left.
        assert (await runtime.join(timeout=5)).total == 0
        await runtime.bus.publish(_events("later"))
        pending = await runtime.pending()
        assert (pending.delayed, pending.ready, pending.handlers) == (1, 0, 0)
        assert pending.total == 1
        assert pending.next_due_at is not None
        assert pending.next_due_at > runtime.clock.time()
        assert "Later: 1 waiting (1 delayed)" in pending.describe()

        # Nothing can move before the delay is over.
        assert (await runtime.join(timeout=5, delayed=False)).delayed == 1
        assert await runtime.state.get("later", "ran") is None

        final = await runtime.join(timeout=5)
        assert final.total == 0
        assert await runtime.state.get("later", "ran") is True
    finally:
        await runtime.stop()


async def test_join_names_what_is_left_when_time_runs_out(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "p",
        {
            "steps/stuck_step.py": """
                import asyncio
                config = {"type": "event", "name": "Stuck", "subscribes": ["stuck"]}
                async def handler(data, ctx):
                    await asyncio.sleep(30)
            """
        },
    )

    runtime = memory_runtime(project, shutdown_timeout=0.1)
    await runtime.start()
    try:
        await runtime.bus.publish(_events("stuck"))
        with pytest.raises(TimeoutError, match=r"still pending: Stuck: 0 waiting"):
            await runtime.join(timeout=0.3)
        pending = await runtime.pending()
        assert (pending.handlers, pending.leased) == (1, 1)
    finally:
        await runtime.stop()


def _events(topic: str) -> list[Event]:
    return [parse_emit({"topic": topic, "data": {}}, "trace-1", [])]
