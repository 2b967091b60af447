"""In-memory queue: the reference implementation of the queue semantics, for tests and
`--memory`. Nothing survives the process."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from motia import jsoncodec
from motia.adapters.queue.base import (
    ALL_DEAD_LETTERS,
    DeadLetter,
    DeadLetterFilter,
    Delivery,
    Failure,
    OutgoingMessage,
    QueueAdapter,
    QueueStats,
    ScheduledEmit,
)
from motia.clock import Clock
from motia.randomness import random_hex


@dataclass
class _Entry:
    seq: int
    message: OutgoingMessage
    attempts: int
    visible_at: float
    enqueued_at: float
    lease_token: str | None = None
    lease_until: float = 0.0
    last_error: Failure | None = None

    def ready(self, now: float) -> bool:
        return self.visible_at <= now and (self.lease_token is None or self.lease_until <= now)

    def leased(self, now: float) -> bool:
        return self.lease_token is not None and self.lease_until > now

    @property
    def pending_schedule(self) -> bool:
        """A copy of a scheduled emit that no subscriber has leased yet: cancellable."""
        return self.message.fire_at is not None and self.attempts == 0 and not self.lease_token


class MemoryQueueAdapter(QueueAdapter):
    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or Clock()
        self._seq = itertools.count(1)
        self._queues: dict[str, dict[str, _Entry]] = {}  # subscriber -> id -> entry, by seq
        self._dead: dict[str, DeadLetter] = {}

    def _queue(self, subscriber: str) -> dict[str, _Entry]:
        return self._queues.setdefault(subscriber, {})

    def _entries(self, messages: Sequence[OutgoingMessage]) -> list[_Entry]:
        # Stored as JSON, like every durable backend: later changes to the emitted object do
        # not leak in, and unserialisable data fails here, before anything is changed.
        now = self._clock.time()
        return [
            _Entry(
                seq=next(self._seq),
                message=replace(message, data=jsoncodec.loads(jsoncodec.dumps(message.data))),
                attempts=0,
                visible_at=now + message.delay,
                enqueued_at=now,
            )
            for message in messages
        ]

    def _insert(self, entries: list[_Entry]) -> None:
        for entry in entries:
            message = entry.message
            if message.key is not None:  # replaces the pending emit with the same key
                self._drop_pending(_replaced_by(message))
            self._queue(message.subscriber)[message.id] = entry

    def _drop_pending(self, matches: Callable[[OutgoingMessage], bool]) -> int:
        dropped = 0
        for queue in self._queues.values():
            for id_, entry in list(queue.items()):
                if entry.pending_schedule and matches(entry.message):
                    del queue[id_]
                    dropped += 1
        return dropped

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        self._insert(self._entries(messages))

    def _leasable(self, subscriber: str, now: float) -> Iterator[_Entry]:
        """The messages a lease would take now, oldest first."""
        blocked_groups: set[str] = set()
        for entry in self._queue(subscriber).values():  # insertion order is seq order
            group = entry.message.group_id
            if group is not None:
                if group in blocked_groups:
                    continue
                # Only the head of a group may run; anything behind it waits.
                blocked_groups.add(group)
            if entry.ready(now):
                yield entry

    async def lease(self, subscriber: str, limit: int, lease_seconds: float) -> list[Delivery]:
        now = self._clock.time()
        leased: list[Delivery] = []
        candidates = list(self._leasable(subscriber, now))
        if any(e.message.priority for e in candidates):
            candidates.sort(key=lambda e: (-e.message.priority, e.seq))
        for entry in candidates:
            if len(leased) >= limit:
                break
            entry.attempts += 1
            entry.lease_token = random_hex(8)
            entry.lease_until = now + lease_seconds
            leased.append(_delivery(entry))
        return leased

    def _held(self, delivery: Delivery) -> _Entry | None:
        entry = self._queue(delivery.subscriber).get(delivery.id)
        # Held while nobody has leased it again, even past the lease's expiry.
        if entry is None or entry.lease_token != delivery.lease_token:
            return None
        return entry

    async def extend(self, deliveries: Sequence[Delivery], lease_seconds: float) -> None:
        until = self._clock.time() + lease_seconds
        for delivery in deliveries:
            entry = self._held(delivery)
            if entry is not None:
                entry.lease_until = until

    async def complete(self, delivery: Delivery, emits: Sequence[OutgoingMessage]) -> bool:
        if self._held(delivery) is None:
            return False
        entries = self._entries(emits)
        del self._queue(delivery.subscriber)[delivery.id]
        self._insert(entries)
        return True

    async def retry(self, delivery: Delivery, delay: float, failure: Failure) -> None:
        entry = self._held(delivery)
        if entry is not None:
            entry.lease_token = None
            entry.visible_at = self._clock.time() + delay
            entry.last_error = failure

    async def release(self, delivery: Delivery, delay: float = 0.0) -> None:
        entry = self._held(delivery)
        if entry is not None:
            entry.lease_token = None
            entry.attempts -= 1
            if delay > 0:
                entry.visible_at = self._clock.time() + delay

    async def dead_letter(self, delivery: Delivery, failure: Failure) -> None:
        queue = self._queue(delivery.subscriber)
        entry = queue.get(delivery.id)
        if entry is None or entry.lease_token != delivery.lease_token:
            return
        del queue[delivery.id]
        message = entry.message
        self._dead[message.id] = DeadLetter(
            id=message.id,
            event_id=message.event_id,
            subscriber=message.subscriber,
            topic=message.topic,
            data=message.data,
            trace_id=message.trace_id,
            flows=message.flows,
            group_id=message.group_id,
            attempts=entry.attempts,
            error=failure.error,
            stack=failure.stack,
            reason=failure.reason,
            enqueued_at=entry.enqueued_at,
            failed_at=self._clock.time(),
        )

    def _matching(self, where: DeadLetterFilter) -> list[DeadLetter]:
        return [
            dead
            for dead in self._dead.values()
            if (not where.ids or dead.id in where.ids)
            and (where.subscriber is None or dead.subscriber == where.subscriber)
            and (where.topic is None or dead.topic == where.topic)
        ]

    async def dead_letters(
        self, where: DeadLetterFilter = ALL_DEAD_LETTERS, limit: int = 100, offset: int = 0
    ) -> list[DeadLetter]:
        matching = sorted(self._matching(where), key=lambda d: d.failed_at, reverse=True)
        return matching[offset : offset + limit]

    async def redrive(self, where: DeadLetterFilter = ALL_DEAD_LETTERS) -> int:
        dead = self._matching(where)
        for letter in dead:
            del self._dead[letter.id]
        await self.publish([_outgoing(letter) for letter in dead])
        return len(dead)

    async def purge(self, where: DeadLetterFilter = ALL_DEAD_LETTERS) -> int:
        dead = self._matching(where)
        for letter in dead:
            del self._dead[letter.id]
        return len(dead)

    async def stats(self, subscriber: str) -> QueueStats:
        now = self._clock.time()
        entries = list(self._queue(subscriber).values())
        in_flight = sum(1 for e in entries if e.leased(now))
        delayed = sum(1 for e in entries if not e.leased(now) and e.visible_at > now)
        dead = sum(1 for d in self._dead.values() if d.subscriber == subscriber)
        oldest = next(self._leasable(subscriber, now), None)
        oldest_at = None if oldest is None else oldest.enqueued_at
        counts = (len(entries) - in_flight, in_flight, delayed, dead)
        return QueueStats.read(subscriber, counts, oldest_at, now)

    async def scheduled(self, topic: str | None = None, limit: int = 100) -> list[ScheduledEmit]:
        found: dict[str, ScheduledEmit] = {}
        for queue in self._queues.values():
            for entry in queue.values():
                m = entry.message
                if not entry.pending_schedule or (topic is not None and m.topic != topic):
                    continue
                assert m.fire_at is not None
                emit = found.setdefault(
                    m.event_id,
                    ScheduledEmit(m.event_id, m.topic, m.key, m.fire_at, m.trace_id, [], m.data),
                )
                emit.subscribers.append(m.subscriber)
        for emit in found.values():
            emit.subscribers.sort()
        return sorted(found.values(), key=lambda e: (e.fire_at, e.id))[:limit]

    async def cancel_scheduled(
        self, event_id: str | None = None, *, topic: str | None = None, key: str | None = None
    ) -> int:
        if event_id is not None:
            return self._drop_pending(lambda m: m.event_id == event_id)
        if key is None:
            return 0
        return self._drop_pending(lambda m: m.key == key and topic in (None, m.topic))

    async def next_visible_at(self, subscriber: str) -> float | None:
        times = [
            max(e.visible_at, e.lease_until if e.lease_token else 0.0)
            for e in self._queue(subscriber).values()
        ]
        return min(times) if times else None

    async def next_delayed_at(self, subscriber: str, now: float) -> float | None:
        times = [e.visible_at for e in self._queue(subscriber).values() if e.visible_at > now]
        return min(times) if times else None


def _replaced_by(new: OutgoingMessage) -> Callable[[OutgoingMessage], bool]:
    def replaced(old: OutgoingMessage) -> bool:
        return old.key == new.key and old.topic == new.topic and old.event_id != new.event_id

    return replaced


def _delivery(entry: _Entry) -> Delivery:
    message = entry.message
    assert entry.lease_token is not None
    return Delivery(
        id=message.id,
        event_id=message.event_id,
        subscriber=message.subscriber,
        topic=message.topic,
        data=message.data,
        trace_id=message.trace_id,
        flows=message.flows,
        group_id=message.group_id,
        attempt=entry.attempts,
        lease_token=entry.lease_token,
        enqueued_at=entry.enqueued_at,
    )


def _outgoing(letter: DeadLetter) -> OutgoingMessage:
    return OutgoingMessage(
        id=letter.id,
        event_id=letter.event_id,
        subscriber=letter.subscriber,
        topic=letter.topic,
        data=letter.data,
        trace_id=letter.trace_id,
        flows=letter.flows,
        group_id=letter.group_id,
    )
