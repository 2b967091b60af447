"""SQLite stream store: items survive restarts, in the project's `.motia/motia.db`.

A write that reports what it replaced or removed reads it in its own write transaction, so
processes sharing the file agree on it (one `delete` event for an item, say)."""

from __future__ import annotations

from typing import Any

from motia.adapters.sqlite.database import Execute, SqliteDatabase
from motia.adapters.streams.base import PutResult, StreamStore
from motia.clock import Clock

SCHEMA = """
CREATE TABLE IF NOT EXISTS motia_stream_items (
    stream     TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    item_id    TEXT NOT NULL,
    value      BLOB NOT NULL,
    expires_at REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (stream, group_id, item_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS motia_stream_items_expiry
    ON motia_stream_items (expires_at) WHERE expires_at IS NOT NULL;
"""
_LIVE = "(expires_at IS NULL OR expires_at > ?)"


class SqliteStreamStore(StreamStore):
    def __init__(self, database: SqliteDatabase, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self._db = database
        self._db.execute_script(SCHEMA)

    async def _get(self, stream: str, group_id: str, item_id: str, now: float) -> bytes | None:
        row = self._db.query_one(
            "SELECT value FROM motia_stream_items WHERE stream = ? AND group_id = ? "
            f"AND item_id = ? AND {_LIVE}",
            (stream, group_id, item_id, now),
        )
        return None if row is None else bytes(row[0])

    async def _put(
        self,
        stream: str,
        group_id: str,
        item_id: str,
        value: bytes,
        expires_at: float | None,
        now: float,
    ) -> PutResult:
        def work(execute: Execute) -> tuple[float | None] | None:
            row = self._db.query_one(
                "SELECT expires_at FROM motia_stream_items WHERE stream = ? AND group_id = ? "
                "AND item_id = ?",
                (stream, group_id, item_id),
            )
            execute(
                "INSERT INTO motia_stream_items (stream, group_id, item_id, value, expires_at, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (stream, group_id, item_id) DO UPDATE SET value = excluded.value, "
                "expires_at = excluded.expires_at, updated_at = excluded.updated_at",
                (stream, group_id, item_id, value, expires_at, now, now),
            )
            return None if row is None else (row[0],)

        row = await self._db.transact(work)
        if row is None:
            return "created"
        return "updated" if row[0] is None or row[0] > now else "revived"

    async def _delete(self, stream: str, group_id: str, item_id: str, now: float) -> bytes | None:
        def work(execute: Execute) -> bytes | None:
            row = self._db.query_one(
                "SELECT value FROM motia_stream_items WHERE stream = ? AND group_id = ? "
                f"AND item_id = ? AND {_LIVE}",
                (stream, group_id, item_id, now),
            )
            execute(
                "DELETE FROM motia_stream_items WHERE stream = ? AND group_id = ? AND item_id = ?",
                (stream, group_id, item_id),
            )
            return None if row is None else bytes(row[0])

        return await self._db.transact(work)

    async def _group(self, stream: str, group_id: str, now: float) -> list[tuple[str, bytes]]:
        rows = self._db.query(
            "SELECT item_id, value FROM motia_stream_items WHERE stream = ? AND group_id = ? "
            f"AND {_LIVE} ORDER BY created_at, item_id",
            (stream, group_id, now),
        )
        return [(str(i), bytes(v)) for i, v in rows]

    async def groups(self, stream: str) -> list[str]:
        rows = self._db.query(
            f"SELECT DISTINCT group_id FROM motia_stream_items WHERE stream = ? AND {_LIVE} "
            "ORDER BY group_id",
            (stream, self.clock.time()),
        )
        return [str(r[0]) for r in rows]

    async def expired(self) -> list[tuple[str, str, str]]:
        now = self.clock.time()
        expired = "FROM motia_stream_items WHERE expires_at IS NOT NULL AND expires_at <= ?"
        if not self._db.query(f"SELECT 1 {expired} LIMIT 1", (now,)):
            return []

        def work(execute: Execute) -> list[tuple[Any, ...]]:
            rows = self._db.query(f"SELECT stream, group_id, item_id {expired}", (now,))
            if rows:
                execute(f"DELETE {expired}", (now,))
            return rows

        rows = await self._db.transact(work)
        return [(str(s), str(g), str(i)) for s, g, i in rows]
