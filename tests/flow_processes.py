"""Concurrency per key across processes (`motia start --workers 2` on SQLite, two
processes on Redis or PostgreSQL): the handlers journal their own starts and ends, under
a file lock, so the overlap per key is measured, not inferred from timing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import ServerProcess, wait_for, write_project
from tests.redis.support import post_fresh
from tests.unit import flow_project

EMIT_STEP = """
config = {"type": "api", "name": "Work", "method": "POST", "path": "/work", "emits": ["work"]}


async def handler(req, ctx):
    body = req["body"]
    for user in body["users"]:  # one user's events first: both processes take them
        for n in range(body["count"]):
            await ctx.emit({"topic": "work", "data": {"user": user, "n": n}})
    return {"status": 202, "body": {}}
"""

PACED_STEP = """
import fcntl
import json
import os
import time

config = {
    "type": "event",
    "name": "Paced",
    "subscribes": ["paced"],
    "emits": [],
    "throttle": {"limit": 4, "period": 1, "key": "data.account"},
}


async def handler(data, ctx):
    with open(os.environ["FLOW_JOURNAL"], "a") as journal:
        fcntl.flock(journal, fcntl.LOCK_EX)
        line = {"kind": "paced", "n": data["n"], "at": time.time(), "pid": os.getpid()}
        journal.write(json.dumps(line) + "\\n")
"""

PACE_API_STEP = """
config = {"type": "api", "name": "Pace", "method": "POST", "path": "/pace", "emits": ["paced"]}


async def handler(req, ctx):
    for n in range(req["body"]["count"]):
        await ctx.emit({"topic": "paced", "data": {"account": "a", "n": n}})
    return {"status": 202, "body": {}}
"""

USERS = ["ann", "bob"]
PER_USER = 12


def project(root: Path) -> Path:
    flow_project.write(root)
    return write_project(
        root,
        {
            "steps/work_api_step.py": EMIT_STEP,
            "steps/paced_step.py": PACED_STEP,
            "steps/pace_api_step.py": PACE_API_STEP,
        },
    )


def environment(tmp: Path, base: dict[str, str]) -> tuple[dict[str, str], Path]:
    journal = tmp / "journal.jsonl"
    # Two runs per process at most: one process alone cannot keep both keys at their limit,
    # so the runs spread over the processes, which must then share each key's slots.
    env = {**base, "FLOW_JOURNAL": str(journal), "FLOW_HOLD": "0.15", "FLOW_SLOTS": "2"}
    return env, journal


def concurrency_holds_across_processes(
    servers: list[ServerProcess], journal: Path, worker_pids: Callable[[], set[int]]
) -> None:
    """Send work through every server; each key never runs more than its limit at once
    over all processes, reaches it, and the runs spread over more than one process."""
    for i, server in enumerate(servers):
        users = USERS if i == 0 else list(reversed(USERS))
        response = post_fresh(server.url, "/work", {"users": users, "count": PER_USER})
        assert response.status_code == 202, response.text
    total = len(USERS) * PER_USER * len(servers)
    wait_for(
        lambda: len(flow_project.journal(journal, "end")) >= total,
        60,
        what=f"{total} runs finished",
    )
    overlap = flow_project.max_overlap(journal, "user")
    starts = flow_project.journal(journal, "start")
    pids = {line["pid"] for line in starts}
    print(f"max overlap per user: {overlap}; runs by process: {sorted(pids)}")
    assert overlap == {"ann": 2, "bob": 2}, overlap
    assert len(starts) == total, "a message ran twice or went missing"
    assert pids <= worker_pids()
    assert len(pids) >= 2, f"every run was in one process: {pids}"


def throttle_holds_across_processes(servers: list[ServerProcess], journal: Path) -> None:
    """Events of one account sent through every server start at most 4 per second over
    all processes together (and do reach 4, so this can fail)."""
    per_server = 8
    for server in servers:
        response = post_fresh(server.url, "/pace", {"count": per_server})
        assert response.status_code == 202, response.text
    total = per_server * len(servers)
    wait_for(
        lambda: len(flow_project.journal(journal, "paced")) >= total,
        60,
        what=f"{total} paced runs",
    )
    times = sorted(line["at"] for line in flow_project.journal(journal, "paced"))
    # Starts are noted just after the throttle let them in: a window a little shorter than
    # the period absorbs that gap, and still catches a limit that does not hold.
    busiest = max(sum(1 for u in times[i:] if u < t + 0.9) for i, t in enumerate(times))
    print(f"{total} starts over {times[-1] - times[0]:.2f} s; busiest 0.9 s: {busiest}")
    assert busiest == 4, busiest
    assert times[-1] - times[0] >= (total / 4 - 1) * 0.9
