"""Separate `motia start` processes on one SQLite file: the scenarios every shared store
passes (events accepted on one process handled on another, a killed process's message
finished by another after its lease, cron once per tick, stream changes reaching the
WebSocket clients of another process)."""

from __future__ import annotations

import contextlib
import shutil
import signal
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from motia.adapters.sqlite.fanout import peer_folder
from tests import shared_store_scenarios as scenarios
from tests.conftest import ServerProcess, wait_for, write_project
from tests.redis.support import CREATE_JOB_STEP, PROJECT, read_runs

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]


@pytest.mark.parametrize("count", [2, 3])
def test_event_accepted_on_one_process_is_handled_on_another(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Servers, count: int
) -> None:
    scenarios.event_accepted_on_one_process_is_handled_on_another(
        tmp_path, sqlite_env, servers, count
    )


@pytest.mark.parametrize("count", [2, 3])
def test_kill_9_mid_handler_another_process_completes_after_the_lease(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Servers, count: int
) -> None:
    scenarios.kill_9_mid_handler_the_other_process_completes_after_the_lease(
        tmp_path, sqlite_env, servers, count
    )


def test_one_second_cron_fires_once_per_tick_across_three_processes(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Servers
) -> None:
    scenarios.one_second_cron_fires_once_per_tick_across_three_processes(
        tmp_path, sqlite_env, servers
    )


@pytest.mark.async_timeout(30)
@pytest.mark.parametrize("count", [2, 3])
async def test_stream_change_on_one_process_reaches_a_websocket_client_on_another(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Servers, count: int
) -> None:
    await scenarios.stream_change_on_one_process_reaches_a_websocket_client_on_another(
        tmp_path, sqlite_env, servers, count
    )


def test_an_idle_process_is_woken_at_once_not_at_its_next_poll(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Servers
) -> None:
    """With a 30 s poll, two orders accepted on A (each process runs one at a time, the
    first takes 3 s): B runs one of them as soon as it is accepted, so B's worker was
    woken through its peer socket, not by a poll."""
    project = write_project(
        tmp_path / "shop",
        {**PROJECT, "config.yml": "queue:\n  leaseSeconds: 5\n  pollInterval: 30\n"},
    )
    a = servers(project, env=sqlite_env)
    b = servers(project, env=sqlite_env)
    time.sleep(0.5)  # both idle, each asleep until its next poll

    sleeps = {"first": 3.0, "second": 0.0}
    accepted: dict[str, float] = {}
    for order, sleep in sleeps.items():
        accepted[order] = time.time()
        response = a.client.post("/orders", json={"id": order, "sleep": sleep})
        assert response.status_code == 201, response.text
        time.sleep(0.3)
    runs = wait_for(
        lambda: len(read_runs(project, "handled")) == 2 and read_runs(project, "handled"),
        8,
        what="both orders handled",
    )
    started = {run.ident: run.at - sleeps[run.ident] - accepted[run.ident] for run in runs}
    on = {run.ident: run.pid for run in runs}
    print(f"handled on {on}, started this long after being accepted: {started}")
    assert set(on.values()) == {a.process.pid, b.process.pid}
    [on_b] = [order for order, pid in on.items() if pid == b.process.pid]
    assert started[on_b] < 1.0, f"B took {on_b!r} {started[on_b]:.2f} s after it was accepted"


def test_a_process_that_cannot_reach_its_peers_says_so_and_serves_alone(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Servers
) -> None:
    project = write_project(tmp_path / "shop", PROJECT)
    # A short path, so the peer folder is the one beside the file (not one in /tmp).
    data = Path(tempfile.mkdtemp(prefix="motia-peers-"))
    blocked = data / "motia.db.peers"
    assert peer_folder(data / "motia.db") == blocked
    server: ServerProcess | None = None
    try:
        blocked.write_text("a file where the peer folder should be")
        server = servers(project, env={**sqlite_env, "MOTIA_DATA_DIR": str(data)})
        response = server.client.post("/orders", json={"id": "alone"})
        assert response.status_code == 201, response.text
        wait_for(lambda: read_runs(project, "handled"), 10, what="the order handled")
        output = server.output()
        assert "cannot open a peer socket in" in output and "motia.db.peers" in output, output
        assert "will find its events at their next poll" in output
    finally:
        if server is not None:
            server.stop(signal.SIGTERM, timeout=10)
        shutil.rmtree(data)


FAILING_STEP = """
    from steps.lib.runlog import record
    config = {"type": "event", "name": "AlwaysFails", "subscribes": ["job.created"],
              "flows": ["jobs"],
              "infrastructure": {"queue": {"maxRetries": 2,
                                           "backoff": {"type": "fixed", "delay": 0.2,
                                                       "jitter": False}}}}
    async def handler(data, ctx):
        record("attempt", f"{data['id']}#{ctx.attempt}", ctx.attempt)
        raise RuntimeError(f"job {data['id']} cannot be done")
"""


@pytest.mark.parametrize("count", [2, 3])
def test_retries_and_dead_letters_count_once_across_processes(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Servers, count: int
) -> None:
    """Jobs accepted on one of two or three processes fail every time: each runs exactly
    1 + 2 retries, attempts numbered 1 to 3 (whichever process ran them), then lands in the
    dead-letter table once."""
    project = write_project(
        tmp_path / "jobs",
        {
            **PROJECT,
            "steps/events/always_fails_step.py": FAILING_STEP,
            "steps/api/create_job_step.py": CREATE_JOB_STEP,
        },
    )
    processes = [servers(project, env=sqlite_env) for _ in range(count)]
    jobs = [f"job-{i}" for i in range(8)]
    for job in jobs:
        response = processes[0].client.post("/jobs", json={"id": job})
        assert response.status_code == 202, response.text

    database = project / ".motia" / "motia.db"

    def dead() -> int:
        with contextlib.closing(sqlite3.connect(database)) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM motia_dead_letters").fetchone()[0])

    wait_for(lambda: dead() == len(jobs), 20, what="every job dead-lettered")
    time.sleep(0.5)  # nothing more runs
    attempts = read_runs(project, "attempt")
    by_pid = Counter(run.pid for run in attempts)
    print(f"attempts by process: {dict(by_pid)}")
    assert Counter(run.ident for run in attempts) == Counter(
        f"{job}#{n}" for job in jobs for n in (1, 2, 3)
    )
    assert set(by_pid) <= {p.process.pid for p in processes}
    assert dead() == len(jobs)
    with contextlib.closing(sqlite3.connect(database)) as conn:
        rows = conn.execute("SELECT attempts, reason FROM motia_dead_letters").fetchall()
    assert {tuple(row) for row in rows} == {(3, "handler failed")}, rows
