"""What a handler returns becomes the HTTP response: status, headers and typed bodies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ServerProcess
from tests.http.support import module_server

pytestmark = pytest.mark.slow


def _step(name: str, path: str, result: str, extra: str = "") -> str:
    return f"""
        config = {{
            "type": "api",
            "name": "{name}",
            "method": "GET",
            "path": "{path}",
            "emits": [],{extra}
        }}

        async def handler(req, ctx):
            return {result}
    """


STEPS = {
    "steps/custom_headers_step.py": _step(
        "CustomHeaders",
        "/custom-headers",
        '{"status": 201, "body": {"ok": True}, '
        '"headers": {"X-Custom": "yes", "Cache-Control": "no-store"}}',
    ),
    "steps/text_step.py": _step("Text", "/text", '{"status": 200, "body": "hello, wörld"}'),
    "steps/bytes_step.py": _step(
        "Bytes", "/bytes", '{"status": 200, "body": bytes([0, 1, 2, 255])}'
    ),
    "steps/dict_step.py": _step(
        "Dict", "/dict", '{"status": 200, "body": {"a": 1, "b": [True, None]}}'
    ),
    "steps/list_step.py": _step(
        "List", "/list", '{"status": 200, "body": [1, "two", {"three": 3}]}'
    ),
    "steps/typed_text_step.py": _step(
        "TypedText",
        "/typed-text",
        '{"status": 200, "body": "<p>hi</p>", "headers": {"Content-Type": "text/html"}}',
    ),
    "steps/cookies_step.py": _step(
        "Cookies",
        "/cookies",
        '{"status": 200, "body": {}, "headers": {"Set-Cookie": ["a=1", "b=2"]}}',
    ),
    "steps/no_body_step.py": _step("NoBody", "/no-body", '{"status": 204}'),
    "steps/trace_step.py": """
        config = {"type": "api", "name": "Trace", "method": "GET", "path": "/trace", "emits": []}

        async def handler(req, ctx):
            return {"status": 200, "body": {"traceId": ctx.trace_id}}
    """,
    "steps/response_schema_step.py": _step(
        "WithResponseSchema",
        "/with-response-schema",
        '{"status": 200, "body": {"id": "abc"}}',
        """
            "responseSchema": {
                200: {"type": "object", "properties": {"id": {"type": "string"}}},
                "404": {"type": "object", "properties": {"error": {"type": "string"}}},
            },""",
    ),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "responses", STEPS) as running:
        yield running


def test_status_and_custom_headers(server: ServerProcess) -> None:
    response = server.client.get("/custom-headers")
    assert response.status_code == 201
    assert response.headers["x-custom"] == "yes"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"ok": True}


def test_str_body_is_text_plain(server: ServerProcess) -> None:
    response = server.client.get("/text")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "hello, wörld"


def test_handler_content_type_wins_over_default(server: ServerProcess) -> None:
    response = server.client.get("/typed-text")
    assert response.headers["content-type"] == "text/html"
    assert response.text == "<p>hi</p>"


def test_bytes_body_is_octet_stream(server: ServerProcess) -> None:
    response = server.client.get("/bytes")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == bytes([0, 1, 2, 255])


def test_dict_body_is_json(server: ServerProcess) -> None:
    response = server.client.get("/dict")
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"a": 1, "b": [True, None]}


def test_list_body_is_json(server: ServerProcess) -> None:
    response = server.client.get("/list")
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == [1, "two", {"three": 3}]


def test_list_header_value_sends_the_header_once_per_item(server: ServerProcess) -> None:
    response = server.client.get("/cookies")
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]


def test_response_without_body(server: ServerProcess) -> None:
    response = server.client.get("/no-body")
    assert response.status_code == 204
    assert response.content == b""


def test_success_carries_trace_id_of_the_run(server: ServerProcess) -> None:
    response = server.client.get("/trace")
    assert response.status_code == 200
    trace_id = response.headers["x-trace-id"]
    assert trace_id
    assert response.json() == {"traceId": trace_id}
    assert server.client.get("/trace").headers["x-trace-id"] != trace_id


def test_response_schema_with_int_and_string_status_keys_loads(server: ServerProcess) -> None:
    health = server.client.get("/__motia/health").json()
    assert health["errors"] == 0
    assert health["steps"] == len(STEPS)
    response = server.client.get("/with-response-schema")
    assert response.status_code == 200
    assert response.json() == {"id": "abc"}
