"""The Queues panel lists scheduled emits and cancels one, in headless Chromium against a
real `motia dev` server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess, write_project
from tests.workbench.test_browser import open_workbench, shot

pytestmark = pytest.mark.slow

PROJECT = {
    "steps/remind_step.py": """
        config = {"type": "api", "name": "Remind", "method": "POST", "path": "/remind",
                  "emits": ["reminder.due"]}

        async def handler(req, ctx):
            message_id = await ctx.emit({"topic": "reminder.due", "data": req["body"],
                                         "delay": 3600, "key": req["body"]["user"]})
            return {"status": 200, "body": {"id": message_id}}
    """,
    "steps/send_step.py": """
        config = {"type": "event", "name": "SendReminder", "subscribes": ["reminder.due"]}

        async def handler(data, ctx):
            pass
    """,
}


def test_scheduled_emits_are_listed_and_cancelled(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, page: Any, artifacts: Path
) -> None:
    project = write_project(tmp_path / "project", PROJECT)
    server = server_factory(project, "dev")
    ids = [server.client.post("/remind", json={"user": u}).json()["id"] for u in ("ann", "bo")]

    open_workbench(page, server, "#/queues")
    rows = page.locator("#scheduled-table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 2
    first = page.locator(f'#scheduled-table tr[data-id="{ids[0]}"]')
    assert "reminder.due" in first.text_content() and "ann" in first.text_content()
    assert "SendReminder" in first.text_content()
    shot(page, artifacts, "queues-scheduled")

    page.once("dialog", lambda dialog: dialog.accept())
    first.locator('[data-action="cancel-scheduled"]').click()
    page.locator("#toast", has_text="Cancelled 1").wait_for()
    page.locator(f'#scheduled-table tr[data-id="{ids[0]}"]').wait_for(state="detached")
    listed = server.client.get("/__motia/api/scheduled").json()["items"]
    assert [e["id"] for e in listed] == [ids[1]]
