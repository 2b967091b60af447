"""SQLite flow-control slots: one row per live slot. A take counts the scope's live rows
in a write transaction, which SQLite gives one process at a time, so the processes that
share the file (`--workers N`) never both take the last slot; `take_all` checks every
scope first and writes only when all have room, in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence

from motia.adapters.flow.base import FlowSlots, Take
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


# What a take needs to know of its scope, in one read: live slots, the earliest expiry
# among them, and whether the holder has one of them. Expired rows are not counted; they
# are swept in bulk now and then.
_SCOPE = (
    "SELECT COALESCE(SUM(expires_at > ?1), 0), MIN(CASE WHEN expires_at > ?1 THEN expires_at "
    "END), COALESCE(MAX(holder = ?2 AND expires_at > ?1), 0) "
    "FROM motia_flow_slots WHERE scope = ?3"
)
_PUT = "INSERT OR REPLACE INTO motia_flow_slots (scope, holder, expires_at) VALUES (?, ?, ?)"


class SqliteFlowSlots(FlowSlots):
    def __init__(self, database: SqliteDatabase, clock: Clock) -> None:
        self._db = database
        self._clock = clock
        self._taken = 0
        self._db.execute_script(SCHEMA)

    async def take(self, scope: str, holder: str, limit: int, ttl: float) -> float:
        _, wait = await self.take_all([Take(scope, holder, limit, ttl)])
        return wait

    async def take_all(self, takes: Sequence[Take]) -> tuple[int, float]:
        now = self._clock.time()
        self._taken += len(takes)
        sweep = self._taken >= _SWEEP_EVERY
        if sweep:
            self._taken = 0

        def work(execute: Execute) -> tuple[int, float]:
            if sweep:
                execute("DELETE FROM motia_flow_slots WHERE expires_at <= ?", (now,))
            for index, take in enumerate(takes):
                live, earliest, mine = self._db.query_one(
                    _SCOPE, (now, take.holder, take.scope)
                ) or (0, None, 0)
                if not mine and live >= take.limit and earliest is not None:
                    return index, max(float(earliest) - now, 1e-3)  # nothing written yet
            for take in takes:
                execute(_PUT, (take.scope, take.holder, now + take.ttl))
            return -1, 0.0

        return await self._db.transact(work)

    async def give_back(self, scope: str, holder: str) -> None:
        await self._db.write(
            "DELETE FROM motia_flow_slots WHERE scope = ? AND holder = ?", (scope, holder)
        )
