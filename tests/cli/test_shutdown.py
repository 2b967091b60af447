"""Graceful shutdown: SIGTERM / SIGINT let in-flight requests finish and exit with 0."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess, write_project

SLOW_STEP = """
import asyncio

config = {"type": "api", "name": "Slow", "method": "GET", "path": "/slow", "emits": []}


async def handler(req, ctx):
    ctx.logger.info("slow request started")
    await asyncio.sleep(1)
    return {"status": 200, "body": {"finished": True}}
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_finishes_in_flight_request_and_exits_0(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, sig: signal.Signals
) -> None:
    project = write_project(tmp_path / "project", {"steps/slow_step.py": SLOW_STEP})
    server = server_factory(project, "start")
    results: list[httpx.Response | BaseException] = []

    def request() -> None:
        try:
            results.append(httpx.get(f"{server.url}/slow", timeout=15))
        except BaseException as exc:
            results.append(exc)

    worker = threading.Thread(target=request)
    worker.start()
    server.wait_for_output("slow request started")
    code = server.stop(sig)
    worker.join(15)

    assert len(results) == 1
    response = results[0]
    assert isinstance(response, httpx.Response), response
    assert response.status_code == 200
    assert response.json() == {"finished": True}
    assert code == 0, f"exit code {code}\n{server.output()}"
