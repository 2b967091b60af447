"""`motia start --workers 2` on PostgreSQL: both workers serve requests and handle events,
each event once, and a clean stop of the supervisor stops them."""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.redis.conftest import alive, worker_pids
from tests.redis.support import PROJECT, get_fresh, handled_ids, post_fresh, read_runs

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]


def test_start_with_two_workers_serves_and_handles_events_in_both(
    tmp_path: Path, pg_env: dict[str, str], servers: Servers
) -> None:
    project = write_project(tmp_path / "workers", PROJECT)
    supervisor = servers(project, "--workers", "2", env=pg_env)
    workers = set(worker_pids(supervisor.process.pid))
    assert len(workers) == 2, workers
    assert supervisor.process.pid not in workers

    # Every request on a new connection, so the kernel hands them to either worker.
    api_pids: Counter[int] = Counter()
    sent = [f"order-{i:03d}" for i in range(30)]
    for order in sent:
        response = post_fresh(supervisor.url, "/orders", {"id": order, "sleep": 0.05})
        assert response.status_code == 201, response.text
        api_pids[response.json()["pid"]] += 1
    for _ in range(20):
        response = get_fresh(supervisor.url, "/pid")
        assert response.status_code == 200, response.text
        api_pids[response.json()["pid"]] += 1
    wait_for(lambda: handled_ids(project) >= set(sent), 20, what="every order handled")

    handled_pids = Counter(run.pid for run in read_runs(project, "handled"))
    print(
        f"workers {sorted(workers)}; API answered by {dict(api_pids)}; "
        f"events handled by {dict(handled_pids)}"
    )
    assert set(api_pids) <= workers and set(handled_pids) <= workers
    assert len(handled_pids) == 2, f"events were handled by one worker only: {handled_pids}"
    assert Counter(run.ident for run in read_runs(project, "handled")) == Counter(sent)

    # A clean stop of the supervisor stops its workers too.
    assert supervisor.stop(signal.SIGTERM, timeout=20) == 0, supervisor.output()[-3000:]
    wait_for(lambda: not any(alive(pid) for pid in workers), 10, what="the workers exited")
