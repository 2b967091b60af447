"""`"executor": "process"` on a real server: the handler runs in a worker process, its
`ctx` calls reach the server, a run past its timeout kills its worker, and a worker that
dies fails only its own run and is replaced."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.hostile._handler_support import CONFIG, dead_letters, records

WORK = """
    import os
    from pathlib import Path

    config = {"type": "api", "name": "Work", "method": "POST", "path": "/work",
              "executor": "process", "emits": ["worked"], "flows": ["jobs"]}

    DEFINE handler(req, ctx):
        pid = os.getpid()
        ctx.logger.info("working in a worker", {"pid": pid})
        AWAIT ctx.state.set("jobs", ctx.trace_id, {"pid": pid})
        AWAIT ctx.state.set("scratch", "a", 1)
        AWAIT ctx.state.set("scratch", "b", 2)
        deleted = AWAIT ctx.state.delete("scratch", "a")
        group = AWAIT ctx.state.get_group("scratch")
        AWAIT ctx.state.clear("scratch")
        AWAIT ctx.streams.items.set("g", ctx.trace_id, {"text": "made in a worker"})
        AWAIT ctx.streams.items.set("g", "gone", {"text": "deleted"})
        AWAIT ctx.streams.items.delete("g", "gone")
        AWAIT ctx.streams["items"].send({"groupId": "g"}, {"type": "hello", "data": {}})
        items = AWAIT ctx.streams.items.get_group("g")
        AWAIT ctx.emit({"topic": "worked", "data": {"traceId": ctx.trace_id, "pid": pid}})
        return {"status": 200, "body": {
            "pid": pid, "traceId": ctx.trace_id, "flows": ctx.flows,
            "state": AWAIT ctx.state.get("jobs", ctx.trace_id), "deleted": deleted,
            "group": group, "afterClear": AWAIT ctx.state.get_group("scratch"),
            "items": [item["id"] for item in items], "body": req["body"],
        }}
"""

PROJECT = {
    "config.yml": CONFIG + "executors:\n  processes: 2\n",
    "steps/items_stream.py": """
        config = {"name": "items", "schema": {"type": "object"},
                  "baseConfig": {"storageType": "default"}}
    """,
    "steps/worked_step.py": """
        from pathlib import Path

        config = {"type": "event", "name": "Worked", "subscribes": ["worked"]}

        async def handler(data, ctx):
            here = Path(__file__).parent.parent
            (here / f"worked-{data['traceId']}").write_text(str(data["pid"]))
    """,
    "steps/read_step.py": """
        config = {"type": "api", "name": "Read", "method": "GET", "path": "/read/:trace"}

        async def handler(req, ctx):
            trace = req["pathParams"]["trace"]
            return {"status": 200, "body": {
                "state": await ctx.state.get("jobs", trace),
                "item": await ctx.streams.items.get("g", trace),
            }}
    """,
    "steps/pid_step.py": """
        import os

        config = {"type": "api", "name": "Pid", "method": "GET", "path": "/pid",
                  "executor": "process"}

        def handler(req, ctx):
            return {"status": 200, "body": {"pid": os.getpid()}}
    """,
    "steps/crash_step.py": """
        import ctypes
        import os
        import signal

        config = {"type": "api", "name": "Crash", "method": "POST", "path": "/crash",
                  "executor": "process"}

        def handler(req, ctx):
            how = req["body"]["how"]
            if how == "exit":
                os._exit(7)
            if how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            ctypes.string_at(0)  # a segmentation fault
    """,
    "steps/crash_once_step.py": """
        import os
        from pathlib import Path

        config = {"type": "event", "name": "CrashOnce", "subscribes": ["crash-once"],
                  "executor": "process",
                  "infrastructure": {"queue": {"maxRetries": 2,
                      "backoff": {"delay": 0.05, "jitter": False}}}}

        def handler(data, ctx):
            here = Path(__file__).parent.parent
            if ctx.attempt == 1:
                os._exit(3)
            (here / "crash-once-done").write_text(f"{ctx.attempt} {os.getpid()}")
    """,
    "steps/slow_step.py": """
        import os
        import time
        from pathlib import Path

        config = {"type": "api", "name": "Slow", "method": "POST", "path": "/slow",
                  "executor": "process", "timeout": 1, "emits": ["slow-event"]}

        def handler(req, ctx):
            (Path(__file__).parent.parent / "slow-pid").write_text(str(os.getpid()))
            time.sleep(60)
    """,
    "steps/slow_event_step.py": """
        import os
        import time
        from pathlib import Path

        config = {"type": "event", "name": "SlowEvent", "subscribes": ["slow-event"],
                  "executor": "process",
                  "infrastructure": {"handler": {"timeout": 1}, "queue": {"maxRetries": 0}}}

        async def handler(data, ctx):
            (Path(__file__).parent.parent / "slow-event-pid").write_text(str(os.getpid()))
            time.sleep(60)
    """,
    "steps/start_slow_event_step.py": """
        config = {"type": "api", "name": "StartSlowEvent", "method": "POST",
                  "path": "/slow-event", "emits": ["slow-event", "crash-once"]}

        async def handler(req, ctx):
            await ctx.emit({"topic": req["body"]["topic"], "data": {}})
            return {"status": 202, "body": {}}
    """,
    "steps/refused_call_step.py": """
        config = {"type": "api", "name": "RefusedCall", "method": "POST", "path": "/refused",
                  "executor": "process", "emits": ["declared"]}

        def handler(req, ctx):
            try:
                if req["body"]["call"] == "emit":
                    ctx.emit({"topic": "undeclared", "data": {}})
                elif req["body"]["call"] == "rate":
                    ctx.rate_limit("calls", requests=1, per=1)
                else:
                    ctx.state.set("g", "k", object())
            except Exception as exc:
                return {"status": 200, "body": {"raised": type(exc).__name__, "says": str(exc)}}
            return {"status": 200, "body": {}}
    """,
    "steps/not_json_step.py": """
        config = {"type": "api", "name": "NotJson", "method": "GET", "path": "/not-json",
                  "executor": "process"}

        def handler(req, ctx):
            return {"status": 200, "body": {"thing": object()}}
    """,
}


def _project(root: Path, kind: str = "sync") -> Path:
    work = WORK.replace("DEFINE", "async def" if kind == "async" else "def")
    work = work.replace("AWAIT ", "await " if kind == "async" else "")
    return write_project(root, {**PROJECT, "steps/work_step.py": work})


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too: it has exited, its parent has not reaped it yet.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _errors_of(server: ServerProcess, step: str) -> list[dict[str, Any]]:
    return [r for r in records(server) if r.get("step") == step and r["level"] == "error"]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_ctx_calls_from_a_worker_reach_the_server(
    tmp_path: Path, server_factory: Callable[..., ServerProcess], kind: str
) -> None:
    project = _project(tmp_path / "project", kind)
    server = server_factory(project)
    answer = server.client.post("/work", json={"n": 1}, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    trace = body["traceId"]
    worker_pid = body["pid"]
    assert worker_pid != server.process.pid
    assert body["flows"] == ["jobs"]
    assert body["body"] == {"n": 1}
    assert body["state"] == {"pid": worker_pid}
    assert body["deleted"] == 1
    assert body["group"] == [2]
    assert body["afterClear"] == []
    assert body["items"] == [trace]
    assert answer.headers["x-trace-id"] == trace

    # The emit reached its subscriber on the server.
    worked = project / f"worked-{trace}"
    wait_for(
        lambda: worked.exists() and worked.read_text() == str(worker_pid),
        what="the subscriber of 'worked' ran",
    )
    # State and stream writes are the server's: another step reads them.
    seen = server.client.get(f"/read/{trace}").json()
    assert seen["state"] == {"pid": worker_pid}
    assert seen["item"]["id"] == trace
    assert seen["item"]["text"] == "made in a worker"
    # The worker's log line is the server's, tagged with the run.
    lines = [r for r in records(server) if r["msg"] == "working in a worker"]
    assert len(lines) == 1
    assert lines[0]["traceId"] == trace
    assert lines[0]["step"] == "Work"
    assert lines[0]["flows"] == ["jobs"]
    assert lines[0]["pid"] == worker_pid

    # The worker is kept for the next run, and stops with the server.
    again = server.client.post("/work", json={"n": 2}, timeout=30).json()
    assert again["pid"] == worker_pid
    assert server.stop(signal.SIGTERM) == 0
    wait_for(lambda: not _alive(worker_pid), timeout=5, what="the worker stopped with the server")


@pytest.mark.parametrize(
    ("how", "said"),
    [
        ("exit", "exited with status 7"),
        ("kill", "was killed by signal SIGKILL"),
        ("segv", "was killed by signal SIGSEGV"),
    ],
)
def test_a_worker_that_dies_fails_only_its_run_and_is_replaced(
    tmp_path: Path, server_factory: Callable[..., ServerProcess], how: str, said: str
) -> None:
    project = _project(tmp_path / "project")
    server = server_factory(project)
    first = server.client.get("/pid", timeout=30).json()["pid"]

    answer = server.client.post("/crash", json={"how": how}, timeout=30)
    assert answer.status_code == 500
    trace = answer.json()["traceId"]
    errors = _errors_of(server, "Crash")
    assert errors and errors[-1]["traceId"] == trace
    assert said in errors[-1]["error"], errors[-1]
    assert "the worker process running step 'Crash'" in errors[-1]["error"]

    # The crash ran in the idle worker and took it; the server lives on and the next run
    # gets a new worker.
    assert server.process.poll() is None
    wait_for(lambda: not _alive(first), timeout=5, what="the crashed worker is gone")
    after = server.client.get("/pid", timeout=30)
    assert after.status_code == 200
    assert after.json()["pid"] != first


def test_an_event_whose_worker_dies_is_retried_in_a_new_worker(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = _project(tmp_path / "project")
    server = server_factory(project)
    assert server.client.post("/slow-event", json={"topic": "crash-once"}).status_code == 202
    done = project / "crash-once-done"
    wait_for(lambda: done.exists() and done.read_text(), timeout=30, what="the retry ran")
    attempt, _ = done.read_text().split()
    assert attempt == "2"
    errors = _errors_of(server, "CrashOnce")
    assert len(errors) == 1
    assert "exited with status 3" in errors[0]["error"]
    assert "retrying" in errors[0]["msg"]


def test_a_run_past_its_timeout_kills_its_worker(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = _project(tmp_path / "project")
    server = server_factory(project)
    # A worker is ready (timeouts count from the call, and a worker's start is not the
    # handler's time): the pool keeps the one that answered.
    assert server.client.get("/pid", timeout=30).status_code == 200

    answer = server.client.post("/slow", json={}, timeout=30)
    assert answer.status_code == 504, answer.text
    pid = int((project / "slow-pid").read_text())
    wait_for(lambda: not _alive(pid), timeout=5, what="the timed-out worker was killed")
    assert server.client.get("/pid", timeout=30).status_code == 200  # replaced

    assert server.client.post("/slow-event", json={"topic": "slow-event"}).status_code == 202
    letters = wait_for(lambda: dead_letters(server), timeout=30, what="the event dead-lettered")
    assert letters[0]["step"] == "SlowEvent"
    assert "HandlerTimeout" in letters[0]["error"]
    assert "timeout of 1 s" in letters[0]["error"]
    event_pid = int(wait_for(lambda: (project / "slow-event-pid").read_text()))
    wait_for(lambda: not _alive(event_pid), timeout=5, what="the event's worker was killed")
    # Workers are replaced: the next run works.
    assert server.client.get("/pid", timeout=30).status_code == 200


def test_a_result_that_is_not_json_fails_the_run_and_says_why(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = _project(tmp_path / "project")
    server = server_factory(project)
    answer = server.client.get("/not-json", timeout=30)
    assert answer.status_code == 500
    errors = _errors_of(server, "NotJson")
    assert errors
    assert '"executor": "process" exchanges JSON with the server' in errors[-1]["error"]
    assert "return value is not JSON" in errors[-1]["error"]
    assert server.client.get("/pid", timeout=30).status_code == 200  # the worker lives on


def test_a_cron_step_runs_in_a_worker_and_its_timeout_kills_it(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(
        tmp_path / "project",
        {
            "steps/tick_step.py": """
                import os
                import time
                from pathlib import Path

                config = {"type": "cron", "name": "Tick", "cron": "* * * * * *",
                          "executor": "process", "timeout": 1.5}

                def handler(ctx):
                    ctx.logger.info("tick in a worker", {"pid": os.getpid()})
                    time.sleep(60)
            """,
        },
    )
    server = server_factory(project)
    ticks = wait_for(
        lambda: len(t := [r for r in records(server) if r["msg"] == "tick in a worker"]) >= 2 and t,
        timeout=15,
        what="two ticks ran",
    )
    assert all(tick["pid"] != server.process.pid for tick in ticks)
    wait_for(lambda: not _alive(ticks[0]["pid"]), timeout=5, what="the first tick's worker died")
    errors = wait_for(lambda: _errors_of(server, "Tick"), timeout=5, what="the tick failed")
    assert "timeout of 1.5 s" in errors[0]["error"]


VERSION_STEP = """
    import os

    from steps.lib.words import WORD

    config = {"type": "api", "name": "Version", "method": "GET", "path": "/version",
              "executor": "process"}

    def handler(req, ctx):
        return {"status": 200, "body": {"v": VERSION, "word": WORD, "pid": os.getpid()}}
"""


def test_dev_reload_retires_workers_that_hold_the_old_code(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(
        tmp_path / "project",
        {
            "steps/lib/__init__.py": "",
            "steps/lib/words.py": "WORD = 'alpha'\n",
            "steps/version_step.py": VERSION_STEP.replace("VERSION", "1"),
        },
    )
    server = server_factory(project, "dev")
    first = server.client.get("/version", timeout=30).json()
    assert first["v"] == 1 and first["word"] == "alpha"

    write_project(project, {"steps/lib/words.py": "WORD = 'beta'\n"})
    second = wait_for(
        lambda: (b := server.client.get("/version", timeout=30).json())["word"] == "beta" and b,
        timeout=20,
        what="the worker ran the edited helper",
    )
    assert second["pid"] != first["pid"]
    wait_for(lambda: not _alive(first["pid"]), timeout=10, what="the old worker stopped")

    write_project(project, {"steps/version_step.py": VERSION_STEP.replace("VERSION", "2")})
    wait_for(
        lambda: server.client.get("/version", timeout=30).json()["v"] == 2,
        timeout=20,
        what="the worker ran the edited step",
    )


def test_a_handler_typed_with_a_pydantic_model_gets_an_instance_in_the_worker(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(
        tmp_path / "project",
        {
            "steps/order_step.py": """
                from pydantic import BaseModel

                from motia import ApiRequest

                class Order(BaseModel):
                    item: str
                    quantity: int

                config = {"type": "api", "name": "Order", "method": "POST", "path": "/orders",
                          "executor": "process"}

                def handler(req: ApiRequest[Order], ctx):
                    order = req["body"]
                    return {"status": 201, "body": {"kind": type(order).__name__,
                                                    "total": order.quantity * 2}}
            """,
        },
    )
    server = server_factory(project)
    answer = server.client.post("/orders", json={"item": "tea", "quantity": 3}, timeout=30)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"kind": "Order", "total": 6}
    refused = server.client.post("/orders", json={"item": "tea", "quantity": "x"}, timeout=30)
    assert refused.status_code == 400


def test_stopping_the_server_kills_a_worker_that_is_still_running(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(
        tmp_path / "project",
        {
            "config.yml": "shutdownTimeout: 1\n",
            "steps/busy_step.py": """
                import os
                import time
                from pathlib import Path

                config = {"type": "event", "name": "Busy", "subscribes": ["busy"],
                          "executor": "process"}

                def handler(data, ctx):
                    (Path(__file__).parent.parent / "busy-pid").write_text(str(os.getpid()))
                    time.sleep(600)
            """,
            "steps/start_step.py": """
                config = {"type": "api", "name": "Start", "method": "POST", "path": "/start",
                          "emits": ["busy"]}

                async def handler(req, ctx):
                    await ctx.emit({"topic": "busy", "data": {}})
                    return {"status": 202, "body": {}}
            """,
        },
    )
    server = server_factory(project)
    assert server.client.post("/start").status_code == 202
    pid = int(
        wait_for(lambda: (project / "busy-pid").exists() and (project / "busy-pid").read_text())
    )
    assert _alive(pid)
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(15)  # the shutdown bound (1 s) and a margin, not the handler's 600 s
    wait_for(lambda: not _alive(pid), timeout=5, what="the busy worker was killed")


def test_a_context_call_the_server_refuses_raises_in_the_handler(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = _project(tmp_path / "project")
    server = server_factory(project)
    emitted = server.client.post("/refused", json={"call": "emit"}, timeout=30).json()
    assert emitted["raised"] == "ContextCallFailed"
    assert emitted["says"].startswith("EmitNotDeclared:")
    assert "undeclared" in emitted["says"]
    stored = server.client.post("/refused", json={"call": "state"}, timeout=30).json()
    assert stored["raised"] == "TypeError"
    assert stored["says"].startswith('state.set: a step with "executor": "process" exchanges JSON')
    limited = server.client.post("/refused", json={"call": "rate"}, timeout=30).json()
    assert limited["raised"] == "NotImplementedError"
    assert "ctx.rate_limit is not available" in limited["says"]


def test_a_client_that_leaves_gets_its_worker_killed(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(
        tmp_path / "project",
        {
            "steps/long_step.py": """
                import os
                import time
                from pathlib import Path

                config = {"type": "api", "name": "Long", "method": "GET", "path": "/long",
                          "executor": "process"}

                def handler(req, ctx):
                    (Path(__file__).parent.parent / "long-pid").write_text(str(os.getpid()))
                    time.sleep(600)
            """,
        },
    )
    server = server_factory(project)
    pid_file = project / "long-pid"
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /long HTTP/1.1\r\nHost: localhost\r\n\r\n")
        pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), timeout=30))
    wait_for(lambda: not _alive(pid), timeout=10, what="the worker of the departed client died")
    assert server.process.poll() is None
