"""A handler that raises or returns something that is not a response gives a 500 that hides
the details from the client and logs them, with the trace id, on the server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ServerProcess
from tests.http.support import module_server, records_for

pytestmark = pytest.mark.slow

SECRET = "db password is hunter2"

STEPS = {
    "steps/raises_step.py": f"""
        config = {{
            "type": "api",
            "name": "Raises",
            "method": "GET",
            "path": "/raises",
            "emits": [],
        }}

        def load_order():
            raise ValueError("{SECRET}")

        async def handler(req, ctx):
            return {{"status": 200, "body": load_order()}}
    """,
    "steps/returns_none_step.py": """
        config = {
            "type": "api",
            "name": "ReturnsNone",
            "method": "GET",
            "path": "/none",
            "emits": [],
        }

        async def handler(req, ctx):
            ctx.logger.info("about to return nothing")
    """,
    "steps/bad_status_step.py": """
        config = {
            "type": "api",
            "name": "BadStatus",
            "method": "GET",
            "path": "/bad-status/:kind",
            "emits": [],
        }

        STATUSES = {"too-big": 700, "too-small": 42, "text": "200", "boolean": True}

        async def handler(req, ctx):
            return {"status": STATUSES[req["pathParams"]["kind"]], "body": {"ok": True}}
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "failures", STEPS) as running:
        yield running


def assert_generic_500(response_status: int, body: object, trace_header: str) -> None:
    assert response_status == 500
    assert body == {"error": "Internal server error", "traceId": trace_header}


def test_exception_gives_generic_500(server: ServerProcess) -> None:
    response = server.client.get("/raises")
    assert_generic_500(response.status_code, response.json(), response.headers["x-trace-id"])
    assert SECRET not in response.text
    assert "ValueError" not in response.text
    assert "Traceback" not in response.text


def test_exception_is_logged_with_stack_and_trace_id(server: ServerProcess) -> None:
    response = server.client.get("/raises")
    trace_id = response.headers["x-trace-id"]
    server.wait_for_output(trace_id)
    errors = [r for r in records_for(server, trace_id) if r.get("level") == "error"]
    assert len(errors) == 1, errors
    record = errors[0]
    assert record["step"] == "Raises"
    assert SECRET in record["error"]
    assert "ValueError" in record["error"]
    stack = record["stack"]
    assert stack.startswith("Traceback")
    assert "raises_step.py" in stack
    assert "load_order" in stack
    assert SECRET in stack


def test_returning_none_gives_500(server: ServerProcess) -> None:
    response = server.client.get("/none")
    trace_id = response.headers["x-trace-id"]
    assert_generic_500(response.status_code, response.json(), trace_id)
    server.wait_for_output(trace_id)
    levels = [r["level"] for r in records_for(server, trace_id)]
    assert "error" in levels


@pytest.mark.parametrize("kind", ["too-big", "too-small", "text", "boolean"])
def test_non_http_status_gives_500(server: ServerProcess, kind: str) -> None:
    response = server.client.get(f"/bad-status/{kind}")
    trace_id = response.headers["x-trace-id"]
    assert_generic_500(response.status_code, response.json(), trace_id)
    server.wait_for_output(trace_id)
    errors = [r for r in records_for(server, trace_id) if r.get("level") == "error"]
    assert errors and errors[0]["step"] == "BadStatus"


def test_server_keeps_serving_after_failures(server: ServerProcess) -> None:
    for _ in range(3):
        assert server.client.get("/raises").status_code == 500
    assert server.client.get("/__motia/health").status_code == 200
