"""`create_mock_context`: unit-testing one handler of the example project."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from motia import EmitNotDeclared, FlowContext
from motia.errors import InvalidEmit
from motia.logs import Logger
from motia.runtime.context import State
from motia.runtime.streams import StreamError
from motia.testing import MockContext, create_mock_context, create_tester, import_step
from tests.conftest import write_project

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "resources"


async def test_unit_testing_an_example_handler() -> None:
    step = import_step(EXAMPLE, "steps/events/process_resource_step.py")
    ctx = create_mock_context(
        flows=["resource-processing"],
        now=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        emits=step.config["emits"],
        step=step.config["name"],
    )
    assert isinstance(ctx, FlowContext)

    await step.handler({"id": "r1", "name": "Report", "kind": "image"}, ctx)

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


async def test_state_seed_reads_and_groups() -> None:
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

    assert await handler(None, ctx) == [{"n": 1}]
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


async def test_streams_and_clock() -> None:
    ctx = create_mock_context(streams=["messages"])

    async def handler(ctx: FlowContext) -> None:
        messages = ctx.streams.messages
        await messages.set("room", "m1", {"text": "hi", "votes": 0})
        await messages.update("room", "m1", [{"type": "increment", "path": "votes", "by": 2}])
        await messages.send({"groupId": "room"}, {"type": "typing", "data": {"who": "ann"}})
        # As in the runtime, items come back with the `__motia` marker clients subscribe by.
        marker = {"type": "state-stream", "streamName": "messages", "groupId": "room", "id": "m1"}
        item = {"text": "hi", "votes": 2, "id": "m1", "__motia": marker}
        stored = {"text": "hi", "votes": 2, "id": "m1"}
        assert ctx.streams.messages.items == {"room": {"m1": stored}}
        assert await messages.get_group("room") == [item]
        assert await messages.delete("room", "m1") == item
        assert await messages.get("room", "m1") is None

    await handler(ctx)
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


async def test_mock_context_fixture(mock_context: MockContext) -> None:
    """The pytest plugin (registered by the entry point) provides `mock_context`."""

    async def handler(data: int, ctx: FlowContext) -> None:
        await ctx.emit({"topic": "t", "data": data})

    await handler(1, mock_context)
    assert mock_context.emitted == [{"topic": "t", "data": 1}]
    assert mock_context.trace_id == "mock-trace-id"


async def test_call_errors_surface_where_awaited_and_forgotten_calls_still_run() -> None:
    ctx = create_mock_context(streams=["messages"])
    bad = ctx.streams.messages.set("room", "m1", "not a dict")  # no error yet, as in a run
    with pytest.raises(StreamError, match="an item must be a dict"):
        await bad
    ctx.state.set("forgotten", "k", 1)  # not awaited: it still happens
    assert ctx.state.data == {"forgotten": {"k": 1}}
    assert isinstance(ctx.state, State)
    assert isinstance(ctx.logger, Logger)
    ctx.logger.warning("careful")
    assert ctx.logs[-1]["level"] == "warn"


def test_a_sync_call_raises_at_once() -> None:
    ctx = create_mock_context(streams=["messages"])
    with pytest.raises(StreamError, match="an item must be a dict"):
        ctx.streams.messages.set("room", "m1", "not a dict")
    assert ctx.streams.messages.items == {}


TRANSCRIPT_PROJECT = {
    "steps/lib/transcript.py": """
        async def transcript(ctx):
            seen = [
                await ctx.state.set("g", "k", {"a": 1}),
                await ctx.state.get("g", "k"),
                await ctx.state.getGroup("g"),
                await ctx.state.delete("g", "k"),
                await ctx.state.get("g", "k"),
                await ctx.streams.messages.set("room", "m1", {"text": "hi", "votes": 0}),
                await ctx.streams.messages.update(
                    "room", "m1", [{"type": "increment", "path": "votes", "by": 2}]
                ),
                await ctx.streams.messages.getGroup("room"),
                await ctx.streams.messages.delete("room", "m1"),
                [ctx.traceId == ctx.trace_id, ctx.flows, ctx.attempt, sorted(ctx.streams)],
            ]
            calls = [
                lambda: ctx.streams.messages.set("room", "m2", "text"),
                lambda: ctx.streams.messages.update("room", "m2", [{"type": "nope"}]),
                lambda: ctx.streams.messages.send({"id": "m2"}, {"type": "t"}),
                lambda: ctx.emit({"topic": "undeclared", "data": 1}),
                lambda: ctx.emit({"data": 1}),
                lambda: ctx.state.set("g", "k", object()),
            ]
            for call in calls:
                try:
                    await call()
                except Exception as exc:
                    seen.append([type(exc).__name__, str(exc)])
            try:
                ctx.streams.unknown
            except AttributeError as exc:
                seen.append(str(exc))
            await ctx.emit({"topic": "seen", "data": len(seen), "messageGroupId": 7})
            return seen
    """,
    "steps/transcript_step.py": """
        from steps.lib.transcript import transcript

        config = {
            "type": "api",
            "name": "Transcript",
            "method": "POST",
            "path": "/transcript",
            "emits": ["seen"],
            "flows": ["checks"],
        }


        async def handler(req, ctx):
            return {"status": 200, "body": await transcript(ctx)}
    """,
    "steps/messages_stream.py": """
        config = {"name": "messages", "schema": {"type": "object"}}
    """,
}


async def test_the_mock_context_answers_as_the_runtime_does(tmp_path: Path) -> None:
    project = write_project(tmp_path, TRANSCRIPT_PROJECT)
    async with create_tester(project) as tester:
        seen = tester.watch("seen")
        response = await tester.post("/transcript", json={})
        assert response.status_code == 200
        in_runtime = response.json()

    step = import_step(project, "steps/transcript_step.py")
    ctx = create_mock_context(
        flows=["checks"], step="Transcript", emits=step.config["emits"], streams=["messages"]
    )
    result = await step.handler({"body": {}}, ctx)
    in_mock = json.loads(json.dumps(result["body"]))

    assert in_mock == in_runtime
    assert len(in_mock) == 17  # every call answered, every error caught
    assert ctx.emitted == [{"topic": "seen", "data": 17, "messageGroupId": "7"}]
    assert [record.data for record in seen.records] == [17]
