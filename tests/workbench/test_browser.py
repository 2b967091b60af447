"""The workbench in a real headless Chromium against a real `motia dev` server.

Each test saves a screenshot of its panel under test-artifacts/workbench/."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLE, ServerProcess, wait_for
from tests.workbench.conftest import EXPECTED_EDGES, EXPECTED_STEPS, EXPECTED_VIRTUAL_EDGES, TOKEN

pytestmark = pytest.mark.slow
Factory = Callable[..., ServerProcess]


def dev_server(server_factory: Factory, project: Path) -> ServerProcess:
    return server_factory(project, "dev")


def open_workbench(page: Any, server: ServerProcess, hash_: str = "") -> None:
    page.goto(f"{server.url}/__motia/{hash_}")
    page.wait_for_selector("#live.on")  # the live feed is connected


def shot(page: Any, artifacts: Path, name: str) -> None:
    page.wait_for_timeout(250)  # let the last render and animations settle
    page.screenshot(path=str(artifacts / f"{name}.png"))


def create_resource(server: ServerProcess, name: str = "report.pdf") -> str:
    response = server.client.post("/resources", json={"name": name})
    assert response.status_code == 201, response.text
    return response.headers["x-trace-id"]


def dead_letters(server: ServerProcess) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = server.client.get("/__motia/api/dlq").json()["items"]
    return items


def test_flow_graph_shows_the_steps_and_edges(
    server_factory: Factory, failing_example: Path, page: Any, artifacts: Path
) -> None:
    server = dev_server(server_factory, failing_example)
    open_workbench(page, server, "#/flows")
    page.wait_for_selector("svg.graph .node")
    names = set(page.locator("svg.graph .node").evaluate_all("ns => ns.map(n => n.dataset.step)"))
    assert names == EXPECTED_STEPS
    assert page.locator("svg.graph path.edge").count() == EXPECTED_EDGES
    assert page.locator("svg.graph path.edge-virtual").count() == EXPECTED_VIRTUAL_EDGES
    api_node = page.locator('svg.graph .node[data-step="CreateResource"]')
    assert "POST" in api_node.text_content() and "/resources" in api_node.text_content()
    assert "* * * * *" in page.locator('svg.graph .node[data-step="ResourceReport"]').text_content()
    shot(page, artifacts, "flows")

    # Clicking a node shows its description, config, schemas and source.
    api_node.click()
    drawer = page.locator("#drawer")
    drawer.locator(".lead", has_text="Accept a resource and queue it for processing").wait_for()
    assert "async def handler" in drawer.locator(".source").text_content()
    assert "bodySchema" in drawer.text_content()
    shot(page, artifacts, "flows-step")
    page.keyboard.press("Escape")

    # Dragging a node saves its position through the API (motia-workbench.json).
    box = page.locator('svg.graph .node[data-step="HumanReview"]').bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 30)
    page.mouse.down()
    page.mouse.move(box["x"] + 90, box["y"] + 130, steps=6)
    page.mouse.up()
    wait_for(lambda: (failing_example / "motia-workbench.json").exists())
    saved = json.loads((failing_example / "motia-workbench.json").read_text())
    assert set(saved["resource-processing"]) == {"HumanReview"}


def test_endpoint_tester_shows_response_logs_and_trace_live(
    server_factory: Factory, failing_example: Path, page: Any, artifacts: Path
) -> None:
    server = dev_server(server_factory, failing_example)
    open_workbench(page, server, "#/endpoints/CreateResource")
    body = page.locator("#request-body")
    assert json.loads(body.input_value())["name"]  # prefilled from the body schema
    body.fill(json.dumps({"name": "from-the-browser", "kind": "image"}))
    page.click("#send-request")
    page.wait_for_selector("#response-status")
    assert page.locator("#response-status").text_content().startswith("201")
    # The request's own log lines arrive live over the SSE feed.
    page.locator("#request-logs .msg", has_text="Resource accepted").wait_for()
    page.locator("#request-logs .msg", has_text="Resource processed").wait_for()
    shot(page, artifacts, "endpoints")

    page.click("#response-trace")
    page.wait_for_selector("#timeline .tl-span")
    page.locator('#timeline .tl-span[data-step="NotifyResourceProcessed"]').wait_for()
    steps = page.locator("#timeline .tl-span").evaluate_all("rs => rs.map(r => r.dataset.step)")
    assert {"CreateResource", "ProcessResource", "AuditResource"} <= set(steps)
    shot(page, artifacts, "endpoints-trace")


def test_logs_panel_tails_live_and_opens_the_trace(
    server_factory: Factory, failing_example: Path, page: Any, artifacts: Path
) -> None:
    server = dev_server(server_factory, failing_example)
    open_workbench(page, server, "#/logs")
    page.wait_for_selector("#log-list")
    trace_id = create_resource(server, "live-tail.txt")
    line = page.locator(
        f'#log-list .log-row[data-trace="{trace_id}"]', has_text="Resource accepted"
    )
    line.wait_for()
    # Level filter: only errors, loaded from the persisted history.
    for level in ("debug", "info", "warn"):
        page.locator(f'input[data-level="{level}"]').uncheck()
    page.locator("#log-list .log-row", has_text="moved to the dead-letter queue").first.wait_for()
    wait_for(lambda: page.locator("#log-list .level-row-info").count() == 0)
    shot(page, artifacts, "logs")
    page.locator("#log-list .log-row", has_text="moved to the dead-letter queue").first.click()
    page.wait_for_selector("#span-error")
    assert trace_id in page.url


def test_failed_event_trace_and_redrive_from_the_dlq(
    server_factory: Factory, failing_example: Path, page: Any, artifacts: Path
) -> None:
    server = dev_server(server_factory, failing_example)
    trace_id = create_resource(server)
    wait_for(lambda: len(dead_letters(server)) == 1)
    letter = dead_letters(server)[0]

    open_workbench(page, server, "#/traces")
    # The tab bar counts failed traces and dead letters in red.
    page.locator("#tab-traces .tab-badge:not([hidden])").wait_for()
    assert page.locator("#tab-traces .tab-badge").text_content() == "1"
    assert page.locator("#tab-queues .tab-badge").text_content() == "1"
    first = page.locator("#trace-list .trace-item").first
    assert first.get_attribute("data-status") == "failed"  # failed traces first
    first.click()
    error = page.locator("#span-error")
    error.wait_for()  # the failed run is selected at once
    assert "RuntimeError: auditor unavailable" in error.text_content()
    assert "raise RuntimeError" in error.text_content()  # the stack
    assert page.locator("#trace-id").text_content() == trace_id
    shot(page, artifacts, "traces")

    error.locator("a", has_text="Open in the dead-letter queue").click()
    row = page.locator(f'#dlq-table tr[data-id="{letter["id"]}"]')
    row.wait_for()
    row.get_by_role("button", name="Inspect").click()
    page.locator("#drawer .error-msg", has_text="auditor unavailable").wait_for()
    assert "from-the-example" not in page.locator("#drawer").text_content()
    shot(page, artifacts, "queues-dead-letter")
    page.keyboard.press("Escape")
    shot(page, artifacts, "queues")

    row.locator('[data-action="redrive"]').click()
    page.locator("#toast", has_text="Redriven: 1").wait_for()

    # It ran again (a second AuditResource run in the same trace) and, failing again,
    # is a dead letter once more with a later failure time.
    def audit_runs() -> int:
        spans = server.client.get(f"/__motia/api/traces/{trace_id}").json()["spans"]
        return sum(1 for s in spans if s["step"] == "AuditResource" and s["status"] == "dead")

    wait_for(lambda: audit_runs() == 2)
    wait_for(lambda: [d["failedAt"] for d in dead_letters(server)] > [letter["failedAt"]])


def test_state_edit_with_validation(
    server_factory: Factory, failing_example: Path, page: Any, artifacts: Path
) -> None:
    server = dev_server(server_factory, failing_example)
    assert server.client.put("/__motia/api/state/settings/theme", json={"color": "blue"}).is_success
    open_workbench(page, server, "#/state/settings")
    row = page.locator('#state-table tr[data-key="theme"]')
    row.get_by_role("button", name="Edit").click()
    editor = page.locator("#state-editor")
    editor.fill('{"color": "green",')
    assert "Not valid JSON" in page.locator("#state-error").text_content()
    assert page.locator("#state-save").is_disabled()
    editor.fill('{"color": "green", "size": 3}')
    page.click("#state-save")
    page.locator("#state-table", has_text="green").wait_for()
    shot(page, artifacts, "state")
    value = server.client.get("/__motia/api/state/settings/theme").json()["value"]
    assert value == {"color": "green", "size": 3}

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    wait_for(lambda: server.client.get("/__motia/api/state/settings/theme").status_code == 404)


def test_streams_update_live(
    server_factory: Factory, failing_example: Path, page: Any, artifacts: Path
) -> None:
    server = dev_server(server_factory, failing_example)
    create_resource(server, "first.txt")
    open_workbench(page, server, "#/streams/resourceStatus/document")
    page.locator("#stream-items", has_text="first.txt").wait_for()
    create_resource(server, "second.txt")
    page.locator("#stream-items", has_text="second.txt").wait_for()
    page.locator("#stream-events", has_text="second.txt").first.wait_for()
    shot(page, artifacts, "streams")


def test_cron_run_now_links_to_its_trace(
    server_factory: Factory, failing_example: Path, page: Any, artifacts: Path
) -> None:
    server = dev_server(server_factory, failing_example)
    open_workbench(page, server, "#/cron")
    card = page.locator('[data-cron="ResourceReport"]')
    assert "Every minute" in card.text_content()
    card.locator('[data-action="run-now"]').click()
    link = card.locator("a.run-trace")
    link.wait_for()
    trace_id = re.sub(r"^#/traces/", "", link.get_attribute("href"))
    shot(page, artifacts, "cron")
    trace = server.client.get(f"/__motia/api/traces/{trace_id}").json()["trace"]
    assert trace["entryStep"] == "ResourceReport" and trace["entryKind"] == "cron"
    link.click()
    page.locator('#timeline .tl-span[data-step="ResourceReport"]').wait_for()


def test_token_required_screen_in_start_mode(
    server_factory: Factory, failing_example: Path, page: Any, artifacts: Path
) -> None:
    server = server_factory(failing_example, "start", env={"MOTIA_WORKBENCH_TOKEN": TOKEN})
    page.goto(f"{server.url}/__motia/")
    page.locator("#token-screen", has_text="Token required").wait_for()
    shot(page, artifacts, "token-required")

    page.goto(f"{server.url}/__motia/?token={TOKEN}#/flows")
    page.wait_for_selector("svg.graph .node")
    assert "token=" not in page.url  # taken out of the address bar, kept for the session
    page.wait_for_selector("#live.on")  # the SSE feed accepts ?token=
    page.goto(f"{server.url}/__motia/#/cron")
    page.wait_for_selector('[data-cron="ResourceReport"]')


def test_screenshots_for_the_readme(
    server_factory: Factory, failing_example: Path, page: Any, artifacts: Path, tmp_path: Path
) -> None:
    """For docs/images/: the example's flow graph and a failed trace's timeline."""
    plain = tmp_path / "plain-example"
    shutil.copytree(EXAMPLE, plain, ignore=shutil.ignore_patterns(".motia", "__pycache__"))
    example = dev_server(server_factory, plain)
    open_workbench(page, example, "#/flows")
    page.wait_for_selector("svg.graph .node")
    shot(page, artifacts, "readme-flow")

    server = dev_server(server_factory, failing_example)
    trace_id = create_resource(server, "quarterly-report.pdf")
    wait_for(lambda: len(dead_letters(server)) == 1)
    time.sleep(0.2)
    page.goto(f"{server.url}/__motia/#/traces/{trace_id}")
    page.wait_for_selector("#span-error")
    shot(page, artifacts, "readme-trace")
