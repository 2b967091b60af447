"""Request timeouts: a handler that does not answer in time is cancelled, its client gets
504 with the trace id, and what it emitted is dropped."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess, start_server, wait_for, write_project
from tests.http.support import records_for

pytestmark = pytest.mark.slow

SLOW = """
    import asyncio
    from pathlib import Path

    HERE = Path(__file__).parent.parent
    config = {{"type": "api", "name": "{name}", "method": "POST", "path": "/{name}",
              "emits": ["made"]{extra}}}

    async def handler(req, ctx):
        tag = req["body"]["tag"]
        await ctx.emit({{"topic": "made", "data": {{"by": tag}}}})
        await asyncio.sleep(req["body"]["seconds"])
        (HERE / f"{{tag}}-finished").write_text("1")
        return {{"status": 200, "body": {{"done": True}}}}
"""
SLOW_SYNC = """
    import time
    from pathlib import Path

    HERE = Path(__file__).parent.parent
    config = {"type": "api", "name": "SlowSync", "method": "POST", "path": "/slow-sync",
              "emits": ["made"], "timeout": 0.5}

    def handler(req, ctx):
        time.sleep(1.5)
        ctx.emit({"topic": "made", "data": {"by": "SlowSync"}})
        (HERE / "SlowSync-finished").write_text("1")
        return {"status": 200, "body": {"done": True}}
"""
MADE = """
    from pathlib import Path

    config = {"type": "event", "name": "Made", "subscribes": ["made"]}

    async def handler(data, ctx):
        with open(Path(__file__).parent.parent / "made", "a") as out:
            out.write(data["by"] + "\\n")
"""
FILES = {
    # Its own timeout, shorter than the global one.
    "steps/own_step.py": SLOW.format(name="Own", extra=', "timeout": 0.5'),
    # The global http.requestTimeout.
    "steps/global_step.py": SLOW.format(name="Global", extra=""),
    # A longer timeout of its own lets it finish.
    "steps/patient_step.py": SLOW.format(name="Patient", extra=', "timeout": 30'),
    "steps/slow_sync_step.py": SLOW_SYNC,
    "steps/made_step.py": MADE,
    "config.yml": """
        http:
          requestTimeout: 1
    """,
}


TOKEN = "timeouts-token-0123456789abcdef"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("timeouts")
    project = write_project(root / "project", FILES)
    running = start_server(project, env={"MOTIA_WORKBENCH_TOKEN": TOKEN}, log_dir=root)
    running.client.headers["authorization"] = f"Bearer {TOKEN}"
    yield running
    running.stop()


def _project(server: ServerProcess) -> Path:
    return server.log_path.parent / "project"


def _made(server: ServerProcess) -> list[str]:
    path = _project(server) / "made"
    return path.read_text().split() if path.exists() else []


def test_step_timeout_cancels_the_handler_and_answers_504(server: ServerProcess) -> None:
    started = time.monotonic()
    response = server.client.post("/Own", json={"seconds": 3, "tag": "own-late"})
    assert response.status_code == 504
    assert time.monotonic() - started < 2.5
    body = response.json()
    assert "0.5 s" in body["error"]
    assert body["traceId"] == response.headers["x-trace-id"]
    time.sleep(3)  # past the end of the sleep the handler would have finished
    assert not (_project(server) / "own-late-finished").exists()
    assert "own-late" not in _made(server)


def test_global_timeout_applies_to_steps_without_their_own(server: ServerProcess) -> None:
    response = server.client.post("/Global", json={"seconds": 3, "tag": "global-late"})
    assert response.status_code == 504
    assert "1 s" in response.json()["error"]
    time.sleep(3)
    assert not (_project(server) / "global-late-finished").exists()
    assert "global-late" not in _made(server)


def test_a_longer_step_timeout_overrides_the_global_one(server: ServerProcess) -> None:
    response = server.client.post("/Patient", json={"seconds": 1.5, "tag": "patient"})
    assert response.status_code == 200
    assert (_project(server) / "patient-finished").exists()
    wait_for(lambda: "patient" in _made(server), what="the emit of a handler that finished")


def test_a_handler_in_time_is_unaffected(server: ServerProcess) -> None:
    response = server.client.post("/Own", json={"seconds": 0, "tag": "own-in-time"})
    assert response.status_code == 200
    wait_for(lambda: "own-in-time" in _made(server), what="the emit of a handler in time")


def test_sync_handler_runs_on_but_its_answer_and_emits_are_dropped(
    server: ServerProcess,
) -> None:
    response = server.client.post("/slow-sync", json={})
    assert response.status_code == 504
    # The thread cannot be stopped: it finishes, but what it emitted is not published.
    wait_for(lambda: (_project(server) / "SlowSync-finished").exists(), what="the thread's end")
    time.sleep(1)
    assert "SlowSync" not in _made(server)


def test_the_timeout_is_logged_and_traced(server: ServerProcess) -> None:
    response = server.client.post("/Own", json={"seconds": 2, "tag": "own-traced"})
    trace_id = response.json()["traceId"]
    assert any("request timeout of 0.5 s" in str(r) for r in records_for(server, trace_id))

    def span() -> dict[str, Any] | None:
        found = server.client.get(f"/__motia/api/traces/{trace_id}")
        return found.json()["spans"][0] if found.status_code == 200 else None

    recorded = wait_for(span, what="the trace of the timed-out run")
    assert recorded["status"] == "failed", recorded
    assert "request timeout" in str(recorded), recorded
