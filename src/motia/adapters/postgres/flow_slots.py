"""PostgreSQL flow-control slots: one row per live slot. A take runs in one transaction
under an advisory lock on each of its scopes (taken in scope order, so two takes never
wait for each other in a circle), so processes on any machine never both take the last
slot; other scopes are not held up. `take_all` checks every scope first and writes only
when all have room."""

from __future__ import annotations

from collections.abc import Sequence

from motia.adapters.flow.base import FlowSlots, Take
from motia.adapters.postgres.database import Connection, PostgresDatabase
from motia.clock import Clock

# Expired slots of every scope are swept once this many were taken by this process.
_SWEEP_EVERY = 1000
# Live slots of a scope, the earliest expiry among them, and whether the holder has one.
_SCOPE = """
SELECT count(*) FILTER (WHERE expires_at > %(now)s),
    min(expires_at) FILTER (WHERE expires_at > %(now)s),
    coalesce(bool_or(holder = %(holder)s AND expires_at > %(now)s), false)
FROM flow_slots WHERE scope = %(scope)s
"""
_PUT = """
INSERT INTO flow_slots (scope, holder, expires_at) VALUES (%(scope)s, %(holder)s, %(until)s)
ON CONFLICT (scope, holder) DO UPDATE SET expires_at = excluded.expires_at
"""


class PostgresFlowSlots(FlowSlots):
    def __init__(self, database: PostgresDatabase, clock: Clock) -> None:
        self._db = database
        self._clock = clock
        self._taken = 0

    async def take(self, scope: str, holder: str, limit: int, ttl: float) -> float:
        _, wait = await self.take_all([Take(scope, holder, limit, ttl)])
        return wait

    async def take_all(self, takes: Sequence[Take]) -> tuple[int, float]:
        now = self._clock.time()
        self._taken += len(takes)
        sweep = self._taken >= _SWEEP_EVERY
        if sweep:
            self._taken = 0

        async def work(connection: Connection) -> tuple[int, float]:
            for scope in sorted({take.scope for take in takes}):
                await connection.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", (scope,)
                )
            if sweep:
                await connection.execute("DELETE FROM flow_slots WHERE expires_at <= %s", (now,))
            for index, take in enumerate(takes):
                cursor = await connection.execute(
                    _SCOPE, {"now": now, "holder": take.holder, "scope": take.scope}
                )
                row = await cursor.fetchone()
                live, earliest, mine = row if row is not None else (0, None, False)
                if not mine and live >= take.limit and earliest is not None:
                    return index, max(float(earliest) - now, 1e-3)  # nothing written yet
            for take in takes:
                await connection.execute(
                    _PUT, {"scope": take.scope, "holder": take.holder, "until": now + take.ttl}
                )
            return -1, 0.0

        return await self._db.transaction(work)

    async def give_back(self, scope: str, holder: str) -> None:
        await self._db.execute(
            "DELETE FROM flow_slots WHERE scope = %s AND holder = %s", (scope, holder)
        )
