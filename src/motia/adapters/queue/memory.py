"""In-memory queue: fast and simple, for tests and `--memory`; nothing survives the process."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from motia.adapters.queue.base import QueueAdapter, QueueDepth, QueueMessage


class MemoryQueueAdapter(QueueAdapter):
    def __init__(self) -> None:
        self._queues: dict[str, asyncio.Queue[QueueMessage]] = {}
        self._in_flight: dict[str, int] = {}
        self._timers: dict[str, set[asyncio.TimerHandle]] = {}

    def _queue(self, subscriber: str) -> asyncio.Queue[QueueMessage]:
        queue = self._queues.get(subscriber)
        if queue is None:
            queue = self._queues[subscriber] = asyncio.Queue()
        return queue

    async def publish(self, subscriber: str, messages: Sequence[QueueMessage]) -> None:
        queue = self._queue(subscriber)
        for message in messages:
            queue.put_nowait(message)

    async def receive(self, subscriber: str) -> QueueMessage:
        message = await self._queue(subscriber).get()
        self._in_flight[subscriber] = self._in_flight.get(subscriber, 0) + 1
        return message

    async def ack(self, subscriber: str, message: QueueMessage) -> None:
        self._in_flight[subscriber] -= 1

    async def nack(self, subscriber: str, message: QueueMessage, delay: float) -> None:
        self._in_flight[subscriber] -= 1
        queue = self._queue(subscriber)
        if delay <= 0:
            queue.put_nowait(message)
            return
        loop = asyncio.get_running_loop()

        timers = self._timers.setdefault(subscriber, set())

        def redeliver() -> None:
            timers.discard(handle)
            queue.put_nowait(message)

        handle = loop.call_later(delay, redeliver)
        timers.add(handle)

    def depth(self, subscriber: str) -> QueueDepth:
        waiting = self._queue(subscriber).qsize() + len(self._timers.get(subscriber, ()))
        return QueueDepth(waiting=waiting, in_flight=self._in_flight.get(subscriber, 0))

    async def close(self) -> None:
        for timers in self._timers.values():
            for handle in timers:
                handle.cancel()
        self._timers.clear()
