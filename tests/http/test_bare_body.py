"""A handler that returns its body without the `{status, body}` envelope gets a 500 and a
log line with the fix, as classic Motia failed such a response: guessing would give a body
with a `status` key another meaning."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ServerProcess
from tests.http.support import module_server, records_for

pytestmark = pytest.mark.slow


def _step(name: str, path: str, result: str) -> str:
    return f"""
        from pydantic import BaseModel

        class Pong(BaseModel):
            pong: bool = True

        config = {{"type": "api", "name": "{name}", "method": "GET", "path": "{path}",
                   "emits": ["pinged"]}}

        async def handler(req, ctx):
            await ctx.emit({{"topic": "pinged", "data": {{}}}})
            return {result}
    """


STEPS = {
    "steps/bare_step.py": _step("Bare", "/bare", '{"pong": True}'),
    "steps/model_step.py": _step("Model", "/model", "Pong()"),
    "steps/envelope_step.py": _step(
        "Envelope", "/envelope", '{"status": 200, "body": {"pong": True}}'
    ),
    "steps/headers_only_step.py": _step(
        "HeadersOnly", "/headers-only", '{"headers": {"x-a": "1"}}'
    ),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "bare-body", STEPS) as running:
        yield running


@pytest.mark.parametrize(("path", "step"), [("/bare", "Bare"), ("/model", "Model")])
def test_a_bare_body_is_a_500_with_the_fix_in_the_log(
    server: ServerProcess, path: str, step: str
) -> None:
    response = server.client.get(path)
    trace_id = response.headers["x-trace-id"]
    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error", "traceId": trace_id}
    server.wait_for_output(trace_id)
    [record] = [r for r in records_for(server, trace_id) if r["level"] == "error"]
    assert record["step"] == step
    assert record["error"] == (
        "InvalidResponse: the handler returned a dict with the keys 'pong' and no 'status', "
        "'body' or 'headers': to send it as the body, return {'status': 200, 'body': ...}"
    )
    assert "stack" not in record  # the message is the whole story


def test_the_envelope_sends_the_body(server: ServerProcess) -> None:
    response = server.client.get("/envelope")
    assert (response.status_code, response.json()) == (200, {"pong": True})


def test_headers_alone_are_a_response(server: ServerProcess) -> None:
    response = server.client.get("/headers-only")
    assert (response.status_code, response.content, response.headers["x-a"]) == (200, b"", "1")
