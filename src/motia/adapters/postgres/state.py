"""PostgreSQL state: one row per (group, key) in `state`, values as `json` text (see
`migrations.py` for why not jsonb); a group is read and cleared through the primary key."""

from __future__ import annotations

import time

from motia.adapters.postgres.database import PostgresDatabase
from motia.adapters.state.base import StateAdapter


class PostgresStateAdapter(StateAdapter):
    def __init__(self, database: PostgresDatabase) -> None:
        self._db = database

    async def _get(self, group_id: str, key: str) -> bytes | None:
        row = await self._db.fetch_one(
            "SELECT value::text FROM state WHERE group_id = %s AND key = %s", (group_id, key)
        )
        return None if row is None else str(row[0]).encode()

    async def _set(self, group_id: str, key: str, value: bytes) -> None:
        await self._db.execute(
            "INSERT INTO state (group_id, key, value, updated_at) VALUES (%s, %s, %s::json, %s) "
            "ON CONFLICT (group_id, key) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            (group_id, key, value.decode(), time.time()),
        )

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
        await self._db.execute("DELETE FROM state WHERE group_id = %s", (group_id,))

    async def groups(self) -> list[str]:
        rows = await self._db.fetch("SELECT DISTINCT group_id FROM state ORDER BY group_id")
        return [str(row[0]) for row in rows]
