"""The workbench graph of a 1.0-form project in a real headless Chromium: each trigger is
a node that says what it watches and its condition."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess
from tests.runners.support import example_node_modules, require

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).resolve().parents[1] / "triggers" / "example"


def test_trigger_nodes_show_what_they_watch_and_their_condition(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, page: Any, artifacts: Path
) -> None:
    require("node")
    project = tmp_path / "example"
    shutil.copytree(EXAMPLE, project)
    (project / "node_modules").symlink_to(example_node_modules())
    server = server_factory(project, "dev")
    page.goto(f"{server.url}/__motia/#/flows/orders")
    page.wait_for_selector('svg.graph .node[data-step="OnPaid"]')

    def text(step: str) -> str:
        content: str = page.locator(f'svg.graph .node[data-step="{step}"]').text_content()
        return content

    assert "on state orders" in text("OnPaid") and "if becomes_paid" in text("OnPaid")
    assert "on stream order-feed" in text("FeedLog") and "if condition" in text("FeedLog")
    assert "/orders" in text("CreateOrder") and "if not_a_test" in text("CreateOrder")
    assert "motia::" not in page.locator("svg.graph").text_content()
    page.wait_for_timeout(250)
    page.screenshot(path=str(artifacts / "flows-triggers.png"))
