"""Several `motia start` processes sharing one Redis: events accepted on one process are
handled on another, a killed worker's message is finished by another after its lease, a
1-second cron fires once per tick in total, stream changes reach WebSocket clients of
every process, and `--workers N` forks processes that share the port."""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import shared_store_scenarios as scenarios
from tests.conftest import ServerProcess, wait_for, write_project
from tests.redis.conftest import alive, worker_pids
from tests.redis.support import (
    PROJECT,
    get_fresh,
    handled_ids,
    post_fresh,
    read_runs,
)

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]


def test_event_accepted_on_one_process_is_handled_on_another(
    tmp_path: Path, redis_env: dict[str, str], servers: Servers
) -> None:
    scenarios.event_accepted_on_one_process_is_handled_on_another(tmp_path, redis_env, servers)


def test_kill_9_mid_handler_the_other_process_completes_after_the_lease(
    tmp_path: Path, redis_env: dict[str, str], servers: Servers
) -> None:
    scenarios.kill_9_mid_handler_the_other_process_completes_after_the_lease(
        tmp_path, redis_env, servers
    )


def test_one_second_cron_fires_once_per_tick_across_three_processes(
    tmp_path: Path, redis_env: dict[str, str], servers: Servers
) -> None:
    scenarios.one_second_cron_fires_once_per_tick_across_three_processes(
        tmp_path, redis_env, servers
    )


@pytest.mark.async_timeout(30)
async def test_stream_change_on_one_process_reaches_a_websocket_client_on_another(
    tmp_path: Path, redis_env: dict[str, str], servers: Servers
) -> None:
    await scenarios.stream_change_on_one_process_reaches_a_websocket_client_on_another(
        tmp_path, redis_env, servers
    )


def test_start_with_two_workers_serves_and_handles_events_in_both(
    tmp_path: Path, redis_env: dict[str, str], servers: Servers
) -> None:
    project = write_project(tmp_path / "workers", PROJECT)
    supervisor = servers(project, "--workers", "2", env=redis_env)
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
    assert len(set(api_pids) | set(handled_pids)) == 2, "one worker did all the work"
    assert len(handled_pids) == 2, f"events were handled by one worker only: {handled_pids}"

    # A clean stop of the supervisor stops its workers too.
    assert supervisor.stop(signal.SIGTERM, timeout=20) == 0, supervisor.output()[-3000:]
    wait_for(lambda: not any(alive(pid) for pid in workers), 10, what="the workers exited")
