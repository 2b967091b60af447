"""Scheduled emits with real server processes on the SQLite store: one fires at its time
(within the poll interval), and what was pending when the server was killed fires once
after a restart, a replaced or cancelled one never."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ServerProcess, wait_for, write_project

POLL = 0.2

PROJECT: dict[str, str] = {
    "config.yml": f"""
        queue:
          pollInterval: {POLL}
    """,
    "steps/remind_step.py": """
        config = {"type": "api", "name": "Remind", "method": "POST", "path": "/remind",
                  "emits": ["remind"]}

        async def handler(req, ctx):
            body = req["body"]
            event = {"topic": "remind", "data": {"name": body["name"]}, "delay": body["delay"]}
            if "key" in body:
                event["key"] = body["key"]
            return {"status": 200, "body": {"id": await ctx.emit(event)}}
    """,
    "steps/cancel_step.py": """
        config = {"type": "api", "name": "Cancel", "method": "POST", "path": "/cancel",
                  "emits": []}

        async def handler(req, ctx):
            return {"status": 200, "body": {"cancelled": await ctx.cancel(req["body"]["id"])}}
    """,
    "steps/fire_step.py": """
        import time
        from pathlib import Path

        config = {"type": "event", "name": "Fire", "subscribes": ["remind"], "emits": []}
        FIRED = Path(__file__).resolve().parent.parent / "fired.log"

        async def handler(data, ctx):
            with FIRED.open("a") as f:
                f.write(f"{data['name']} {time.time()!r}\\n")
                f.flush()
    """,
}


def fired(project: Path) -> list[tuple[str, float]]:
    path = project / "fired.log"
    if not path.exists():
        return []
    return [
        (name, float(at)) for name, at in (line.split() for line in path.read_text().splitlines())
    ]


def remind(server: ServerProcess, name: str, delay: float, key: str | None = None) -> str:
    body: dict[str, object] = {"name": name, "delay": delay}
    if key is not None:
        body["key"] = key
    response = server.client.post("/remind", json=body)
    assert response.status_code == 200, response.text
    message_id: str = response.json()["id"]
    return message_id


def test_fires_on_time_and_survives_a_kill(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(tmp_path / "project", PROJECT)
    server = server_factory(project)

    sent_at = time.time()
    remind(server, "on-time", 1.0)
    wait_for(lambda: fired(project), timeout=10, interval=0.05)
    [(name, at)] = fired(project)
    assert name == "on-time"
    assert 1.0 <= at - sent_at <= 1.0 + POLL + 0.5, at - sent_at

    remind(server, "kept", 2.0)
    remind(server, "replaced", 2.0, key="k")
    remind(server, "replacement", 2.5, key="k")
    dropped = remind(server, "cancelled", 2.0)
    assert server.client.post("/cancel", json={"id": dropped}).json() == {"cancelled": True}
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)

    restarted = server_factory(project)
    wait_for(lambda: len(fired(project)) >= 3, timeout=15, interval=0.1)
    time.sleep(1.0)  # room for a duplicate to show
    counts = Counter(name for name, _ in fired(project))
    assert counts == {"on-time": 1, "kept": 1, "replacement": 1}
    assert restarted.process.poll() is None
