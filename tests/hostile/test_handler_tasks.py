"""A task that a handler starts and leaves running (`asyncio.create_task`) may raise
`SystemExit`, `KeyboardInterrupt` or `GeneratorExit` after its handler has returned. Left
alone, asyncio hands the first two to the event loop, which stops the server. Here the
task fails on its own: the error is logged with the step and the trace id, and the server
keeps serving API requests, events and cron ticks."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.hostile._handler_support import records

pytestmark = pytest.mark.slow

RAISERS = {
    "sys.exit": ("sys.exit(4)", "SystemExit(4)"),
    "KeyboardInterrupt": ("raise KeyboardInterrupt", "KeyboardInterrupt()"),
    "GeneratorExit": ("raise GeneratorExit", "GeneratorExit()"),
}

# The spawned task runs after its handler returned: the run itself succeeded.
SPAWN = """
import asyncio
import sys
from pathlib import Path

HERE = Path(__file__).parent.parent
RAISERS = {raisers}


async def exits_later(name, kind):
    await asyncio.sleep(0.05)
    (HERE / f"{{name}}-ran").write_text("1")
    exec(RAISERS[kind])


def spawn(name, kind):
    # Kept alive by the set, as the asyncio docs advise; the task never gets awaited.
    task = asyncio.create_task(exits_later(name, kind))
    KEPT.add(task)
    task.add_done_callback(KEPT.discard)


KEPT = set()
"""


def _project(root: Path) -> Path:
    raisers = {kind: statement for kind, (statement, _) in RAISERS.items()}
    return write_project(
        root,
        {
            "steps/spawn.py": SPAWN.format(raisers=repr(raisers)),
            "steps/api_step.py": """
                from steps.spawn import spawn

                config = {"type": "api", "name": "SpawnApi", "method": "POST",
                          "path": "/spawn", "emits": ["spawn"]}

                async def handler(req, ctx):
                    kind = req["body"]["kind"]
                    if req["body"].get("event"):
                        await ctx.emit({"topic": "spawn", "data": {"kind": kind}})
                    else:
                        spawn(f"api-{kind}", kind)
                    return {"status": 200, "body": {"spawned": kind}}
            """,
            "steps/event_step.py": """
                from steps.spawn import HERE, spawn

                config = {"type": "event", "name": "SpawnEvent", "subscribes": ["spawn"]}

                async def handler(data, ctx):
                    with open(HERE / "traces", "a") as out:
                        out.write(ctx.trace_id + "\\n")
                    spawn(f"event-{data['kind']}", data["kind"])
            """,
            "steps/cron_step.py": """
                from steps.spawn import HERE, spawn

                config = {"type": "cron", "name": "SpawnCron", "cron": "* * * * * *"}

                async def handler(ctx):
                    if not (HERE / "cron-ran").exists():
                        spawn("cron", "KeyboardInterrupt")
            """,
            "steps/ping_step.py": """
                config = {"type": "api", "name": "Ping", "method": "GET", "path": "/ping"}

                async def handler(req, ctx):
                    return {"status": 200, "body": {"pong": True}}
            """,
        },
    )


def _errors_of(server: ServerProcess, step: str) -> list[dict[str, object]]:
    return [r for r in records(server) if r.get("step") == step and r["level"] == "error"]


def test_tasks_started_by_handlers_cannot_stop_the_server(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = _project(tmp_path / "project")
    server = server_factory(project)
    client = server.client

    # The cron handler's task exits within the first second of serving.
    wait_for(lambda: (project / "cron-ran").exists(), timeout=10)
    cron_errors = wait_for(lambda: _errors_of(server, "SpawnCron"))
    assert "KeyboardInterrupt()" in str(cron_errors[0]["error"])
    assert cron_errors[0]["traceId"]

    for kind, (_, name) in RAISERS.items():
        answer = client.post("/spawn", json={"kind": kind})
        assert answer.status_code == 200, answer.text
        wait_for(lambda kind=kind: (project / f"api-{kind}-ran").exists())
        logged = wait_for(
            lambda name=name: [r for r in _errors_of(server, "SpawnApi") if name in r["error"]]
        )
        assert logged[0]["traceId"] == answer.headers["x-trace-id"]
        assert "a task started by the handler" in str(logged[0]["msg"])
        assert client.get("/ping").json() == {"pong": True}

        assert client.post("/spawn", json={"kind": kind, "event": True}).status_code == 200
        wait_for(lambda kind=kind: (project / f"event-{kind}-ran").exists())
        logged = wait_for(
            lambda name=name: [r for r in _errors_of(server, "SpawnEvent") if name in r["error"]]
        )
        event_traces = (project / "traces").read_text().split()
        assert logged[0]["traceId"] == event_traces[-1]
        assert client.get("/ping").json() == {"pong": True}

    assert server.process.poll() is None
    # Each exit is one JSON record; no traceback of asyncio's own in the log.
    lines = [line for line in server.output().splitlines() if line.strip()]
    assert all(line.startswith("{") and json.loads(line) for line in lines), lines
    assert not any("never retrieved" in line for line in lines)
    assert server.stop(signal.SIGTERM) == 0


def test_a_handler_that_awaits_such_a_task_fails_its_own_run(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(
        tmp_path / "project",
        {
            "steps/wait_step.py": """
                import asyncio
                import sys

                config = {"type": "api", "name": "Awaits", "method": "GET", "path": "/awaits"}

                async def exits():
                    sys.exit(5)

                async def handler(req, ctx):
                    await asyncio.create_task(exits())
                    return {"status": 200, "body": {}}
            """,
        },
    )
    server = server_factory(project)
    for _ in range(2):
        answer = server.client.get("/awaits")
        assert answer.status_code == 500
        assert answer.json()["traceId"] == answer.headers["x-trace-id"]
    assert server.process.poll() is None
    failures = [r for r in _errors_of(server, "Awaits") if r["msg"] == "API handler failed"]
    assert len(failures) == 2
    assert "SystemExit(5)" in str(failures[0]["error"])
    assert server.stop(signal.SIGTERM) == 0
