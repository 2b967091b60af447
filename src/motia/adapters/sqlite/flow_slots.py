"""SQLite flow-control slots: one row per live slot. A take counts the scope's live rows
in a write transaction, which SQLite gives one process at a time, so the processes that
share the file (`--workers N`) never both take the last slot."""

from __future__ import annotations

from motia.adapters.flow.base import FlowSlots
from motia.adapters.sqlite.database import Execute, SqliteDatabase
from motia.clock import Clock

SCHEMA = """
CREATE TABLE IF NOT EXISTS motia_flow_slots (
    scope      TEXT NOT NULL,
    holder     TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (scope, holder)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS motia_flow_slots_expiry ON motia_flow_slots (expires_at);
"""
# Expired slots of every scope are swept once this many were taken by this process.
_SWEEP_EVERY = 1000


class SqliteFlowSlots(FlowSlots):
    def __init__(self, database: SqliteDatabase, clock: Clock) -> None:
        self._db = database
        self._clock = clock
        self._taken = 0
        self._db.execute_script(SCHEMA)

    async def take(self, scope: str, holder: str, limit: int, ttl: float) -> float:
        now = self._clock.time()
        self._taken += 1
        sweep = self._taken % _SWEEP_EVERY == 0

        def work(execute: Execute) -> float:
            if sweep:
                execute("DELETE FROM motia_flow_slots WHERE expires_at <= ?", (now,))
            else:
                execute(
                    "DELETE FROM motia_flow_slots WHERE scope = ? AND expires_at <= ?",
                    (scope, now),
                )
            renewed = execute(
                "UPDATE motia_flow_slots SET expires_at = ? WHERE scope = ? AND holder = ?",
                (now + ttl, scope, holder),
            )
            if renewed:
                return 0.0
            count, earliest = self._db.query_one(
                "SELECT COUNT(*), MIN(expires_at) FROM motia_flow_slots WHERE scope = ?",
                (scope,),
            ) or (0, None)
            if count >= limit and earliest is not None:
                return max(float(earliest) - now, 1e-3)
            execute(
                "INSERT INTO motia_flow_slots (scope, holder, expires_at) VALUES (?, ?, ?)",
                (scope, holder, now + ttl),
            )
            return 0.0

        return await self._db.transact(work)

    async def give_back(self, scope: str, holder: str) -> None:
        await self._db.write(
            "DELETE FROM motia_flow_slots WHERE scope = ? AND holder = ?", (scope, holder)
        )
