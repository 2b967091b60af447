"""Plain `def handler(req, ctx)` steps: they run in worker threads, may call the context
without `await`, and a slow one does not hold up other requests."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ServerProcess
from tests.http.support import module_server

pytestmark = pytest.mark.slow

STEPS = {
    "steps/sync_state_step.py": """
        import threading

        config = {
            "type": "api",
            "name": "SyncState",
            "method": "POST",
            "path": "/sync/state",
            "emits": [],
        }

        def handler(req, ctx):
            key = req["body"]["key"]
            returned = ctx.state.set("sync", key, req["body"]["value"])
            read_back = ctx.state.get("sync", key)
            return {
                "status": 200,
                "body": {
                    "returned": returned,
                    "readBack": read_back,
                    "thread": threading.current_thread().name,
                    "traceId": ctx.trace_id,
                },
            }
    """,
    "steps/slow_step.py": """
        import time

        config = {"type": "api", "name": "Slow", "method": "GET", "path": "/slow", "emits": []}

        def handler(req, ctx):
            ctx.logger.info("slow handler sleeping", {"marker": req["queryParams"]["marker"]})
            time.sleep(1)
            return {"status": 200, "body": {"slept": True}}
    """,
    "steps/fast_async_step.py": """
        config = {
            "type": "api",
            "name": "FastAsync",
            "method": "GET",
            "path": "/fast/async",
            "emits": [],
        }

        async def handler(req, ctx):
            return {"status": 200, "body": {"fast": "async"}}
    """,
    "steps/fast_sync_step.py": """
        config = {
            "type": "api",
            "name": "FastSync",
            "method": "GET",
            "path": "/fast/sync",
            "emits": [],
        }

        def handler(req, ctx):
            return {"status": 200, "body": {"fast": "sync"}}
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "sync", STEPS) as running:
        yield running


def test_sync_handler_uses_state_without_await(server: ServerProcess) -> None:
    value = {"count": 3, "tags": ["a", "b"]}
    response = server.client.post("/sync/state", json={"key": "k1", "value": value})
    assert response.status_code == 200
    body = response.json()
    assert body["returned"] == value
    assert body["readBack"] == value
    assert body["traceId"] == response.headers["x-trace-id"]
    assert body["thread"] != "MainThread"


def test_slow_sync_handler_does_not_block_other_routes(server: ServerProcess) -> None:
    marker = uuid.uuid4().hex
    slow_result: dict[str, object] = {}

    def call_slow() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            started = time.monotonic()
            response = client.get("/slow", params={"marker": marker})
            slow_result["status"] = response.status_code
            slow_result["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=call_slow)
    thread.start()
    try:
        server.wait_for_output(marker)  # the slow handler is now inside time.sleep(1)
        for path, expected in (("/fast/async", "async"), ("/fast/sync", "sync")):
            started = time.monotonic()
            response = server.client.get(path)
            elapsed = time.monotonic() - started
            assert response.status_code == 200
            assert response.json() == {"fast": expected}
            assert elapsed < 0.5, f"{path} took {elapsed:.2f} s while a sync handler slept"
        assert "status" not in slow_result, "the slow request should still be running"
    finally:
        thread.join(timeout=10)
    assert slow_result["status"] == 200
    assert slow_result["elapsed"] >= 1.0  # type: ignore[operator]
