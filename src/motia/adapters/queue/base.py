"""The queue adapter interface: one durable queue per subscriber (a step that subscribes).

The event bus fans an emitted event out into one message per subscriber, so each
subscriber leases, retries and acknowledges its own copy. Every backend implements the
same semantics and passes the same contract tests:

- `publish` makes messages durable before it returns;
- `lease` hands out visible messages with a lease that expires unless `extend`ed, so the
  messages of a worker that died become visible again on their own;
- `lease` takes the highest `priority` first, then the oldest;
- in a FIFO queue only the oldest message of each group can be leased, and only while no
  other message of that group is leased or waiting for a retry;
- `complete` acknowledges a message and publishes the handler's emits in one atomic step,
  and only while the caller still holds the lease: nobody has leased the message again
  since (an expired lease that was not taken over still counts as held);
- a scheduled message (`fire_at` set) stays listed and cancellable until it is first
  leased, and one with a `key` replaces, in the step that stores it, the pending copies
  of an earlier emit with the same topic and key.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from motia import jsoncodec

if TYPE_CHECKING:
    from motia.adapters.state.base import StateAdapter
    from motia.adapters.state.pending import StateWrite

# In a FIFO queue, messages emitted without a messageGroupId form this one group.
DEFAULT_GROUP = ""


@dataclass
class OutgoingMessage:
    """One copy of an emitted event, addressed to one subscriber."""

    id: str
    event_id: str
    subscriber: str
    topic: str
    data: Any
    trace_id: str
    flows: list[str] = field(default_factory=list)
    # None: unordered (standard queue); a string: the FIFO group it is ordered in.
    group_id: str | None = None
    delay: float = 0.0
    # A scheduled emit (one given `delay`, `at` or `key`): when it fires (epoch seconds)
    # and the key that replaces it. Its copies can be listed and cancelled until leased.
    fire_at: float | None = None
    key: str | None = None
    # Higher is leased first among the subscriber's visible messages (equal: oldest first).
    # The bus leaves it 0 in a FIFO queue: order within a group wins there.
    priority: int = 0


@dataclass
class Delivery:
    """A leased message. `attempt` counts this delivery: 1 for the first."""

    id: str
    event_id: str
    subscriber: str
    topic: str
    data: Any
    trace_id: str
    flows: list[str]
    group_id: str | None
    attempt: int
    lease_token: str
    enqueued_at: float


@dataclass(frozen=True)
class Failure:
    """Why an attempt failed, as kept with a retried or dead-lettered message."""

    error: str
    stack: str | None = None
    reason: str = "handler failed"


@dataclass
class DeadLetter:
    id: str
    event_id: str
    subscriber: str
    topic: str
    data: Any
    trace_id: str
    flows: list[str]
    group_id: str | None
    attempts: int
    error: str
    stack: str | None
    reason: str
    enqueued_at: float
    failed_at: float

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> DeadLetter:
        """From a SQL row of the columns in field order, `data` and `flows` as JSON text."""
        (id_, event_id, subscriber, topic, data, trace_id, flows, group_id, *rest) = row
        attempts, error, stack, reason, enqueued_at, failed_at = rest
        return cls(
            id=id_,
            event_id=event_id,
            subscriber=subscriber,
            topic=topic,
            data=jsoncodec.loads(data),
            trace_id=trace_id,
            flows=jsoncodec.loads(flows),
            group_id=group_id,
            attempts=attempts,
            error=error,
            stack=stack,
            reason=reason,
            enqueued_at=enqueued_at,
            failed_at=failed_at,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "eventId": self.event_id,
            "step": self.subscriber,
            "topic": self.topic,
            "data": self.data,
            "traceId": self.trace_id,
            "flows": self.flows,
            "messageGroupId": self.group_id,
            "attempts": self.attempts,
            "error": self.error,
            "stack": self.stack,
            "reason": self.reason,
            "enqueuedAt": self.enqueued_at,
            "failedAt": self.failed_at,
        }


@dataclass(frozen=True)
class QueueStats:
    """Counts for one subscriber; `waiting` includes messages delayed for a retry.

    `oldest_waiting_at` is when the oldest message a worker could take now was published:
    visible (not delayed), not in flight and, in a FIFO queue, the head of its group. None
    when there is none. `oldest_age` is its age in seconds at the time of the stats (0 when
    none): how far behind the subscriber's workers are."""

    subscriber: str
    waiting: int
    in_flight: int
    delayed: int
    dead: int
    oldest_waiting_at: float | None = None
    oldest_age: float = 0.0

    @classmethod
    def read(
        cls,
        subscriber: str,
        counts: tuple[int, int, int, int],
        oldest_waiting_at: float | None,
        now: float,
    ) -> QueueStats:
        """From (waiting, in flight, delayed, dead) and the oldest leasable message's
        publish time, as a backend reads them at `now`."""
        waiting, in_flight, delayed, dead = counts
        if oldest_waiting_at is None:
            return cls(subscriber, waiting, in_flight, delayed, dead)
        at = float(oldest_waiting_at)
        return cls(subscriber, waiting, in_flight, delayed, dead, at, max(now - at, 0.0))

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.subscriber,
            "waiting": self.waiting,
            "inFlight": self.in_flight,
            "delayed": self.delayed,
            "dead": self.dead,
            "oldestWaitingAt": self.oldest_waiting_at,
            "oldestAge": self.oldest_age,
        }


@dataclass(frozen=True)
class DeadLetterFilter:
    """Which dead letters an operation applies to; all fields empty means all of them."""

    ids: tuple[str, ...] = ()
    subscriber: str | None = None
    topic: str | None = None


ALL_DEAD_LETTERS = DeadLetterFilter()


@dataclass(frozen=True)
class ScheduledEmit:
    """A scheduled emit with at least one copy not leased yet; `id` is the event id that
    `ctx.emit` returned."""

    id: str
    topic: str
    key: str | None
    fire_at: float
    trace_id: str
    subscribers: list[str]
    data: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "key": self.key,
            "fireAt": self.fire_at,
            "traceId": self.trace_id,
            "steps": self.subscribers,
            "data": self.data,
        }


class QueueAdapter(ABC):
    # Whether `publish_taking` is supported: see there.
    leases_on_publish = False

    @abstractmethod
    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Accept messages; once this returns they survive a crash."""

    async def publish_taking(
        self,
        messages: Sequence[OutgoingMessage],
        taken: Collection[str],
        token: str,
        lease_until: float,
    ) -> list[Delivery]:
        """`publish`, storing the messages whose ids are in `taken` already leased (token
        `token` until `lease_until`, their first attempt counted): the publishing process
        has idle workers for them and runs them at once, without a lease of its own.
        Returns their deliveries, data decoded from what was stored (as a lease gives it).
        Only unordered messages visible now are taken. Backends that can do this in the
        step that stores the messages set `leases_on_publish`."""
        raise NotImplementedError

    @staticmethod
    def taken_delivery(
        message: OutgoingMessage, data: Any, token: str, enqueued_at: float
    ) -> Delivery:
        """The delivery of a message leased to its publisher as it was stored."""
        return Delivery(
            id=message.id,
            event_id=message.event_id,
            subscriber=message.subscriber,
            topic=message.topic,
            data=data,
            trace_id=message.trace_id,
            flows=list(message.flows),
            group_id=None,
            attempt=1,
            lease_token=token,
            enqueued_at=enqueued_at,
        )

    @abstractmethod
    async def lease(self, subscriber: str, limit: int, lease_seconds: float) -> list[Delivery]:
        """Lease up to `limit` visible messages of a subscriber, oldest first; never waits."""

    async def lease_and_peek(
        self, subscriber: str, limit: int, lease_seconds: float
    ) -> tuple[list[Delivery], float | None]:
        """`lease`, plus when to look again. When fewer than `limit` messages were leased
        (nothing more can be leased now), the second value is what `next_visible_at`
        answers after this lease; when `limit` were leased it is 0.0 (more may be waiting:
        look again once there is room). A backend that can answer both in one step (one
        round trip to a server) overrides this."""
        deliveries = await self.lease(subscriber, limit, lease_seconds)
        if len(deliveries) >= limit:
            return deliveries, 0.0
        return deliveries, await self.next_visible_at(subscriber)

    @abstractmethod
    async def extend(self, deliveries: Sequence[Delivery], lease_seconds: float) -> None:
        """Renew leases still held (the heartbeat of a live worker)."""

    @abstractmethod
    async def complete(self, delivery: Delivery, emits: Sequence[OutgoingMessage]) -> bool:
        """Acknowledge and publish the handler's emits atomically. False (and nothing
        published) when the lease was lost: another attempt runs or has run."""

    def holds_state_writes(self, state: StateAdapter) -> bool:
        """Whether `complete_with_state` can apply writes to `state` in the transaction
        that completes a message (the queue and the state live in one database)."""
        return False

    async def complete_with_state(
        self,
        delivery: Delivery,
        emits: Sequence[OutgoingMessage],
        state_writes: Sequence[StateWrite],
    ) -> bool:
        """`complete`, applying the handler's state writes (in order) in the same
        transaction; only where `holds_state_writes` says so."""
        raise NotImplementedError(f"{type(self).__name__} cannot hold state writes")

    @abstractmethod
    async def retry(self, delivery: Delivery, delay: float, failure: Failure) -> None:
        """Make the message visible again after `delay` seconds."""

    @abstractmethod
    async def release(self, delivery: Delivery, delay: float = 0.0) -> None:
        """Give the message back untouched (shutdown, or a flow-control limit that is
        full): this attempt does not count. It is visible again after `delay` seconds."""

    @abstractmethod
    async def dead_letter(self, delivery: Delivery, failure: Failure) -> None:
        """Move the message to the dead-letter queue; it no longer blocks its group."""

    @abstractmethod
    async def dead_letters(
        self, where: DeadLetterFilter = ALL_DEAD_LETTERS, limit: int = 100, offset: int = 0
    ) -> list[DeadLetter]: ...

    @abstractmethod
    async def redrive(self, where: DeadLetterFilter = ALL_DEAD_LETTERS) -> int:
        """Put dead letters back in their queues, with a fresh attempt count."""

    @abstractmethod
    async def purge(self, where: DeadLetterFilter = ALL_DEAD_LETTERS) -> int:
        """Delete dead letters for good."""

    @abstractmethod
    async def stats(self, subscriber: str) -> QueueStats: ...

    @abstractmethod
    async def scheduled(self, topic: str | None = None, limit: int = 100) -> list[ScheduledEmit]:
        """Scheduled emits still pending (a copy not leased yet), soonest first."""

    @abstractmethod
    async def cancel_scheduled(
        self, event_id: str | None = None, *, topic: str | None = None, key: str | None = None
    ) -> int:
        """Delete the pending copies of a scheduled emit, by its event id or by its key
        (on `topic`, or on every topic when None); returns how many were deleted. A copy
        already leased (running, retrying) is left alone."""

    @abstractmethod
    async def next_visible_at(self, subscriber: str) -> float | None:
        """When the next message of a subscriber becomes visible (now if one is), or None
        when it has nothing waiting. Workers sleep until then."""

    async def next_delayed_at(self, subscriber: str, now: float) -> float | None:
        """When the earliest message that waits for time to pass (a retry backoff,
        `delaySeconds`) becomes visible, if one does after `now`. Runtimes driven by a
        manual clock (the test kit) move the clock there. Backends answer exactly; this
        default only sees the next visibility, which a visible message hides."""
        at = await self.next_visible_at(subscriber)
        return at if at is not None and at > now else None

    def open_write(self) -> Awaitable[None] | None:
        """While this process holds the store's write lock for a commit that has not run
        yet, something to await until it has; otherwise None (the default: the store
        takes no lock across other work). Handlers wait on it before they start, so a
        handler that computes without awaiting never holds other processes' writes."""
        return None

    async def watch(self, wake: Callable[[str], None]) -> None:  # noqa: B027 - optional hook
        """Call `wake(subscriber)` when another process made messages of that subscriber
        visible, so its idle worker looks at once. Without it (the default) workers find
        such messages at their next poll. Stopped by `close`."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
