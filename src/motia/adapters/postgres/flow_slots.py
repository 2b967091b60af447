"""PostgreSQL flow-control slots: one row per live slot. A take runs in one transaction
under an advisory lock on its scope, so processes on any machine never both take the
last slot; other scopes are not held up."""

from __future__ import annotations

from typing import Any

from motia.adapters.flow.base import FlowSlots
from motia.adapters.postgres.database import Connection, PostgresDatabase
from motia.clock import Clock

# Expired slots of every scope are swept once this many were taken by this process.
_SWEEP_EVERY = 1000


class PostgresFlowSlots(FlowSlots):
    def __init__(self, database: PostgresDatabase, clock: Clock) -> None:
        self._db = database
        self._clock = clock
        self._taken = 0

    async def take(self, scope: str, holder: str, limit: int, ttl: float) -> float:
        now = self._clock.time()
        self._taken += 1
        sweep = self._taken % _SWEEP_EVERY == 0
        params: dict[str, Any] = {
            "scope": scope,
            "holder": holder,
            "now": now,
            "until": now + ttl,
        }

        async def work(connection: Connection) -> float:
            await connection.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%(scope)s, 7))", params
            )
            await connection.execute(
                "DELETE FROM flow_slots WHERE expires_at <= %(now)s"
                + ("" if sweep else " AND scope = %(scope)s"),
                params,
            )
            renewed = await connection.execute(
                "UPDATE flow_slots SET expires_at = %(until)s "
                "WHERE scope = %(scope)s AND holder = %(holder)s",
                params,
            )
            if renewed.rowcount:
                return 0.0
            cursor = await connection.execute(
                "SELECT count(*), min(expires_at) FROM flow_slots WHERE scope = %(scope)s",
                params,
            )
            row = await cursor.fetchone()
            count, earliest = row if row is not None else (0, None)
            if count >= limit and earliest is not None:
                return max(float(earliest) - now, 1e-3)
            await connection.execute(
                "INSERT INTO flow_slots (scope, holder, expires_at) "
                "VALUES (%(scope)s, %(holder)s, %(until)s)",
                params,
            )
            return 0.0

        return await self._db.transaction(work)

    async def give_back(self, scope: str, holder: str) -> None:
        await self._db.execute(
            "DELETE FROM flow_slots WHERE scope = %s AND holder = %s", (scope, holder)
        )
