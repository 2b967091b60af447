"""One SQLite file shared by the embedded adapters, with group commit.

All statements run on the event loop's thread: in WAL mode a write is a few microseconds,
cheaper than a hop to a worker thread. Writes open a transaction that is committed once
per loop iteration, so every writer that ran in that iteration shares one commit, and each
writer's `await` returns only after its data is committed. Reads on the same connection see
writes that are still waiting for the commit.

When the store fails (a full disk, an I/O error, a corrupted file) every writer of the
failed transaction gets `StoreUnavailable` at once: a failure never leaves a writer waiting.
A corrupted file stays failed until the process restarts; other failures are retried by
the next write, and `probe()` tells readiness checks whether writes work again.

Processes that share the file take turns for the write lock. A process that finds it
taken tries again after a short sleep, its event loop running meanwhile, for up to
`busy_wait` seconds; then the write fails with `StoreUnavailable` naming the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from motia.adapters.sqlite.checkpoint import Checkpointer
from motia.adapters.sqlite.errors import describe, is_busy, is_corruption, is_store_failure
from motia.errors import StoreUnavailable

SYNCHRONOUS_MODES = ("off", "normal", "full", "extra")
# The start-up integrity check stops after this long on a very large file (it then has
# checked the pages it reached): starting must stay quick.
INTEGRITY_CHECK_SECONDS = 2.0
# Readiness stays "unavailable" this long after a failed write, even when a small probe
# write succeeds: a nearly full disk takes small writes and refuses real ones.
FAILURE_HOLD_SECONDS = 5.0
# After the WAL is reset, its file is cut back to this size.
WAL_SIZE_LIMIT = 16 * 1024 * 1024
# Statements wait this long for a lock another process holds (SQLite's busy handler).
BUSY_TIMEOUT_MS = 5000
# Starting a write transaction is tried again, sleeping from the first to the cap (each
# time twice as long), for up to `SqliteDatabase.busy_wait` seconds.
BUSY_RETRY_FIRST = 0.0002
BUSY_RETRY_CAP = 0.005
BUSY_WAIT = BUSY_TIMEOUT_MS / 1000

T = TypeVar("T")
Execute = Callable[[str, Sequence[Any]], int]

HEALTH_SCHEMA = """
CREATE TABLE IF NOT EXISTS motia_health (
    id         INTEGER PRIMARY KEY,
    checked_at REAL NOT NULL
);
"""


class _Commit(asyncio.Future[None]):
    """The outcome of a transaction's commit, shared by all its writers. A writer that is
    cancelled while it waits must not cancel the commit under the others: cancelling this
    future does nothing, so the writer's task sees its cancellation once the commit has
    run (a loop turn later at most), without the cost of `asyncio.shield` per writer."""

    def cancel(self, msg: Any | None = None) -> bool:
        return False


class _Transaction:
    """The open write transaction: its writers wait on `committed`."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.committed: asyncio.Future[None] = _Commit(loop=loop)
        # A failure nobody awaits (every writer was cancelled) is not an unhandled error.
        self.committed.add_done_callback(_retrieve)
        self.commit_handle: asyncio.Handle | None = None


def _retrieve(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


class SqliteDatabase:
    def __init__(self, path: Path, synchronous: str = "normal") -> None:
        if synchronous not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}")
        self.path = path
        self._conn = _open(path, synchronous)
        self._tx: _Transaction | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._corrupted: str | None = None
        self._last_failure: tuple[float, str] | None = None
        # While the checkpointer truncates the WAL, new transactions wait on this.
        self._paused: asyncio.Future[None] | None = None
        self._checkpoint_may_start: threading.Event | None = None
        self._checkpointer = Checkpointer(path, self)
        self.busy_wait = BUSY_WAIT

    # --- reads ------------------------------------------------------------------------

    def execute_script(self, script: str) -> None:
        try:
            self._conn.executescript(script)
        except sqlite3.Error as exc:
            raise self._failure(exc) from None

    def upgrade(self, needed: Callable[[], bool], statements: Sequence[str]) -> bool:
        """Run `statements` in one write transaction if `needed()` still says so once the
        write lock is held: of processes opening the file at once, one upgrades it and the
        others find it done. For start-up only, before any write of the event loop.
        Returns whether this call upgraded the file."""
        if self._tx is not None:
            raise RuntimeError("upgrade() runs before the first write transaction")
        try:
            self._conn.execute("BEGIN IMMEDIATE")  # waits out another process's upgrade
            try:
                if not needed():
                    self._conn.execute("ROLLBACK")
                    return False
                for sql in statements:
                    self._conn.execute(sql)
                self._conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        except sqlite3.Error as exc:
            raise self._failure(exc) from None
        return True

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self._failure(exc) from exc

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        try:
            row: tuple[Any, ...] | None = self._conn.execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise self._failure(exc) from exc
        return row

    # --- writes -----------------------------------------------------------------------

    async def write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write; returns the affected row count once it is committed."""
        tx = self._tx
        if tx is None or self._paused is not None or self._corrupted is not None:
            return await self.transact(lambda execute: execute(sql, params))
        # The open transaction takes the statement directly: the common case (state
        # writes) without `transact`'s closures.
        try:
            count = int(self._conn.execute(sql, params).rowcount)
        except Exception as exc:
            failure = self._failed_write(tx, exc, ran=0)
            if failure is exc:
                raise
            raise failure from exc
        await tx.committed
        return count

    async def write_many(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Several writes committed together: all of them or none."""

        def work(execute: Execute) -> None:
            for sql, params in statements:
                execute(sql, params)

        await self.transact(work)

    async def transact(self, work: Callable[[Execute], T]) -> T:
        """Run `work` (which calls `execute(sql, params)`, returning row counts) in the
        open transaction and return its result once committed: all of its writes or none.
        A failure fails every writer of the transaction with `StoreUnavailable`."""
        if self._corrupted is not None:
            raise StoreUnavailable(self._corrupted)
        tx = self._tx
        if tx is None or self._paused is not None:
            tx = await self._open_transaction()
        ran = 0

        def execute(sql: str, params: Sequence[Any]) -> int:
            nonlocal ran
            count = int(self._conn.execute(sql, params).rowcount)
            ran += 1
            return count

        try:
            result = work(execute)
        except Exception as exc:
            failure = self._failed_write(tx, exc, ran)
            if failure is exc:
                raise
            raise failure from exc
        await tx.committed
        return result

    def _failed_write(self, tx: _Transaction, exc: Exception, ran: int) -> Exception:
        """What a writer whose statements raised `exc` (after `ran` of them succeeded)
        raises. A statement refused before it changed anything (a bad parameter, say)
        leaves the other writers' statements intact; anything else undoes the
        transaction, failing every writer of it."""
        failure = self._failure(exc) if isinstance(exc, sqlite3.Error) else exc
        if ran or is_store_failure(exc) or not self._conn.in_transaction:
            self._abort(tx, failure)
        return failure

    async def _open_transaction(self) -> _Transaction:
        """The open transaction, or a new one. While another process holds the write lock
        the loop keeps running: the attempt is made again after a short sleep, for up to
        `busy_wait` seconds, rather than blocked in SQLite's busy handler."""
        delay = BUSY_RETRY_FIRST
        deadline: float | None = None
        while True:
            while self._paused is not None:
                await asyncio.shield(self._paused)
            try:
                return self._begin()
            except _Busy as busy:
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self.busy_wait
                elif now >= deadline:
                    raise self._failure(busy.error) from busy.error
            await asyncio.sleep(delay)
            delay = min(delay * 2, BUSY_RETRY_CAP)

    def _begin(self) -> _Transaction:
        if self._tx is not None:
            return self._tx
        loop = asyncio.get_running_loop()
        self._loop = loop
        if self._conn.in_transaction:  # a rollback that failed earlier left one open
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
        try:
            # Without waiting: another process's write lock is waited for by the caller,
            # off SQLite's busy handler, which would hold the whole event loop.
            self._conn.execute("PRAGMA busy_timeout=0")
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            finally:
                self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except sqlite3.Error as exc:
            if is_busy(exc):
                raise _Busy(exc) from exc
            raise self._failure(exc) from exc
        tx = _Transaction(loop)
        tx.commit_handle = loop.call_soon(self._commit, tx)
        self._tx = tx
        return tx

    def open_transaction(self) -> asyncio.Future[None] | None:
        """The write transaction this process holds until its commit runs, if any."""
        tx = self._tx
        return None if tx is None else tx.committed

    def _commit(self, tx: _Transaction) -> None:
        if self._tx is not tx:
            return  # aborted meanwhile: its writers have their error already
        self._tx = None
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            # SQLite may have rolled the transaction back by itself (a full disk does):
            # roll back only what is still open, then fail every writer.
            self._rollback()
            _settle(tx, self._failure(exc))
        else:
            _settle(tx, None)
        self._let_checkpoint_start()

    def _abort(self, tx: _Transaction, error: BaseException) -> None:
        if self._tx is tx:
            self._tx = None
            if tx.commit_handle is not None:
                tx.commit_handle.cancel()
            self._rollback()
            self._let_checkpoint_start()
        if isinstance(error, StoreUnavailable):
            _settle(tx, error)
        else:
            _settle(tx, StoreUnavailable(f"a write to {self.path} failed and was undone: {error}"))

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")

    # --- failures and readiness -------------------------------------------------------

    def _failure(self, exc: BaseException) -> Exception:
        """The error to raise for `exc`; store failures are remembered for readiness."""
        if not isinstance(exc, sqlite3.Error) or not is_store_failure(exc):
            return exc if isinstance(exc, Exception) else RuntimeError(str(exc))
        message = describe(exc, self.path)
        if is_corruption(exc):
            self._corrupted = message
        self._last_failure = (time.monotonic(), message)
        return StoreUnavailable(message)

    @property
    def problem(self) -> str | None:
        """Why the store cannot be used now, or None (without writing anything)."""
        if self._corrupted is not None:
            return self._corrupted
        if self._last_failure is not None:
            at, message = self._last_failure
            age = time.monotonic() - at
            if age < FAILURE_HOLD_SECONDS:
                return f"{message} ({age:.1f} s ago)"
        return None

    async def probe(self) -> None:
        """Raise `StoreUnavailable` unless a write commits now and none failed lately."""
        if self._corrupted is not None:
            raise StoreUnavailable(self._corrupted)
        await self.write(
            "INSERT INTO motia_health (id, checked_at) VALUES (1, ?) "
            "ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
            (time.time(),),
        )
        problem = self.problem
        if problem is not None:
            raise StoreUnavailable(problem)

    # --- checkpoints (called from the checkpointer's thread) --------------------------

    def pause_for_checkpoint(self, may_start: threading.Event) -> bool:
        """Ask the loop to hold new transactions until `resume_after_checkpoint`;
        `may_start` is set once no transaction is open. False when there is no loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return False
        try:
            loop.call_soon_threadsafe(self._pause, may_start)
        except RuntimeError:  # the loop closed meanwhile
            return False
        return True

    def resume_after_checkpoint(self) -> None:
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._resume)

    def _pause(self, may_start: threading.Event) -> None:
        if self._paused is None:
            self._paused = asyncio.get_running_loop().create_future()
        self._checkpoint_may_start = may_start
        self._let_checkpoint_start()

    def _let_checkpoint_start(self) -> None:
        if self._checkpoint_may_start is not None and self._tx is None:
            self._checkpoint_may_start.set()
            self._checkpoint_may_start = None

    def _resume(self) -> None:
        self._checkpoint_may_start = None
        paused, self._paused = self._paused, None
        if paused is not None and not paused.done():
            paused.set_result(None)

    def close(self) -> None:
        self._checkpointer.stop()
        tx = self._tx
        if tx is not None:
            if tx.commit_handle is not None:
                tx.commit_handle.cancel()
            self._commit(tx)
        with contextlib.suppress(sqlite3.Error):
            # Without waiting: other processes sharing the file may be writing, and a
            # TRUNCATE that waits holds their writers back.
            self._conn.execute("PRAGMA busy_timeout=0")
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._conn.close()


class _Busy(Exception):
    """Another process holds the write lock right now."""

    def __init__(self, error: sqlite3.Error) -> None:
        super().__init__(str(error))
        self.error = error


def _settle(tx: _Transaction, error: BaseException | None) -> None:
    if tx.committed.done():
        return
    if error is None:
        tx.committed.set_result(None)
    else:
        tx.committed.set_exception(error)


def _open(path: Path, synchronous: str) -> sqlite3.Connection:
    """Connect and check that the file is a healthy, writable SQLite database; every
    problem is one `StoreUnavailable` naming the path."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot create the data folder {folder}: {exc.strerror or exc}"
        ) from None
    if path.is_dir():
        raise StoreUnavailable(f"{path} is a folder; the database must be a file")
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreUnavailable(describe(exc, path)) from None
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        # normal: a commit survives the process being killed; only a power loss can undo
        # the last commits before a checkpoint. "full" trades throughput for that too.
        conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # Reads through a memory map: no read() syscall per page. The page cache then holds
        # mostly written pages, and a small one keeps the process's own memory flat.
        conn.execute("PRAGMA mmap_size=268435456")
        conn.execute("PRAGMA cache_size=-8192")
        # SQLite's automatic checkpoint runs inside COMMIT, on the event loop, and fsyncs;
        # a background thread checkpoints instead, so commits stay cheap and steady.
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        _check_integrity(conn, path)
        conn.executescript(HEALTH_SCHEMA)  # also proves the file and its folder writable
    except sqlite3.Error as exc:
        conn.close()
        raise StoreUnavailable(describe(exc, path)) from None
    except StoreUnavailable:
        conn.close()
        raise
    return conn


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    """`PRAGMA quick_check` (every page and b-tree, not index contents), stopped after
    INTEGRITY_CHECK_SECONDS on a very large file."""
    deadline = time.monotonic() + INTEGRITY_CHECK_SECONDS
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        rows = conn.execute("PRAGMA quick_check(3)").fetchall()
    except sqlite3.OperationalError as exc:
        if time.monotonic() > deadline and "interrupt" in str(exc):
            return  # the time budget is spent: what was read so far is sound
        raise
    finally:
        conn.set_progress_handler(None, 0)
    lines = [line.strip() for row in rows for line in str(row[0]).splitlines()]
    problems = [line for line in lines if line and line != "ok" and not line.startswith("***")]
    if problems:
        more = f" and {len(problems) - 1} more problem(s)" if len(problems) > 1 else ""
        raise StoreUnavailable(
            f"the database {path} is corrupted ({problems[0]}{more}): restore a backup "
            "or move the file away to start with an empty store"
        )
