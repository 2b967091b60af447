"""An async API handler whose client went away is cancelled (`http.cancelOnDisconnect`, on
by default) and what it emitted is dropped; turned off, the handler runs to its end."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ServerProcess, wait_for, write_project
from tests.hostile._handler_support import records

STEPS = {
    "steps/slow_api_step.py": """
        import asyncio
        from pathlib import Path

        HERE = Path(__file__).parent.parent
        config = {"type": "api", "name": "SlowApi", "method": "POST", "path": "/slow",
                  "emits": ["made"]}

        async def handler(req, ctx):
            name = req["body"]["name"]
            await ctx.emit({"topic": "made", "data": {"name": name}})
            (HERE / f"{name}-started").write_text("1")
            try:
                await asyncio.sleep(req["body"]["seconds"])
            except asyncio.CancelledError:
                (HERE / f"{name}-cancelled").write_text("1")
                raise
            (HERE / f"{name}-finished").write_text("1")
            return {"status": 200, "body": {"name": name}}
    """,
    "steps/made_step.py": """
        from pathlib import Path

        config = {"type": "event", "name": "Made", "subscribes": ["made"]}

        async def handler(data, ctx):
            with open(Path(__file__).parent.parent / "made", "a") as out:
                out.write(data["name"] + "\\n")
    """,
}


def _request_and_hang_up(server: ServerProcess, project: Path, name: str, seconds: float) -> None:
    body = f'{{"name": "{name}", "seconds": {seconds}}}'.encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            b"POST /slow HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        wait_for(lambda: (project / f"{name}-started").exists())


def _made(project: Path) -> list[str]:
    path = project / "made"
    return path.read_text().split() if path.exists() else []


def test_a_handler_whose_client_left_is_cancelled_and_its_emits_dropped(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(tmp_path / "project", STEPS)
    server = server_factory(project)
    _request_and_hang_up(server, project, "gone", 60)
    wait_for(lambda: (project / "gone-cancelled").exists())

    # A request that stays for its answer commits its emit; the abandoned one never does.
    answer = server.client.post("/slow", json={"name": "stayed", "seconds": 0})
    assert answer.json() == {"name": "stayed"}
    wait_for(lambda: "stayed" in _made(project))
    assert _made(project) == ["stayed"]
    assert not (project / "gone-finished").exists()
    warned = [r for r in records(server) if r.get("step") == "SlowApi" and r["level"] == "warn"]
    assert len(warned) == 1
    assert warned[0]["msg"].startswith("the client disconnected before the answer")
    assert warned[0]["path"] == "/slow"


def test_with_cancel_on_disconnect_off_the_handler_runs_to_its_end(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    config = {"config.yml": "http:\n  cancelOnDisconnect: false\n"}
    project = write_project(tmp_path / "project", {**config, **STEPS})
    server = server_factory(project)
    _request_and_hang_up(server, project, "gone", 0.5)
    wait_for(lambda: (project / "gone-finished").exists())
    wait_for(lambda: "gone" in _made(project))
    assert not (project / "gone-cancelled").exists()
