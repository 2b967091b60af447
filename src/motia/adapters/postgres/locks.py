"""PostgreSQL cron locks: whoever inserts the (job, tick) row first runs the tick.

A bare advisory lock would not do: it is released when its holder's transaction ends, so
a process that reaches the same tick a moment later would take it again. The claim row
remembers the tick for `ttl` seconds (a claim past its time may be taken again, as a Redis
key that expired); claims of other ticks past their time are swept as new ones come.
"""

from __future__ import annotations

import os
import socket

from motia.adapters.locks.base import CronLocks
from motia.adapters.postgres.database import PostgresDatabase
from motia.clock import Clock

_CLAIM = """
WITH swept AS (
    DELETE FROM cron_claims WHERE job = %(job)s AND tick <> %(tick)s AND expires_at < %(now)s
)
INSERT INTO cron_claims (job, tick, owner, expires_at)
VALUES (%(job)s, %(tick)s, %(owner)s, %(expires)s)
ON CONFLICT (job, tick) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
    WHERE cron_claims.expires_at <= %(now)s
RETURNING 1
"""


class PostgresCronLocks(CronLocks):
    def __init__(self, database: PostgresDatabase, clock: Clock) -> None:
        self._db = database
        self._clock = clock
        # Who claimed a tick, for whoever looks at the table while debugging.
        self._owner = f"{socket.gethostname()}:{os.getpid()}"

    async def claim_tick(self, job: str, tick: float, ttl: float) -> bool:
        now = self._clock.time()
        row = await self._db.fetch_one(
            _CLAIM,
            {
                "job": job,
                "tick": round(tick, 3),
                "owner": self._owner,
                "now": now,
                "expires": now + ttl,
            },
        )
        return row is not None
