"""Scenarios for several `motia start` processes sharing one store (Redis, PostgreSQL or
one SQLite file): each test module calls them with the environment that puts the
processes on its store, and may ask for more than two processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import ServerProcess, wait_for, write_project
from tests.redis.support import (
    CREATE_JOB_STEP,
    CRON_STEP,
    PROJECT,
    SLOW_JOB_STEP,
    STREAM_FILES,
    handled_ids,
    read_runs,
)

Servers = Callable[..., ServerProcess]


def event_accepted_on_one_process_is_handled_on_another(
    tmp_path: Path, env: dict[str, str], servers: Servers, count: int = 2
) -> None:
    project = write_project(tmp_path / "shop", PROJECT)
    a, *others = [servers(project, env=env) for _ in range(count)]
    pids = {a.process.pid, *(other.process.pid for other in others)}
    assert len(pids) == count

    sent = [f"order-{i:03d}" for i in range(30)]
    for order in sent:
        response = a.client.post("/orders", json={"id": order, "sleep": 0.05})
        assert response.status_code == 201, response.text
        assert response.json()["pid"] == a.process.pid  # accepted on A
    wait_for(lambda: handled_ids(project) >= set(sent), 20, what="every order handled")

    runs = read_runs(project, "handled")
    by_pid = Counter(run.pid for run in runs)
    print(f"handled by A ({a.process.pid}) and the others: {dict(by_pid)}")
    assert set(by_pid) <= pids, by_pid
    assert set(by_pid) - {a.process.pid}, f"no event accepted on A was handled elsewhere: {by_pid}"
    # one run per event: the processes never both took the same message
    assert Counter(run.ident for run in runs) == Counter(sent)


def kill_9_mid_handler_the_other_process_completes_after_the_lease(
    tmp_path: Path, env: dict[str, str], servers: Servers, count: int = 2
) -> None:
    project = write_project(
        tmp_path / "jobs",
        {
            **PROJECT,
            "steps/events/slow_job_step.py": SLOW_JOB_STEP,
            "steps/api/create_job_step.py": CREATE_JOB_STEP,
        },
    )
    processes = [servers(project, env=env) for _ in range(count)]
    by_pid = {p.process.pid: p for p in processes}

    response = processes[0].client.post("/jobs", json={"id": "job-1"})
    assert response.status_code == 202, response.text
    [started] = wait_for(lambda: read_runs(project, "started"), 10, what="the handler started")
    victim = by_pid.pop(started.pid)
    survivors = by_pid
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(10)
    killed_at = time.time()
    assert victim.process.returncode == -signal.SIGKILL

    # leaseSeconds is 1: the message becomes visible again about a second after the kill,
    # and the survivor takes it.
    [done] = wait_for(lambda: read_runs(project, "done"), 10, what="the job completed")
    print(
        f"started on {started.pid}, killed; done on {done.pid} "
        f"{done.at - killed_at:.2f} s after the kill, attempt {done.attempt}"
    )
    assert done.pid in survivors
    assert done.attempt >= 2, "a run after a lost lease is a new attempt"
    assert done.at - started.at < 3, "finished by the other process, not after the 3 s sleep"
    time.sleep(1.5)
    assert len(read_runs(project, "done")) == 1, read_runs(project)
    for survivor in survivors.values():
        assert survivor.client.get("/__motia/health").status_code == 200


def one_second_cron_fires_once_per_tick_across_three_processes(
    tmp_path: Path, env: dict[str, str], servers: Servers
) -> None:
    project = write_project(
        tmp_path / "cron", {**PROJECT, "steps/cron/every_second_step.py": CRON_STEP}
    )
    processes = [servers(project, env=env) for _ in range(3)]
    window_start = time.time()
    time.sleep(4.5)
    window_end = time.time() - 0.5  # the last tick's handler has had time to record

    ticks = read_runs(project, "tick")
    per_second = Counter(int(run.ident) for run in ticks)
    doubled = {second: n for second, n in per_second.items() if n > 1}
    assert not doubled, f"ticks run more than once: {doubled}"
    in_window = [run for run in ticks if window_start < int(run.ident) <= window_end]
    pids = Counter(run.pid for run in ticks)
    print(f"{len(in_window)} ticks in the window, {len(ticks)} in all, by process: {dict(pids)}")
    assert len(in_window) >= 3, f"too few ticks in {window_end - window_start:.1f} s: {ticks}"
    assert set(pids) <= {p.process.pid for p in processes}


async def stream_change_on_one_process_reaches_a_websocket_client_on_another(
    tmp_path: Path, env: dict[str, str], servers: Servers, count: int = 2
) -> None:
    """A WebSocket client on every process but A; the changes are made through A."""
    project = write_project(tmp_path / "todos", {**PROJECT, **STREAM_FILES})
    a, *others = [servers(project, env=env) for _ in range(count)]
    group = f"g-{uuid.uuid4().hex[:8]}"

    async with contextlib.AsyncExitStack() as stack:
        sockets = [
            await stack.enter_async_context(
                connect(f"ws://127.0.0.1:{other.port}/", open_timeout=5, close_timeout=1)
            )
            for other in others
        ]

        async def frame(ws: ClientConnection) -> dict[str, Any]:
            async with asyncio.timeout(5):
                result: dict[str, Any] = json.loads(await ws.recv())
                return result

        for ws in sockets:
            join = {"streamName": "todo", "groupId": group, "subscriptionId": str(uuid.uuid4())}
            await ws.send(json.dumps({"type": "join", "data": join}))
            sync = await frame(ws)
            assert sync["event"]["type"] == "sync", sync
            assert sync["event"]["data"] == []

        async with httpx.AsyncClient(base_url=a.url, timeout=10) as http:
            created = await http.post(f"/todo/{group}/t1", json={"title": "write tests"})
            assert created.status_code == 200, created.text
            assert created.json()["pid"] == a.process.pid
            for ws in sockets:
                create = await frame(ws)
                assert create["streamName"] == "todo" and create["groupId"] == group, create
                assert create["id"] == "t1"
                assert create["event"] == {
                    "type": "create",
                    "data": {"title": "write tests", "id": "t1"},
                }
            # A value over PostgreSQL's NOTIFY payload limit (8000 bytes) and over the size
            # the SQLite processes send in one datagram (60 KiB) still arrives.
            big = "x" * 100_000
            updated = await http.post(f"/todo/{group}/t1", json={"title": big})
            assert updated.status_code == 200, updated.text
            for ws in sockets:
                update = await frame(ws)
                assert update["event"] == {"type": "update", "data": {"title": big, "id": "t1"}}
