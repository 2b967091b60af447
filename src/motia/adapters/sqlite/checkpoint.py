"""Keeps the write-ahead log small under sustained load.

Commits append to the WAL; a checkpoint copies it back into the database file. A PASSIVE
checkpoint (from this thread, beside the writers) copies most of it, but the WAL file only
starts over when a checkpoint has copied everything at a moment no writer is active, which
never happens while writes keep coming. So once the WAL passes a size, the event loop is
asked to hold new transactions for a moment, and a TRUNCATE checkpoint (which then has
little left to copy) empties the file.

Processes that share the file each run a checkpointer; a lock on `<file>-checkpoint.lock`
lets one of them work at a time (the others skip the round). A TRUNCATE checkpoint holds
back the writers of the other processes too: they wait on SQLite's busy timeout.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

PASSIVE_ABOVE = 4 * 1024 * 1024
TRUNCATE_ABOVE = 32 * 1024 * 1024
# A stat() per round is cheap; checking often keeps the overshoot small.
INTERVAL = 0.05
# How long writers may be held: waiting for the open transaction, then the checkpoint.
PAUSE_WAIT = 2.0
TRUNCATE_BUSY_MS = 1000


class Pausable(Protocol):
    def pause_for_checkpoint(self, may_start: threading.Event) -> bool: ...

    def resume_after_checkpoint(self) -> None: ...


class Checkpointer:
    """Copies the WAL back into the database file from its own thread and connection."""

    def __init__(
        self,
        path: Path,
        writers: Pausable,
        *,
        passive_above: int = PASSIVE_ABOVE,
        truncate_above: int = TRUNCATE_ABOVE,
        interval: float = INTERVAL,
    ) -> None:
        self._path = path
        self._wal = Path(f"{path}-wal")
        self._writers = writers
        self._passive_above = passive_above
        self._truncate_above = truncate_above
        self._interval = interval
        self._lock_path = Path(f"{path}-checkpoint.lock")
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
                    with self._alone() as alone:
                        if alone:
                            self._round(conn)
                except (OSError, sqlite3.Error):
                    continue  # a full disk, say: the next round tries again
        finally:
            conn.close()

    @contextlib.contextmanager
    def _alone(self) -> Iterator[bool]:
        """Whether no other process's checkpointer is at work (then keep it so)."""
        if self._wal_size() <= self._passive_above:
            yield False  # nothing to do: no need for the lock
            return
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # releases the lock

    def _round(self, conn: sqlite3.Connection) -> None:
        # Past the truncate size a passive round first only lets the WAL grow further
        # (it fills at 100+ MB/s under heavy load): truncate at once.
        if self._wal_size() > self._truncate_above:
            self._truncate(conn)
        elif self._wal_size() > self._passive_above:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _wal_size(self) -> int:
        try:
            return self._wal.stat().st_size
        except FileNotFoundError:
            return 0

    def _truncate(self, conn: sqlite3.Connection) -> None:
        may_start = threading.Event()
        if not self._writers.pause_for_checkpoint(may_start):
            return
        try:
            deadline = time.monotonic() + PAUSE_WAIT
            while not may_start.wait(0.02):
                if self._stopping.is_set() or time.monotonic() > deadline:
                    return
            if not self._stopping.is_set():
                conn.execute(f"PRAGMA busy_timeout={TRUNCATE_BUSY_MS}")
                try:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("PRAGMA busy_timeout=5000")
        finally:
            self._writers.resume_after_checkpoint()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
