"""Flow control of event steps, enforced where a leased message is about to run: the
idempotency claim, the concurrency slot and the throttle slot are taken, in that order,
from the queue backend's `FlowSlots`, which every process of the deployment shares.

A message that cannot start now is released back to its queue, without counting an
attempt: after a short wait when its concurrency key is full, after exactly the time the
throttle names when that is full. A duplicate (an idempotency key already claimed by
another message within the window) is acknowledged without running. Debounce is not a
gate: the bus publishes each event of a debounced step as a keyed scheduled copy, so a
later event replaces the pending one (see `debounced`)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from motia.adapters.flow.base import FlowSlots, Take
from motia.adapters.queue.base import Delivery, QueueAdapter
from motia.clock import new_message_id
from motia.logs import Logger
from motia.runtime.events import Event
from motia.runtime.queue_policy import QueuePolicy
from motia.steps.flow_config import Key
from motia.steps.model import Step

RunDelivery = Callable[[Step, QueuePolicy, Delivery], Awaitable[None]]

# A message whose concurrency key is full comes back after about this long (seconds);
# jitter spreads the messages of one hot key so they do not all return at once.
BUSY_RETRY = 0.2
# A concurrency slot lives this long unless renewed: a crashed process's slots free
# themselves after it. A running handler renews its slot every third of it.
SLOT_TTL = 30.0
# The key of events whose key expression finds nothing: they share one limit.
NO_KEY = "-"


def key_of(expression: Key | None, data: Any, where: dict[str, Any]) -> str | None:
    """The key an expression gives for one event; None when it finds nothing."""
    if expression is None:
        return NO_KEY
    if callable(expression):
        value = expression(data)
    else:
        head, *path = expression.split(".")
        value = data if head == "data" else where.get(head)
        for part in path:
            if isinstance(value, dict):
                value = value.get(part)
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return None
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _where(delivery: Delivery) -> dict[str, Any]:
    return {
        "topic": delivery.topic,
        "traceId": delivery.trace_id,
        "messageGroupId": delivery.group_id,
    }


@dataclass(frozen=True)
class _Verdict:
    run: bool
    held: str | None = None  # the concurrency scope whose slot this run holds


class FlowGate:
    def __init__(self, slots: FlowSlots, queue: QueueAdapter, logger: Logger) -> None:
        self._slots = slots
        self._queue = queue
        self._logger = logger

    def wrap(self, run: RunDelivery) -> RunDelivery:
        """`run`, behind the flow control of each step it runs (read at each run, so a
        reloaded config applies at once)."""

        def gated(step: Step, policy: QueuePolicy, delivery: Delivery) -> Awaitable[None]:
            config = step.event
            if not (config.concurrency or config.throttle_rule or config.idempotency_key):
                return run(step, policy, delivery)  # no coroutine of our own on the way
            return admitted(step, policy, delivery)

        async def admitted(step: Step, policy: QueuePolicy, delivery: Delivery) -> None:
            verdict = await self._admit(step, policy, delivery)
            if not verdict.run:
                return
            held = verdict.held
            if held is None:
                await run(step, policy, delivery)
                return
            # Most runs end long before their slot needs renewing: the renewing task is
            # only started for those that do not.
            renewing: list[asyncio.Task[None]] = []
            ttl = min(SLOT_TTL, policy.visibility_timeout)
            timer = asyncio.get_running_loop().call_later(
                ttl / 3,
                lambda: renewing.append(
                    asyncio.ensure_future(self._renew(held, delivery.id, step, policy))
                ),
            )
            try:
                await run(step, policy, delivery)
            finally:
                timer.cancel()
                for task in renewing:
                    task.cancel()
                    await asyncio.wait([task])  # its own cancellation is not ours to raise
                await self._slots.give_back(held, delivery.id)

        return gated

    async def _admit(self, step: Step, policy: QueuePolicy, delivery: Delivery) -> _Verdict:
        config = step.event
        log = self._logger.child(step.name, delivery.trace_id, step.flows)
        idempotency, concurrency, throttle = self._keys(step, delivery, log)
        # All the slots in one step of the store (one transaction on SQL): all or none.
        takes: list[Take] = []
        kinds: list[str] = []
        held: str | None = None
        if config.idempotency_key is not None and idempotency is not None:
            scope = f"idem:{step.name}:{idempotency}"
            takes.append(Take(scope, delivery.id, 1, config.idempotency_window))
            kinds.append("idempotency")
        if config.concurrency is not None:
            held = f"conc:{step.name}:{concurrency}"
            ttl = min(SLOT_TTL, policy.visibility_timeout)
            takes.append(Take(held, delivery.id, config.concurrency.limit, ttl))
            kinds.append("concurrency")
        if (rule := config.throttle_rule) is not None:
            scope = f"rate:{step.name}:{throttle}"
            takes.append(Take(scope, new_message_id(), rule.limit, rule.period))
            kinds.append("throttle")
        if not takes:
            return _Verdict(True)
        refused, wait = await self._slots.take_all(takes)
        if refused < 0:
            return _Verdict(True, held)
        if kinds[refused] == "idempotency":
            log.info(
                f"duplicate event skipped: step {step.name} already ran idempotency key "
                f"{idempotency!r} within {config.idempotency_window:g} s",
                {"topic": delivery.topic, "eventId": delivery.event_id},
            )
            await self._queue.complete(delivery, [])
        elif kinds[refused] == "concurrency":
            await self._queue.release(delivery, BUSY_RETRY * (0.5 + random.random()))
        else:
            await self._queue.release(delivery, wait)
        return _Verdict(False)

    def _keys(self, step: Step, delivery: Delivery, log: Logger) -> tuple[str | None, str, str]:
        """The idempotency, concurrency and throttle keys of one delivery."""
        config = step.event
        where = _where(delivery)

        def key(expression: Key | None, what: str) -> str | None:
            try:
                return key_of(expression, delivery.data, where)
            except Exception as exc:  # a key function that fails is the step's own bug
                log.error(
                    f"a flow-control key function failed ({what}): {type(exc).__name__}: "
                    f"{exc}; the event runs under the shared key",
                    {"topic": delivery.topic, "eventId": delivery.event_id},
                )
                return None

        idempotency = (
            None
            if config.idempotency_key is None
            else key(config.idempotency_key, "idempotencyKey")
        )
        concurrency = throttle = NO_KEY
        if config.concurrency is not None:
            concurrency = key(config.concurrency.key, "concurrency") or NO_KEY
        if (rule := config.throttle_rule) is not None:
            throttle = key(rule.key, "throttle") or NO_KEY
        return idempotency, concurrency, throttle

    async def _renew(self, scope: str, holder: str, step: Step, policy: QueuePolicy) -> None:
        """Keep a running handler's slot alive, up to its visibilityTimeout (past it the
        run is considered lost, and so is its slot)."""
        rule = step.event.concurrency
        assert rule is not None
        ttl = min(SLOT_TTL, policy.visibility_timeout)
        loop = asyncio.get_running_loop()
        # Started a third of the slot's life into the run.
        until = loop.time() - ttl / 3 + policy.visibility_timeout
        while loop.time() < until:
            with contextlib.suppress(Exception):  # the next renewal tries again
                await self._slots.take(scope, holder, rule.limit, ttl)
            await asyncio.sleep(ttl / 3)


def debounced(step: Step, event: Event, now: float) -> tuple[str, float, str] | None:
    """For a debounced step: the event id, fire time and replace key of its copy of
    `event`, which replaces the copy still pending for the same key; None otherwise."""
    rule = step.event.debounce
    if rule is None:
        return None
    where = {
        "topic": event.topic,
        "traceId": event.trace_id,
        "messageGroupId": event.message_group_id,
    }
    try:
        key = key_of(rule.key, event.data, where) or NO_KEY
    except Exception:  # a failing key function: every such event shares one window
        key = NO_KEY
    start = now if event.fire_at is None else max(event.fire_at, now)
    # Its own event id: the copy is a scheduled emit of its own, listed and replaced apart
    # from the copies other subscribers got.
    return f"{event.id}~{step.name}", start + rule.period, f"debounce:{step.name}:{key}"


def message_priority(step: Step, event: Event) -> int:
    """The emit's `priority`, else the step's, else 0 (FIFO queues do not use it)."""
    if event.priority is not None:
        return event.priority
    return step.event.priority or 0
