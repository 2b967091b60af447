"""A request Motia refuses before the handler runs (malformed JSON, a schema violation, a
body too large) is a short trace of its own and a log line, so the trace id in the answer
leads to the step and the reason. 404 and 405 match no step: they are logged, not traced."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ServerProcess, start_server, wait_for, write_project
from tests.http.support import records_for

pytestmark = pytest.mark.slow

TOKEN = "rejected-traces-token-0123456789"
STEPS = {
    "config.yml": """
        http:
          maxBodySize: 1kb
    """,
    "steps/orders_step.py": """
        config = {
            "type": "api",
            "name": "CreateOrder",
            "method": "POST",
            "path": "/orders",
            "emits": [],
            "flows": ["orders"],
            "bodySchema": {
                "type": "object",
                "properties": {
                    "item": {"type": "string", "minLength": 1},
                    "quantity": {"type": "integer", "minimum": 1},
                },
                "required": ["item", "quantity"],
            },
        }

        async def handler(req, ctx):
            ctx.logger.info("handler ran")
            return {"status": 201, "body": {"ok": True}}
    """,
    "steps/boom_step.py": """
        config = {"type": "api", "name": "Boom", "method": "GET", "path": "/boom", "emits": []}

        async def handler(req, ctx):
            raise RuntimeError("boom")
    """,
}


def _serve(factory: pytest.TempPathFactory, mode: str) -> ServerProcess:
    root = factory.mktemp(f"rejected-{mode}")
    project = write_project(root / "project", STEPS)
    env = {"MOTIA_WORKBENCH_TOKEN": TOKEN} if mode == "start" else None
    return start_server(project, mode, env=env, log_dir=root)


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = _serve(tmp_path_factory, "dev")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def start(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = _serve(tmp_path_factory, "start")
    server.client.headers["authorization"] = f"Bearer {TOKEN}"
    yield server
    server.stop()


def trace_of(server: ServerProcess, trace_id: str) -> dict[str, Any]:
    """The trace as the workbench gets it, once it is recorded."""

    def fetch() -> dict[str, Any] | None:
        response = server.client.get(f"/__motia/api/traces/{trace_id}")
        return response.json() if response.status_code == 200 else None

    found = wait_for(fetch)
    assert isinstance(found, dict)
    return found


def post_orders(server: ServerProcess, **kwargs: Any) -> tuple[int, dict[str, Any], str]:
    response = server.client.post("/orders", **kwargs)
    return response.status_code, response.json(), response.headers["x-trace-id"]


def test_malformed_json_is_a_rejected_trace_logged_at_info(dev: ServerProcess) -> None:
    status, body, trace_id = post_orders(
        dev, content=b'{"item": ', headers={"content-type": "application/json"}
    )
    assert status == 400 and body["traceId"] == trace_id
    data = trace_of(dev, trace_id)
    trace, [span] = data["trace"], data["spans"]
    assert (trace["status"], trace["entryStep"], trace["trigger"]) == (
        "rejected",
        "CreateOrder",
        "POST /orders",
    )
    assert (span["status"], span["httpStatus"], span["kind"]) == ("rejected", 400, "api")
    assert span["error"] == body["error"] and span["error"].startswith("Malformed JSON body")
    assert span["flows"] == ["orders"]
    # The dev terminal says it, with the trace id, and the trace shows the same line.
    line = next(line for line in dev.wait_for_output(trace_id).splitlines() if trace_id in line)
    assert "INFO" in line and "[CreateOrder]" in line
    assert "request rejected: 400 Malformed JSON body" in line
    assert [r["msg"] for r in data["logs"]] == [f"request rejected: 400 {body['error']}"]


def test_a_schema_violation_keeps_the_field_errors_and_the_handler_never_runs(
    dev: ServerProcess,
) -> None:
    status, body, trace_id = post_orders(dev, json={"item": "", "quantity": 0})
    assert status == 400
    data = trace_of(dev, trace_id)
    [span] = data["spans"]
    assert span["error"] == "Invalid request body"
    assert span["fieldErrors"] == body["errors"]
    assert {e["field"] for e in span["fieldErrors"]} == {"item", "quantity"}
    [record] = data["logs"]
    assert record["level"] == "info" and record["errors"] == body["errors"]
    assert record["status"] == 400 and record["path"] == "/orders"
    assert "handler ran" not in dev.output()


def test_a_body_over_the_limit_is_a_rejected_trace(dev: ServerProcess) -> None:
    status, body, trace_id = post_orders(dev, json={"item": "x" * 2000, "quantity": 1})
    assert status == 413
    [span] = trace_of(dev, trace_id)["spans"]
    assert (span["status"], span["httpStatus"]) == ("rejected", 413)
    assert span["error"] == body["error"]


def test_rejected_traces_are_listed_apart_from_failed_ones(dev: ServerProcess) -> None:
    _, _, rejected = post_orders(dev, json={"quantity": 2})
    failed = dev.client.get("/boom").headers["x-trace-id"]
    trace_of(dev, rejected)
    trace_of(dev, failed)

    def listed(status: str) -> set[str]:
        items = dev.client.get(f"/__motia/api/traces?status={status}").json()["items"]
        return {t["traceId"] for t in items}

    assert rejected in listed("rejected") and rejected not in listed("failed")
    assert failed in listed("failed") and failed not in listed("rejected")


def test_api_runs_record_the_status_they_answered(dev: ServerProcess) -> None:
    status, _, ok = post_orders(dev, json={"item": "tea", "quantity": 2})
    assert status == 201
    [span] = trace_of(dev, ok)["spans"]
    assert (span["status"], span["httpStatus"]) == ("ok", 201)
    failed = dev.client.get("/boom").headers["x-trace-id"]
    [span] = trace_of(dev, failed)["spans"]
    assert (span["status"], span["httpStatus"]) == ("failed", 500)


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "/nowhere", 404, "Not found: GET /nowhere"),
        ("DELETE", "/orders", 405, "Method DELETE not allowed on /orders"),
    ],
)
def test_404_and_405_are_logged_in_dev_not_traced(
    dev: ServerProcess, method: str, path: str, status: int, message: str
) -> None:
    response = dev.client.request(method, path)
    assert response.status_code == status
    trace_id = response.headers["x-trace-id"]
    line = next(line for line in dev.wait_for_output(trace_id).splitlines() if trace_id in line)
    assert "INFO" in line and f"request rejected: {status} {message}" in line
    logs = dev.client.get(f"/__motia/api/logs?traceId={trace_id}").json()["items"]
    assert [r["msg"] for r in logs] == [f"request rejected: {status} {message}"]
    assert dev.client.get(f"/__motia/api/traces/{trace_id}").status_code == 404


def test_a_rejected_emit_is_logged(dev: ServerProcess) -> None:
    response = dev.client.post("/emit", json={"data": {}})
    assert response.status_code == 400
    trace_id = response.headers["x-trace-id"]
    line = next(line for line in dev.wait_for_output(trace_id).splitlines() if trace_id in line)
    assert "request rejected: 400 emit needs a non-empty string 'topic'" in line


def test_in_start_a_step_rejection_is_logged_and_traced_a_404_is_not_logged(
    start: ServerProcess,
) -> None:
    status, _, rejected = post_orders(start, json={"item": "tea"})
    assert status == 400
    missing = start.client.get("/nowhere").headers["x-trace-id"]
    start.wait_for_output(rejected)
    [record] = records_for(start, rejected)
    assert (record["level"], record["step"], record["status"]) == ("info", "CreateOrder", 400)
    assert record["errors"][0]["field"] == "quantity"
    assert trace_of(start, rejected)["trace"]["status"] == "rejected"
    # A scanner's 404 is not worth a line in production logs (it is at debug level).
    status, _, later = post_orders(start, json={"item": "tea"})
    start.wait_for_output(later)
    assert records_for(start, missing) == []
