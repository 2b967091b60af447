"""Flow control with two `motia start` processes on one Redis: concurrency per key holds
across them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests import flow_processes
from tests.conftest import ServerProcess

pytestmark = pytest.mark.slow


def test_concurrency_per_key_holds_across_two_processes(
    tmp_path: Path, redis_env: dict[str, str], servers: Callable[..., ServerProcess]
) -> None:
    project = flow_processes.project(tmp_path / "flow")
    env, journal = flow_processes.environment(tmp_path, redis_env)
    first = servers(project, env=env)
    second = servers(project, env=env)
    flow_processes.concurrency_holds_across_processes(
        [first, second], journal, lambda: {first.process.pid, second.process.pid}
    )


def test_throttle_holds_across_two_processes(
    tmp_path: Path, redis_env: dict[str, str], servers: Callable[..., ServerProcess]
) -> None:
    project = flow_processes.project(tmp_path / "flow")
    env, journal = flow_processes.environment(tmp_path, redis_env)
    processes = [servers(project, env=env), servers(project, env=env)]
    flow_processes.throttle_holds_across_processes(processes, journal)
