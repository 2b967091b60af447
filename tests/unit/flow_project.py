"""A project with one event step per flow-control setting, for the flow-control suites.
Each handler writes to a journal file (`FLOW_JOURNAL`), under an exclusive lock so lines
from several processes keep the order in which they happened: the handlers measure
themselves, nothing is inferred from timing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import write_project

_NOTE = """
import asyncio
import fcntl
import json
import os


def note(kind, **fields):
    with open(os.environ["FLOW_JOURNAL"], "a") as journal:
        fcntl.flock(journal, fcntl.LOCK_EX)
        journal.write(json.dumps({"kind": kind, "pid": os.getpid(), **fields}) + "\\n")
"""

STEPS = {
    "steps/limited_step.py": _NOTE
    + """

config = {
    "type": "event",
    "name": "Limited",
    "subscribes": ["work"],
    "emits": [],
    "concurrency": {"limit": 2, "key": "data.user"},
    # Runs one process may have at once (of any key).
    "infrastructure": {"queue": {"concurrency": int(os.environ.get("FLOW_SLOTS", "8"))}},
}


async def handler(data, ctx):
    note("start", user=data["user"], n=data["n"])
    await asyncio.sleep(float(os.environ.get("FLOW_HOLD", "0.05")))
    note("end", user=data["user"], n=data["n"])
""",
    "steps/throttled_step.py": _NOTE
    + """

config = {
    "type": "event",
    "name": "Throttled",
    "subscribes": ["pay"],
    "emits": [],
    "throttle": {"limit": 3, "period": 60, "key": "data.account"},
}


async def handler(data, ctx):
    note("pay", account=data["account"], n=data["n"], at=ctx.utils.dates.now().timestamp())
""",
    "steps/charge_step.py": _NOTE
    + """

config = {
    "type": "event",
    "name": "Charge",
    "subscribes": ["charge"],
    "emits": [],
    "idempotencyKey": lambda data: data["orderId"],
    "idempotencyWindow": 60,
}


async def handler(data, ctx):
    note("charge", orderId=data["orderId"], n=data["n"])
""",
    "steps/save_step.py": _NOTE
    + """

config = {
    "type": "event",
    "name": "SaveDraft",
    "subscribes": ["typed"],
    "emits": [],
    "debounce": {"period": 10, "key": "data.doc"},
}


async def handler(data, ctx):
    note("save", doc=data["doc"], v=data["v"], at=ctx.utils.dates.now().timestamp())
""",
    "steps/seed_step.py": """
config = {"type": "event", "name": "Seed", "subscribes": ["seed"], "emits": ["rank"]}


async def handler(data, ctx):  # the emits are published together when the run completes
    for name, priority in data["ranks"]:
        event = {"topic": "rank", "data": {"name": name}}
        if priority is not None:
            event["priority"] = priority
        await ctx.emit(event)
""",
    "steps/ranked_step.py": _NOTE
    + """

config = {
    "type": "event",
    "name": "Ranked",
    "subscribes": ["rank"],
    "emits": [],
    "priority": 1,  # for emits that give none
    "infrastructure": {"queue": {"concurrency": 1}},
}


async def handler(data, ctx):
    note("ranked", name=data["name"])
""",
    "steps/ranked_fifo_step.py": _NOTE
    + """

config = {
    "type": "event",
    "name": "RankedFifo",
    "subscribes": ["rank"],
    "emits": [],
    "infrastructure": {"queue": {"type": "fifo", "concurrency": 1}},
}


async def handler(data, ctx):
    note("fifo", name=data["name"])
""",
    "steps/batched_step.py": _NOTE
    + """

config = {
    "type": "event",
    "name": "Batched",
    "subscribes": ["item"],
    "emits": ["item.done"],
    "batch": {"size": 4, "timeout": 0.5},
    "input": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
    "infrastructure": {"queue": {"backoff": {"type": "fixed", "delay": 1, "jitter": False}}},
}


async def handler(items, ctx):
    ns = [item["n"] for item in items]
    note("batch", ns=ns, attempt=ctx.attempt)
    if ctx.attempt == 1 and any(item.get("fail") for item in items):
        raise RuntimeError("the batch fails once")
    await ctx.emit({"topic": "item.done", "data": {"ns": ns}})
""",
}


def write(root: Path) -> Path:
    return write_project(root, STEPS)


def journal(path: Path, kind: str | None = None) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line]
    return [line for line in lines if kind is None or line["kind"] == kind]


def max_overlap(path: Path, key: str) -> dict[str, int]:
    """The most runs of each key that were running at once, from the journal's order."""
    running: dict[str, int] = {}
    most: dict[str, int] = {}
    for line in journal(path):
        if line["kind"] not in ("start", "end"):
            continue
        k = str(line[key])
        running[k] = running.get(k, 0) + (1 if line["kind"] == "start" else -1)
        most[k] = max(most.get(k, 0), running[k])
    return most
