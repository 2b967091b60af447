"""Delivery semantics through the real runtime, in-process, for every queue backend:
retries with backoff, dead letters and redrive, timeouts, lease expiry, FIFO groups,
delays, the concurrency cap, the outbox of a failed attempt, input schemas, fan-out and
graceful shutdown."""

from __future__ import annotations

import asyncio
import io
import itertools
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from motia.adapters.queue.base import DeadLetter, DeadLetterFilter
from motia.logs import LogSink
from motia.runtime.events import Event
from motia.runtime.runtime import Runtime
from motia.settings import Settings, load_settings
from tests.conftest import until, write_project
from tests.unit import backend_support, postgres_support, redis_support

LEASE_SECONDS = 0.3
FAST = '"backoff": {"delay": 0.01, "jitter": False}'

STEPS: dict[str, str] = {
    "steps/__init__.py": "",
    "steps/lib/__init__.py": "",
    "steps/lib/record.py": """
        import time

        SEEN = []            # what handlers did, in order
        CONTROL = {}         # switches a test flips while the runtime runs
        RUNNING = {"now": 0, "max": 0}

        def now():
            return time.monotonic()
    """,
    "steps/flaky_step.py": f"""
        from steps.lib.record import SEEN
        config = {{"type": "event", "name": "Flaky", "subscribes": ["flaky"],
                  "emits": ["flaky.done"],
                  "infrastructure": {{"queue": {{"maxRetries": 3, {FAST}}}}}}}
        async def handler(data, ctx):
            SEEN.append(("flaky", ctx.attempt, ctx.event_id))
            await ctx.emit({{"topic": "flaky.done", "data": {{"attempt": ctx.attempt}}}})
            if ctx.attempt < 3:
                raise RuntimeError(f"attempt {{ctx.attempt}} fails")
    """,
    "steps/flaky_done_step.py": """
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "FlakyDone", "subscribes": ["flaky.done"]}
        async def handler(data, ctx):
            SEEN.append(("flaky.done", data, ctx.trace_id))
    """,
    "steps/doomed_step.py": f"""
        from steps.lib.record import CONTROL, SEEN
        config = {{"type": "event", "name": "Doomed", "subscribes": ["doomed"],
                  "infrastructure": {{"queue": {{"maxRetries": 1, {FAST}}}}}}}
        async def handler(data, ctx):
            failing = CONTROL.get("doomed fails", True)
            SEEN.append(("doomed", ctx.attempt, ctx.event_id, failing))
            if failing:
                raise ValueError(f"doomed attempt {{ctx.attempt}}")
    """,
    "steps/thrice_step.py": f"""
        from steps.lib.record import SEEN
        config = {{"type": "event", "name": "Thrice", "subscribes": ["thrice"],
                  "infrastructure": {{"queue": {{"maxRetries": 2, {FAST}}}}}}}
        async def handler(data, ctx):
            SEEN.append(("thrice", ctx.attempt))
            raise RuntimeError("always")
    """,
    "steps/sleepy_step.py": """
        import asyncio
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "Sleepy", "subscribes": ["sleepy"],
                  "infrastructure": {"handler": {"timeout": 0.1},
                                     "queue": {"maxRetries": 0}}}
        async def handler(data, ctx):
            SEEN.append(("sleepy", "start", ctx.attempt))
            await asyncio.sleep(5)
            SEEN.append(("sleepy", "end", ctx.attempt))
    """,
    "steps/hanger_step.py": f"""
        import asyncio
        from steps.lib.record import SEEN
        config = {{"type": "event", "name": "Hanger", "subscribes": ["hanger"],
                  "emits": ["hanger.done"],
                  "infrastructure": {{"queue": {{"visibilityTimeout": 0.3, {FAST}}}}}}}
        async def handler(data, ctx):
            SEEN.append(("hanger", "start", ctx.attempt))
            await ctx.emit({{"topic": "hanger.done", "data": {{"attempt": ctx.attempt}}}})
            if ctx.attempt == 1:
                # hang well past visibilityTimeout, until the next attempt has finished
                for _ in range(1000):
                    if ("hanger", "end", 2) in SEEN:
                        break
                    await asyncio.sleep(0.01)
            SEEN.append(("hanger", "end", ctx.attempt))
    """,
    "steps/hanger_done_step.py": """
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "HangerDone", "subscribes": ["hanger.done"]}
        async def handler(data, ctx):
            SEEN.append(("hanger.done", data))
    """,
    "steps/overlap_step.py": f"""
        import asyncio
        from steps.lib.record import SEEN
        config = {{"type": "event", "name": "Overlap", "subscribes": ["overlap"],
                  "emits": ["overlap.done"],
                  "infrastructure": {{"queue": {{"visibilityTimeout": 1.0, {FAST}}}}}}}
        async def handler(data, ctx):
            SEEN.append(("overlap", "start", ctx.attempt))
            if ctx.attempt == 1:
                # lost: hang past visibilityTimeout until the next attempt runs, then return
                for _ in range(1000):
                    if ("overlap", "start", 2) in SEEN:
                        break
                    await asyncio.sleep(0.01)
            else:
                await asyncio.sleep(0.8)  # healthy: shorter than visibilityTimeout
            await ctx.emit({{"topic": "overlap.done", "data": {{"attempt": ctx.attempt}}}})
            SEEN.append(("overlap", "end", ctx.attempt))
    """,
    "steps/overlap_done_step.py": """
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "OverlapDone", "subscribes": ["overlap.done"]}
        async def handler(data, ctx):
            SEEN.append(("overlap.done", data))
    """,
    "steps/ordered_step.py": """
        import asyncio
        from steps.lib.record import SEEN, now
        config = {"type": "event", "name": "Ordered", "subscribes": ["ordered"],
                  "infrastructure": {"queue": {"type": "fifo"}}}
        async def handler(data, ctx):
            SEEN.append(("ordered", data["group"], data["n"], "start", now()))
            await asyncio.sleep(0.05)
            SEEN.append(("ordered", data["group"], data["n"], "end", now()))
    """,
    "steps/stubborn_step.py": """
        import asyncio
        from steps.lib.record import SEEN, now
        config = {"type": "event", "name": "Stubborn", "subscribes": ["stubborn"],
                  "infrastructure": {"queue": {"type": "fifo", "maxRetries": 5,
                      "backoff": {"type": "fixed", "delay": 0.1, "jitter": False}}}}
        async def handler(data, ctx):
            name = data["name"]
            if name == "S1" and ctx.attempt < 3:
                SEEN.append(("stubborn", name, ctx.attempt, "fail", now()))
                raise RuntimeError("head of group fails")
            SEEN.append(("stubborn", name, ctx.attempt, "ok", now()))
    """,
    "steps/later_step.py": """
        import time
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "Later", "subscribes": ["later"],
                  "infrastructure": {"queue": {"delaySeconds": 0.3}}}
        async def handler(data, ctx):
            SEEN.append(("later", time.time()))
    """,
    "steps/capped_step.py": """
        import asyncio
        from steps.lib.record import RUNNING, SEEN
        config = {"type": "event", "name": "Capped", "subscribes": ["capped"],
                  "infrastructure": {"queue": {"concurrency": 2}}}
        async def handler(data, ctx):
            RUNNING["now"] += 1
            RUNNING["max"] = max(RUNNING["max"], RUNNING["now"])
            try:
                await asyncio.sleep(0.05)
            finally:
                RUNNING["now"] -= 1
            SEEN.append(("capped", data["n"]))
    """,
    "steps/bulk_step.py": """
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "Bulk", "subscribes": ["bulk"],
                  "infrastructure": {"queue": {"concurrency": 10}}}
        async def handler(data, ctx):
            SEEN.append(("bulk", data["n"], ctx.attempt))
    """,
    "steps/typed_step.py": """
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "Typed", "subscribes": ["typed"],
                  "input": {"type": "object", "required": ["id"]},
                  "infrastructure": {"queue": {"maxRetries": 3}}}
        async def handler(data, ctx):
            SEEN.append(("typed", data, ctx.attempt))
    """,
    "steps/fan_good_step.py": """
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "FanGood", "subscribes": ["fan"]}
        async def handler(data, ctx):
            data["touched by"] = "FanGood"  # must not leak into the other copy
            SEEN.append(("fan good", data, ctx.event_id, ctx.attempt))
    """,
    "steps/fan_bad_step.py": """
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "FanBad", "subscribes": ["fan"],
                  "infrastructure": {"queue": {"maxRetries": 0}}}
        async def handler(data, ctx):
            SEEN.append(("fan bad", dict(data), ctx.event_id, ctx.attempt))
            raise RuntimeError("FanBad fails")
    """,
    "steps/weird_emit_step.py": """
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "WeirdEmit", "subscribes": ["weird"],
                  "emits": ["weird.out"], "infrastructure": {"queue": {"maxRetries": 0}}}
        async def handler(data, ctx):
            SEEN.append(("weird", ctx.attempt))
            await ctx.emit({"topic": "weird.out", "data": {"value": 1 + 2j}})
    """,
    "steps/weird_out_step.py": """
        from steps.lib.record import SEEN
        config = {"type": "event", "name": "WeirdOut", "subscribes": ["weird.out"]}
        async def handler(data, ctx):
            SEEN.append(("weird.out", data))
    """,
    "steps/stuck_step.py": """
        import asyncio
        from pathlib import Path
        RUNS = Path(__file__).resolve().parent.parent / "stuck-runs.txt"
        config = {"type": "event", "name": "Stuck", "subscribes": ["stuck"]}
        async def handler(data, ctx):
            earlier = RUNS.read_text().splitlines() if RUNS.exists() else []
            with RUNS.open("a") as f:
                f.write(f"start {ctx.attempt} {ctx.event_id}\\n")
            if not earlier:
                await asyncio.sleep(30)  # the first run outlasts the shutdown bound
            with RUNS.open("a") as f:
                f.write(f"end {ctx.attempt} {ctx.event_id}\\n")
    """,
}

BACKENDS = backend_support.NAMES  # every backend of the table

Scenario = Callable[[Runtime, ModuleType, io.StringIO], Awaitable[None]]


def _settings(project: Path, backend: str, **overrides: Any) -> Settings:
    if backend == "redis":  # the test's own key prefix; streams follow the Redis URL
        overrides.setdefault("redis_url", redis_support.REDIS_URL)
        overrides.setdefault("redis_prefix", redis_support.prefix_for(project))
    if backend == "postgres":  # the test's own schema; streams follow state
        overrides.setdefault("database_url", postgres_support.DATABASE_URL)
        overrides.setdefault("database_schema", postgres_support.schema_for(project))
    return load_settings(
        project,
        "start",
        environ={},
        state_adapter=backend,
        queue_adapter=backend,
        queue_lease_seconds=LEASE_SECONDS,
        queue_poll_interval=0.05,
        shutdown_timeout=overrides.pop("shutdown_timeout", 1.0),
        **overrides,
    )


async def _run(project: Path, backend: str, scenario: Scenario) -> None:
    write_project(project, STEPS)
    logs = io.StringIO()
    runtime = Runtime.load(_settings(project, backend), sink=LogSink("debug", "json", stream=logs))
    await runtime.start()
    record = sys.modules["steps.lib.record"]
    try:
        await scenario(runtime, record, logs)
    finally:
        await runtime.stop()


async def dead_letters_of(runtime: Runtime, step: str) -> list[DeadLetter]:
    return await runtime.queue.dead_letters(DeadLetterFilter(subscriber=step))


async def until_dead(runtime: Runtime, step: str, timeout: float = 5) -> DeadLetter:
    letters = await until(
        lambda: dead_letters_of(runtime, step), timeout, what=f"a dead letter for {step}"
    )
    assert len(letters) == 1, letters
    return letters[0]


async def until_idle(runtime: Runtime, step: str, timeout: float = 5) -> None:
    """Until the step has nothing waiting or running."""

    async def idle() -> bool:
        stats = await runtime.queue.stats(step)
        return stats.waiting == 0 and stats.in_flight == 0

    await until(idle, timeout, what=f"{step} idle")


def event(topic: str, data: Any, trace: str = "t-1", group: str | None = None) -> Event:
    return Event(topic=topic, data=data, trace_id=trace, message_group_id=group)


def of(seen: list[Any], kind: str) -> list[Any]:
    return [s for s in seen if s[0] == kind]


def log_lines(logs: io.StringIO) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in logs.getvalue().splitlines() if line.strip()]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    backend_support.require(request.param)
    yield str(request.param)
    backend_support.cleanup(tmp_path)


# --- retries and dead letters ------------------------------------------------------------


async def test_retry_then_success_with_stable_event_id(tmp_path: Path, backend: str) -> None:
    async def scenario(runtime: Runtime, record: ModuleType, logs: io.StringIO) -> None:
        published = event("flaky", {"x": 1}, trace="trace-flaky")
        await runtime.bus.publish([published])
        await until(lambda: of(record.SEEN, "flaky.done"), what="flaky succeeds")
        runs = of(record.SEEN, "flaky")
        assert [attempt for _, attempt, _ in runs] == [1, 2, 3]
        assert {event_id for _, _, event_id in runs} == {published.id}
        assert "attempt 1 fails" in logs.getvalue()
        assert await dead_letters_of(runtime, "Flaky") == []

    await _run(tmp_path, backend, scenario)


async def test_failed_attempts_publish_none_of_their_emits(tmp_path: Path, backend: str) -> None:
    async def scenario(runtime: Runtime, record: ModuleType, _: io.StringIO) -> None:
        await runtime.bus.publish([event("flaky", {}, trace="t-out")])
        await until(lambda: of(record.SEEN, "flaky.done"), what="downstream runs")
        await until_idle(runtime, "Flaky")
        await until_idle(runtime, "FlakyDone")
        # attempts 1 and 2 emitted before failing; only attempt 3's emit was published
        assert of(record.SEEN, "flaky.done") == [("flaky.done", {"attempt": 3}, "t-out")]

    await _run(tmp_path, backend, scenario)


async def test_exhausted_retries_dead_letter_then_redrive_succeeds(
    tmp_path: Path, backend: str
) -> None:
    async def scenario(runtime: Runtime, record: ModuleType, _: io.StringIO) -> None:
        published = event("doomed", {"order": 7}, trace="t-doomed")
        await runtime.bus.publish([published])
        dead = await until_dead(runtime, "Doomed")
        assert [s[1] for s in of(record.SEEN, "doomed")] == [1, 2]  # maxRetries 1
        assert dead.attempts == 2
        assert dead.error == "ValueError: doomed attempt 2"
        assert dead.stack is not None
        assert "Traceback" in dead.stack and "doomed attempt 2" in dead.stack
        assert "doomed_step.py" in dead.stack
        assert dead.reason == "handler failed"
        assert (dead.topic, dead.data, dead.trace_id) == ("doomed", {"order": 7}, "t-doomed")
        assert dead.event_id == published.id
        await until_idle(runtime, "Doomed")
        assert (await runtime.queue.stats("Doomed")).dead == 1

        record.CONTROL["doomed fails"] = False
        assert await runtime.queue.redrive(DeadLetterFilter(subscriber="Doomed")) == 1
        runtime.bus.notify_all()  # as the redrive endpoint does
        await until(lambda: any(not s[3] for s in of(record.SEEN, "doomed")), what="redriven run")
        redriven = of(record.SEEN, "doomed")[-1]
        assert redriven == ("doomed", 1, published.id, False)  # a fresh attempt count
        await until_idle(runtime, "Doomed")
        assert await dead_letters_of(runtime, "Doomed") == []
        assert len(of(record.SEEN, "doomed")) == 3

    await _run(tmp_path, backend, scenario)


async def test_max_retries_counts_retries_not_runs(tmp_path: Path, backend: str) -> None:
    async def scenario(runtime: Runtime, record: ModuleType, _: io.StringIO) -> None:
        await runtime.bus.publish([event("thrice", {})])
        dead = await until_dead(runtime, "Thrice")
        await until_idle(runtime, "Thrice")
        assert of(record.SEEN, "thrice") == [("thrice", 1), ("thrice", 2), ("thrice", 3)]
        assert dead.attempts == 3

    await _run(tmp_path, backend, scenario)


async def test_handler_timeout_fails_the_attempt(tmp_path: Path, backend: str) -> None:
    async def scenario(runtime: Runtime, record: ModuleType, _: io.StringIO) -> None:
        started = time.monotonic()
        await runtime.bus.publish([event("sleepy", {})])
        dead = await until_dead(runtime, "Sleepy", timeout=3)
        assert time.monotonic() - started < 3  # not the 5 s the handler wanted
        assert dead.error.startswith("HandlerTimeout")
        assert "timeout of 0.1 s" in dead.error
        assert dead.attempts == 1
        assert of(record.SEEN, "sleepy") == [("sleepy", "start", 1)]  # never finished

    await _run(tmp_path, backend, scenario)


async def test_input_schema_violation_goes_straight_to_dead_letters(
    tmp_path: Path, backend: str
) -> None:
    async def scenario(runtime: Runtime, record: ModuleType, _: io.StringIO) -> None:
        await runtime.bus.publish([event("typed", {"no": "id"}), event("typed", {"id": "ok"})])
        dead = await until_dead(runtime, "Typed")
        await until(lambda: of(record.SEEN, "typed"), what="the valid event runs")
        await until_idle(runtime, "Typed")
        assert dead.reason == "invalid input"
        assert dead.attempts == 1  # maxRetries 3, but no retries
        assert dead.data == {"no": "id"}
        assert "'id' is a required property" in dead.error
        assert of(record.SEEN, "typed") == [("typed", {"id": "ok"}, 1)]

    await _run(tmp_path, backend, scenario)


async def test_unserialisable_emit_fails_the_attempt_and_is_not_lost(
    tmp_path: Path, backend: str
) -> None:
    """A handler that emits data that cannot be stored has failed: the message must end
    in the dead-letter queue (maxRetries 0) with an error that says why."""

    async def scenario(runtime: Runtime, record: ModuleType, _: io.StringIO) -> None:
        await runtime.bus.publish([event("weird", {})])
        await until(lambda: of(record.SEEN, "weird"), what="the handler runs")
        dead = await until_dead(runtime, "WeirdEmit", timeout=3)
        assert "serializ" in dead.error.lower(), dead.error
        assert dead.attempts == 1
        assert of(record.SEEN, "weird.out") == []

    await _run(tmp_path, backend, scenario)


# --- leases ------------------------------------------------------------------------------


async def test_expired_lease_redelivers_and_drops_late_emits(tmp_path: Path, backend: str) -> None:
    async def scenario(runtime: Runtime, record: ModuleType, logs: io.StringIO) -> None:
        await runtime.bus.publish([event("hanger", {})])
        await until(lambda: ("hanger", "end", 1) in record.SEEN, timeout=8, what="attempt 1")
        runs = of(record.SEEN, "hanger")
        # the second attempt started and finished while the first still hung
        assert runs.index(("hanger", "start", 2)) < runs.index(("hanger", "end", 1))
        assert runs.index(("hanger", "end", 2)) < runs.index(("hanger", "end", 1))
        await until(
            lambda: "finished after its lease was lost" in logs.getvalue(),
            what="the late completion is refused",
        )
        await until_idle(runtime, "Hanger")
        await until_idle(runtime, "HangerDone")
        assert of(record.SEEN, "hanger.done") == [("hanger.done", {"attempt": 2})]
        assert ("hanger", "start", 3) not in record.SEEN

    await _run(tmp_path, backend, scenario)


async def test_redelivered_attempt_keeps_its_lease_after_the_lost_one_returns(
    tmp_path: Path, backend: str
) -> None:
    """Attempt 1 is lost (past visibilityTimeout) and returns while attempt 2, which is
    healthy, still runs: attempt 2's lease must still be renewed, so no attempt 3."""

    async def scenario(runtime: Runtime, record: ModuleType, _: io.StringIO) -> None:
        await runtime.bus.publish([event("overlap", {})])
        await until(
            lambda: of(record.SEEN, "overlap.done") or ("overlap", "start", 3) in record.SEEN,
            timeout=8,
            what=lambda: f"downstream: {record.SEEN}",
        )
        assert ("overlap", "start", 3) not in record.SEEN, record.SEEN
        await until_idle(runtime, "Overlap")
        await until_idle(runtime, "OverlapDone")
        runs = of(record.SEEN, "overlap")
        assert ("overlap", "start", 3) not in runs, runs
        assert of(record.SEEN, "overlap.done") == [("overlap.done", {"attempt": 2})]

    await _run(tmp_path, backend, scenario)


# --- FIFO --------------------------------------------------------------------------------


def _intervals(seen: list[Any], group: str) -> list[tuple[int, float, float]]:
    starts = {s[2]: s[4] for s in seen if s[0] == "ordered" and s[1] == group and s[3] == "start"}
    ends = {s[2]: s[4] for s in seen if s[0] == "ordered" and s[1] == group and s[3] == "end"}
    return sorted(((n, starts[n], ends[n]) for n in starts), key=lambda item: item[1])


async def test_fifo_groups_in_order_one_at_a_time_and_in_parallel(
    tmp_path: Path, backend: str
) -> None:
    async def scenario(runtime: Runtime, record: ModuleType, _: io.StringIO) -> None:
        events = [
            event("ordered", {"group": group, "n": n}, group=group)
            for n in range(1, 5)
            for group in ("A", "B")
        ]
        await runtime.bus.publish(events)
        await until(
            lambda: len([s for s in of(record.SEEN, "ordered") if s[3] == "end"]) == 8,
            what="all handled",
        )
        by_group = {g: _intervals(record.SEEN, g) for g in ("A", "B")}
        for group, intervals in by_group.items():
            assert [n for n, _, _ in intervals] == [1, 2, 3, 4], (group, intervals)
            for (_, _, end), (_, start, _) in itertools.pairwise(intervals):
                assert start >= end, f"group {group} ran two at once: {intervals}"
        overlapping = [
            (a, b) for a in by_group["A"] for b in by_group["B"] if a[1] < b[2] and b[1] < a[2]
        ]
        assert overlapping, f"groups A and B never ran at the same time: {by_group}"

    await _run(tmp_path, backend, scenario)


async def test_fifo_failing_head_blocks_only_its_group(tmp_path: Path, backend: str) -> None:
    async def scenario(runtime: Runtime, record: ModuleType, _: io.StringIO) -> None:
        await runtime.bus.publish(
            [
                event("stubborn", {"name": "S1"}, group="S"),
                event("stubborn", {"name": "S2"}, group="S"),
                event("stubborn", {"name": "T1"}, group="T"),
            ]
        )
        await until(lambda: any(s[1] == "S2" for s in of(record.SEEN, "stubborn")), what="S2 runs")
        await until_idle(runtime, "Stubborn")
        runs = [
            (name, attempt, outcome) for _, name, attempt, outcome, _ in of(record.SEEN, "stubborn")
        ]
        group_s = [r for r in runs if r[0] != "T1"]
        assert group_s == [
            ("S1", 1, "fail"),
            ("S1", 2, "fail"),
            ("S1", 3, "ok"),
            ("S2", 1, "ok"),
        ]
        times = {(s[1], s[2]): s[4] for s in of(record.SEEN, "stubborn")}
        # group T was not held up by group S's retries (backoff 0.1 s, twice)
        assert times[("T1", 1)] < times[("S1", 3)]
        assert ("T1", 1, "ok") in runs

    await _run(tmp_path, backend, scenario)


# --- delays and concurrency --------------------------------------------------------------


async def test_delay_seconds_delays_delivery(tmp_path: Path, backend: str) -> None:
    async def scenario(runtime: Runtime, record: ModuleType, _: io.StringIO) -> None:
        published_at = time.time()
        await runtime.bus.publish([event("later", {})])
        stats = await runtime.queue.stats("Later")
        assert (stats.waiting, stats.delayed) == (1, 1)
        await until(lambda: of(record.SEEN, "later"), what="the delayed event runs")
        [(_, ran_at)] = of(record.SEEN, "later")
        assert ran_at - published_at >= 0.3 - 1e-3

    await _run(tmp_path, backend, scenario)


async def test_concurrency_cap_is_held(tmp_path: Path, backend: str) -> None:
    async def scenario(runtime: Runtime, record: ModuleType, _: io.StringIO) -> None:
        await runtime.bus.publish([event("capped", {"n": n}) for n in range(6)])
        await until(lambda: len(of(record.SEEN, "capped")) == 6, what="all six run")
        assert record.RUNNING["max"] == 2
        assert sorted(s[1] for s in of(record.SEEN, "capped")) == list(range(6))

    await _run(tmp_path, backend, scenario)


async def test_a_burst_is_leased_in_batches_without_polling_per_event(
    tmp_path: Path, backend: str
) -> None:
    """The worker leases up to its free slots per call, and a short lease tells it when to
    look next: a burst costs a few store calls, not a few per event."""

    async def scenario(runtime: Runtime, record: ModuleType, _: io.StringIO) -> None:
        queue = runtime.queue
        calls = {"lease_and_peek": 0, "next_visible_at": 0}
        for name in calls:
            original = getattr(queue, name)

            async def counted(*args: Any, _name: str = name, _original: Any = original) -> Any:
                calls[_name] += args[0] == "Bulk"
                return await _original(*args)

            setattr(queue, name, counted)
        await runtime.bus.publish([event("bulk", {"n": n}) for n in range(100)])
        await until(lambda: len(of(record.SEEN, "bulk")) == 100, what="all hundred run")
        assert sorted(s[1] for s in of(record.SEEN, "bulk")) == list(range(100))
        assert all(s[2] == 1 for s in of(record.SEEN, "bulk"))
        # 10 full leases of 10, plus a few idle polls (every 0.05 s) and short leases
        assert calls["lease_and_peek"] < 40, calls
        if backend == "redis":  # its lease answers when to look next in the same call
            assert calls["next_visible_at"] == 0, calls

    await _run(tmp_path, backend, scenario)


# --- fan-out -----------------------------------------------------------------------------


async def test_fan_out_each_subscriber_gets_its_own_copy(tmp_path: Path, backend: str) -> None:
    async def scenario(runtime: Runtime, record: ModuleType, _: io.StringIO) -> None:
        published = event("fan", {"v": 1})
        assert await runtime.bus.publish([published]) == 2
        dead = await until_dead(runtime, "FanBad")
        await until(lambda: of(record.SEEN, "fan good"), what="FanGood runs")
        await until_idle(runtime, "FanGood")
        assert of(record.SEEN, "fan good") == [
            ("fan good", {"v": 1, "touched by": "FanGood"}, published.id, 1)
        ]
        assert of(record.SEEN, "fan bad") == [("fan bad", {"v": 1}, published.id, 1)]
        assert (dead.event_id, dead.subscriber, dead.data) == (published.id, "FanBad", {"v": 1})
        assert await dead_letters_of(runtime, "FanGood") == []

    await _run(tmp_path, backend, scenario)


# --- shutdown ----------------------------------------------------------------------------


def test_stop_releases_running_message_and_next_start_runs_it_again(tmp_path: Path) -> None:
    write_project(tmp_path, STEPS)
    runs = tmp_path / "stuck-runs.txt"

    def lines() -> list[str]:
        return runs.read_text().splitlines() if runs.exists() else []

    async def first() -> None:
        runtime = Runtime.load(
            _settings(tmp_path, "sqlite", shutdown_timeout=0.2),
            sink=LogSink("debug", "json", stream=io.StringIO()),
        )
        await runtime.start()
        try:
            await runtime.bus.publish([event("stuck", {"k": 1})])
            await until(lambda: lines(), what="the first run starts")
        finally:
            started = time.monotonic()
            await runtime.stop()
            assert time.monotonic() - started < 5  # the shutdown bound, not the 30 s hang

    async def second() -> None:
        runtime = Runtime.load(
            _settings(tmp_path, "sqlite"), sink=LogSink("debug", "json", stream=io.StringIO())
        )
        await runtime.start()
        try:
            await until(lambda: len(lines()) >= 3, what="the released message runs again")
            await until_idle(runtime, "Stuck")
        finally:
            await runtime.stop()

    asyncio.run(first())
    [first_start] = lines()
    assert first_start.startswith("start 1 ")
    asyncio.run(second())
    event_id = first_start.split()[2]
    # released, not failed: the attempt did not count, and the first run never ended
    assert lines() == [f"start 1 {event_id}", f"start 1 {event_id}", f"end 1 {event_id}"]
