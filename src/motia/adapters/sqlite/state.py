"""SQLite state: the embedded default, one file in the project's `.motia/` folder."""

from __future__ import annotations

import time

from motia.adapters.sqlite.database import Execute, SqliteDatabase
from motia.adapters.state.base import StateAdapter

SCHEMA = """
CREATE TABLE IF NOT EXISTS motia_state (
    group_id   TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      BLOB NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (group_id, key)
) WITHOUT ROWID;
"""


class SqliteStateAdapter(StateAdapter):
    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database
        self._db.execute_script(SCHEMA)

    async def _get(self, group_id: str, key: str) -> bytes | None:
        row = self._db.query_one(
            "SELECT value FROM motia_state WHERE group_id = ? AND key = ?", (group_id, key)
        )
        return None if row is None else bytes(row[0])

    async def _set(self, group_id: str, key: str, value: bytes) -> None:
        await self._db.write(
            "INSERT INTO motia_state (group_id, key, value, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (group_id, key) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            (group_id, key, value, time.time()),
        )

    async def _delete(self, group_id: str, key: str) -> bytes | None:
        # Read in the write transaction: of processes deleting one key at once, one gets it.
        def work(execute: Execute) -> bytes | None:
            row = self._db.query_one(
                "SELECT value FROM motia_state WHERE group_id = ? AND key = ?", (group_id, key)
            )
            if row is None:
                return None
            execute("DELETE FROM motia_state WHERE group_id = ? AND key = ?", (group_id, key))
            return bytes(row[0])

        if await self._get(group_id, key) is None:
            return None
        return await self._db.transact(work)

    async def _items(self, group_id: str) -> list[tuple[str, bytes]]:
        rows = self._db.query(
            "SELECT key, value FROM motia_state WHERE group_id = ? ORDER BY key", (group_id,)
        )
        return [(str(key), bytes(value)) for key, value in rows]

    async def clear(self, group_id: str) -> None:
        await self._db.write("DELETE FROM motia_state WHERE group_id = ?", (group_id,))

    async def groups(self) -> list[str]:
        rows = self._db.query("SELECT DISTINCT group_id FROM motia_state ORDER BY group_id")
        return [str(row[0]) for row in rows]
