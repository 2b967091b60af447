"""`ctx`: what a handler uses to emit events, keep state, log and push to streams."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Generator, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from motia.adapters.ratelimit.base import LocalRateLimiter
from motia.errors import EmitNotDeclared
from motia.logs import Logger
from motia.runtime.events import Event, parse_emit
from motia.runtime.invocation import ContextCall, Invocation
from motia.runtime.rate_limits import RateLimits
from motia.runtime.state_triggers import ChangeFeed, StateWrites, apply_state_ops
from motia.runtime.streams import StreamError, StreamService
from motia.runtime.trigger_context import TriggerContext
from motia.settings.kinds import Invalid
from motia.settings.rate_limit import parse_period

if TYPE_CHECKING:
    from motia.adapters.queue.base import QueueAdapter
    from motia.adapters.state.base import StateAdapter
    from motia.clock import Clock


class CallBridge(Protocol):
    """How a context's state and stream calls reach their services, and where the run's
    emits are kept. The runtime's bridge runs them on its loop; another may run them at
    once (the test kit's mock context, over memory stores)."""

    @property
    def invocation(self) -> Invocation: ...

    def state_call(self, coro: Coroutine[Any, Any, Any]) -> Any: ...

    def stream_call(self, coro: Coroutine[Any, Any, Any]) -> Any: ...


class _Bridge:
    """Runs context coroutines from the loop (awaitable, never lost) or from a sync handler's
    worker thread (blocking until done)."""

    __slots__ = ("invocation", "loop", "loop_thread")

    def __init__(self, loop: asyncio.AbstractEventLoop, invocation: Invocation) -> None:
        self.loop = loop
        self.loop_thread = threading.get_ident()
        self.invocation = invocation

    def call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        if threading.get_ident() == self.loop_thread:
            return ContextCall(coro, self.invocation, self.loop)
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def state_call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        self.invocation.state_ops += 1
        return self.call(coro)

    def stream_call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        self.invocation.stream_ops += 1
        return self.call(coro)


class State:
    """`ctx.state`: JSON values grouped by a group id (usually `ctx.trace_id`)."""

    __slots__ = ("_adapter", "_bridge", "_writes")

    def __init__(
        self, adapter: StateAdapter, bridge: CallBridge, writes: StateWrites | None = None
    ) -> None:
        self._adapter = adapter
        self._bridge = bridge
        # Set when a step has a state trigger: writes then report their changes.
        self._writes = writes

    def get(self, group_id: str, key: str) -> Any:
        """The value, or None when the key has none."""
        return self._bridge.state_call(self._adapter.get(str(group_id), str(key)))

    def set(self, group_id: str, key: str, value: Any) -> Any:
        store = self._writes or self._adapter
        return self._bridge.state_call(store.set(str(group_id), str(key), value))

    def update(self, group_id: str, key: str, ops: Any) -> Any:
        """Apply operations to a value and return the new one: `[{'type': 'increment',
        'path': 'count', 'by': 1}]`; types are set, merge, increment, decrement and remove
        (a `set` without a path replaces the value). A read then a write: two updates of
        one key at the same moment may lose one."""
        group_id, key = str(group_id), str(key)
        if self._writes is not None:
            return self._bridge.state_call(self._writes.update(group_id, key, ops))

        async def update() -> Any:
            new = apply_state_ops(await self._adapter.get(group_id, key), ops)
            await self._adapter.set(group_id, key, new)
            return new

        return self._bridge.state_call(update())

    def delete(self, group_id: str, key: str) -> Any:
        """Removes the key; returns the value it had, or None."""
        store = self._writes or self._adapter
        return self._bridge.state_call(store.delete(str(group_id), str(key)))

    def get_group(self, group_id: str) -> Any:
        """Every value in the group, as a list, in key order."""
        return self._bridge.state_call(self._adapter.get_group(str(group_id)))

    getGroup = get_group
    # The 1.0 name.
    list = get_group

    def list_groups(self) -> Any:
        """The ids of every group that holds a value."""
        return self._bridge.state_call(self._adapter.groups())

    listGroups = list_groups

    def clear(self, group_id: str) -> Any:
        store = self._writes or self._adapter
        return self._bridge.state_call(store.clear(str(group_id)))


class Stream:
    """`ctx.streams.<name>`: one stream's items, bound to the current handler run."""

    __slots__ = ("_bridge", "_name", "_service")

    def __init__(self, service: StreamService, name: str, bridge: CallBridge) -> None:
        self._service = service
        self._name = name
        self._bridge = bridge

    def get(self, group_id: str, item_id: str) -> Any:
        """The item (`{...data, id}`), or None."""
        return self._bridge.stream_call(self._service.get(self._name, group_id, item_id))

    def set(self, group_id: str, item_id: str, data: Any) -> Any:
        """Create or replace an item; subscribers get a `create` or `update`."""
        return self._bridge.stream_call(self._service.set(self._name, group_id, item_id, data))

    def update(self, group_id: str, item_id: str, ops: Any) -> Any:
        """Apply field operations atomically: `[{'type': 'increment', 'path': 'votes',
        'by': 1}]`; types are set, merge, increment, decrement and remove."""
        return self._bridge.stream_call(self._service.update(self._name, group_id, item_id, ops))

    def delete(self, group_id: str, item_id: str) -> Any:
        """Remove an item; returns it, or None. Subscribers get a `delete`."""
        return self._bridge.stream_call(self._service.delete(self._name, group_id, item_id))

    def get_group(self, group_id: str) -> Any:
        return self._bridge.stream_call(self._service.get_group(self._name, group_id))

    getGroup = get_group

    def send(self, channel: Any, event: Any) -> Any:
        """An ephemeral event (`{'type': ..., 'data': ...}`) to a group's subscribers
        (`{'groupId': ...}`) or one item's (`{'groupId': ..., 'id': ...}`)."""
        return self._bridge.stream_call(self._service.send(self._name, channel, event))


class Streams:
    """`ctx.streams`: streams by name, as attributes (`ctx.streams.messages`) or items
    (`ctx.streams["chat-messages"]`)."""

    __slots__ = ("_bound", "_bridge", "_service")

    def __init__(self, service: StreamService, bridge: CallBridge) -> None:
        self._service = service
        self._bridge = bridge
        self._bound: dict[str, Stream] = {}

    def __getitem__(self, name: str) -> Stream:
        stream = self._bound.get(name)
        if stream is None:
            try:
                self._service.definition(name)
            except StreamError as exc:
                raise KeyError(str(exc)) from None
            stream = self._bound[name] = Stream(self._service, name, self._bridge)
        return stream

    def __getattr__(self, name: str) -> Stream:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(exc.args[0]) from None

    def __contains__(self, name: object) -> bool:
        return name in self._service.definitions

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._service.definitions))

    def __len__(self) -> int:
        return len(self._service.definitions)

    def keys(self) -> list[str]:
        return sorted(self._service.definitions)


class _Dates:
    __slots__ = ("_clock",)

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        return self._clock.now()


class Utils:
    """`ctx.utils`: small helpers; `ctx.utils.dates.now()`."""

    __slots__ = ("dates",)

    def __init__(self, clock: Clock) -> None:
        self.dates = _Dates(clock)


class Services:
    """What every context of a runtime shares; built once, handed to each context."""

    __slots__ = ("_rate_limits", "changes", "clock", "logger", "queue", "state", "streams")

    def __init__(
        self,
        state: StateAdapter,
        logger: Logger,
        clock: Clock,
        streams: StreamService,
        rate_limits: RateLimits | None = None,
        queue: QueueAdapter | None = None,
    ) -> None:
        self.queue = queue  # where `ctx.cancel` reaches scheduled emits; None: outbox only
        self.state = state
        self.logger = logger
        self.clock = clock
        self.streams = streams
        self._rate_limits = rate_limits
        # Where state writes report their changes, when some step has a state trigger.
        self.changes: ChangeFeed | None = None

    @property
    def rate_limits(self) -> RateLimits:
        """The runtime's; a context made without one (the test kit's) counts in memory."""
        if self._rate_limits is None:
            self._rate_limits = RateLimits(
                LocalRateLimiter(self.clock), self.logger, fail_closed=False
            )
        return self._rate_limits

    @rate_limits.setter
    def rate_limits(self, value: RateLimits) -> None:
        self._rate_limits = value


class FlowContext(TriggerContext):
    """The second argument of every handler (the only one of a cron handler).

    Members a handler does not touch are never built: `logger`, `state` and `utils` are
    made on first use, so a trivial handler pays for none of them.
    """

    __slots__ = (
        "_bridge",
        "_emits",
        "_logger",
        "_services",
        "_state",
        "_state_store",
        "_step",
        "_streams",
        "_utils",
        "attempt",
        "event_id",
        "flows",
        "span_id",
        "topic",
        "trace_id",
    )

    def __init__(
        self,
        services: Services,
        *,
        step: str,
        emits: frozenset[str],
        trace_id: str,
        flows: list[str],
        invocation: Invocation,
        event_id: str | None = None,
        attempt: int = 1,
        bridge: CallBridge | None = None,
        state: StateAdapter | None = None,
        topic: str | None = None,
        span_id: str | None = None,
    ) -> None:
        self._services = services
        # `state`: the store this run's state calls go to, when not the shared one.
        self._state_store = state
        # By default calls run on the running loop; `bridge` (bound to `invocation`) is for
        # a context made where no loop runs.
        self._bridge: CallBridge = (
            bridge if bridge is not None else _Bridge(asyncio.get_running_loop(), invocation)
        )
        self._step = step
        self._emits = emits
        self._logger: Logger | None = None
        self._state: State | None = None
        self._utils: Utils | None = None
        self._streams: Streams | None = None
        self.trace_id = trace_id
        self.flows = flows
        self.event_id = event_id
        self.attempt = attempt
        self.topic = topic  # the event's, in an event run
        self.span_id = span_id  # the run's (see `hooks.Run`)
        self.trigger: dict[str, Any] | None = None  # a 1.0-form step's (trigger_context.py)
        self._trigger_data: Any = None

    @property
    def logger(self) -> Logger:
        if self._logger is None:
            bound: dict[str, Any] = {}
            if self.span_id is not None:  # which run a line is about (its span)
                bound["spanId"] = self.span_id
            if self.topic is not None:  # which delivery of which event a line is about
                bound.update(topic=self.topic, eventId=self.event_id, attempt=self.attempt)
            self._logger = self._services.logger.child(self._step, self.trace_id, self.flows, bound)
        return self._logger

    @property
    def state(self) -> State:
        if self._state is None:
            store = self._state_store or self._services.state
            feed = self._services.changes
            writes = None
            if feed is not None:
                writes = StateWrites(
                    feed, store, self._bridge.invocation, self.trace_id, self.flows
                )
            self._state = State(store, self._bridge, writes)
        return self._state

    @property
    def utils(self) -> Utils:
        if self._utils is None:
            self._utils = Utils(self._services.clock)
        return self._utils

    @property
    def streams(self) -> Streams:
        if self._streams is None:
            self._streams = Streams(self._services.streams, self._bridge)
        return self._streams

    @property
    def traceId(self) -> str:
        return self.trace_id

    def rate_limit(self, key: str, *, requests: int, per: float | str) -> Any:
        """Count one call under `key`, at most `requests` per `per` (seconds, or "10s",
        "1m", "1h", "1d") across every process that shares the store. Returns a `Decision`:
        `allowed`, `retry_after` (seconds), `remaining`; it unpacks as
        `allowed, retry_after`. Awaitable in `async def` handlers."""
        if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1:
            raise ValueError(f"rate_limit: requests must be a whole number ≥ 1, not {requests!r}")
        try:
            seconds = parse_period(per)
        except Invalid as exc:
            raise ValueError(f"rate_limit: per {per!r} {exc}") from None
        check = self._services.rate_limits.check(f"ctx:{key}", requests, seconds)
        return self._bridge.state_call(check)

    rateLimit = rate_limit

    def emit(self, event: Any) -> Any:
        """Emit `{'topic': ..., 'data': ..., 'messageGroupId'?, 'delay'?, 'at'?, 'key'?}`
        to the topic's subscribers. It is delivered once this handler run succeeds (a
        scheduled one at its time). Returns the message id (a `str`, also awaitable),
        which `cancel` takes."""
        now = self._services.clock.time()
        parsed = parse_emit(event, self.trace_id, self.flows, now=now, step=self._step)
        if self._emits and parsed.topic not in self._emits:
            raise EmitNotDeclared(self._step, parsed.topic, sorted(self._emits))
        # Recorded at once (awaited or not, from the loop or a worker thread); the outbox
        # is published when the run succeeds.
        outbox = self._bridge.invocation.outbox
        if parsed.key is not None:  # replaces an emit of this run with the same key
            outbox[:] = [
                e for e in outbox if not scheduled_match(e, None, parsed.key, parsed.topic)
            ]
        outbox.append(parsed)
        return MessageId(parsed.id)

    def cancel(
        self, message_id: str | None = None, *, key: str | None = None, topic: str | None = None
    ) -> Any:
        """Cancel a pending scheduled emit: by the id `emit` returned, or by its `key` (on
        `topic`, or on every topic). Every copy not yet leased by a subscriber is deleted;
        True when something was. Awaitable in `async def` handlers."""
        if (message_id is None) == (key is None):
            raise ValueError(
                f"step '{self._step}': cancel takes a message id or key=..., exactly one"
            )
        outbox = self._bridge.invocation.outbox
        kept = [e for e in outbox if not scheduled_match(e, message_id, key, topic)]
        dropped = len(kept) < len(outbox)  # scheduled earlier in this same run
        outbox[:] = kept
        queue = self._services.queue
        if queue is None:
            return Ready(dropped)

        async def cancel() -> bool:
            cancelled = await queue.cancel_scheduled(message_id, topic=topic, key=key)
            return dropped or cancelled > 0

        return self._bridge.state_call(cancel())


def scheduled_match(event: Event, event_id: str | None, key: str | None, topic: str | None) -> bool:
    """Whether a scheduled event is the one a cancel (by id, or by key and topic) names."""
    if event.fire_at is None:
        return False
    if event_id is not None:
        return event.id == event_id
    return event.key == key and (topic is None or event.topic == topic)


class MessageId(str):
    """The id `ctx.emit` returns: a plain string that `await` also accepts, so both
    `ctx.emit(...)` and `await ctx.emit(...)` give it."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, str]:
        return str(self)
        yield  # makes this a generator


class Ready:
    """An awaitable that already has its value, for calls that complete synchronously;
    `bool(...)` reads it without awaiting (a sync handler)."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value

    def __bool__(self) -> bool:
        return self.value

    def __await__(self) -> Generator[Any, None, bool]:
        return self.value
        yield  # makes this a generator
