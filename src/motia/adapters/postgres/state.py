"""PostgreSQL state: one row per (group, key) in `state`, values as `json` text (see
`migrations.py` for why not jsonb); a group is read and cleared through the primary key."""

from __future__ import annotations

import time
from collections.abc import Sequence

from motia.adapters.postgres.database import Connection, PostgresDatabase
from motia.adapters.state.base import StateAdapter
from motia.adapters.state.pending import StateWrite

_UPSERT = (
    "INSERT INTO state (group_id, key, value, updated_at) VALUES (%s, %s, %s::json, %s) "
    "ON CONFLICT (group_id, key) DO UPDATE SET value = excluded.value, "
    "updated_at = excluded.updated_at"
)
_DELETE_KEY = "DELETE FROM state WHERE group_id = %s AND key = %s"
_CLEAR = "DELETE FROM state WHERE group_id = %s"


async def apply_writes(connection: Connection, writes: Sequence[StateWrite]) -> None:
    """Apply a handler's recorded writes, in order, on `connection` (inside the caller's
    transaction); sent together, one round trip."""
    now = time.time()
    async with connection.pipeline():
        for write in writes:
            if write.key is None:
                await connection.execute(_CLEAR, (write.group_id,))
            elif write.value is None:
                await connection.execute(_DELETE_KEY, (write.group_id, write.key))
            else:
                await connection.execute(
                    _UPSERT, (write.group_id, write.key, write.value.decode(), now)
                )


class PostgresStateAdapter(StateAdapter):
    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database
        self._db = database

    async def _get(self, group_id: str, key: str) -> bytes | None:
        row = await self._db.fetch_one(
            "SELECT value::text FROM state WHERE group_id = %s AND key = %s", (group_id, key)
        )
        return None if row is None else str(row[0]).encode()

    async def _set(self, group_id: str, key: str, value: bytes) -> None:
        await self._db.execute(_UPSERT, (group_id, key, value.decode(), time.time()))

    async def _delete(self, group_id: str, key: str) -> bytes | None:
        row = await self._db.fetch_one(
            "DELETE FROM state WHERE group_id = %s AND key = %s RETURNING value::text",
            (group_id, key),
        )
        return None if row is None else str(row[0]).encode()

    async def _items(self, group_id: str) -> list[tuple[str, bytes]]:
        rows = await self._db.fetch(
            "SELECT key, value::text FROM state WHERE group_id = %s ORDER BY key", (group_id,)
        )
        return [(str(key), str(value).encode()) for key, value in rows]

    async def clear(self, group_id: str) -> None:
        await self._db.execute(_CLEAR, (group_id,))

    async def groups(self) -> list[str]:
        rows = await self._db.fetch("SELECT DISTINCT group_id FROM state ORDER BY group_id")
        return [str(row[0]) for row in rows]
