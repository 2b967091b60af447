"""One contract for every logs-and-traces store: memory, SQLite and Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from motia.adapters.observability.base import LogQuery, ObservabilityStore, Span
from motia.adapters.observability.memory import MemoryObservabilityStore
from motia.adapters.observability.sqlite import SqliteObservabilityStore
from motia.adapters.sqlite_database import SqliteDatabase
from tests.unit.redis_support import REDIS_URL

Factory = Callable[[Path], Coroutine[Any, Any, tuple[ObservabilityStore, Callable[[], Any]]]]


async def _memory(_: Path) -> tuple[ObservabilityStore, Callable[[], Any]]:
    return MemoryObservabilityStore(), lambda: None


async def _sqlite(tmp: Path) -> tuple[ObservabilityStore, Callable[[], Any]]:
    database = SqliteDatabase(tmp / "obs.db")
    return SqliteObservabilityStore(database), database.close


async def _redis(_: Path) -> tuple[ObservabilityStore, Callable[[], Any]]:
    redis = pytest.importorskip("redis.asyncio")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    from motia.adapters.observability.redis import RedisObservabilityStore

    prefix = f"test-{uuid.uuid4().hex}"

    async def cleanup() -> None:
        keys = [k async for k in client.scan_iter(f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()

    return RedisObservabilityStore(client, prefix, 3600), cleanup


STORES: dict[str, Factory] = {"memory": _memory, "sqlite": _sqlite, "redis": _redis}


Scenario = Callable[[ObservabilityStore], Coroutine[Any, Any, None]]


@pytest.fixture(params=sorted(STORES))
def run_with_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[Scenario], Coroutine[Any, Any, None]]:
    """Runs a scenario against a store of each kind, opened and closed on the test's loop."""

    async def run(scenario: Scenario) -> None:
        store, cleanup = await STORES[request.param](tmp_path)
        try:
            await scenario(store)
        finally:
            result = cleanup()
            if asyncio.iscoroutine(result):
                await result

    return run


def _span(trace: str, step: str, start: float, status: str = "ok", span_id: str = "") -> Span:
    return Span(
        id=span_id or f"{trace}-{step}-{start}",
        trace_id=trace,
        step=step,
        kind="event",
        started_at=start,
        ended_at=start + 0.5,
        status=status,
        trigger="topic t",
        error="RuntimeError: boom" if status != "ok" else None,
    )


def _log(time_ms: int, msg: str, trace: str, step: str, level: str = "info") -> dict[str, Any]:
    return {
        "time": time_ms,
        "level": level,
        "msg": msg,
        "traceId": trace,
        "step": step,
        "flows": ["f"],
    }


async def test_logs_are_queried_newest_first_with_filters(run_with_store: Any) -> None:
    async def scenario(store: ObservabilityStore) -> None:
        await store.write(
            [
                _log(1000, "first", "t1", "A"),
                _log(2000, "second", "t1", "B", "error"),
                _log(3000, "third needle", "t2", "A", "warn"),
            ],
            [],
        )
        everything = await store.logs(LogQuery())
        assert [r["msg"] for r in everything] == ["third needle", "second", "first"]
        assert [r["msg"] for r in await store.logs(LogQuery(trace_id="t1"))] == ["second", "first"]
        assert [r["msg"] for r in await store.logs(LogQuery(step="A"))] == ["third needle", "first"]
        levels = await store.logs(LogQuery(levels=("error", "warn")))
        assert [r["msg"] for r in levels] == ["third needle", "second"]
        assert [r["msg"] for r in await store.logs(LogQuery(search="needle"))] == ["third needle"]
        assert [r["msg"] for r in await store.logs(LogQuery(before=3000))] == ["second", "first"]
        assert len(await store.logs(LogQuery(limit=1))) == 1
        assert await store.logs(LogQuery(flow="other")) == []

    await run_with_store(scenario)


async def test_traces_summarise_their_spans(run_with_store: Any) -> None:
    async def scenario(store: ObservabilityStore) -> None:
        running = _span("t1", "Api", 10.0)
        running.status, running.ended_at = "running", None
        await store.write([], [running])
        await store.write([], [_span("t1", "Api", 10.0, span_id=running.id)])  # replaced
        await store.write(
            [], [_span("t1", "Worker", 10.2, "retrying"), _span("t1", "Worker", 11.0)]
        )
        await store.write([], [_span("t2", "Api", 20.0), _span("t2", "Worker", 20.1, "dead")])
        traces = await store.traces()
        assert [t.trace_id for t in traces] == ["t2", "t1"]
        assert (traces[0].status, traces[1].status) == ("failed", "ok")
        assert traces[1].spans == 3 and traces[1].errors == 1
        assert [t.trace_id for t in await store.traces(status="failed")] == ["t2"]
        assert [t.trace_id for t in await store.traces(step="Worker", limit=1)] == ["t2"]
        spans = await store.spans("t1")
        assert [s.step for s in spans] == ["Api", "Worker", "Worker"]
        assert spans[0].status == "ok"
        assert await store.spans("missing") == []

    await run_with_store(scenario)


async def test_prune_forgets_old_traces_and_logs(run_with_store: Any) -> None:
    async def scenario(store: ObservabilityStore) -> None:
        await store.write([_log(1_000, "old", "t1", "A"), _log(90_000, "new", "t2", "A")], [])
        await store.write([], [_span("t1", "A", 1.0), _span("t2", "A", 90.0)])
        await store.prune(older_than=50.0)
        assert [t.trace_id for t in await store.traces()] == ["t2"]
        assert [r["msg"] for r in await store.logs(LogQuery())] == ["new"]

    await run_with_store(scenario)
