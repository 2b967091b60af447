"""PostgreSQL stream store: items in `stream_items`, shared by every process; changes reach
the subscribers of other processes through the backend's broadcast (LISTEN/NOTIFY)."""

from __future__ import annotations

from motia.adapters.postgres.database import PostgresDatabase
from motia.adapters.streams.base import PutResult, StreamStore
from motia.clock import Clock

_LIVE = "(expires_at IS NULL OR expires_at > %(now)s)"
_KEY = "stream = %(stream)s AND group_id = %(group)s AND item_id = %(item)s"
# The row as it was before the write (same snapshot), and the write itself.
_PUT = f"""
WITH old AS (SELECT expires_at FROM stream_items WHERE {_KEY}),
written AS (
    INSERT INTO stream_items (stream, group_id, item_id, value, expires_at, created_at,
                              updated_at)
    VALUES (%(stream)s, %(group)s, %(item)s, %(value)s::json, %(expires)s, %(now)s, %(now)s)
    ON CONFLICT (stream, group_id, item_id) DO UPDATE SET value = excluded.value,
        expires_at = excluded.expires_at, updated_at = excluded.updated_at
    RETURNING 1
)
SELECT (SELECT count(*) FROM written), (SELECT count(*) FROM old),
       (SELECT expires_at FROM old)
"""


class PostgresStreamStore(StreamStore):
    def __init__(self, database: PostgresDatabase, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self._db = database

    async def _get(self, stream: str, group_id: str, item_id: str, now: float) -> bytes | None:
        row = await self._db.fetch_one(
            f"SELECT value::text FROM stream_items WHERE {_KEY} AND {_LIVE}",
            {"stream": stream, "group": group_id, "item": item_id, "now": now},
        )
        return None if row is None else str(row[0]).encode()

    async def _put(
        self,
        stream: str,
        group_id: str,
        item_id: str,
        value: bytes,
        expires_at: float | None,
        now: float,
    ) -> PutResult:
        row = await self._db.fetch_one(
            _PUT,
            {
                "stream": stream,
                "group": group_id,
                "item": item_id,
                "value": value.decode(),
                "expires": expires_at,
                "now": now,
            },
        )
        assert row is not None  # one row of counts, always
        _, existed, old_expiry = row
        if not existed:
            return "created"
        return "updated" if old_expiry is None or old_expiry > now else "revived"

    async def _delete(self, stream: str, group_id: str, item_id: str, now: float) -> bytes | None:
        row = await self._db.fetch_one(
            f"DELETE FROM stream_items WHERE {_KEY} "
            "RETURNING value::text, (expires_at IS NULL OR expires_at > %(now)s)",
            {"stream": stream, "group": group_id, "item": item_id, "now": now},
        )
        return None if row is None or not row[1] else str(row[0]).encode()

    async def _group(self, stream: str, group_id: str, now: float) -> list[tuple[str, bytes]]:
        rows = await self._db.fetch(
            "SELECT item_id, value::text FROM stream_items "
            f"WHERE stream = %(stream)s AND group_id = %(group)s AND {_LIVE} "
            "ORDER BY created_at, item_id",
            {"stream": stream, "group": group_id, "now": now},
        )
        return [(str(i), str(v).encode()) for i, v in rows]

    async def groups(self, stream: str) -> list[str]:
        rows = await self._db.fetch(
            f"SELECT DISTINCT group_id FROM stream_items WHERE stream = %(stream)s AND {_LIVE} "
            "ORDER BY group_id",
            {"stream": stream, "now": self.clock.time()},
        )
        return [str(r[0]) for r in rows]

    async def expired(self) -> list[tuple[str, str, str]]:
        # One DELETE ... RETURNING: of sweeps running at once, each item is reported once.
        rows = await self._db.fetch(
            "DELETE FROM stream_items WHERE expires_at IS NOT NULL AND expires_at <= %s "
            "RETURNING stream, group_id, item_id",
            (self.clock.time(),),
        )
        return sorted((str(s), str(g), str(i)) for s, g, i in rows)
