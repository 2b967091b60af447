"""A runner restart that fails in an unexpected way (here its step files load with an
error that is not a `RunnerFailed`, injected once) is retried like any failed start: the
supervisor logs it and starts the runner again, so the steps of that language work again.
Before, the supervisor's loop died silently there and the language stayed without a runner.

In process, with the real runtime and a real `node`; the fault is injected into the loader
of the runner process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from motia.runners.process import RunnerProcess
from motia.testing import create_tester
from tests.conftest import until, write_project
from tests.runners.support import node_project, require

pytestmark = [pytest.mark.slow, pytest.mark.async_timeout(90)]

STEPS = {
    "steps/exit.step.js": """
        exports.config = { type: 'api', name: 'Exit', method: 'GET', path: '/exit', emits: [] }
        exports.handler = async () => { process.exit(1) }
    """,
    "steps/pid.step.js": """
        exports.config = { type: 'api', name: 'Pid', method: 'GET', path: '/pid', emits: [] }
        exports.handler = async () => ({ status: 200, body: { pid: process.pid } })
    """,
}


async def test_a_restart_that_fails_unexpectedly_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require("node")
    project = write_project(node_project(tmp_path / "project"), STEPS)
    async with create_tester(project) as tester:
        first = (await tester.get("/pid")).json()["pid"]
        load = RunnerProcess.load
        failures: list[int] = []

        async def load_failing_once(self: RunnerProcess, files: list[str]) -> Any:
            if not failures:
                failures.append(1)
                raise ValueError("the load answer was not understood")
            return await load(self, files)

        monkeypatch.setattr(RunnerProcess, "load", load_failing_once)
        assert (await tester.get("/exit")).status_code == 500

        async def restarted() -> bool:
            answer = await tester.get("/pid", timeout=40)
            return answer.status_code == 200 and answer.json()["pid"] != first

        await until(restarted, timeout=40, interval=0.2, what="a working runner again")
        assert failures == [1]
        errors = [r["msg"] for r in tester.logs if r["level"] == "error"]
        assert any(
            "failed to start: ValueError: the load answer was not understood" in m for m in errors
        ), errors
