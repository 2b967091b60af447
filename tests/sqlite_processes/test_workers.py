"""`motia start --workers N` on the embedded SQLite file, no services: the workers share
the port and the file; events are handled once by either, a worker killed mid-handler
loses nothing, cron fires once per tick, and a stream change answered by one worker
reaches a client (the published npm stream client) connected to another, as does a
stream event sent there."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.redis.conftest import alive, worker_pids
from tests.redis.support import (
    CREATE_JOB_STEP,
    CRON_STEP,
    PROJECT,
    SLOW_JOB_STEP,
    get_fresh,
    handled_ids,
    post_fresh,
    read_runs,
)
from tests.streams.conftest import DriverFactory

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]

# A stream whose access check records the process that took the client's join: the
# worker the client's WebSocket is connected to.
JOIN_RECORDING_STREAM: dict[str, str] = {
    "steps/todo_stream.py": """
        from steps.lib.runlog import record

        async def can_access(subscription, auth_context):
            record("join", subscription["groupId"])
            return True

        config = {"name": "todo", "baseConfig": {"storageType": "default"}, "canAccess": can_access}
    """,
    "steps/api/set_todo_step.py": """
        import os
        config = {"type": "api", "name": "SetTodo", "method": "POST",
                  "path": "/todo/:group/:id", "emits": [], "flows": ["todo"]}
        async def handler(req, ctx):
            params = req["pathParams"]
            item = await ctx.streams.todo.set(params["group"], params["id"], req["body"])
            return {"status": 200, "body": {"pid": os.getpid(), "item": item}}
    """,
    "steps/api/ping_todo_step.py": """
        import os
        config = {"type": "api", "name": "PingTodo", "method": "POST",
                  "path": "/todo/:group/ping", "emits": [], "flows": ["todo"]}
        async def handler(req, ctx):
            group = req["pathParams"]["group"]
            await ctx.streams.todo.send({"groupId": group}, {"type": "ping", "data": req["body"]})
            return {"status": 200, "body": {"pid": os.getpid()}}
    """,
}


def post_until_another_worker_answers(url: str, path: str, than: int) -> tuple[int, int]:
    """POST `{"n": attempt}` on new connections until a worker other than `than` answers;
    returns that attempt and the worker."""
    for attempt in range(60):
        response = post_fresh(url, path, {"n": attempt})
        assert response.status_code == 200, response.text
        if response.json()["pid"] != than:
            return attempt, response.json()["pid"]
    pytest.fail(f"worker {than} answered all 60 requests")


@pytest.mark.parametrize("count", [2, 3])
def test_workers_share_the_port_and_handle_each_event_once(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Servers, count: int
) -> None:
    project = write_project(tmp_path / "workers", PROJECT)
    supervisor = servers(project, "--workers", str(count), env=sqlite_env)
    workers = set(worker_pids(supervisor.process.pid))
    assert len(workers) == count, workers

    api_pids: Counter[int] = Counter()
    sent = [f"order-{i:03d}" for i in range(40)]
    for order in sent:
        response = post_fresh(supervisor.url, "/orders", {"id": order, "sleep": 0.05})
        assert response.status_code == 201, response.text
        api_pids[response.json()["pid"]] += 1
    for _ in range(20):
        api_pids[get_fresh(supervisor.url, "/pid").json()["pid"]] += 1
    wait_for(lambda: handled_ids(project) >= set(sent), 20, what="every order handled")

    runs = read_runs(project, "handled")
    handled_pids = Counter(run.pid for run in runs)
    print(f"API answered by {dict(api_pids)}; events handled by {dict(handled_pids)}")
    assert set(api_pids) <= workers and set(handled_pids) <= workers
    assert len(api_pids) >= 2, f"one worker answered every request: {api_pids}"
    assert len(handled_pids) >= 2, f"events were handled by one worker only: {handled_pids}"
    assert Counter(run.ident for run in runs) == Counter(sent), "an event ran twice"

    assert supervisor.stop(signal.SIGTERM, timeout=20) == 0, supervisor.output()[-3000:]
    wait_for(lambda: not any(alive(pid) for pid in workers), 10, what="the workers exited")


def test_a_worker_killed_mid_handler_loses_nothing(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Servers
) -> None:
    project = write_project(
        tmp_path / "jobs",
        {
            **PROJECT,
            "steps/events/slow_job_step.py": SLOW_JOB_STEP,
            "steps/api/create_job_step.py": CREATE_JOB_STEP,
        },
    )
    supervisor = servers(project, "--workers", "2", env=sqlite_env)
    response = post_fresh(supervisor.url, "/jobs", {"id": "job-1"})
    assert response.status_code == 202, response.text
    [started] = wait_for(lambda: read_runs(project, "started"), 10, what="the handler started")
    assert started.pid in worker_pids(supervisor.process.pid)
    os.kill(started.pid, signal.SIGKILL)  # the worker running the handler
    killed_at = time.time()

    # leaseSeconds is 1: the message is leased again about a second after the kill.
    [done] = wait_for(lambda: read_runs(project, "done"), 10, what="the job completed")
    print(f"started on {started.pid}, killed; done on {done.pid} {done.at - killed_at:.2f} s later")
    assert done.pid != started.pid
    assert done.attempt >= 2, "a run after a lost lease is a new attempt"
    assert done.at - started.at < 3, "finished by another worker, not after the 3 s sleep"
    time.sleep(1.5)
    assert len(read_runs(project, "done")) == 1, read_runs(project)
    assert get_fresh(supervisor.url, "/__motia/health").status_code == 200


def test_cron_fires_once_per_tick_with_two_workers(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Servers
) -> None:
    project = write_project(
        tmp_path / "cron", {**PROJECT, "steps/cron/every_second_step.py": CRON_STEP}
    )
    supervisor = servers(project, "--workers", "2", env=sqlite_env)
    workers = set(worker_pids(supervisor.process.pid))
    window_start = time.time()
    time.sleep(4.5)
    window_end = time.time() - 0.5

    ticks = read_runs(project, "tick")
    per_second = Counter(int(run.ident) for run in ticks)
    doubled = {second: n for second, n in per_second.items() if n > 1}
    assert not doubled, f"ticks run more than once: {doubled}"
    in_window = [run for run in ticks if window_start < int(run.ident) <= window_end]
    print(f"{len(in_window)} ticks in the window, by worker: {Counter(r.pid for r in ticks)}")
    assert len(in_window) >= 3, f"too few ticks: {ticks}"
    assert {run.pid for run in ticks} <= workers


def test_a_stream_change_answered_by_one_worker_reaches_a_client_on_another(
    tmp_path: Path,
    sqlite_env: dict[str, str],
    servers: Servers,
    driver_factory: DriverFactory,
) -> None:
    project = write_project(tmp_path / "todos", {**PROJECT, **JOIN_RECORDING_STREAM})
    supervisor = servers(project, "--workers", "2", env=sqlite_env)
    url = f"ws://127.0.0.1:{supervisor.port}"
    # Several clients, each its own connection (the kernel hands them to either worker),
    # each on a group of its own.
    groups = [f"g{i}-{uuid.uuid4().hex[:6]}" for i in range(4)]
    drivers = {
        group: driver_factory(
            url,
            [{"label": "todo", "stream": "todo", "group": group, "events": ["error", "ping"]}],
            events=["error", "ping"],
        )
        for group in groups
    }
    for driver in drivers.values():
        assert driver.wait_state("todo", lambda state: state == []) == []
    joined = {run.ident: run.pid for run in read_runs(project, "join")}
    assert set(joined) == set(groups), joined

    # For one client, change its group (then send it an event) through requests until a
    # worker other than the client's answers one (a new connection each time).
    group = groups[0]
    client_worker = joined[group]
    attempt, answered_by = post_until_another_worker_answers(
        supervisor.url, f"/todo/{group}/t1", client_worker
    )
    print(f"client on worker {client_worker}; change {attempt} made on {answered_by}")
    state = drivers[group].wait_state("todo", lambda s: s == [{"n": attempt, "id": "t1"}])
    assert state == [{"n": attempt, "id": "t1"}]

    mark = drivers[group].mark()
    attempt, answered_by = post_until_another_worker_answers(
        supervisor.url, f"/todo/{group}/ping", client_worker
    )
    drivers[group].wait_for(
        lambda o: o["kind"] == "event" and o["type"] == "ping" and o["data"] == {"n": attempt},
        after=mark,
        what=f"the ping event sent on worker {answered_by}",
    )


def test_workers_auto_starts_one_per_cpu_core(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Servers
) -> None:
    cores = os.cpu_count() or 1
    if cores > 8:
        pytest.skip(f"{cores} cores: too many processes for a test")
    project = write_project(tmp_path / "auto", PROJECT)
    supervisor = servers(project, env={**sqlite_env, "MOTIA_WORKERS": "auto"})
    workers = worker_pids(supervisor.process.pid)
    assert len(workers) == (cores if cores > 1 else 0), workers  # one core: no supervisor
    assert get_fresh(supervisor.url, "/pid").status_code == 200
