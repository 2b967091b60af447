"""Liveness (`/__motia/health`) and readiness (`/__motia/ready`): a process that serves is
alive whatever its stores do; it is ready only while it can do its work."""

from __future__ import annotations

from pathlib import Path

from motia.testing import MotiaTester
from tests.conftest import write_project

STEPS = {
    "steps/hello_step.py": """
        config = {"type": "api", "name": "Hello", "method": "GET", "path": "/hello",
                  "emits": []}
        async def handler(req, ctx):
            return {"status": 200, "body": {"hello": "world"}}
    """,
}


async def test_ready_once_started_and_draining_from_the_moment_it_is_asked_to_stop(
    tmp_path: Path,
) -> None:
    project = write_project(tmp_path / "app", STEPS)
    async with MotiaTester(project) as tester:
        ready = await tester.get("/__motia/ready")
        assert (ready.status_code, ready.json()["status"]) == (200, "ok")
        await tester.runtime.begin_stop()
        draining = await tester.get("/__motia/ready")
        assert draining.status_code == 503
        assert draining.json() == {
            "status": "draining",
            "steps": 1,
            "errors": 0,
            "problem": "the server is stopping",
        }
        alive = await tester.get("/__motia/health")
        assert (alive.status_code, alive.json()["status"]) == (200, "ok")
        assert (await tester.get("/hello")).status_code == 200  # what arrives still runs
