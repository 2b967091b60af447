"""`motia scheduled list|cancel` on a project's SQLite store, as a server left it."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from motia.adapters.factory import open_stores
from motia.adapters.queue.base import OutgoingMessage
from motia.clock import Clock
from motia.settings import load_settings
from tests.cli._support import run_motia
from tests.conftest import write_project

PROJECT = {
    "steps/send_step.py": """
        config = {"type": "event", "name": "Send", "subscribes": ["reminder.due"]}

        async def handler(data, ctx):
            pass
    """,
}


def schedule(project: Path, event_id: str, fire_in: float, key: str | None = None) -> None:
    """Store a scheduled emit the way a server's `ctx.emit` does."""
    settings = load_settings(project, "start", workbench_enabled=False)

    async def main() -> None:
        stores = open_stores(settings, Clock())
        try:
            await stores.queue.publish(
                [
                    OutgoingMessage(
                        id=f"{event_id}-{step}",
                        event_id=event_id,
                        subscriber=step,
                        topic="reminder.due",
                        data={"for": event_id},
                        trace_id=f"trace-{event_id}",
                        delay=fire_in,
                        fire_at=time.time() + fire_in,
                        key=key,
                    )
                    for step in ("Send", "Audit")
                ]
            )
        finally:
            await stores.close()

    asyncio.run(main())


def motia(project: Path, *args: str) -> tuple[int, str]:
    result = run_motia("scheduled", *args, "--dir", str(project))
    return result.returncode, result.stdout + result.stderr


def test_list_and_cancel_by_id_and_by_key(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", PROJECT)
    code, out = motia(project, "list")
    assert code == 1 and "the project never ran" in out

    schedule(project, "ev-late", 7200)
    schedule(project, "ev-soon", 3600, key="user-9")
    code, out = motia(project, "list")
    assert code == 0, out
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["ev-soon", "ev-late"]
    assert "key=user-9" in lines[0] and "steps=Audit,Send" in lines[0]
    assert "trace=trace-ev-late" in lines[1]
    code, out = motia(project, "list", "--json", "--limit", "1")
    assert code == 0, out
    [emit] = [json.loads(line) for line in out.strip().splitlines()]
    assert (emit["id"], emit["key"], emit["steps"], emit["data"]) == (
        "ev-soon",
        "user-9",
        ["Audit", "Send"],
        {"for": "ev-soon"},
    )
    assert emit["fireAt"] > time.time() + 3500

    assert motia(project, "cancel", "ev-late") == (0, "cancelled: 2\n")
    code, out = motia(project, "cancel", "ev-late")
    assert code == 1 and "no pending scheduled emit with id 'ev-late'" in out
    code, out = motia(project, "cancel", "--key", "user-9", "--topic", "other.topic")
    assert code == 1 and "no pending scheduled emit with key 'user-9'" in out
    assert motia(project, "cancel", "--key", "user-9", "--topic", "reminder.due") == (
        0,
        "cancelled: 2\n",
    )
    assert motia(project, "list") == (0, "no scheduled emits\n")


def test_cancel_needs_an_id_or_a_key_and_memory_is_refused(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", PROJECT)
    code, out = motia(project, "cancel")
    assert code == 2 and "give a scheduled emit's id or --key" in out
    code, out = motia(project, "cancel", "some-id", "--key", "k")
    assert code == 2 and "one of them" in out
    code, out = motia(project, "cancel", "--topic", "t", "--key", "k", "x")
    assert code == 2
    memory = write_project(
        tmp_path / "memory", {**PROJECT, "config.yml": "queue:\n  adapter: memory\n"}
    )
    code, out = motia(memory, "list")
    assert code == 1 and "/__motia/api/scheduled" in out
