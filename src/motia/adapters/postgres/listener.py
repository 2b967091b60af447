"""LISTEN on one channel from a connection of its own, in a background task.

Notifications are not kept for a connection that is gone. When the connection drops (the
server restarted or failed over), the listener connects again with exponential backoff
until it succeeds; `close()` stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import psycopg
from psycopg import sql

from motia.adapters.postgres.database import Connection, PostgresDatabase
from motia.errors import StoreUnavailable

FIRST_LISTEN_WAIT = 5.0  # how long `start` waits for the first LISTEN
BACKOFF_START = 0.1
BACKOFF_CAP = 5.0
POLL = 1.0  # how often the listener checks its connection when nothing arrives

Handler = Callable[[str], Awaitable[None]]


class Listener:
    def __init__(self, database: PostgresDatabase, channel: str) -> None:
        self._db = database
        self.channel = channel
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    @property
    def listening(self) -> bool:
        """Whether the LISTEN is in place right now."""
        return self._listening.is_set()

    async def start(self, handle: Handler, on_listen: Callable[[], None] | None = None) -> None:
        """Hand every notification's payload to `handle`, in order; `on_listen` is called
        each time the LISTEN is (again) in place. Returns once it is, or after a bound
        while the database is down (the task keeps trying)."""
        if self._task is not None:
            raise RuntimeError(f"already listening on {self.channel}")
        self._task = asyncio.get_running_loop().create_task(self._run(handle, on_listen))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FIRST_LISTEN_WAIT):
                await self._listening.wait()

    async def _run(self, handle: Handler, on_listen: Callable[[], None] | None) -> None:
        me = asyncio.current_task()
        delay = BACKOFF_START
        while True:
            if me is not None and me.cancelling():
                # Cancelled (closed) while psycopg turned the cancellation into a failed
                # connection: stop rather than reconnect forever.
                raise asyncio.CancelledError
            connection: Connection | None = None
            try:
                connection = await self._db.connect()
                await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                self._listening.set()
                delay = BACKOFF_START
                if on_listen is not None:
                    on_listen()
                while me is None or not me.cancelling():
                    async for notification in connection.notifies(timeout=POLL):
                        with contextlib.suppress(Exception):  # a handler bug must not stop us
                            await handle(notification.payload)
                    await connection.execute("SELECT 1")  # a dead connection raises here
            except (psycopg.Error, StoreUnavailable, OSError):
                self._listening.clear()
            finally:
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_CAP)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._listening.clear()
