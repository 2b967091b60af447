"""PostgreSQL broadcast: NOTIFY on the schema's channel, and a background task per process
that LISTENs on a connection of its own and hands every message (ours included) to the
receiver.

A NOTIFY payload is text of at most 8000 bytes. A message that is not short UTF-8 text
goes by reference: it is stored in `broadcast_payloads` and the notification carries its
row id; listeners read the row. Stored payloads are deleted after `KEEP_PAYLOADS` seconds.

Like Redis pub/sub, notifications are not kept for a listener that is disconnected; the
listener (`listener.py`) connects again by itself.
"""

from __future__ import annotations

import contextlib

from motia.adapters.broadcast.base import Broadcast, Receiver
from motia.adapters.postgres.database import PostgresDatabase
from motia.adapters.postgres.listener import Listener

INLINE_LIMIT = 7900  # bytes of a payload sent in the notification itself
KEEP_PAYLOADS = 300.0
INLINE, BY_REFERENCE = "=", "@"


class PostgresBroadcast(Broadcast):
    def __init__(self, database: PostgresDatabase, channel: str) -> None:
        self._db = database
        self.channel = channel
        self._listener = Listener(database, channel)

    @property
    def listening(self) -> bool:
        """Whether the listener is listening right now."""
        return self._listener.listening

    async def start(self, receive: Receiver) -> None:
        async def handle(notification: str) -> None:
            payload = await self._read(notification)
            if payload is not None:
                with contextlib.suppress(Exception):  # a receiver bug must not stop us
                    receive(payload)

        # Messages published after `start` returns reach us: it waits for the LISTEN.
        await self._listener.start(handle)

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

    async def close(self) -> None:
        await self._listener.close()


def _inline(payload: bytes) -> str | None:
    """The payload as notification text, when it fits and is text NOTIFY can carry."""
    if len(payload) > INLINE_LIMIT or b"\x00" in payload:
        return None
    try:
        return payload.decode()
    except UnicodeDecodeError:
        return None
