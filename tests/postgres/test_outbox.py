"""The outbox on PostgreSQL: a handler's emits and state writes are committed only with the
completion of its message, so an attempt that fails after emitting and writing leaves
nothing behind, and the attempt that succeeds publishes and writes exactly its own."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.postgres.support import OUTBOX_FILES
from tests.redis.support import PROJECT, read_runs

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]


def run_flaky_jobs(client: httpx.Client, project: Path) -> None:
    """`once` fails on attempt 1 and succeeds on 2; `never` fails all 3 attempts. Each
    attempt emits, writes `{"attempt": n}` to state and reads it back before failing."""
    for job, fail_until in (("once", 2), ("never", 99)):
        response = client.post("/jobs", json={"id": job, "fail_until": fail_until})
        assert response.status_code == 202, response.text
    wait_for(
        lambda: Counter(r.ident for r in read_runs(project, "flaky")) == {"once": 2, "never": 3},
        20,
        what="every attempt ran",
    )
    wait_for(lambda: read_runs(project, "followed"), 10, what="the successful emit handled")


def test_a_handler_that_fails_after_emitting_publishes_only_its_successful_attempt(
    tmp_path: Path, pg_env: dict[str, str], servers: Servers
) -> None:
    project = write_project(tmp_path / "jobs", {**PROJECT, **OUTBOX_FILES})
    a = servers(project, env=pg_env)
    servers(project, env=pg_env)  # a second process takes its share of the attempts
    run_flaky_jobs(a.client, project)
    time.sleep(1.5)  # time for anything a failed attempt might have published to arrive

    followed = read_runs(project, "followed")
    print(f"attempts {read_runs(project, 'flaky')}; followed {followed}")
    assert [(r.ident, r.attempt) for r in followed] == [("once", 2)], followed


@pytest.mark.parametrize("atomic", [True, False], ids=["atomic", "events.atomicState=false"])
def test_state_written_by_failed_attempts_is_not_kept(
    atomic: bool, tmp_path: Path, pg_env: dict[str, str], servers: Servers
) -> None:
    """Atomic: only the successful attempt's state write is kept. With the setting off,
    writes take effect at once, as on the other stores: the last attempt's stays."""
    project = write_project(tmp_path / "jobs", {**PROJECT, **OUTBOX_FILES})
    env = pg_env if atomic else {**pg_env, "MOTIA_EVENTS_ATOMIC_STATE": "false"}
    server = servers(project, env=env)
    run_flaky_jobs(server.client, project)

    assert server.client.get("/jobs/once").json() == {"state": {"attempt": 2}}
    never = None if atomic else {"attempt": 3}
    assert server.client.get("/jobs/never").json() == {"state": never}
