"""The example project, run by a real `motia start` process over HTTP."""

from __future__ import annotations

import time
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


def _approval(server: ServerProcess, resource_id: str) -> dict[str, object] | None:
    response = server.client.get(f"/resources/{resource_id}")
    return response.json().get("approval") if response.status_code == 200 else None


def _status(server: ServerProcess, resource_id: str) -> object:
    approval = _approval(server, resource_id)
    return approval and approval["status"]


def test_example_approval_is_decided_or_expires_at_its_deadline(
    server_factory, example_copy: Path
) -> None:
    deadline = 2.0
    server: ServerProcess = server_factory(
        example_copy, env={"RESOURCE_APPROVAL_SECONDS": str(deadline)}
    )
    approved = server.client.post("/resources", json={"name": "a.pdf"}).json()["id"]
    expiring = server.client.post("/resources", json={"name": "b.pdf"}).json()["id"]
    wait_for(lambda: _status(server, approved) == "pending", what="approval requested")
    wait_for(lambda: _status(server, expiring) == "pending", what="approval requested")

    decision = server.client.post(
        f"/resources/{approved}/approval", json={"approved": True, "reviewer": "ana"}
    )
    assert decision.status_code == 202, decision.text
    wait_for(lambda: _status(server, approved) == "approved", what="the decision settled")

    # The other one gets no decision: its deadline settles it.
    wait_for(lambda: _status(server, expiring) == "expired", deadline + 5, what="expiry")
    expired = _approval(server, expiring)
    assert expired is not None and "reviewer" not in expired
    late = server.client.post(
        f"/resources/{expiring}/approval", json={"approved": True, "reviewer": "ana"}
    )
    assert late.status_code == 409 and late.json() == {"error": "already expired"}

    # The decided one's deadline was cancelled: past it, it is still approved, settled once.
    time.sleep(1.0)
    settled = _approval(server, approved)
    assert settled is not None
    assert settled["status"] == "approved" and settled["reviewer"] == "ana"
    assert "Approval already settled" not in server.output()

    unknown = server.client.post(
        "/resources/nope/approval", json={"approved": False, "reviewer": "x"}
    )
    assert unknown.status_code == 404
    invalid = server.client.post(f"/resources/{approved}/approval", json={"approved": "yes"})
    assert invalid.status_code == 400
