"""The example project, run by a real `motia start` process over HTTP."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ServerProcess, wait_for


def test_example_flow_runs_end_to_end(server_factory, example_copy: Path) -> None:
    server: ServerProcess = server_factory(example_copy)
    created = server.client.post("/resources", json={"name": "report.pdf"})
    assert created.status_code == 201
    resource_id = created.json()["id"]
    assert created.headers["x-trace-id"] == created.json()["traceId"]

    fetched = wait_for(
        lambda: (r := server.client.get(f"/resources/{resource_id}")).status_code == 200 and r
    )
    body = fetched.json()  # type: ignore[union-attr]
    assert body["name"] == "report.pdf"
    assert body["processedAt"].endswith("+00:00")
    server.wait_for_output("Notifying owner")
