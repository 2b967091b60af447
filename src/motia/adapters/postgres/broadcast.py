"""PostgreSQL broadcast: NOTIFY on the schema's channel, and a background task per process
that LISTENs on a connection of its own and hands every message (ours included) to the
receiver.

A NOTIFY payload is text of at most 8000 bytes. A message that is not short UTF-8 text
goes by reference: it is stored in `broadcast_payloads` and the notification carries its
row id; listeners read the row. Stored payloads are deleted after `KEEP_PAYLOADS` seconds.

Like Redis pub/sub, notifications are not kept for a listener that is disconnected. When
the connection drops (the server restarted), the listener connects again with
exponential backoff until it succeeds, and `close()` stops it.
"""

from __future__ import annotations

import asyncio
import contextlib

import psycopg
from psycopg import sql

from motia.adapters.broadcast.base import Broadcast, Receiver
from motia.adapters.postgres.database import Connection, PostgresDatabase
from motia.errors import StoreUnavailable

FIRST_LISTEN_WAIT = 5.0  # how long `start` waits for the first LISTEN
BACKOFF_START = 0.1
BACKOFF_CAP = 5.0
POLL = 1.0  # how often the listener checks its connection when nothing arrives
INLINE_LIMIT = 7900  # bytes of a payload sent in the notification itself
KEEP_PAYLOADS = 300.0
INLINE, BY_REFERENCE = "=", "@"


class PostgresBroadcast(Broadcast):
    def __init__(self, database: PostgresDatabase, channel: str) -> None:
        self._db = database
        self.channel = channel
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    @property
    def listening(self) -> bool:
        """Whether the listener is listening right now."""
        return self._listening.is_set()

    async def start(self, receive: Receiver) -> None:
        if self._task is not None:
            raise RuntimeError("the broadcast is already started")
        self._task = asyncio.get_running_loop().create_task(self._listen(receive))
        # Messages published after `start` returns must reach us: wait until the LISTEN
        # is in place (bounded; if the database is down the task keeps trying).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FIRST_LISTEN_WAIT):
                await self._listening.wait()

    async def publish(self, payload: bytes) -> None:
        text = _inline(payload)
        if text is not None:
            await self._db.execute("SELECT pg_notify(%s, %s)", (self.channel, INLINE + text))
            return
        await self._db.execute(
            "WITH stored AS (INSERT INTO broadcast_payloads (payload) VALUES (%s) RETURNING id), "
            "swept AS (DELETE FROM broadcast_payloads "
            "WHERE created_at < now() - make_interval(secs => %s)) "
            "SELECT pg_notify(%s, %s || id::text) FROM stored",
            (payload, KEEP_PAYLOADS, self.channel, BY_REFERENCE),
        )

    async def _read(self, notification: str) -> bytes | None:
        if notification.startswith(INLINE):
            return notification[1:].encode()
        row = await self._db.fetch_one(
            "SELECT payload FROM broadcast_payloads WHERE id = %s", (int(notification[1:]),)
        )
        return None if row is None else bytes(row[0])

    async def _listen(self, receive: Receiver) -> None:
        delay = BACKOFF_START
        while True:
            connection: Connection | None = None
            try:
                connection = await self._db.connect()
                await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                self._listening.set()
                delay = BACKOFF_START
                while True:
                    async for notification in connection.notifies(timeout=POLL):
                        payload = await self._read(notification.payload)
                        if payload is not None:
                            with contextlib.suppress(Exception):  # a receiver bug must not stop us
                                receive(payload)
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


def _inline(payload: bytes) -> str | None:
    """The payload as notification text, when it fits and is text NOTIFY can carry."""
    if len(payload) > INLINE_LIMIT or b"\x00" in payload:
        return None
    try:
        return payload.decode()
    except UnicodeDecodeError:
        return None
