"""The pytest plugin: `motia_tester` gives sync tests a running project."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from motia.testing import SyncMotiaTester
from tests.testing.projects import shop

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "resources"


def test_the_plugin_is_registered(request: pytest.FixtureRequest) -> None:
    assert request.config.pluginmanager.has_plugin("motia")


def test_sync_tester_fixture_runs_the_example(
    motia_tester: Callable[..., SyncMotiaTester],
) -> None:
    tester = motia_tester(EXAMPLE)
    processed = tester.watch("resource.processed")
    status = tester.stream("resourceStatus")

    response = tester.post("/resources", json={"name": "Report", "kind": "document"})
    assert response.status_code == 201
    resource_id = response.json()["id"]

    tester.wait_until_idle()
    assert processed.last["id"] == resource_id
    # Waiting until idle moves the fake clock to the approval's deadline: it expires.
    assert status.types == ["create", "update", "create", "update"]
    assert tester.state.get("approvals", resource_id)["status"] == "expired"
    assert tester.state.get("resources", resource_id)["name"] == "Report"
    assert tester.get(f"/resources/{resource_id}").json()["id"] == resource_id
    assert tester.post("/resources", json={"kind": "document"}).status_code == 400

    tester.clock.advance(60)  # the ResourceReport cron job: * * * * *
    tester.wait_until_idle()
    report = [r for r in tester.logs if r["msg"] == "Resource report"][-1]
    assert report["processed"] == 1


def test_sync_tester_retries_and_run(
    motia_tester: Callable[..., SyncMotiaTester], tmp_path: Path
) -> None:
    tester = motia_tester(shop(tmp_path))
    charged = tester.watch("order.charged")
    tester.emit({"topic": "stock.reserved", "data": {"id": "o-9", "item": "ink"}})
    started = time.perf_counter()
    tester.wait_until_idle()
    assert time.perf_counter() - started < 1.0
    assert charged.count == 1

    async def scenario() -> int:
        await tester.aio.post("/orders", json={"item": "pad"})
        await tester.aio.wait_until_idle()
        return charged.count

    assert tester.run(scenario()) == 2

    tester.emit({"topic": "doomed", "data": {"why": "sync"}})
    with pytest.raises(ValueError, match="boom: sync"):
        tester.wait_until_idle()
    assert [d.subscriber for d in tester.dead_letters()] == ["Doomed"]
