"""The event bus: fans each emitted event out to one queue per subscribing step, and runs a
consumer per subscriber that hands its messages to the step executor."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

from motia.adapters.queue.base import QueueAdapter, QueueMessage
from motia.clock import new_message_id
from motia.runtime.events import Event
from motia.steps.model import Step

MessageHandler = Callable[[Step, QueueMessage], Awaitable[None]]


class _Consumer:
    """Receives one subscriber's messages and runs up to `concurrency` of them at once."""

    def __init__(self, step: Step, queue: QueueAdapter, handle: MessageHandler, concurrency: int):
        self.step = step
        self._queue = queue
        self._handle = handle
        self._slots = asyncio.Semaphore(concurrency)
        self._running: set[asyncio.Task[None]] = set()
        self._loop_task = asyncio.get_running_loop().create_task(
            self._receive_loop(), name=f"motia-consumer:{step.name}"
        )

    async def _receive_loop(self) -> None:
        while True:
            await self._slots.acquire()
            try:
                message = await self._queue.receive(self.step.name)
            except BaseException:
                self._slots.release()
                raise
            task = asyncio.get_running_loop().create_task(self._run(message))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, message: QueueMessage) -> None:
        try:
            await self._handle(self.step, message)
        finally:
            self._slots.release()

    async def stop_receiving(self) -> None:
        self._loop_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._loop_task

    async def stop(self, timeout: float) -> None:
        """Stop taking messages, then wait up to `timeout` for those being handled."""
        await self.stop_receiving()
        if self._running:
            _, pending = await asyncio.wait(set(self._running), timeout=timeout)
            for task in pending:
                task.cancel()

    @property
    def busy(self) -> int:
        return len(self._running)


class EventBus:
    def __init__(self, queue: QueueAdapter, handle: MessageHandler, concurrency: int) -> None:
        self._queue = queue
        self._handle = handle
        self._default_concurrency = concurrency
        self._subscribers: dict[str, list[Step]] = {}
        self._consumers: dict[str, _Consumer] = {}
        # Consumers replaced by a reload: they take no new messages but finish the ones
        # they are handling, and shutdown still waits for them.
        self._retired: list[_Consumer] = []

    def subscribers(self, topic: str) -> list[Step]:
        return self._subscribers.get(topic, [])

    def topics(self) -> list[str]:
        return sorted(self._subscribers)

    async def apply(self, steps: Sequence[Step]) -> None:
        """Subscribe the event steps of a (re)loaded project; drop steps that are gone."""
        event_steps = {s.name: s for s in steps if s.type == "event" and s.handler is not None}
        subscribers: dict[str, list[Step]] = {}
        for step in event_steps.values():
            for topic in step.event.subscribes:
                subscribers.setdefault(topic, []).append(step)
        self._subscribers = subscribers
        for name in list(self._consumers):
            consumer = self._consumers[name]
            new = event_steps.get(name)
            if new is None or _concurrency_changed(consumer.step, new):
                del self._consumers[name]
                await consumer.stop_receiving()
                self._retired = [c for c in self._retired if c.busy]
                self._retired.append(consumer)
            else:
                consumer.step = new
        for name, step in event_steps.items():
            if name not in self._consumers:
                self._consumers[name] = _Consumer(
                    step, self._queue, self._handle, self._concurrency(step)
                )

    def _concurrency(self, step: Step) -> int:
        queue = step.event.infrastructure.queue if step.event.infrastructure else None
        if queue is not None and queue.type == "fifo":
            return 1
        if queue is not None and queue.concurrency:
            return queue.concurrency
        return self._default_concurrency

    async def publish(self, events: Sequence[Event]) -> int:
        """Give every subscriber its own copy of each event; returns the copies made."""
        copies = 0
        for event in events:
            for step in self._subscribers.get(event.topic, ()):
                await self._queue.publish(
                    step.name,
                    [
                        QueueMessage(
                            id=new_message_id(),
                            topic=event.topic,
                            data=event.data,
                            trace_id=event.trace_id,
                            flows=event.flows,
                            message_group_id=event.message_group_id,
                        )
                    ],
                )
                copies += 1
        return copies

    def in_flight(self) -> int:
        return sum(c.busy for c in [*self._consumers.values(), *self._retired])

    async def stop(self, timeout: float) -> None:
        consumers = [*self._consumers.values(), *self._retired]
        self._consumers, self._retired = {}, []
        await asyncio.gather(*(c.stop(timeout) for c in consumers))


def _concurrency_changed(old: Step, new: Step) -> bool:
    return old.event.infrastructure != new.event.infrastructure
