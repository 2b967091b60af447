"""SQLite broadcast: stream changes reach the WebSocket clients of every process that
shares the database file, through the file's peer sockets (`fanout.py`)."""

from __future__ import annotations

from motia.adapters.broadcast.base import Broadcast, Receiver
from motia.adapters.sqlite.fanout import Fanout

CHANNEL = b"b"


class SqliteBroadcast(Broadcast):
    def __init__(self, fanout: Fanout) -> None:
        self._fanout = fanout
        self._receive: Receiver | None = None

    async def start(self, receive: Receiver) -> None:
        self._receive = receive
        self._fanout.on(CHANNEL, receive)
        await self._fanout.start()

    async def publish(self, payload: bytes) -> None:
        # Ours first, at once (as `LocalBroadcast` does); then the other processes.
        if self._receive is not None:
            self._receive(payload)
        await self._fanout.send(CHANNEL, payload)
