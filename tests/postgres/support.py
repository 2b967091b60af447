"""Project files of the PostgreSQL tests beyond the shared multi-process project
(`tests/redis/support.py`), and ways to look for a value in the database or in Redis."""

from __future__ import annotations

from typing import Any

import redis
from tests.postgres.conftest import DATABASE_URL, query, tables_of

# A handler that emits and writes state, then fails while its attempt is below
# `fail_until`; the subscriber of what it emits records which attempt emitted it.
OUTBOX_FILES: dict[str, str] = {
    "steps/api/create_job_step.py": """
        config = {"type": "api", "name": "CreateJob", "method": "POST", "path": "/jobs",
                  "emits": ["job.created"], "flows": ["jobs"]}
        async def handler(req, ctx):
            await ctx.emit({"topic": "job.created", "data": req["body"]})
            return {"status": 202, "body": {"id": req["body"]["id"]}}
    """,
    "steps/api/job_state_step.py": """
        config = {"type": "api", "name": "JobState", "method": "GET", "path": "/jobs/:id",
                  "emits": [], "flows": ["jobs"]}
        async def handler(req, ctx):
            value = await ctx.state.get("jobs", req["pathParams"]["id"])
            return {"status": 200, "body": {"state": value}}
    """,
    "steps/events/flaky_step.py": """
        from steps.lib.runlog import record
        config = {
            "type": "event", "name": "Flaky", "subscribes": ["job.created"],
            "emits": ["job.followed"], "flows": ["jobs"],
            "infrastructure": {"queue": {
                "maxRetries": 2,
                "backoff": {"type": "fixed", "delay": 0.2, "jitter": False},
            }},
        }
        async def handler(data, ctx):
            await ctx.emit({"topic": "job.followed",
                            "data": {"id": data["id"], "by_attempt": ctx.attempt}})
            await ctx.state.set("jobs", data["id"], {"attempt": ctx.attempt})
            if await ctx.state.get("jobs", data["id"]) != {"attempt": ctx.attempt}:
                raise RuntimeError("the handler does not read its own state write")
            record("flaky", data["id"], ctx.attempt)
            if ctx.attempt < data["fail_until"]:
                raise RuntimeError("failing after the emit")
    """,
    "steps/events/follow_step.py": """
        from steps.lib.runlog import record
        config = {"type": "event", "name": "Follow", "subscribes": ["job.followed"],
                  "emits": [], "flows": ["jobs"]}
        async def handler(data, ctx):
            record("followed", data["id"], data["by_attempt"])
    """,
}

# Writes a state value and a stream item, each given in the request body.
PLACEMENT_FILES: dict[str, str] = {
    "steps/note_stream.py": """
        config = {"name": "note", "baseConfig": {"storageType": "default"}}
    """,
    "steps/api/place_step.py": """
        config = {"type": "api", "name": "Place", "method": "POST", "path": "/place",
                  "emits": ["placed"], "flows": ["place"]}
        async def handler(req, ctx):
            body = req["body"]
            await ctx.state.set("place", "value", {"v": body["state"][::-1]})
            await ctx.streams.note.set("place", "item", {"v": body["stream"][::-1]})
            await ctx.emit({"topic": "placed", "data": {}})
            return {"status": 200, "body": {}}
    """,
    "steps/events/placed_step.py": """
        config = {"type": "event", "name": "Placed", "subscribes": ["placed"], "emits": [],
                  "flows": ["place"]}
        async def handler(data, ctx):
            pass
    """,
}


def rows_containing(schema: str, text: str, url: str = DATABASE_URL) -> int:
    """How many rows of any table of `schema` contain `text` anywhere (as row text)."""
    found = 0
    for table in tables_of(schema, url):
        rows = query(
            f'SELECT count(*) FROM "{schema}"."{table}" AS t WHERE t::text LIKE %s',
            (f"%{text}%",),
            url,
        )
        found += int(rows[0][0])
    return found


def redis_dump(url: str, prefix: str) -> dict[str, Any]:
    """Every key under `prefix` with its value, whatever the type."""
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        out: dict[str, Any] = {}
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            kind = client.type(key)
            if kind == "string":
                out[key] = client.get(key)
            elif kind == "hash":
                out[key] = client.hgetall(key)
            elif kind == "zset":
                out[key] = client.zrange(key, 0, -1)
            elif kind == "list":
                out[key] = client.lrange(key, 0, -1)
            elif kind == "set":
                out[key] = sorted(client.smembers(key))
            elif kind == "stream":
                out[key] = client.xrange(key)
            else:
                out[key] = kind
        return out
    finally:
        client.close()


# A FIFO step: every run records when it started and ended, with its group and number.
FIFO_FILES: dict[str, str] = {
    "steps/api/send_entry_step.py": """
        config = {"type": "api", "name": "SendEntry", "method": "POST", "path": "/entries",
                  "emits": ["ledger.entry"], "flows": ["ledger"]}
        async def handler(req, ctx):
            body = req["body"]
            await ctx.emit({"topic": "ledger.entry", "data": body,
                            "messageGroupId": body["account"]})
            return {"status": 202, "body": {}}
    """,
    "steps/events/book_entry_step.py": """
        import asyncio
        from steps.lib.runlog import record
        config = {"type": "event", "name": "BookEntry", "subscribes": ["ledger.entry"],
                  "emits": [], "flows": ["ledger"],
                  "infrastructure": {"queue": {"type": "fifo", "concurrency": 1}}}
        async def handler(data, ctx):
            ident = f"{data['account']}/{data['seq']}"
            record("begin", ident, ctx.attempt)
            await asyncio.sleep(0.03)
            record("end", ident, ctx.attempt)
    """,
}

# An event step that fails at once (no retry) while the file `broken` is in the project.
FRAGILE_FILES: dict[str, str] = {
    "steps/api/create_job_step.py": OUTBOX_FILES["steps/api/create_job_step.py"],
    "steps/events/fragile_step.py": """
        from steps.lib.runlog import RUNS, record
        config = {"type": "event", "name": "Fragile", "subscribes": ["job.created"],
                  "emits": [], "flows": ["jobs"],
                  "infrastructure": {"queue": {"maxRetries": 0}}}
        async def handler(data, ctx):
            if (RUNS.parent / "broken").exists():
                raise RuntimeError("broken for now")
            record("handled", data["id"], ctx.attempt)
    """,
}
