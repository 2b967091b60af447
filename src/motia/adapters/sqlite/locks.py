"""SQLite cron locks: whoever inserts the (job, tick) row first runs the tick, so processes
that share the database file run each tick once.

The claim row remembers the tick for `ttl` seconds (a claim past its time may be taken
again); claims of a job's other ticks past their time are swept as new ones come. The
insert runs in a write transaction, which SQLite gives one process at a time."""

from __future__ import annotations

import os
import socket

from motia.adapters.locks.base import CronLocks
from motia.adapters.sqlite.database import Execute, SqliteDatabase
from motia.clock import Clock

SCHEMA = """
CREATE TABLE IF NOT EXISTS motia_cron_claims (
    job        TEXT NOT NULL,
    tick       REAL NOT NULL,
    owner      TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (job, tick)
) WITHOUT ROWID;
"""
_SWEEP = "DELETE FROM motia_cron_claims WHERE job = ? AND tick <> ? AND expires_at < ?"
_CLAIM = (
    "INSERT INTO motia_cron_claims (job, tick, owner, expires_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (job, tick) DO UPDATE SET owner = excluded.owner, "
    "expires_at = excluded.expires_at WHERE motia_cron_claims.expires_at <= ?"
)


class SqliteCronLocks(CronLocks):
    def __init__(self, database: SqliteDatabase, clock: Clock) -> None:
        self._db = database
        self._clock = clock
        # Who claimed a tick, for whoever looks at the table while debugging.
        self._owner = f"{socket.gethostname()}:{os.getpid()}"
        self._db.execute_script(SCHEMA)

    async def claim_tick(self, job: str, tick: float, ttl: float) -> bool:
        now = self._clock.time()
        tick = round(tick, 3)

        def work(execute: Execute) -> bool:
            execute(_SWEEP, (job, tick, now))
            return execute(_CLAIM, (job, tick, self._owner, now + ttl, now)) > 0

        return await self._db.transact(work)
