"""A handler that calls `sys.exit()`, raises `KeyboardInterrupt` or another exception that
is not an `Exception` fails its own run; the server keeps serving, other handlers keep
running, the message is retried and then dead-lettered with the exception named."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.hostile._handler_support import CONFIG, dead_letters, records

# Each raiser is the body of a handler; `kind` picks an async or a sync (thread) handler.
RAISERS = {
    "sys.exit": "sys.exit(3)",
    "SystemExit": "raise SystemExit('bye')",
    "KeyboardInterrupt": "raise KeyboardInterrupt",
    "CancelledError": "raise asyncio.CancelledError()",
    "GeneratorExit": "raise GeneratorExit",
}
NAMES = {
    "sys.exit": "SystemExit(3)",
    "SystemExit": "SystemExit('bye')",
    "KeyboardInterrupt": "KeyboardInterrupt()",
    "CancelledError": "CancelledError()",
    "GeneratorExit": "GeneratorExit()",
}


def _project(root: Path, raiser: str, kind: str) -> Path:
    define = "async def" if kind == "async" else "def"
    return write_project(
        root,
        {
            "config.yml": CONFIG,
            "steps/start_step.py": """
                config = {"type": "api", "name": "Start", "method": "POST", "path": "/start",
                          "emits": ["exit", "slow"]}

                async def handler(req, ctx):
                    await ctx.emit({"topic": req["body"]["topic"], "data": req["body"]})
                    return {"status": 202, "body": {"ok": True}}
            """,
            "steps/exits_step.py": f"""
                import asyncio
                import sys
                from pathlib import Path

                config = {{"type": "event", "name": "Exits", "subscribes": ["exit"],
                          "infrastructure": {{"queue": {{"maxRetries": 2,
                              "backoff": {{"delay": 0.05, "jitter": False}}}}}}}}

                {define} handler(data, ctx):
                    with open(Path(__file__).parent.parent / "attempts", "a") as out:
                        out.write(f"{{ctx.attempt}}\\n")
                    {raiser}
            """,
            # Running when the other handler exits: it must finish undisturbed.
            "steps/slow_step.py": """
                import asyncio
                from pathlib import Path

                config = {"type": "event", "name": "Slow", "subscribes": ["slow"]}

                async def handler(data, ctx):
                    here = Path(__file__).parent.parent
                    (here / "slow-started").write_text("1")
                    while not (here / "release").exists():
                        await asyncio.sleep(0.02)
                    (here / "slow-done").write_text("1")
            """,
            "steps/ping_step.py": """
                config = {"type": "api", "name": "Ping", "method": "GET", "path": "/ping"}

                def handler(req, ctx):
                    return {"status": 200, "body": {"pong": True}}
            """,
        },
    )


@pytest.mark.parametrize("kind", ["async", "sync"])
@pytest.mark.parametrize("raised", list(RAISERS))
def test_an_event_handler_that_exits_fails_only_its_run(
    tmp_path: Path, server_factory: Callable[..., ServerProcess], raised: str, kind: str
) -> None:
    project = _project(tmp_path / "project", RAISERS[raised], kind)
    server = server_factory(project)
    client = server.client
    assert client.post("/start", json={"topic": "slow"}).status_code == 202
    wait_for(lambda: (project / "slow-started").exists())

    assert client.post("/start", json={"topic": "exit"}).status_code == 202
    letters = wait_for(lambda: dead_letters(server), timeout=20)
    assert isinstance(letters, list) and len(letters) == 1
    letter = letters[0]
    assert letter["step"] == "Exits"
    assert letter["attempts"] == 3  # the first run and maxRetries: 2 retries
    assert f"HandlerExited: the handler raised {NAMES[raised]}" in letter["error"]
    assert (project / "attempts").read_text().split() == ["1", "2", "3"]

    # The server is alive and the other handler was never interrupted.
    assert server.process.poll() is None
    assert client.get("/ping").json() == {"pong": True}
    (project / "release").write_text("1")
    wait_for(lambda: (project / "slow-done").exists())
    failures = [r for r in records(server) if r.get("step") == "Exits" and r["level"] == "error"]
    assert len(failures) == 3, failures
    assert all(NAMES[raised] in r["error"] for r in failures)
    assert server.stop(signal.SIGTERM) == 0


def test_a_cron_handler_that_exits_fails_its_tick_and_the_next_tick_runs(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(
        tmp_path / "project",
        {
            "steps/tick_step.py": """
                import sys
                from pathlib import Path

                config = {"type": "cron", "name": "Tick", "cron": "* * * * * *"}

                def handler(ctx):
                    with open(Path(__file__).parent.parent / "ticks", "a") as out:
                        out.write("tick\\n")
                    sys.exit(0)
            """,
        },
    )
    server = server_factory(project)
    ticks = project / "ticks"
    wait_for(lambda: ticks.exists() and len(ticks.read_text().split()) >= 3, timeout=15)
    assert server.process.poll() is None
    failures = [r for r in records(server) if r.get("step") == "Tick" and r["level"] == "error"]
    assert failures and failures[0]["msg"] == "cron handler failed"
    assert "SystemExit(0)" in failures[0]["error"]
    assert "sys.exit(0)" in failures[0]["stack"]  # the handler's own line, for finding it
    assert server.stop(signal.SIGTERM) == 0


API_STEPS = {
    "steps/exit_api_step.py": """
        import sys

        config = {"type": "api", "name": "ExitApi", "method": "GET", "path": "/exit",
                  "emits": ["never"]}

        async def handler(req, ctx):
            await ctx.emit({"topic": "never", "data": {}})
            sys.exit(1)
    """,
    "steps/interrupt_api_step.py": """
        config = {"type": "api", "name": "InterruptApi", "method": "GET", "path": "/interrupt"}

        def handler(req, ctx):
            raise KeyboardInterrupt
    """,
    "steps/guarded_step.py": """
        import sys

        def guard(req, ctx, next):
            sys.exit("no")

        config = {"type": "api", "name": "Guarded", "method": "GET", "path": "/guarded",
                  "middleware": [guard]}

        async def handler(req, ctx):
            return {"status": 200, "body": {}}
    """,
    "steps/never_step.py": """
        from pathlib import Path

        config = {"type": "event", "name": "Never", "subscribes": ["never"]}

        async def handler(data, ctx):
            (Path(__file__).parent.parent / "emitted").write_text("1")
    """,
}


@pytest.mark.parametrize(
    ("path", "step", "raised"),
    [
        ("/exit", "ExitApi", "SystemExit(1)"),
        ("/interrupt", "InterruptApi", "KeyboardInterrupt()"),
        ("/guarded", "Guarded", "SystemExit('no')"),
    ],
)
def test_an_api_handler_that_exits_answers_the_json_500(
    tmp_path: Path,
    server_factory: Callable[..., ServerProcess],
    path: str,
    step: str,
    raised: str,
) -> None:
    project = write_project(tmp_path / "project", API_STEPS)
    server = server_factory(project)
    for _ in range(3):  # and again: the server did not go down
        answer = server.client.get(path)
        assert answer.status_code == 500
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == {
            "error": "Internal server error",
            "traceId": answer.headers["x-trace-id"],
        }
    logged = [r for r in records(server) if r.get("step") == step and r["level"] == "error"]
    assert len(logged) == 3
    assert logged[0]["msg"] == "API handler failed"
    assert raised in logged[0]["error"]
    assert logged[-1]["traceId"] == answer.headers["x-trace-id"]
    # Nothing but JSON records in the JSON log: no bare traceback from the server.
    lines = [line for line in server.output().splitlines() if line.strip()]
    assert all(line.startswith("{") for line in lines), lines
    assert all(json.loads(line) for line in lines)
    assert not (project / "emitted").exists()  # a failed run's emits are not committed
    assert server.stop(signal.SIGTERM) == 0


def test_stream_hooks_that_exit_refuse_the_client_and_the_server_stays(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(
        tmp_path / "project",
        {
            "motia_config.py": """
                import sys

                def authenticate(request):
                    if request["token"] == "exit":
                        sys.exit(1)
                    return {"user": request["token"]}
            """,
            "steps/guarded_stream.py": """
                def can_access(subscription, auth_context):
                    raise KeyboardInterrupt

                config = {"name": "guarded", "baseConfig": {"storageType": "default"},
                          "canAccess": can_access}
            """,
            "steps/ping_step.py": API_STEPS["steps/interrupt_api_step.py"].replace(
                "raise KeyboardInterrupt", 'return {"status": 200, "body": {}}'
            ),
        },
    )
    server = server_factory(project)
    denied = server.client.get("/__motia/streams/guarded/g", headers={"authorization": "Bearer u"})
    assert denied.status_code == 403
    refused = server.client.get(
        "/__motia/streams/guarded/g", headers={"authorization": "Bearer exit"}
    )
    assert refused.status_code == 401
    assert server.process.poll() is None
    assert server.client.get("/interrupt").status_code == 200
    assert server.stop(signal.SIGTERM) == 0
