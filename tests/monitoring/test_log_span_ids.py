"""The JSON log lines of `motia start` name the span of the step run they belong to: one
span id per run (each attempt of an event is a run), the same on the handler's lines and
on the runtime's lines about that run, and, when spans are exported, the id of the run's
exported span."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.http.support import log_records
from tests.otel.receiver import Received, running
from tests.otel.support import otel_env

pytestmark = pytest.mark.slow

Factory = Callable[..., ServerProcess]
SPAN_ID = re.compile(r"[0-9a-f]{16}")

STEPS = {
    "steps/accept_step.py": """
        config = {"type": "api", "name": "Accept", "method": "POST", "path": "/orders",
                  "emits": ["order.accepted"]}
        async def handler(req, ctx):
            ctx.logger.info("accepting")
            await ctx.emit({"topic": "order.accepted", "data": req["body"]})
            return {"status": 202, "body": {"traceId": ctx.trace_id}}
    """,
    # Fails its first attempt, so one event makes two runs.
    "steps/ship_step.py": """
        config = {"type": "event", "name": "Ship", "subscribes": ["order.accepted"],
                  "emits": [],
                  "infrastructure": {"queue": {"maxRetries": 1,
                      "backoff": {"type": "fixed", "delay": 0.1, "jitter": False}}}}
        async def handler(data, ctx):
            ctx.logger.info("shipping", {"order": data["id"]})
            if ctx.attempt == 1:
                raise RuntimeError("carrier down")
            ctx.logger.info("shipped")
    """,
}


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    yield from running()


def records_of(server: ServerProcess, trace_id: str, count: int) -> list[dict[str, Any]]:
    return wait_for(  # type: ignore[no-any-return]
        lambda: (
            (found := [r for r in log_records(server) if r.get("traceId") == trace_id])
            and len(found) >= count
            and found
        ),
        15,
        what=f"{count} log lines of trace {trace_id}",
    )


def test_each_run_has_its_own_span_id_on_all_of_its_lines(
    tmp_path: Path, server_factory: Factory
) -> None:
    project = write_project(tmp_path / "app", STEPS)
    server = server_factory(project, "start")
    response = server.client.post("/orders", json={"id": "o-1"})
    assert response.status_code == 202
    trace_id = response.json()["traceId"]
    # accepting; shipping + the runtime's "retrying" (attempt 1); shipping + shipped (2)
    records = records_of(server, trace_id, 5)
    by_msg: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_msg.setdefault(record["msg"], []).append(record)

    (accepting,) = by_msg["accepting"]
    assert accepting["step"] == "Accept" and SPAN_ID.fullmatch(accepting["spanId"])
    assert "topic" not in accepting and "attempt" not in accepting

    first, second = sorted(by_msg["shipping"], key=lambda r: r["attempt"])
    (retrying,) = [r for r in records if r["msg"].startswith("handler failed; retrying")]
    (shipped,) = by_msg["shipped"]
    for record in (first, second, retrying, shipped):
        assert record["step"] == "Ship", record
        assert record["topic"] == "order.accepted", record
        assert SPAN_ID.fullmatch(record["spanId"]), record
    assert (first["attempt"], second["attempt"], shipped["attempt"]) == (1, 2, 2)
    assert retrying["spanId"] == first["spanId"]  # the runtime's line about attempt 1
    assert shipped["spanId"] == second["spanId"]  # two lines of one run
    assert len({accepting["spanId"], first["spanId"], second["spanId"]}) == 3


def test_with_otel_a_lines_span_id_is_its_exported_runs(
    tmp_path: Path, receiver: tuple[str, Received], server_factory: Factory
) -> None:
    endpoint, received = receiver
    project = write_project(tmp_path / "app", STEPS)
    server = server_factory(project, "start", env=otel_env(endpoint))
    response = server.client.post("/orders", json={"id": "o-2"})
    assert response.status_code == 202
    trace_id = response.json()["traceId"]
    records = records_of(server, trace_id, 5)
    spans = wait_for(
        lambda: (found := received.trace(trace_id)) and len(found) >= 5 and found,
        15,
        what="the spans of the trace",
    )
    run_spans = {s.span_id: s for s in spans if s.name in ("api Accept", "event Ship")}
    assert len(run_spans) == 3, [(s.name, s.span_id) for s in spans]
    for record in records:
        span = run_spans.get(record["spanId"])
        assert span is not None, (record, run_spans)
        assert span.name == ("api Accept" if record["step"] == "Accept" else "event Ship")
        if "attempt" in record:
            assert span.attributes["motia.attempt"] == record["attempt"]
