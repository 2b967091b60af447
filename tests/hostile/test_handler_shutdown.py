"""SIGTERM while handlers hang: threads blocked in `time.sleep(10**6)`, an async handler
that swallows its cancellation, an API request stuck in a sync handler. The process ends
within the shutdown bound, and the messages it could not finish run after a restart."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ServerProcess, wait_for, write_project

SHUTDOWN_TIMEOUT = 1
# Far beyond the bound (1 s plus the HTTP drain and clean-up), far below the 10**6 s the
# handlers would hang: the process ending at all is what is tested, not how fast.
EXIT_WITHIN = 30

PROJECT = {
    "config.yml": f"shutdownTimeout: {SHUTDOWN_TIMEOUT}\n",
    "steps/start_step.py": """
        config = {"type": "api", "name": "Start", "method": "POST", "path": "/start",
                  "emits": ["blocks", "stubborn"]}

        async def handler(req, ctx):
            for topic in ("blocks", "stubborn"):
                await ctx.emit({"topic": topic, "data": {"id": topic}})
            return {"status": 202, "body": {}}
    """,
    "steps/blocks_step.py": """
        import time
        from pathlib import Path

        config = {"type": "event", "name": "Blocks", "subscribes": ["blocks"]}

        def handler(data, ctx):
            here = Path(__file__).parent.parent
            if (here / "hang").exists():
                (here / "blocks-started").write_text("1")
                time.sleep(10**6)
            (here / "blocks-done").write_text(str(ctx.attempt))
    """,
    "steps/stubborn_step.py": """
        import asyncio
        from pathlib import Path

        config = {"type": "event", "name": "Stubborn", "subscribes": ["stubborn"]}

        async def handler(data, ctx):
            here = Path(__file__).parent.parent
            if (here / "hang").exists():
                (here / "stubborn-started").write_text("1")
                while True:
                    try:
                        await asyncio.sleep(10**6)
                    except asyncio.CancelledError:
                        pass  # ignores every cancellation
            (here / "stubborn-done").write_text(str(ctx.attempt))
    """,
    "steps/stuck_api_step.py": """
        import time
        from pathlib import Path

        config = {"type": "api", "name": "StuckApi", "method": "GET", "path": "/stuck"}

        def handler(req, ctx):
            (Path(__file__).parent.parent / "api-started").write_text("1")
            time.sleep(10**6)
    """,
}


def test_sigterm_ends_the_process_whatever_the_handlers_do_and_loses_nothing(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(tmp_path / "project", PROJECT)
    (project / "hang").write_text("1")
    server = server_factory(project)
    assert server.client.post("/start").status_code == 202
    with socket.create_connection(("127.0.0.1", server.port)) as stuck:
        stuck.sendall(b"GET /stuck HTTP/1.1\r\nHost: localhost\r\n\r\n")
        for marker in ("blocks-started", "stubborn-started", "api-started"):
            wait_for(lambda marker=marker: (project / marker).exists())

        server.process.send_signal(signal.SIGTERM)
        try:
            status = server.process.wait(EXIT_WITHIN)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running:\n{server.output()}") from None
    assert status == 0, server.output()
    output = server.output()
    assert "kept running after being cancelled at shutdown" in output
    assert "ignored their cancellation at shutdown" in output
    assert "stopped" in output
    # The server's own records (the request cancelled at shutdown) are JSON like the rest.
    lines = [line for line in output.splitlines() if line.strip()]
    assert all(line.startswith("{") and json.loads(line) for line in lines), output

    # Both messages were handed back: they run on the next start.
    (project / "hang").unlink()
    again = server_factory(project)
    wait_for(lambda: (project / "blocks-done").exists() and (project / "stubborn-done").exists())
    assert int((project / "blocks-done").read_text()) >= 1
    assert again.stop(signal.SIGTERM) == 0


def test_a_hung_sync_handler_does_not_keep_a_process_without_a_listener(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(
        tmp_path / "project",
        {
            "config.yml": "shutdownTimeout: 0\n",
            "steps/stuck_api_step.py": PROJECT["steps/stuck_api_step.py"],
        },
    )
    server = server_factory(project)
    with socket.create_connection(("127.0.0.1", server.port)) as stuck:
        stuck.sendall(b"GET /stuck HTTP/1.1\r\nHost: localhost\r\n\r\n")
        wait_for(lambda: (project / "api-started").exists())
        server.process.send_signal(signal.SIGTERM)
        try:
            status = server.process.wait(EXIT_WITHIN)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running:\n{server.output()}") from None
    assert status == 0, server.output()
