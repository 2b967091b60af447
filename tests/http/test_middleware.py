"""API middleware: `async def mw(req, ctx, next_fn)`, composed left to right."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ServerProcess
from tests.http.support import module_server, records_for

pytestmark = pytest.mark.slow

STEPS = {
    "steps/ordered_step.py": """
        async def outer(req, ctx, next_fn):
            req.setdefault("trail", []).append("outer:before")
            response = await next_fn()
            req["trail"].append("outer:after")
            response.setdefault("headers", {})["x-middleware"] = "outer-last"
            return response

        async def inner(req, ctx, next_fn):
            req.setdefault("trail", []).append("inner:before")
            response = await next_fn()
            req["trail"].append("inner:after")
            response.setdefault("headers", {})["x-middleware"] = "inner-first"
            return response

        config = {
            "type": "api",
            "name": "Ordered",
            "method": "GET",
            "path": "/ordered",
            "emits": [],
            "middleware": [outer, inner],
        }

        async def handler(req, ctx):
            req["trail"].append("handler")
            return {"status": 200, "body": {"trail": req["trail"]}}
    """,
    "steps/guarded_step.py": """
        async def require_token(req, ctx, next_fn):
            if req["headers"].get("authorization") != "Bearer let-me-in":
                denied = {"error": "unauthorized"}
                return {"status": 401, "body": denied, "headers": {"x-guard": "1"}}
            return await next_fn()

        config = {
            "type": "api",
            "name": "Guarded",
            "method": "POST",
            "path": "/guarded",
            "emits": [],
            "middleware": [require_token],
        }

        async def handler(req, ctx):
            ctx.logger.info("guarded handler ran")
            return {"status": 200, "body": {"secret": 42}}
    """,
    "steps/broken_middleware_step.py": """
        async def broken(req, ctx, next_fn):
            raise PermissionError("middleware exploded")

        config = {
            "type": "api",
            "name": "BrokenMiddleware",
            "method": "GET",
            "path": "/broken",
            "emits": [],
            "middleware": [broken],
        }

        async def handler(req, ctx):
            ctx.logger.info("broken handler ran")
            return {"status": 200, "body": {}}
    """,
    "steps/enriched_step.py": """
        async def authenticate(req, ctx, next_fn):
            req["user"] = {"id": "u-1", "role": "admin"}
            req["headers"]["x-injected"] = "by-middleware"
            req["body"]["seen"] = True
            return await next_fn()

        config = {
            "type": "api",
            "name": "Enriched",
            "method": "POST",
            "path": "/enriched",
            "emits": [],
            "middleware": [authenticate],
        }

        async def handler(req, ctx):
            return {
                "status": 200,
                "body": {
                    "user": req.get("user"),
                    "injected": req["headers"].get("x-injected"),
                    "body": req["body"],
                },
            }
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "middleware", STEPS) as running:
        yield running


def test_middlewares_compose_left_to_right(server: ServerProcess) -> None:
    response = server.client.get("/ordered")
    assert response.status_code == 200
    assert response.json() == {
        "trail": ["outer:before", "inner:before", "handler", "inner:after", "outer:after"]
    }
    # The first middleware in the list is the outermost: it touches the response last.
    assert response.headers["x-middleware"] == "outer-last"


def test_middleware_short_circuits(server: ServerProcess) -> None:
    response = server.client.post("/guarded", json={})
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized"}
    assert response.headers["x-guard"] == "1"
    trace_id = response.headers["x-trace-id"]
    assert not [r for r in records_for(server, trace_id) if r.get("msg") == "guarded handler ran"]


def test_middleware_passes_through_to_handler(server: ServerProcess) -> None:
    response = server.client.post(
        "/guarded", json={}, headers={"Authorization": "Bearer let-me-in"}
    )
    assert response.status_code == 200
    assert response.json() == {"secret": 42}
    trace_id = response.headers["x-trace-id"]
    server.wait_for_output(trace_id)
    assert [r for r in records_for(server, trace_id) if r.get("msg") == "guarded handler ran"]


def test_middleware_mutations_are_seen_by_handler(server: ServerProcess) -> None:
    response = server.client.post("/enriched", json={"name": "Rex"})
    assert response.status_code == 200
    assert response.json() == {
        "user": {"id": "u-1", "role": "admin"},
        "injected": "by-middleware",
        "body": {"name": "Rex", "seen": True},
    }


def test_middleware_exception_is_500(server: ServerProcess) -> None:
    response = server.client.get("/broken")
    trace_id = response.headers["x-trace-id"]
    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error", "traceId": trace_id}
    server.wait_for_output(trace_id)
    records = records_for(server, trace_id)
    assert not [r for r in records if r.get("msg") == "broken handler ran"]
    assert any("middleware exploded" in str(r.get("error")) for r in records)
