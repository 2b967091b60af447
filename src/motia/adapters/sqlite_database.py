"""One SQLite file shared by the embedded adapters, with group commit.

All statements run on the event loop's thread: in WAL mode a write is a few microseconds,
cheaper than a hop to a worker thread. Writes open a transaction that is committed once
per loop iteration, so every writer that ran in that iteration shares one commit, and each
writer's `await` returns only after its data is committed. Reads on the same connection see
writes that are still waiting for the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

SYNCHRONOUS_MODES = ("off", "normal", "full", "extra")


class SqliteDatabase:
    def __init__(self, path: Path, synchronous: str = "normal") -> None:
        if synchronous not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # normal: a commit survives the process being killed; only a power loss can undo the
        # last commits before a checkpoint. "full" trades throughput for that too.
        self._conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._conn.execute("PRAGMA busy_timeout=5000")
        # Reads through a memory map and a larger page cache: no read() syscall per page.
        self._conn.execute("PRAGMA mmap_size=268435456")
        self._conn.execute("PRAGMA cache_size=-32768")
        # SQLite's automatic checkpoint runs inside COMMIT, on the event loop, and fsyncs;
        # a background thread checkpoints instead, so commits stay cheap and steady.
        self._conn.execute("PRAGMA wal_autocheckpoint=0")
        self._in_transaction = False
        self._commit_waiters: asyncio.Future[None] | None = None
        self._checkpointer = _Checkpointer(path)

    def execute_script(self, script: str) -> None:
        self._conn.executescript(script)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._conn.execute(sql, params).fetchone()
        return row

    async def write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write; returns the affected row count once it is committed."""
        self._begin()
        count = self._conn.execute(sql, params).rowcount
        await self._committed()
        return count

    async def write_many(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Several writes committed together: all of them or none."""
        self._begin()
        for sql, params in statements:
            self._conn.execute(sql, params)
        await self._committed()

    def execute_in_transaction(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a write in the open transaction without waiting; pair with `committed()`.
        Statements run this way in one loop turn commit together, all or nothing."""
        self._begin()
        return int(self._conn.execute(sql, params).rowcount)

    def write_soon(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Writes whose durability nobody waits for (they are safe to lose in a crash)."""
        self._begin()
        for sql, params in statements:
            self._conn.execute(sql, params)
        self._committed()

    def committed(self) -> asyncio.Future[None]:
        """Resolves once everything written so far is committed."""
        if not self._in_transaction:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            future.set_result(None)
            return future
        return self._committed()

    def _begin(self) -> None:
        if not self._in_transaction:
            self._conn.execute("BEGIN IMMEDIATE")
            self._in_transaction = True

    def _committed(self) -> asyncio.Future[None]:
        if self._commit_waiters is None:
            loop = asyncio.get_running_loop()
            self._commit_waiters = loop.create_future()
            loop.call_soon(self._commit)
        return self._commit_waiters

    def _commit(self) -> None:
        waiters, self._commit_waiters = self._commit_waiters, None
        try:
            if self._in_transaction:
                self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._conn.execute("ROLLBACK")
            if waiters is not None and not waiters.done():
                waiters.set_exception(exc)
            return
        finally:
            self._in_transaction = False
        if waiters is not None and not waiters.done():
            waiters.set_result(None)

    def close(self) -> None:
        if self._in_transaction:
            self._commit()
        self._checkpointer.stop()
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._conn.close()


class _Checkpointer:
    """Copies the WAL back into the database file from its own thread and connection,
    whenever the WAL has grown past a threshold (checked a few times a second)."""

    def __init__(self, path: Path, threshold_bytes: int = 4 * 1024 * 1024, interval: float = 0.25):
        self._path = path
        self._wal = Path(f"{path}-wal")
        self._threshold = threshold_bytes
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="motia-sqlite-checkpoint", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=5000")
        try:
            while not self._stopping.wait(self._interval):
                try:
                    if self._wal.stat().st_size > self._threshold:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except (OSError, sqlite3.Error):
                    continue  # the next round tries again
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
