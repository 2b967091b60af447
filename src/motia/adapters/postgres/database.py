"""One PostgreSQL database shared by every adapter of the backend: a connection pool whose
connections work in the configured schema, migrated once before the first statement.

A failure to reach the server becomes `StoreUnavailable` naming host, port and database
(never the password), so startup reports it and readiness answers 503 while it lasts.
The pool replaces broken connections by itself, retrying with backoff, so the process
keeps running through a database restart and carries on when the server is back.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from motia.adapters.postgres.migrations import migrate
from motia.errors import StoreUnavailable
from motia.settings import database_location

T = TypeVar("T")
# The pool reports each failed reconnection as a warning of its own; Motia reports the
# outage itself (readiness, failed operations), so they are not printed as plain text.
logging.getLogger("psycopg.pool").addHandler(logging.NullHandler())
Connection = psycopg.AsyncConnection[Any]
Statement = str | bytes | sql.SQL | sql.Composed

POOL_MAX = 10
CONNECT_TIMEOUT = 5  # seconds to open one connection
CHECKOUT_TIMEOUT = 10.0  # seconds to wait for a pooled connection before giving up
RECONNECT_TIMEOUT = 24 * 3600.0  # keep trying to reconnect while the process runs


def channel_name(schema: str, purpose: str) -> str:
    """A LISTEN/NOTIFY channel of one schema (an identifier: 63 bytes at most)."""
    name = f"motia:{schema}:{purpose}"
    if len(name.encode()) > 63:
        name = f"motia:{hashlib.sha256(name.encode()).hexdigest()[:40]}:{purpose}"[:63]
    return name


class PostgresDatabase:
    def __init__(self, url: str, schema: str) -> None:
        self.url = url
        self.schema = schema
        self.location = database_location(url)
        # How the deployment's connections show in pg_stat_activity.
        self.application_name = f"motia:{schema}"[:63]
        self._pool: AsyncConnectionPool[Connection] | None = None
        self._closed = False
        self._migrated = False
        self._migrating: asyncio.Lock | None = None

    def unavailable(self, exc: BaseException) -> StoreUnavailable:
        reason = "no answer" if isinstance(exc, TimeoutError | PoolTimeout) else _first_line(exc)
        return StoreUnavailable(f"cannot reach PostgreSQL at {self.location} ({reason})")

    async def why_unreachable(self, timed_out: BaseException) -> StoreUnavailable:
        """StoreUnavailable with the reason a direct connection fails, if it does quickly."""
        try:
            async with asyncio.timeout(2):
                connection = await self.connect()
            await connection.close()
        except StoreUnavailable as exc:
            return exc
        except (TimeoutError, psycopg.Error, OSError):
            pass
        return self.unavailable(timed_out)

    async def connect(self) -> Connection:
        """A connection outside the pool (a listener's), in autocommit mode."""
        try:
            return await psycopg.AsyncConnection.connect(
                self.url,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT,
                application_name=self.application_name,
            )
        except psycopg.OperationalError as exc:
            raise self.unavailable(exc) from exc

    async def _configure(self, connection: Connection) -> None:
        # Unqualified table names resolve in the deployment's schema. No bitmap scans: the
        # queue table fills and drains faster than autovacuum refreshes its statistics, and
        # with stale statistics the planner reads and sorts a subscriber's whole backlog
        # for every lease (milliseconds) instead of walking its index (microseconds).
        # Motia's other statements find their rows by index too, so none loses by it.
        await connection.execute(
            sql.SQL("SET search_path TO {}; SET enable_bitmapscan TO off").format(
                sql.Identifier(self.schema)
            )
        )

    async def _opened_pool(self) -> AsyncConnectionPool[Connection]:
        if self._closed:
            # A statement that outlived its caller must not open a pool nobody closes.
            raise StoreUnavailable(f"the PostgreSQL store at {self.location} is closed")
        if self._pool is None:
            pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
                self.url,
                kwargs={
                    "autocommit": True,
                    "connect_timeout": CONNECT_TIMEOUT,
                    "application_name": self.application_name,
                },
                min_size=1,
                max_size=POOL_MAX,
                open=False,
                configure=self._configure,
                timeout=CHECKOUT_TIMEOUT,
                reconnect_timeout=RECONNECT_TIMEOUT,
                name=f"motia:{self.schema}",
            )
            await pool.open(wait=False)
            self._pool = pool
        return self._pool

    async def _migrate_once(self, pool: AsyncConnectionPool[Connection]) -> None:
        if self._migrating is None:
            self._migrating = asyncio.Lock()
        async with self._migrating:
            if self._migrated:
                return
            async with pool.connection() as connection:
                await migrate(connection, self.schema)
            self._migrated = True

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection in the schema, migrated; unreachable → StoreUnavailable."""
        try:
            pool = await self._opened_pool()
            if not self._migrated:
                await self._migrate_once(pool)
            async with pool.connection() as connection:
                yield connection
        except (psycopg.OperationalError, PoolTimeout) as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # psycopg cancels the query of a cancelled caller on the server, which
                # answers QueryCanceled: the caller's cancellation goes on, not an error.
                raise asyncio.CancelledError from exc
            raise self.unavailable(exc) from exc

    async def execute(self, query: Statement, params: Any = None) -> int:
        """Run one statement (atomic on its own); the number of rows it changed."""
        return await _shielded(self._execute(query, params))

    async def fetch(self, query: Statement, params: Any = None) -> list[tuple[Any, ...]]:
        return await _shielded(self._fetch(query, params))

    async def fetch_one(self, query: Statement, params: Any = None) -> tuple[Any, ...] | None:
        rows = await self.fetch(query, params)
        return rows[0] if rows else None

    async def transaction(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `work` in one transaction on one pooled connection: all of it commits, or
        none (an exception rolls it back). Like a statement, it runs to its end when the
        caller is cancelled meanwhile."""
        return await _shielded(self._transaction(work))

    async def _transaction(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        async with self.connection() as connection, connection.transaction():
            return await work(connection)

    async def _execute(self, query: Statement, params: Any) -> int:
        async with self.connection() as connection:
            cursor = await connection.execute(query, params)
            return cursor.rowcount

    async def _fetch(self, query: Statement, params: Any) -> list[tuple[Any, ...]]:
        async with self.connection() as connection:
            cursor = await connection.execute(query, params)
            return await cursor.fetchall()

    async def probe(self) -> None:
        """A primary that answers: a standby left after a failover cannot take writes."""
        row = await self.fetch_one("SELECT pg_is_in_recovery()")
        if row is not None and row[0]:
            raise StoreUnavailable(
                f"PostgreSQL at {self.location} is a read-only standby (in recovery)"
            )

    async def close(self) -> None:
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


async def _shielded(work: Coroutine[Any, Any, T]) -> T:
    """Run a statement to its end even when the caller is cancelled meanwhile: the caller
    goes at once, and the statement neither stops half-way nor leaves its connection
    cancelled in the server (its outcome is as if the caller had not been cancelled)."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(_ignore_outcome)
        raise


def _ignore_outcome(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # nobody waits for it: a failure is nobody's to report


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
