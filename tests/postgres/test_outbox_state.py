"""The outbox holds for state writes too: a handler's state writes commit with the
completion of its message, so an attempt that fails after writing leaves nothing behind."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.postgres.support import OUTBOX_FILES
from tests.redis.support import PROJECT, read_runs

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]


@pytest.mark.parametrize("atomic", [True, False], ids=["atomic", "events.atomicState=false"])
def test_state_written_by_failed_attempts_is_not_kept(
    atomic: bool, tmp_path: Path, pg_env: dict[str, str], servers: Servers
) -> None:
    """Each attempt writes `{"attempt": n}` and reads it back, then fails until
    `fail_until`. Atomic: only the successful attempt's write is kept. With the setting
    off, writes take effect at once, as on the other stores: the last attempt's stays."""
    project = write_project(tmp_path / "jobs", {**PROJECT, **OUTBOX_FILES})
    env = pg_env if atomic else {**pg_env, "MOTIA_EVENTS_ATOMIC_STATE": "false"}
    server = servers(project, env=env)
    for job, fail_until in (("once", 2), ("never", 99)):
        response = server.client.post("/jobs", json={"id": job, "fail_until": fail_until})
        assert response.status_code == 202, response.text
    wait_for(
        lambda: Counter(r.ident for r in read_runs(project, "flaky")) == {"once": 2, "never": 3},
        20,
        what="every attempt ran",
    )
    wait_for(lambda: read_runs(project, "followed"), 10, what="the successful emit handled")

    assert server.client.get("/jobs/once").json() == {"state": {"attempt": 2}}
    never = None if atomic else {"attempt": 3}
    assert server.client.get("/jobs/never").json() == {"state": never}
