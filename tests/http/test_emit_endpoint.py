"""The `POST /emit {topic, data}` system endpoint that `motia emit` uses (in dev, where it
is on without a token)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ServerProcess, wait_for
from tests.http.support import module_server

pytestmark = pytest.mark.slow

STEPS = {
    "steps/listener_step.py": """
        config = {"type": "event", "name": "Listener", "subscribes": ["ping"], "emits": []}

        async def handler(data, ctx):
            await ctx.state.set("pings", data["id"], {"traceId": ctx.trace_id, "data": data})
    """,
    "steps/probe_step.py": """
        config = {
            "type": "api",
            "name": "Probe",
            "method": "GET",
            "path": "/probe/:key",
            "emits": [],
        }

        async def handler(req, ctx):
            value = await ctx.state.get("pings", req["pathParams"]["key"])
            return {"status": 200, "body": {"value": value}}
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "emit-endpoint", STEPS, "dev") as running:
        yield running


def received(server: ServerProcess, key: str) -> Any:
    return server.client.get(f"/probe/{key}").json()["value"]


def test_emit_publishes_to_subscribers(server: ServerProcess) -> None:
    ping_id = uuid.uuid4().hex
    data = {"id": ping_id, "n": [1, 2]}
    response = server.client.post("/emit", json={"topic": "ping", "data": data})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["emitted"] == {"topic": "ping", "data": data}

    record = wait_for(lambda: received(server, ping_id))
    assert record == {"traceId": response.headers["x-trace-id"], "data": data}


def test_emit_to_topic_without_subscribers_succeeds(server: ServerProcess) -> None:
    response = server.client.post("/emit", json={"topic": "nobody.listens", "data": {"x": 1}})
    assert response.status_code == 200
    assert response.json()["emitted"] == {"topic": "nobody.listens", "data": {"x": 1}}


@pytest.mark.parametrize(
    "payload",
    [{"data": {"id": "x"}}, {"topic": "", "data": {}}, {"topic": 5, "data": {}}],
    ids=["missing", "empty", "not-a-string"],
)
def test_emit_without_valid_topic_is_400(server: ServerProcess, payload: dict[str, Any]) -> None:
    response = server.client.post("/emit", json=payload)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "traceId"}
    assert body["traceId"] == response.headers["x-trace-id"]


def test_emit_with_malformed_json_is_400(server: ServerProcess) -> None:
    response = server.client.post(
        "/emit", content=b"{topic", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("Malformed JSON body")
