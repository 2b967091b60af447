"""The 1.0-form example project (tests/triggers/example: Python and TypeScript steps, every
trigger type, conditions) under `motia start`, a real server process on SQLite.

Each "fires nothing" claim is checked with an ordered witness: a change that must not
fire is followed, on the same FIFO key, by one that must, so by the time the second has
run the first has been looked at and skipped."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli._support import json_records, run_motia
from tests.conftest import ServerProcess, start_server, wait_for
from tests.runners.support import example_node_modules, require

EXAMPLE = Path(__file__).parent / "example"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require("node")
    root = tmp_path_factory.mktemp("triggers") / "example"
    shutil.copytree(EXAMPLE, root)
    (root / "node_modules").symlink_to(example_node_modules())
    return root


@pytest.fixture
def server(project: Path, tmp_path: Path) -> Iterator[ServerProcess]:
    process = start_server(project, "start", log_dir=tmp_path)
    try:
        yield process
    finally:
        process.stop()


def _report(server: ServerProcess) -> dict[str, Any]:
    answer = server.client.get("/report")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_triggers_fire_exactly_for_the_changes_their_conditions_accept(
    server: ServerProcess,
) -> None:
    client = server.client
    # http condition: a test order is refused before anything runs.
    assert client.post("/orders", json={"id": "t", "amount": 500, "test": True}).status_code == 204
    # queue condition (TypeScript, FIFO): the small order is skipped, the big one kept.
    assert client.post("/orders", json={"id": "y", "amount": 50}).status_code == 202
    assert client.post("/orders", json={"id": "x", "amount": 150}).status_code == 202
    orders = wait_for(lambda: _report(server)["orders"], timeout=20, what="order x kept")
    assert orders == [{"amount": 150, "status": "new"}]  # neither t nor y

    # state trigger: "new" did not fire OnPaid; "paid" does, once.
    paid = client.post("/orders/x/pay")
    assert paid.json() == {"amount": 150, "status": "paid"}
    wait_for(lambda: _report(server)["feed"], timeout=20, what="x in the feed")
    report = _report(server)
    assert report["paid"] == {"x": 1}
    assert report["feed"] == ["create:x"]

    # Paying again and shipping are state changes OnPaid's condition refuses; the stream
    # update is one FeedLog's condition refuses; the delete is one it accepts.
    assert client.post("/orders/x/pay").status_code == 200
    assert client.post("/orders/x/ship").json()["status"] == "shipped"
    assert client.delete("/orders/x").status_code == 204
    feed = wait_for(
        lambda: (f := _report(server)["feed"]) and len(f) > 1 and f, timeout=20, what="delete"
    )
    assert feed == ["create:x", "delete:x"]
    assert _report(server)["paid"] == {"x": 1}

    # cron trigger with a seconds field.
    ticks = wait_for(lambda: _report(server)["ticks"], timeout=20, what="a cron tick")
    assert ticks["n"] >= 1
    errors = [r for r in json_records(server.output()) if r.get("level") == "error"]
    assert errors == []


def test_flows_and_manifest_show_triggers_and_conditions(project: Path, tmp_path: Path) -> None:
    listed = run_motia("flows", "--dir", str(project), timeout=60)
    assert listed.returncode == 0, listed.stderr
    out = listed.stdout
    assert "http POST /orders if not_a_test" in out
    assert "queue order.placed if condition" in out
    assert "state group=orders if becomes_paid" in out
    assert "stream streamName=order-feed if condition" in out
    assert "cron * * * * * * if wanted" in out
    assert "ChangeOrder.http" in out and "ChangeOrder.http2" in out


def test_manifest_and_workbench_graph_carry_each_trigger(project: Path) -> None:
    from motia.manifest import build_manifest
    from motia.runtime.loading import load_project
    from motia.workbench_model import flows

    loaded = load_project(project)
    assert loaded.errors == []
    manifest = build_manifest(project, loaded)
    by_name = {entry["name"]: entry for entry in manifest["steps"]}
    assert by_name["OnPaid"]["trigger"] == {
        "type": "state",
        "group": "orders",
        "step": "OnPaid",
        "condition": "becomes_paid",
    }
    assert by_name["ChangeOrder.queue"]["trigger"] == {
        "type": "queue",
        "topic": "order.change",
        "step": "ChangeOrder",
    }
    assert by_name["FeedLog"]["language"] == "typescript"
    assert by_name["FeedLog"]["trigger"]["condition"] == "condition"
    [orders] = [flow for flow in flows(loaded.steps, project) if flow["id"] == "orders"]
    nodes = {node["name"]: node for node in orders["steps"]}
    assert nodes["BigOrder"]["trigger"]["type"] == "queue"
    edge = {(e["source"], e["target"]) for e in orders["edges"]}
    assert ("CreateOrder", "BigOrder") in edge
