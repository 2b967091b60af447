"""Requests rejected before the handler runs: malformed JSON, bodySchema violations, and
bodies over `http.maxBodySize`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ServerProcess
from tests.http.support import module_server, records_for

pytestmark = pytest.mark.slow

STEPS = {
    "config.yml": """
        http:
          maxBodySize: 1kb
    """,
    "steps/json_schema_step.py": """
        config = {
            "type": "api",
            "name": "JsonSchemaPets",
            "method": "POST",
            "path": "/json-schema/pets",
            "emits": [],
            "bodySchema": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "age": {"type": "integer", "minimum": 0},
                    "kind": {"type": "string", "enum": ["cat", "dog"]},
                },
                "required": ["name", "age"],
            },
        }

        async def handler(req, ctx):
            ctx.logger.info("json schema handler ran")
            return {"status": 201, "body": req["body"]}
    """,
    "steps/pydantic_schema_step.py": """
        from typing import Literal

        from pydantic import BaseModel, Field

        class Pet(BaseModel):
            name: str = Field(min_length=1)
            age: int = Field(ge=0)
            kind: Literal["cat", "dog"] = "cat"

        config = {
            "type": "api",
            "name": "PydanticPets",
            "method": "POST",
            "path": "/pydantic/pets",
            "emits": [],
            "bodySchema": Pet,
        }

        async def handler(req, ctx):
            ctx.logger.info("pydantic handler ran")
            return {"status": 201, "body": req["body"]}
    """,
    "steps/upload_step.py": """
        config = {"type": "api", "name": "Upload", "method": "POST", "path": "/upload", "emits": []}

        async def handler(req, ctx):
            ctx.logger.info("upload handler ran")
            return {"status": 200, "body": {"size": len(req["rawBody"])}}
    """,
}

LIMIT = 1000  # 1kb


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "bad-input", STEPS) as running:
        yield running


def handler_ran(server: ServerProcess, trace_id: str) -> bool:
    return any("handler ran" in str(r.get("msg")) for r in records_for(server, trace_id))


def test_malformed_json_is_400(server: ServerProcess) -> None:
    response = server.client.post(
        "/upload", content=b'{"name": "Rex",', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "traceId"}
    assert body["error"].startswith("Malformed JSON body: ")
    assert len(body["error"]) > len("Malformed JSON body: ")
    assert body["traceId"] == response.headers["x-trace-id"]
    assert not handler_ran(server, body["traceId"])


@pytest.mark.parametrize("path", ["/json-schema/pets", "/pydantic/pets"])
def test_valid_body_reaches_handler(server: ServerProcess, path: str) -> None:
    response = server.client.post(path, json={"name": "Rex", "age": 3})
    assert response.status_code == 201
    assert response.json()["name"] == "Rex"
    assert handler_ran(server, response.headers["x-trace-id"])


@pytest.mark.parametrize("path", ["/json-schema/pets", "/pydantic/pets"])
def test_schema_violation_lists_every_field(server: ServerProcess, path: str) -> None:
    # Three fields are wrong at once: all three must be reported in one answer.
    response = server.client.post(path, json={"name": "", "age": "three", "kind": "bird"})
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "errors", "traceId"}
    assert body["traceId"] == response.headers["x-trace-id"]
    assert isinstance(body["error"], str) and body["error"]
    errors = body["errors"]
    assert all(set(e) == {"field", "message"} for e in errors)
    assert all(isinstance(e["message"], str) and e["message"] for e in errors)
    assert sorted(e["field"] for e in errors) == ["age", "kind", "name"]
    assert not handler_ran(server, body["traceId"])


@pytest.mark.parametrize("path", ["/json-schema/pets", "/pydantic/pets"])
def test_missing_required_fields_are_named(server: ServerProcess, path: str) -> None:
    response = server.client.post(path, json={"kind": "cat"})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert sorted(e["field"] for e in errors) == ["age", "name"]


@pytest.mark.parametrize("path", ["/json-schema/pets", "/pydantic/pets"])
def test_schema_rejects_non_object_body(server: ServerProcess, path: str) -> None:
    response = server.client.post(path, json=[1, 2])
    assert response.status_code == 400
    assert response.json()["errors"]


@pytest.mark.parametrize("path", ["/json-schema/pets", "/pydantic/pets"])
def test_schema_rejects_missing_body(server: ServerProcess, path: str) -> None:
    response = server.client.post(path)
    assert response.status_code == 400
    body = response.json()
    assert body["errors"]
    assert body["traceId"] == response.headers["x-trace-id"]
    assert not handler_ran(server, body["traceId"])


def test_body_under_limit_is_accepted(server: ServerProcess) -> None:
    response = server.client.post("/upload", content=b"x" * (LIMIT - 10))
    assert response.status_code == 200
    assert response.json() == {"size": LIMIT - 10}


def test_body_over_limit_with_content_length_is_413(server: ServerProcess) -> None:
    payload = b"x" * (LIMIT + 1)
    response = server.client.post(
        "/upload", content=payload, headers={"content-type": "text/plain"}
    )
    assert response.status_code == 413
    body = response.json()
    assert set(body) == {"error", "traceId"}
    assert body["traceId"] == response.headers["x-trace-id"]
    assert not handler_ran(server, body["traceId"])


def test_chunked_body_over_limit_is_413(server: ServerProcess) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"y" * 200

    response = server.client.post(
        "/upload", content=chunks(), headers={"content-type": "text/plain"}
    )
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    body = response.json()
    assert body["traceId"] == response.headers["x-trace-id"]
    assert not handler_ran(server, body["traceId"])


def test_chunked_body_under_limit_is_accepted(server: ServerProcess) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(4):
            yield b"z" * 100

    response = server.client.post(
        "/upload", content=chunks(), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 200
    assert response.json() == {"size": 400}
