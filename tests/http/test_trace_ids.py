"""Every response, success or error, carries `x-trace-id`, equal to the `traceId` of errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.conftest import ServerProcess
from tests.http.support import module_server

pytestmark = pytest.mark.slow

STEPS = {
    "config.yml": """
        http:
          maxBodySize: 1kb
    """,
    "steps/ok_step.py": """
        config = {"type": "api", "name": "Ok", "method": "POST", "path": "/ok", "emits": []}

        async def handler(req, ctx):
            return {"status": 200, "body": {"traceId": ctx.trace_id}}
    """,
    "steps/boom_step.py": """
        config = {"type": "api", "name": "Boom", "method": "GET", "path": "/boom", "emits": []}

        async def handler(req, ctx):
            raise RuntimeError("boom")
    """,
}

Call = Callable[[httpx.Client], httpx.Response]

ERROR_CALLS: dict[str, tuple[int, Call]] = {
    "400": (
        400,
        lambda c: c.post("/ok", content=b"{", headers={"content-type": "application/json"}),
    ),
    "404": (404, lambda c: c.get("/missing")),
    "405": (405, lambda c: c.delete("/ok")),
    "413": (413, lambda c: c.post("/ok", json={"pad": "x" * 2000})),
    "500": (500, lambda c: c.get("/boom")),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "trace-ids", STEPS) as running:
        yield running


def test_200_has_trace_id_header(server: ServerProcess) -> None:
    response = server.client.post("/ok", json={})
    assert response.status_code == 200
    assert response.headers["x-trace-id"] == response.json()["traceId"]


@pytest.mark.parametrize("case", sorted(ERROR_CALLS))
def test_error_trace_id_header_matches_body(server: ServerProcess, case: str) -> None:
    status, call = ERROR_CALLS[case]
    response = call(server.client)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    trace_id = response.headers["x-trace-id"]
    assert trace_id
    assert response.json()["traceId"] == trace_id


def test_each_request_gets_a_new_trace_id(server: ServerProcess) -> None:
    ids = {server.client.get("/missing").headers["x-trace-id"] for _ in range(5)}
    assert len(ids) == 5
