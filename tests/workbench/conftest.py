"""Workbench fixtures: the example project with a step that always fails, and a real
headless Chromium (Debian's `chromium`) driven by Playwright for Python."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, write_project

CHROMIUM = os.environ.get("MOTIA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO / "test-artifacts" / "workbench"
TOKEN = "workbench-test-token-0123456789"

FAILING_STEP = """
from typing import Any

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "AuditResource",
    "description": "Audit every new resource (always fails: the auditor is down)",
    "subscribes": ["resource.created"],
    "emits": [],
    "flows": ["resource-processing"],
    "infrastructure": {"queue": {"maxRetries": 0}},
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    ctx.logger.info("Auditing resource", {"resourceId": input_data.get("id")})
    raise RuntimeError("auditor unavailable")
"""

# The example's steps and edges, plus AuditResource (resource.created, dead on failure).
EXPECTED_STEPS = {
    "CreateResource",
    "GetResource",
    "ResourceReport",
    "NotifyResourceProcessed",
    "ProcessResource",
    "HumanReview",
    "AuditResource",
    "LivePage",
    "RequestApproval",
    "DecideApproval",
    "ApprovalDeadline",
    "SettleApproval",
}
# Create→Process, Create→Audit, Process→Notify, Process→HumanReview (virtual),
# Process→RequestApproval, RequestApproval→ApprovalDeadline, ApprovalDeadline→Settle,
# Decide→Settle, HumanReview→Decide (virtual).
EXPECTED_EDGES = 9
EXPECTED_VIRTUAL_EDGES = 2


@pytest.fixture
def failing_example(example_copy: Path) -> Path:
    """The example project plus an event step that fails every time with maxRetries 0."""
    return write_project(example_copy, {"steps/audit/audit_resource_step.py": FAILING_STEP})


def _reason_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="session")
def artifacts(request: pytest.FixtureRequest) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    message = f"\nworkbench screenshots: {ARTIFACTS}"
    if capture is not None:
        with capture.global_and_fixture_disabled():
            print(message)
    else:
        print(message)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium: skipped when missing locally, a failure when CI is set."""
    missing = _reason_missing()
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, artifacts: Path) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the workbench: {errors}"
