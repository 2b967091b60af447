"""A project for the multi-process tests: every handler run appends a line naming the
process (PID) that ran it to `runs.log` in the project folder, which all processes share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

# One line per handler run: `<kind> <id> <pid> <attempt> <time>`.
RUNLOG = """
    import os
    import time
    from pathlib import Path

    RUNS = Path(__file__).resolve().parent.parent.parent / "runs.log"

    def record(kind, ident, attempt=1):
        # One write in append mode: lines of concurrent processes never interleave, and a
        # kill -9 right after cannot lose it.
        line = f"{kind} {ident} {os.getpid()} {attempt} {time.time():.6f}\\n"
        fd = os.open(RUNS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
"""

PROJECT: dict[str, str] = {
    "config.yml": """
        queue:
          leaseSeconds: 1
          pollInterval: 0.1
    """,
    "steps/__init__.py": "",
    "steps/lib/__init__.py": "",
    "steps/lib/runlog.py": RUNLOG,
    # Accepts an order and emits it; answers with the PID of the process that took it.
    "steps/api/create_order_step.py": """
        import os
        config = {
            "type": "api", "name": "CreateOrder", "method": "POST", "path": "/orders",
            "emits": ["order.created"], "flows": ["orders"],
        }
        async def handler(req, ctx):
            body = req["body"]
            await ctx.emit({"topic": "order.created", "data": body})
            return {"status": 201, "body": {"id": body["id"], "pid": os.getpid()}}
    """,
    "steps/api/pid_step.py": """
        import os
        config = {"type": "api", "name": "Pid", "method": "GET", "path": "/pid", "emits": [],
                  "flows": ["orders"]}
        async def handler(req, ctx):
            return {"status": 200, "body": {"pid": os.getpid()}}
    """,
    # One order at a time per process, a little slow: a burst sent to one process leaves a
    # backlog that the other processes take their share of.
    "steps/events/handle_order_step.py": """
        import asyncio
        from steps.lib.runlog import record
        config = {"type": "event", "name": "HandleOrder", "subscribes": ["order.created"],
                  "flows": ["orders"],
                  "infrastructure": {"queue": {"concurrency": 1}}}
        async def handler(data, ctx):
            await asyncio.sleep(data.get("sleep", 0))
            record("handled", data["id"], ctx.attempt)
    """,
}

# An event step that sleeps 3 s the first time it runs (a marker file says it did).
SLOW_JOB_STEP = """
    import asyncio
    from pathlib import Path
    from steps.lib.runlog import RUNS, record
    config = {"type": "event", "name": "SlowJob", "subscribes": ["job.created"],
              "flows": ["jobs"]}
    async def handler(data, ctx):
        marker = RUNS.parent / f"started-{data['id']}"
        if not marker.exists():
            marker.write_text("")
            record("started", data["id"], ctx.attempt)
            await asyncio.sleep(3)
        record("done", data["id"], ctx.attempt)
"""

CREATE_JOB_STEP = """
    config = {"type": "api", "name": "CreateJob", "method": "POST", "path": "/jobs",
              "emits": ["job.created"], "flows": ["jobs"]}
    async def handler(req, ctx):
        await ctx.emit({"topic": "job.created", "data": req["body"]})
        return {"status": 202, "body": {"id": req["body"]["id"]}}
"""

# A cron step every second: records the tick (the second it ran in) and its PID.
CRON_STEP = """
    import time
    from steps.lib.runlog import record
    config = {"type": "cron", "name": "EverySecond", "cron": "* * * * * *", "emits": [],
              "flows": ["cron"]}
    async def handler(ctx):
        record("tick", round(time.time()), 1)
"""

# A stream and a step that sets items in it.
STREAM_FILES: dict[str, str] = {
    "steps/todo_stream.py": """
        config = {"name": "todo", "baseConfig": {"storageType": "default"}}
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
}


class Run:
    def __init__(self, kind: str, ident: str, pid: int, attempt: int, at: float) -> None:
        self.kind, self.ident, self.pid, self.attempt, self.at = kind, ident, pid, attempt, at

    def __repr__(self) -> str:
        return f"Run({self.kind} {self.ident} pid={self.pid} attempt={self.attempt})"


def read_runs(project: Path, kind: str | None = None) -> list[Run]:
    path = project / "runs.log"
    if not path.exists():
        return []
    runs = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) != 5:
            continue  # a line cut short by a kill is not a finished record
        run = Run(parts[0], parts[1], int(parts[2]), int(parts[3]), float(parts[4]))
        if kind is None or run.kind == kind:
            runs.append(run)
    return runs


def handled_ids(project: Path) -> set[str]:
    return {run.ident for run in read_runs(project, "handled")}


def post_fresh(url: str, path: str, body: Any, timeout: float = 10) -> httpx.Response:
    """One request on a new connection (so `--workers` processes share the requests)."""
    with httpx.Client(base_url=url, timeout=timeout, headers={"Connection": "close"}) as client:
        return client.post(path, json=body)


def get_fresh(url: str, path: str, timeout: float = 10) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=timeout, headers={"Connection": "close"}) as client:
        return client.get(path)
