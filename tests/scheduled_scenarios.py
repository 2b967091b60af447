"""Scheduled emits with two `motia start` processes on one shared store (Redis or
PostgreSQL): each fires once, on either process, at its time; one replaced by key on the
other process or cancelled there never fires."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ServerProcess, wait_for, write_project
from tests.redis.support import RUNLOG, read_runs

Servers = Callable[..., ServerProcess]
DELAY = 1.5

PROJECT: dict[str, str] = {
    "config.yml": """
        queue:
          pollInterval: 0.2
    """,
    "steps/__init__.py": "",
    "steps/lib/__init__.py": "",
    "steps/lib/runlog.py": RUNLOG,
    "steps/schedule_step.py": """
        config = {"type": "api", "name": "Schedule", "method": "POST", "path": "/schedule",
                  "emits": ["reminder"]}

        async def handler(req, ctx):
            body = req["body"]
            event = {"topic": "reminder", "data": {"id": body["id"]}, "delay": body["delay"]}
            if "key" in body:
                event["key"] = body["key"]
            return {"status": 200, "body": {"id": await ctx.emit(event)}}
    """,
    "steps/cancel_step.py": """
        config = {"type": "api", "name": "Cancel", "method": "POST", "path": "/cancel",
                  "emits": []}

        async def handler(req, ctx):
            cancelled = await ctx.cancel(key=req["body"]["key"], topic="reminder")
            return {"status": 200, "body": {"cancelled": cancelled}}
    """,
    "steps/fire_step.py": """
        from steps.lib.runlog import record

        config = {"type": "event", "name": "Fire", "subscribes": ["reminder"]}

        async def handler(data, ctx):
            record("fired", data["id"], ctx.attempt)
    """,
}


def schedule(server: ServerProcess, ident: str, delay: float, key: str | None = None) -> None:
    body: dict[str, object] = {"id": ident, "delay": delay}
    if key is not None:
        body["key"] = key
    response = server.client.post("/schedule", json=body)
    assert response.status_code == 200, response.text


def fire_once_across_two_processes(tmp_path: Path, env: dict[str, str], servers: Servers) -> None:
    project = write_project(tmp_path / "project", PROJECT)
    a = servers(project, env=env)
    b = servers(project, env=env)

    sent_at = time.time()
    plain = [f"plain-{n:02d}" for n in range(20)]
    for ident in plain:
        schedule(a, ident, DELAY)
    for n in range(5):  # scheduled on B, replaced from A, then both wait
        schedule(b, f"first-{n}", DELAY, key=f"user-{n}")
        schedule(a, f"second-{n}", DELAY, key=f"user-{n}")
    for n in range(3):
        schedule(a, f"dropped-{n}", DELAY, key=f"drop-{n}")
        cancel = b.client.post("/cancel", json={"key": f"drop-{n}"})
        assert cancel.json() == {"cancelled": True}

    expected = plain + [f"second-{n}" for n in range(5)]
    wait_for(
        lambda: {run.ident for run in read_runs(project, "fired")} >= set(expected),
        15,
        what="every scheduled emit fired",
    )
    time.sleep(1.0)  # room for a duplicate or a replaced one to show
    runs = read_runs(project, "fired")
    assert Counter(run.ident for run in runs) == Counter(expected)
    assert min(run.at for run in runs) >= sent_at + DELAY - 0.05
    by_pid = Counter(run.pid for run in runs)
    print(f"fired on A: {by_pid[a.process.pid]}, on B: {by_pid[b.process.pid]}")
    assert set(by_pid) <= {a.process.pid, b.process.pid}
