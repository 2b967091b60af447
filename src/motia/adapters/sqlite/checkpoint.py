"""Keeps the write-ahead log small under sustained load, and its file written in place.

Commits append frames to the WAL; a checkpoint copies them back into the database file.
Once every frame is copied, the next commit starts the log over at the beginning of the
same file: writing over blocks the file already has is cheaper than growing a file (the
file system allocates nothing and journals no new extents), and the file stays the size
of one log. Under sustained writes, though, a checkpoint beside the writers never copies
everything (they commit while it copies), so the log would only grow.

So each round this thread reads how many frames the log holds and how many are copied,
from the wal-index header in `<file>-shm` (a format SQLite documents and keeps). Past
PASSIVE_ABOVE not yet copied it copies them beside the writers (PASSIVE). Once the log
holds RESTART_ABOVE, the event loop is asked to hold new transactions for a moment and a
RESTART checkpoint (which then has little left to copy) lets the next commit start the
log over.

Processes that share the file each run a checkpointer; a lock on `<file>-checkpoint.lock`
lets one of them work at a time (the others skip the round). A RESTART checkpoint holds
back the writers of the other processes too: they wait on SQLite's busy timeout.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# Bytes of log (frames with their headers) not yet copied that start a copy beside the
# writers, and bytes in the log that start it over. Under sustained load the log peaks at
# RESTART_ABOVE plus what arrives in one round and pause: well under the 16 MiB the
# database cuts the file back to (`journal_size_limit`), so the file is never cut.
PASSIVE_ABOVE = 1024 * 1024
RESTART_ABOVE = 4 * 1024 * 1024
# Reading the log's header is one small read: checking often keeps the overshoot small.
INTERVAL = 0.05
# How long writers may be held: waiting for the open transaction, then the checkpoint.
PAUSE_WAIT = 2.0
RESTART_BUSY_MS = 1000
# Reads of a header that a commit is rewriting, before the log's size stands in for it.
HEADER_TRIES = 3

# The wal-index header (https://www.sqlite.org/walformat.html): two copies of 48 bytes,
# then the checkpoint info. Native byte order.
_HEADER = struct.Struct("=IIIBBHI")  # version, unused, change, is-init, big-endian, page, frames
_HEADER_BYTES = 48
_BACKFILL = struct.Struct("=I")  # frames already copied into the database file
_BACKFILL_OFFSET = 96
_WAL_INDEX_VERSION = 3007000
_FRAME_HEADER_BYTES = 24


class Pausable(Protocol):
    def pause_for_checkpoint(self, may_start: threading.Event) -> bool: ...

    def resume_after_checkpoint(self) -> None: ...


@dataclass(frozen=True)
class LogFill:
    """How full the write-ahead log is, in bytes of frames."""

    held: int  # every frame of the current log
    uncopied: int  # not yet copied into the database file
    # False when read off the file's size (no header to read): a restarted log would not
    # show in it, so the log is then cut to zero instead.
    exact: bool = True


class Checkpointer:
    """Copies the WAL back into the database file from its own thread and connection."""

    def __init__(
        self,
        path: Path,
        writers: Pausable,
        *,
        passive_above: int = PASSIVE_ABOVE,
        restart_above: int = RESTART_ABOVE,
        interval: float = INTERVAL,
    ) -> None:
        self._path = path
        self._wal = Path(f"{path}-wal")
        self._shm = Path(f"{path}-shm")
        self._writers = writers
        self._passive_above = passive_above
        self._restart_above = restart_above
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
        if not self._has_work(self.fill()):
            yield False  # no need for the lock
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

    def _has_work(self, fill: LogFill) -> bool:
        # A log that is copied to the end is started over by the next commit by itself.
        return fill.uncopied > self._passive_above or (
            fill.held > self._restart_above and fill.uncopied > 0
        )

    def _round(self, conn: sqlite3.Connection) -> None:
        if not self._has_work(self.fill()):
            return
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        # Writers that committed meanwhile left frames behind: past the restart size, hold
        # them back for the few frames that are left.
        fill = self.fill()
        if fill.held > self._restart_above and fill.uncopied > 0:
            self._restart(conn, "RESTART" if fill.exact else "TRUNCATE")

    def fill(self) -> LogFill:
        """Read from the wal-index header; where that cannot be read (no `-shm` file yet,
        an unknown version, a header rewritten at every try), the log file's size stands
        for both, as if nothing were copied."""
        for _ in range(HEADER_TRIES):
            try:
                with open(self._shm, "rb") as shm:
                    header = shm.read(_BACKFILL_OFFSET + 4)
            except OSError:
                break
            if len(header) < _BACKFILL_OFFSET + 4:
                break
            if header[:_HEADER_BYTES] != header[_HEADER_BYTES : 2 * _HEADER_BYTES]:
                continue  # a commit was writing it (it writes one copy, then the other)
            version, _, _, _, _, page, frames = _HEADER.unpack_from(header)
            if version != _WAL_INDEX_VERSION:
                break
            (copied,) = _BACKFILL.unpack_from(header, _BACKFILL_OFFSET)
            frame = (65536 if page == 1 else page) + _FRAME_HEADER_BYTES
            return LogFill(frames * frame, max(frames - copied, 0) * frame)
        size = self._wal_size()
        return LogFill(size, size, exact=False)

    def _wal_size(self) -> int:
        try:
            return self._wal.stat().st_size
        except FileNotFoundError:
            return 0

    def _restart(self, conn: sqlite3.Connection, mode: str) -> None:
        may_start = threading.Event()
        if not self._writers.pause_for_checkpoint(may_start):
            return
        try:
            deadline = time.monotonic() + PAUSE_WAIT
            while not may_start.wait(0.02):
                if self._stopping.is_set() or time.monotonic() > deadline:
                    return
            if not self._stopping.is_set():
                conn.execute(f"PRAGMA busy_timeout={RESTART_BUSY_MS}")
                try:
                    conn.execute(f"PRAGMA wal_checkpoint({mode})")
                finally:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("PRAGMA busy_timeout=5000")
        finally:
            self._writers.resume_after_checkpoint()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
