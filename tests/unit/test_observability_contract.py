"""One contract for every logs-and-traces store: memory, SQLite and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from motia.adapters.observability.base import LogQuery, ObservabilityStore, Span
from tests.unit import backend_support

OpenStore = Callable[[], AbstractAsyncContextManager[ObservabilityStore]]


@pytest.fixture(params=backend_support.NAMES)
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """`async with open_store() as store`: the store of every backend of the table, opened
    as the runtime opens it, on the test's loop."""
    backend_support.require(request.param)

    @asynccontextmanager
    async def opened() -> AsyncIterator[ObservabilityStore]:
        backend = backend_support.open_backend(request.param, tmp_path)
        store = backend.observability()
        try:
            yield store
        finally:
            await store.close()
            await backend.close()

    yield opened
    backend_support.cleanup(tmp_path)


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


async def test_logs_are_queried_newest_first_with_filters(open_store: OpenStore) -> None:
    async with open_store() as store:
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


async def test_traces_summarise_their_spans(open_store: OpenStore) -> None:
    async with open_store() as store:
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


async def test_prune_forgets_old_traces_and_logs(open_store: OpenStore) -> None:
    async with open_store() as store:
        await store.write([_log(1_000, "old", "t1", "A"), _log(90_000, "new", "t2", "A")], [])
        await store.write([], [_span("t1", "A", 1.0), _span("t2", "A", 90.0)])
        await store.prune(older_than=50.0)
        assert [t.trace_id for t in await store.traces()] == ["t2"]
        assert [r["msg"] for r in await store.logs(LogQuery())] == ["new"]
