"""The SQLite queue shared by several processes: every write that makes messages visible
tells the other processes of the database file which subscribers have work, so their idle
workers look at once instead of at their next poll (which stays as the fallback)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterable, Sequence

from motia.adapters.queue.base import (
    ALL_DEAD_LETTERS,
    DeadLetterFilter,
    Delivery,
    Failure,
    OutgoingMessage,
)
from motia.adapters.sqlite.database import SqliteDatabase
from motia.adapters.sqlite.fanout import Fanout
from motia.adapters.sqlite.queue import SqliteQueueAdapter
from motia.clock import Clock

CHANNEL = b"q"
SEPARATOR = b"\x00"


class PeerSqliteQueueAdapter(SqliteQueueAdapter):
    def __init__(self, database: SqliteDatabase, clock: Clock | None, fanout: Fanout) -> None:
        super().__init__(database, clock)
        self._fanout = fanout

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        await super().publish(messages)
        if self._fanout.has_peers():
            await self._announce(m.subscriber for m in messages)

    async def publish_taking(
        self,
        messages: Sequence[OutgoingMessage],
        taken: Collection[str],
        token: str,
        lease_until: float,
    ) -> list[Delivery]:
        deliveries = await super().publish_taking(messages, taken, token, lease_until)
        if len(taken) < len(messages) and self._fanout.has_peers():
            await self._announce(m.subscriber for m in messages if m.id not in taken)
        return deliveries

    async def complete(self, delivery: Delivery, emits: Sequence[OutgoingMessage]) -> bool:
        completed = await super().complete(delivery, emits)
        if completed and (emits or delivery.group_id is not None) and self._fanout.has_peers():
            # In a FIFO group the next message can be leased now.
            head = [delivery.subscriber] if delivery.group_id is not None else []
            await self._announce([*head, *(m.subscriber for m in emits)])
        return completed

    async def retry(self, delivery: Delivery, delay: float, failure: Failure) -> None:
        await super().retry(delivery, delay, failure)
        await self._announce([delivery.subscriber])

    async def release(self, delivery: Delivery, delay: float = 0.0) -> None:
        await super().release(delivery, delay)
        await self._announce([delivery.subscriber])

    async def redrive(self, where: DeadLetterFilter = ALL_DEAD_LETTERS) -> int:
        moved = await super().redrive(where)
        if moved and where.subscriber is not None:
            await self._announce([where.subscriber])
        return moved

    async def watch(self, wake: Callable[[str], None]) -> None:
        def woken(payload: bytes) -> None:
            for name in payload.split(SEPARATOR):
                if name:
                    wake(name.decode(errors="replace"))

        self._fanout.on(CHANNEL, woken)
        await self._fanout.start()

    async def _announce(self, subscribers: Iterable[str]) -> None:
        names = sorted(set(subscribers))
        if not names or not self._fanout.has_peers():
            return
        # The messages are committed: a peer that misses this finds them at its next poll.
        with contextlib.suppress(Exception):
            await self._fanout.send(CHANNEL, SEPARATOR.join(n.encode() for n in names))
