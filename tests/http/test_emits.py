"""`ctx.emit` from API steps: topic gating, delivery to event steps with the same trace id,
fan-out, and no delivery when the handler fails."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ServerProcess, wait_for
from tests.http.support import module_server, records_for

pytestmark = pytest.mark.slow

STEPS = {
    "steps/create_order_step.py": """
        config = {
            "type": "api",
            "name": "CreateOrder",
            "method": "POST",
            "path": "/orders",
            "emits": ["order.created"],
        }

        async def handler(req, ctx):
            await ctx.emit({"topic": "order.created", "data": req["body"]})
            return {"status": 202, "body": {"traceId": ctx.trace_id}}
    """,
    "steps/emit_then_fail_step.py": """
        config = {
            "type": "api",
            "name": "EmitThenFail",
            "method": "POST",
            "path": "/orders/failing",
            "emits": ["order.created"],
        }

        async def handler(req, ctx):
            await ctx.emit({"topic": "order.created", "data": req["body"]})
            raise RuntimeError("failed after emitting")
    """,
    "steps/sync_create_order_step.py": """
        config = {
            "type": "api",
            "name": "SyncCreateOrder",
            "method": "POST",
            "path": "/orders/sync",
            "emits": ["order.created"],
        }

        def handler(req, ctx):
            ctx.emit({"topic": "order.created", "data": req["body"]})
            return {"status": 202, "body": {}}
    """,
    "steps/free_emitter_step.py": """
        config = {
            "type": "api",
            "name": "FreeEmitter",
            "method": "POST",
            "path": "/free",
            "emits": [],
        }

        async def handler(req, ctx):
            await ctx.emit({"topic": "order.created", "data": req["body"]})
            return {"status": 202, "body": {}}
    """,
    "steps/record_order_step.py": """
        config = {
            "type": "event",
            "name": "RecordOrder",
            "subscribes": ["order.created"],
            "emits": [],
        }

        async def handler(data, ctx):
            await ctx.state.set("orders", data["id"], {"traceId": ctx.trace_id, "data": data})
    """,
    "steps/undeclared_emit_step.py": """
        config = {
            "type": "api",
            "name": "UndeclaredEmitter",
            "method": "POST",
            "path": "/undeclared",
            "emits": ["allowed.topic"],
        }

        async def handler(req, ctx):
            await ctx.emit({"topic": "sneaky.topic", "data": {}})
            return {"status": 200, "body": {"emitted": True}}
    """,
    "steps/fan_out_step.py": """
        config = {
            "type": "api",
            "name": "FanOut",
            "method": "POST",
            "path": "/fan-out/:id",
            "emits": ["fan.out"],
        }

        async def handler(req, ctx):
            await ctx.emit({"topic": "fan.out", "data": {"id": req["pathParams"]["id"]}})
            return {"status": 202, "body": {}}
    """,
    "steps/fan_a_step.py": """
        config = {"type": "event", "name": "FanA", "subscribes": ["fan.out"], "emits": []}

        async def handler(data, ctx):
            await ctx.state.set("fan-" + data["id"], "FanA", ctx.trace_id)
    """,
    "steps/fan_b_step.py": """
        config = {"type": "event", "name": "FanB", "subscribes": ["fan.out"], "emits": []}

        async def handler(data, ctx):
            await ctx.state.set("fan-" + data["id"], "FanB", ctx.trace_id)
    """,
    "steps/probe_step.py": """
        config = {
            "type": "api",
            "name": "Probe",
            "method": "GET",
            "path": "/probe/:group",
            "emits": [],
        }

        async def handler(req, ctx):
            group = req["pathParams"]["group"]
            key = req["queryParams"].get("key")
            if key is None:
                return {"status": 200, "body": {"values": await ctx.state.get_group(group)}}
            return {"status": 200, "body": {"value": await ctx.state.get(group, key)}}
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "emits", STEPS) as running:
        yield running


def stored(server: ServerProcess, group: str, key: str) -> Any:
    response = server.client.get(f"/probe/{group}", params={"key": key})
    assert response.status_code == 200
    return response.json()["value"]


def group_values(server: ServerProcess, group: str) -> list[Any]:
    response = server.client.get(f"/probe/{group}")
    assert response.status_code == 200
    values: list[Any] = response.json()["values"]
    return values


def test_emit_reaches_event_step_with_same_trace_id(server: ServerProcess) -> None:
    order_id = uuid.uuid4().hex
    response = server.client.post("/orders", json={"id": order_id, "total": 12.5})
    assert response.status_code == 202
    trace_id = response.headers["x-trace-id"]
    assert response.json() == {"traceId": trace_id}

    record = wait_for(lambda: stored(server, "orders", order_id))
    assert record == {"traceId": trace_id, "data": {"id": order_id, "total": 12.5}}


@pytest.mark.parametrize("path", ["/orders/sync", "/free"], ids=["sync-handler", "empty-emits"])
def test_emit_variants_are_delivered(server: ServerProcess, path: str) -> None:
    order_id = uuid.uuid4().hex
    response = server.client.post(path, json={"id": order_id})
    assert response.status_code == 202
    record = wait_for(lambda: stored(server, "orders", order_id))
    assert record == {"traceId": response.headers["x-trace-id"], "data": {"id": order_id}}


def test_undeclared_emit_is_500_and_logged(server: ServerProcess) -> None:
    response = server.client.post("/undeclared", json={})
    assert response.status_code == 500
    trace_id = response.headers["x-trace-id"]
    assert response.json() == {"error": "Internal server error", "traceId": trace_id}
    server.wait_for_output(trace_id)
    errors = [r for r in records_for(server, trace_id) if r.get("level") == "error"]
    assert errors, server.output()
    logged = " ".join(f"{r.get('step')} {r.get('msg')} {r.get('error')}" for r in errors)
    assert "UndeclaredEmitter" in logged
    assert "sneaky.topic" in logged


def test_fan_out_delivers_to_every_subscriber(server: ServerProcess) -> None:
    fan_id = uuid.uuid4().hex
    response = server.client.post(f"/fan-out/{fan_id}")
    assert response.status_code == 202
    trace_id = response.headers["x-trace-id"]
    values = wait_for(lambda: len(v := group_values(server, f"fan-{fan_id}")) == 2 and v)
    assert values == [trace_id, trace_id]
    assert stored(server, f"fan-{fan_id}", "FanA") == trace_id
    assert stored(server, f"fan-{fan_id}", "FanB") == trace_id


def test_emit_is_not_delivered_when_handler_raises(server: ServerProcess) -> None:
    failed_id = "failed-" + uuid.uuid4().hex
    response = server.client.post("/orders/failing", json={"id": failed_id})
    assert response.status_code == 500
    assert response.json() == {
        "error": "Internal server error",
        "traceId": response.headers["x-trace-id"],
    }

    # A later, successful emit on the same topic goes through the same subscriber queue; once
    # it has been handled, the failed request's event would have been handled before it.
    sentinel_id = "sentinel-" + uuid.uuid4().hex
    assert server.client.post("/orders", json={"id": sentinel_id}).status_code == 202
    wait_for(lambda: stored(server, "orders", sentinel_id))
    assert stored(server, "orders", failed_id) is None
