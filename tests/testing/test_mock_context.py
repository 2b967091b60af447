"""`create_mock_context`: unit-testing one handler of the example project."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from motia import EmitNotDeclared, FlowContext
from motia.errors import InvalidEmit
from motia.testing import MockContext, create_mock_context, import_step

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "resources"


def test_unit_testing_an_example_handler() -> None:
    step = import_step(EXAMPLE, "steps/events/process_resource_step.py")
    ctx = create_mock_context(
        flows=["resource-processing"],
        now=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        emits=step.config["emits"],
        step=step.config["name"],
    )
    assert isinstance(ctx, FlowContext)

    asyncio.run(step.handler({"id": "r1", "name": "Report", "kind": "image"}, ctx))

    processed = {"id": "r1", "name": "Report", "processedAt": "2025-03-01T12:00:00+00:00"}
    assert ctx.emitted == [{"topic": "resource.processed", "data": processed}]
    assert ctx.topics == ["resource.processed"]
    assert ctx.state.calls == [
        ("set", ("mock-trace-id", "processed_resource_r1", processed)),
        ("set", ("resources", "r1", processed)),
    ]
    assert ctx.state.data["resources"]["r1"] == processed
    status = ctx.streams.resourceStatus
    assert status.items["image"]["r1"] == {
        "name": "Report",
        "status": "processed",
        "updatedAt": "2025-03-01T12:00:00+00:00",
        "id": "r1",
    }
    assert ctx.streams.calls[0].method == "resourceStatus.set"
    [record] = ctx.logs
    assert record["level"] == "info"
    assert record["msg"] == "Resource processed"
    assert record["resourceId"] == "r1"
    assert record["step"] == "ProcessResource"
    assert record["traceId"] == "mock-trace-id"
    assert record["flows"] == ["resource-processing"]


def test_state_seed_reads_and_groups() -> None:
    ctx = create_mock_context(state={"resources": {"b": {"n": 2}, "a": {"n": 1}}})

    async def handler(_: Any, ctx: FlowContext) -> list[Any]:
        first = await ctx.state.get("resources", "a")
        first["n"] = 100  # a copy: the stored value does not change
        await ctx.state.delete("resources", "b")
        assert await ctx.state.get("resources", "missing") is None
        await ctx.state.set("other", "k", [1, 2])
        await ctx.state.clear("other")
        result: list[Any] = await ctx.state.get_group("resources")
        return result

    assert asyncio.run(handler(None, ctx)) == [{"n": 1}]
    assert [call.method for call in ctx.state.calls] == [
        "get",
        "delete",
        "get",
        "set",
        "clear",
        "get_group",
    ]
    assert ctx.state.calls_to("delete") == [("resources", "b")]
    assert "other" not in ctx.state.data


def test_sync_handlers_get_values_directly() -> None:
    def handler(data: dict[str, Any], ctx: FlowContext) -> Any:
        ctx.state.set("counts", data["id"], 1)
        ctx.emit({"topic": "counted", "data": data, "messageGroupId": "g1"})
        ctx.logger.warn("counted", {"id": data["id"]})
        return ctx.state.get("counts", data["id"])

    ctx = create_mock_context(trace_id="t-1", attempt=2, event_id="e-1")
    assert handler({"id": "x"}, ctx) == 1
    assert ctx.emitted == [{"topic": "counted", "data": {"id": "x"}, "messageGroupId": "g1"}]
    assert ctx.logs[0]["level"] == "warn"
    assert (ctx.trace_id, ctx.traceId, ctx.attempt, ctx.event_id) == ("t-1", "t-1", 2, "e-1")


def test_emit_checks_like_the_runtime() -> None:
    ctx = create_mock_context(emits=["allowed"])
    with pytest.raises(EmitNotDeclared):
        ctx.emit({"topic": "other", "data": 1})
    with pytest.raises(InvalidEmit):
        ctx.emit("not a dict")
    assert ctx.emitted == []


def test_streams_and_clock() -> None:
    ctx = create_mock_context(streams=["messages"])

    async def handler(ctx: FlowContext) -> None:
        messages = ctx.streams.messages
        await messages.set("room", "m1", {"text": "hi", "votes": 0})
        await messages.update("room", "m1", [{"type": "increment", "path": "votes", "by": 2}])
        await messages.send({"groupId": "room"}, {"type": "typing", "data": {"who": "ann"}})
        assert await messages.get_group("room") == [{"text": "hi", "votes": 2, "id": "m1"}]
        assert await messages.delete("room", "m1") == {"text": "hi", "votes": 2, "id": "m1"}
        assert await messages.get("room", "m1") is None

    asyncio.run(handler(ctx))
    assert ctx.streams.messages.sent == [
        ({"groupId": "room"}, {"type": "typing", "data": {"who": "ann"}})
    ]
    assert "messages" in ctx.streams
    assert ctx.streams.keys() == ["messages"]
    with pytest.raises(AttributeError, match="no stream named 'other'"):
        _ = ctx.streams.other

    before = ctx.utils.dates.now()
    ctx.clock.advance(90)
    assert (ctx.utils.dates.now() - before).total_seconds() == 90


def test_mock_context_fixture(mock_context: MockContext) -> None:
    """The pytest plugin (registered by the entry point) provides `mock_context`."""

    async def handler(data: int, ctx: FlowContext) -> None:
        await ctx.emit({"topic": "t", "data": data})

    asyncio.run(handler(1, mock_context))
    assert mock_context.emitted == [{"topic": "t", "data": 1}]
    assert mock_context.trace_id == "mock-trace-id"
