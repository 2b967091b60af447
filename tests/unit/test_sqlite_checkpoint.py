"""The SQLite checkpointer on real files: it reads how full the write-ahead log is from
SQLite's own wal-index header, copies the log back beside the writers, and under
sustained writes makes the log start over in the same file instead of growing or being
cut and grown again."""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from motia.adapters.sqlite.checkpoint import Checkpointer, LogFill
from motia.adapters.sqlite.database import SqliteDatabase

pytestmark = pytest.mark.async_timeout(60)

KIB = 1024
FRAME = 4096 + 24  # a page and its frame header


class CountedPauses:
    """Writers of a process that has none, counting how often they were held."""

    def __init__(self) -> None:
        self.pauses = 0

    def pause_for_checkpoint(self, may_start: threading.Event) -> bool:
        self.pauses += 1
        may_start.set()
        return True

    def resume_after_checkpoint(self) -> None:
        return None


def wal_file(path: Path, rows: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t (v BLOB)")
    for _ in range(rows):
        conn.execute("INSERT INTO t VALUES (?)", (os.urandom(3000),))
    return conn


def idle_checkpointer(path: Path, writers: CountedPauses | None = None) -> Checkpointer:
    """One whose rounds never come during the test: `fill()` only."""
    return Checkpointer(path, writers or CountedPauses(), interval=3600)


def test_fill_is_the_logs_frames_and_those_not_yet_copied(tmp_path: Path) -> None:
    path = tmp_path / "motia.db"
    conn = wal_file(path, 50)
    checkpointer = idle_checkpointer(path)
    try:
        before = checkpointer.fill()
        other = sqlite3.connect(path, isolation_level=None)
        _, frames, copied = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert frames > 50 and copied == frames
        assert before == LogFill(held=frames * FRAME, uncopied=frames * FRAME)
        assert checkpointer.fill() == LogFill(held=frames * FRAME, uncopied=0)
        conn.execute("INSERT INTO t VALUES (1)")  # starts the log over
        assert checkpointer.fill() == LogFill(held=FRAME, uncopied=FRAME)
        other.close()
    finally:
        checkpointer.stop()
        conn.close()


def test_fill_is_the_log_files_size_where_the_header_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "motia.db"
    checkpointer = idle_checkpointer(path)
    try:
        assert checkpointer.fill() == LogFill(0, 0, exact=False)  # no files at all
        Path(f"{path}-wal").write_bytes(b"w" * 5000)
        Path(f"{path}-shm").write_bytes(b"\x00" * 32)  # too short
        assert checkpointer.fill() == LogFill(5000, 5000, exact=False)
        Path(f"{path}-shm").write_bytes(b"\x07" * 200)  # an unknown version
        assert checkpointer.fill() == LogFill(5000, 5000, exact=False)
        torn = bytearray(b"\x00" * 200)
        torn[:4] = (3007000).to_bytes(4, "little")  # the first copy only: being rewritten
        Path(f"{path}-shm").write_bytes(bytes(torn))
        assert checkpointer.fill() == LogFill(5000, 5000, exact=False)
    finally:
        checkpointer.stop()


def test_a_log_copied_to_its_end_holds_no_writer_back(tmp_path: Path) -> None:
    path = tmp_path / "motia.db"
    conn = wal_file(path, 300)  # about 1.2 MiB of log, then no more writes
    writers = CountedPauses()
    checkpointer = Checkpointer(
        path, writers, passive_above=64 * KIB, restart_above=256 * KIB, interval=0.01
    )
    try:
        deadline = time.monotonic() + 5
        while checkpointer.fill().uncopied and time.monotonic() < deadline:
            time.sleep(0.01)
        assert checkpointer.fill().uncopied == 0
        time.sleep(0.2)  # twenty rounds more
        # Nobody wrote meanwhile: copying beside them was enough, and the next commit
        # starts the log over without any round holding writers back.
        assert writers.pauses == 0
    finally:
        checkpointer.stop()
    conn.execute("INSERT INTO t VALUES (1)")
    assert checkpointer.fill().held == FRAME
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 301
    conn.close()


async def test_sustained_writes_start_the_log_over_in_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "motia.db"
    database = SqliteDatabase(path)
    database._checkpointer.stop()  # the same, with thresholds a test reaches quickly
    database._checkpointer = Checkpointer(
        path, database, passive_above=64 * KIB, restart_above=256 * KIB, interval=0.01
    )
    await database.write("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
    wal = Path(f"{path}-wal")
    sizes: list[int] = []
    written = 0
    rows = 0
    try:
        started = time.monotonic()
        while time.monotonic() - started < 2.0:
            # Eight writers a loop turn, sharing each commit, as requests do.
            await asyncio.gather(
                *(
                    database.write("INSERT INTO t (v) VALUES (?)", (os.urandom(2000),))
                    for _ in range(8)
                )
            )
            rows += 8
            written += 8 * 2000
            sizes.append(os.stat(wal).st_size)  # a few microseconds: no thread needed
    finally:
        database.close()
    peak = max(sizes)
    # Bounded: the restart size plus what arrives in a round and a pause.
    assert peak < 4 * 1024 * KIB, f"the log file grew to {peak} bytes"
    # Written over in place: many logs' worth went through a file that was never cut.
    assert written > 10 * peak, f"{written} bytes written through a {peak}-byte log"
    assert all(later >= earlier for earlier, later in itertools.pairwise(sizes)), "it was cut"
    check = sqlite3.connect(path)
    assert check.execute("SELECT count(*) FROM t").fetchone()[0] == rows
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()


class SizeOnly(Checkpointer):
    """A checkpointer that cannot read the wal-index header."""

    def fill(self) -> LogFill:
        size = os.stat(f"{self._path}-wal").st_size
        return LogFill(size, size, exact=False)


def test_a_log_known_only_by_its_files_size_is_cut_to_zero(tmp_path: Path) -> None:
    path = tmp_path / "motia.db"
    conn = wal_file(path, 300)
    writers = CountedPauses()
    checkpointer = SizeOnly(
        path, writers, passive_above=64 * KIB, restart_above=256 * KIB, interval=0.01
    )
    try:
        deadline = time.monotonic() + 5
        while os.stat(f"{path}-wal").st_size and time.monotonic() < deadline:
            time.sleep(0.01)
        # Started over in place, its size would not tell that it was: cut, it does.
        assert os.stat(f"{path}-wal").st_size == 0
        assert writers.pauses >= 1
    finally:
        checkpointer.stop()
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 300
    conn.close()
