"""Sync handlers that hang hold their threads: one step cannot take the whole pool, and a
full pool (or a step at its share) is reported with the steps that hold the threads."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.cli._support import run_motia
from tests.conftest import ServerProcess, wait_for, write_project
from tests.hostile._handler_support import records

STEPS = {
    "steps/hang_step.py": """
        import time
        from pathlib import Path

        config = {"type": "api", "name": "Hang", "method": "GET", "path": "/hang"}

        def handler(req, ctx):
            with open(Path(__file__).parent.parent / "hanging", "a") as out:
                out.write("1\\n")
            time.sleep(10**6)
    """,
    "steps/quick_step.py": """
        config = {"type": "api", "name": "Quick", "method": "GET", "path": "/quick"}

        def handler(req, ctx):
            return {"status": 200, "body": {"quick": True}}
    """,
}


@contextmanager
def hung_requests(server: ServerProcess, count: int) -> Iterator[None]:
    """`count` requests to /hang that nobody reads, open until the block ends."""
    with ExitStack() as stack:
        for _ in range(count):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", server.port)))
            sock.sendall(b"GET /hang HTTP/1.1\r\nHost: localhost\r\n\r\n")
        yield


def _hanging(project: Path) -> int:
    path = project / "hanging"
    return len(path.read_text().split()) if path.exists() else 0


def test_a_step_whose_handlers_hang_leaves_threads_to_the_others(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(
        tmp_path / "project", {"config.yml": "syncHandlerThreads: 4\n", **STEPS}
    )
    server = server_factory(project)
    with hung_requests(server, 6):
        wait_for(lambda: _hanging(project) == 2)  # half of the 4 threads, no more
        for _ in range(5):
            assert server.client.get("/quick").json() == {"quick": True}
        assert _hanging(project) == 2
        warning = wait_for(
            lambda: [r for r in records(server) if "sync handler threads busy" in r["msg"]]
        )
    assert isinstance(warning, list)
    assert warning[0]["level"] == "warn"
    assert warning[0]["msg"].startswith("step 'Hang' has all 2 of its sync handler threads busy")


def test_a_full_pool_is_reported_with_the_steps_that_hold_it(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    config = "syncHandlerThreads: 3\nsyncHandlerThreadsPerStep: 3\n"
    project = write_project(tmp_path / "project", {"config.yml": config, **STEPS})
    server = server_factory(project)
    with hung_requests(server, 3):
        wait_for(lambda: _hanging(project) == 3)
        with pytest.raises(httpx.ReadTimeout):  # the step was allowed the whole pool
            server.client.get("/quick", timeout=1)
        warning = wait_for(
            lambda: [r for r in records(server) if "sync handler threads are busy" in r["msg"]]
        )
    assert isinstance(warning, list)
    assert warning[0]["msg"].startswith("all 3 sync handler threads are busy ('Hang' 3;")
    assert "syncHandlerThreads" in warning[0]["msg"]


def test_the_share_must_be_a_positive_number(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "project", {"config.yml": "syncHandlerThreadsPerStep: 0\n", **STEPS}
    )
    result = run_motia("start", "--dir", str(project), "--port", "0")
    assert result.returncode != 0
    assert "syncHandlerThreadsPerStep" in result.stderr
