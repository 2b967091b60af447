"""Flow control with `motia start --workers 2` on one SQLite file: concurrency per key
holds across the workers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests import flow_processes
from tests.conftest import ServerProcess
from tests.redis.conftest import worker_pids

pytestmark = pytest.mark.slow


def test_concurrency_per_key_holds_across_two_workers(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Callable[..., ServerProcess]
) -> None:
    project = flow_processes.project(tmp_path / "flow")
    env, journal = flow_processes.environment(tmp_path, sqlite_env)
    supervisor = servers(project, "--workers", "2", env=env)
    flow_processes.concurrency_holds_across_processes(
        [supervisor], journal, lambda: set(worker_pids(supervisor.process.pid))
    )


def test_throttle_holds_across_two_workers(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Callable[..., ServerProcess]
) -> None:
    project = flow_processes.project(tmp_path / "flow")
    env, journal = flow_processes.environment(tmp_path, sqlite_env)
    supervisor = servers(project, "--workers", "2", env=env)
    flow_processes.throttle_holds_across_processes([supervisor, supervisor], journal)
