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

USERS = ["ann", "bob"]
PER_USER = 12


def project(root: Path) -> Path:
    flow_project.write(root)
    return write_project(root, {"steps/work_api_step.py": EMIT_STEP})


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
