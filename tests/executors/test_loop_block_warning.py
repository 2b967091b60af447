"""`motia dev` names an `async def` handler that holds the event loop past
`loopBlockWarning`, with how long; a handler that awaits is not named, and `motia start`
measures nothing unless the setting asks it to."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, write_project
from tests.hostile._handler_support import records

STEPS = {
    "steps/blocks_step.py": """
        import time

        config = {"type": "api", "name": "Blocks", "method": "GET", "path": "/blocks"}

        async def handler(req, ctx):
            time.sleep(0.3)  # a blocking call in an async handler
            return {"status": 200, "body": {}}
    """,
    "steps/awaits_step.py": """
        import asyncio

        config = {"type": "api", "name": "Awaits", "method": "GET", "path": "/awaits"}

        async def handler(req, ctx):
            for _ in range(6):
                await asyncio.sleep(0.05)
            return {"status": 200, "body": {}}
    """,
    "steps/sync_step.py": """
        import time

        config = {"type": "api", "name": "Sync", "method": "GET", "path": "/sync"}

        def handler(req, ctx):
            time.sleep(0.3)  # in the thread pool: the loop is free
            return {"status": 200, "body": {}}
    """,
}


def _warnings(server: ServerProcess) -> list[dict[str, object]]:
    return [r for r in records(server) if "blocked the event loop" in str(r["msg"])]


def _run_all(server: ServerProcess) -> None:
    for path in ("/blocks", "/awaits", "/sync"):
        assert server.client.get(path).status_code == 200


def test_dev_warns_of_an_async_handler_that_blocks_the_loop(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(tmp_path / "project", {"config.yml": "logFormat: json\n", **STEPS})
    server = server_factory(project, "dev")
    _run_all(server)
    server.wait_for_output("blocked the event loop")
    warnings = _warnings(server)
    assert len(warnings) == 1, warnings
    warning = warnings[0]
    assert warning["level"] == "warn"
    assert warning["step"] == "Blocks"
    assert warning["traceId"]
    blocked_ms = warning["blockedMs"]
    assert isinstance(blocked_ms, int) and 290 <= blocked_ms < 2000
    assert f"step 'Blocks' blocked the event loop for {blocked_ms} ms" in str(warning["msg"])
    assert '"executor": "process"' in str(warning["msg"])


@pytest.mark.parametrize(
    ("mode", "config"),
    [("start", ""), ("dev", "loopBlockWarning: 0\n")],
)
def test_no_warning_when_the_setting_is_off(
    tmp_path: Path, server_factory: Callable[..., ServerProcess], mode: str, config: str
) -> None:
    project = write_project(
        tmp_path / "project", {"config.yml": "logFormat: json\n" + config, **STEPS}
    )
    server = server_factory(project, mode)
    _run_all(server)
    assert server.client.get("/blocks").status_code == 200
    assert _warnings(server) == []


def test_start_warns_when_the_setting_asks(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(
        tmp_path / "project", {"config.yml": "loopBlockWarning: 0.2\n", **STEPS}
    )
    server = server_factory(project, "start")
    _run_all(server)
    server.wait_for_output("blocked the event loop")
    assert [w["step"] for w in _warnings(server)] == ["Blocks"]
