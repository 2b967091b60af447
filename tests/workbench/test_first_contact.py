"""Workbench details a newcomer meets in the first hour, in a real headless Chromium
against a real `motia dev` server: rejected requests have traces, live log lines keep
their order, stack traces lead with the user's frames, and the small things (plurals,
time zones, wrapping, favicon, the API docs link and its "Try it" body)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import EXAMPLE, ServerProcess, start_server, wait_for, write_project
from tests.workbench.conftest import FAILING_STEP

pytestmark = pytest.mark.slow

LONG_NAME = "ReconcileEveryLedgerEntryAgainstTheBankStatement"
EXTRA_STEPS = {
    "steps/audit/audit_resource_step.py": FAILING_STEP,
    "steps/misc/long_error_step.py": """
        config = {"type": "api", "name": "LongError", "method": "GET", "path": "/long-error",
                  "emits": []}

        async def handler(req, ctx):
            return {"status": 422, "body": {"error": "x" * 600, "detail": "y" * 600}}
    """,
    "steps/misc/long_name_step.py": f"""
        config = {{"type": "api", "name": "{LONG_NAME}", "method": "GET",
                   "path": "/ledgers/:ledgerId/entries/:entryId/reconciliation-report",
                   "emits": []}}

        async def handler(req, ctx):
            return {{"status": 200, "body": {{}}}}
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("first-contact-workbench")
    project = root / "example"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".motia", "__pycache__"))
    write_project(project, EXTRA_STEPS)
    running = start_server(project, "dev", log_dir=root)
    yield running
    running.stop()


def open_workbench(page: Any, server: ServerProcess, hash_: str) -> None:
    page.goto(f"{server.url}/__motia/{hash_}")
    page.wait_for_selector("#live.on")


def create_resource(server: ServerProcess, name: str) -> str:
    response = server.client.post("/resources", json={"name": name})
    assert response.status_code == 201, response.text
    return response.headers["x-trace-id"]


def header_names(page: Any) -> list[str]:
    section = page.locator(".section", has_text="Headers")
    names: list[str] = section.locator(".kv-key").evaluate_all("els => els.map(e => e.value)")
    return names


def test_a_rejected_request_has_a_trace_from_the_endpoint_tester(
    server: ServerProcess, page: Any
) -> None:
    open_workbench(page, server, "#/endpoints/CreateResource")
    body = page.locator("#request-body")
    # Prefilled with a body the schema accepts: its required field.
    assert json.loads(body.input_value()) == {"name": "example name"}
    assert header_names(page) == ["content-type"]
    body.fill("{}")
    page.click("#send-request")
    page.wait_for_selector("#response-status")
    assert page.locator("#response-status").text_content().startswith("400")
    page.click("#response-trace")
    card = page.locator("#span-error")
    card.wait_for()
    assert "Rejected — 400" in card.text_content()
    assert "Invalid request body" in card.text_content()
    row = card.locator(".field-errors tbody tr")
    assert row.count() == 1 and "name" in row.text_content()
    assert page.locator('#trace-list .trace-item.active[data-status="rejected"]').count() == 1
    meta = page.locator("#trace-detail .pane-head").text_content()
    assert "1 run" in meta and "1 runs" not in meta


def test_a_get_request_has_no_content_type_and_a_405_trace_shows_its_log_line(
    server: ServerProcess, page: Any
) -> None:
    open_workbench(page, server, "#/endpoints/GetResource")
    assert header_names(page) == []
    assert page.locator("#request-body").input_value() == ""
    page.locator('input[data-param="id"]').fill("nothing-here")
    page.select_option(".method-select", "DELETE")
    page.click("#send-request")
    page.wait_for_selector("#response-status")
    assert page.locator("#response-status").text_content().startswith("405")
    page.click("#response-trace")
    page.locator("#trace-detail", has_text="No step ran in this trace").wait_for()
    line = page.locator("#trace-logs-only .msg")
    assert line.text_content() == (
        "request rejected: 405 Method DELETE not allowed on /resources/nothing-here"
    )


def test_live_log_lines_of_a_request_stay_in_time_order(server: ServerProcess, page: Any) -> None:
    # The request's earlier lines come from its history, later ones from the live feed;
    # hold the history back so that it arrives last.
    def slow_history(route: Any) -> None:
        page.wait_for_timeout(1500)
        route.continue_()

    open_workbench(page, server, "#/endpoints/CreateResource")
    page.route(re.compile(r".*/__motia/api/logs\?traceId=.*"), slow_history)
    page.click("#send-request")
    logs = page.locator("#request-logs")
    logs.locator(".msg", has_text="Resource processed").wait_for()
    logs.locator(".msg", has_text="Resource accepted").wait_for()
    times = logs.locator(".log-entry").evaluate_all("es => es.map(e => Number(e.dataset.time))")
    assert len(times) >= 3 and times == sorted(times)
    messages = logs.locator(".msg").all_text_contents()
    assert messages.index("Resource accepted") < messages.index("Resource processed")
    assert len(messages) == len(
        set(logs.locator(".log-row").evaluate_all("es => es.map(e => e.dataset.key)"))
    )  # each line once
    page.unroute_all(behavior="ignoreErrors")


def test_a_live_line_before_the_logs_panel_has_loaded_is_shown(
    server: ServerProcess, page: Any
) -> None:
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    traces: list[str] = []

    def hold_history(route: Any) -> None:
        # While the panel waits for its history, a new line arrives on the live feed.
        if not traces:
            traces.append(create_resource(server, "before-history.txt"))
            page.wait_for_timeout(1000)
        route.continue_()

    page.route(re.compile(r".*/__motia/api/logs\?limit=.*"), hold_history)
    page.goto(f"{server.url}/__motia/#/logs")
    page.wait_for_selector("#log-list .log-row")
    assert traces
    page.locator(f'#log-list .log-row[data-trace="{traces[0]}"]').first.wait_for()
    assert not [e for e in console_errors if "reading 'has'" in e], console_errors
    page.unroute_all(behavior="ignoreErrors")


def test_stack_traces_lead_with_the_users_frames(server: ServerProcess, page: Any) -> None:
    trace_id = create_resource(server, "stack.txt")

    def audit_dead() -> bool:
        response = server.client.get(f"/__motia/api/traces/{trace_id}")
        return response.status_code == 200 and any(
            s["status"] == "dead" for s in response.json()["spans"]
        )

    wait_for(audit_dead)
    open_workbench(page, server, f"#/traces/{trace_id}")
    card = page.locator("#span-error")
    card.wait_for()
    user = card.locator(".frames-user .frame")
    assert user.count() == 1
    assert "steps/audit/audit_resource_step.py:" in user.text_content()
    assert 'raise RuntimeError("auditor unavailable")' in user.text_content()
    framework = card.locator(".frames-framework .frame")
    assert framework.count() >= 1
    assert framework.locator(".frame-tag").count() == framework.count()
    assert all(
        "motia" in text or "asyncio" in text or "python" in text
        for text in framework.locator(".frame-where").all_text_contents()
    )
    assert "Traceback (most recent call last)" in card.locator(".stack-raw pre").text_content()


def test_cron_last_run_shows_the_time_zone(server: ServerProcess, page: Any) -> None:
    open_workbench(page, server, "#/cron")
    card = page.locator('[data-cron="ResourceReport"]')
    card.locator('[data-action="run-now"]').click()
    card.locator("a.run-trace").wait_for()
    last = card.locator("dt:has-text('Last run') + dd")
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", last.text_content())
    following = card.locator("dt:has-text('Next run') + dd").text_content()
    assert following.endswith("UTC")


def test_a_long_error_wraps_inside_the_response_box(server: ServerProcess, page: Any) -> None:
    open_workbench(page, server, "#/endpoints/LongError")
    page.click("#send-request")
    page.wait_for_selector("#response-status")
    box = page.locator("#response")
    fits = box.evaluate(
        "el => [el, ...el.querySelectorAll('pre')].every(e => e.scrollWidth <= e.clientWidth + 1)"
    )
    right = box.evaluate("el => el.getBoundingClientRect().right")
    assert fits and right <= page.viewport_size["width"]


def test_trace_list_rows_stay_on_one_line(server: ServerProcess, page: Any) -> None:
    path = "/ledgers/ledger-0123456789/entries/entry-0123456789/reconciliation-report"
    trace_id = server.client.get(path).headers["x-trace-id"]
    open_workbench(page, server, f"#/traces/{trace_id}")
    item = page.locator(f'#trace-list .trace-item[data-trace="{trace_id}"]')
    item.wait_for()
    heights = item.locator(".row").evaluate_all(
        "rows => rows.map(r => r.getBoundingClientRect().height)"
    )
    line = item.locator(".list-sub .trigger").evaluate("e => e.getBoundingClientRect().height")
    assert all(h <= line + 8 for h in heights), (heights, line)
    assert item.locator(".list-sub .trigger").evaluate("e => e.scrollWidth > e.clientWidth")
    assert "1 run" in item.text_content() and "1 runs" not in item.text_content()


def test_favicon_and_the_api_docs_link_and_try_it_body(server: ServerProcess, page: Any) -> None:
    failures: list[str] = []
    page.on(
        "response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    open_workbench(page, server, "#/flows")
    icon = server.client.get("/__motia/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert server.client.get("/favicon.ico").status_code == 200  # dev: no 404 line per page
    with page.context.expect_page() as opened:
        page.click("#api-docs-link")
    docs = opened.value
    docs.wait_for_load_state()
    assert docs.url == f"{server.url}/__motia/docs"
    op = docs.locator("details.op", has_text="Accept a resource").filter(has_text="POST")
    op.locator("summary").click()
    body = op.locator("textarea")
    assert json.loads(body.input_value()) == {"name": "example name"}
    op.get_by_role("button", name="Send request").click()
    output = op.locator("pre").last
    docs.wait_for_function("el => /^\\d{3} /.test(el.textContent)", arg=output.element_handle())
    assert output.text_content().startswith("201")
    docs.wait_for_timeout(300)
    assert failures == []
    docs.close()
