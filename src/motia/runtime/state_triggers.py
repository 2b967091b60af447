"""State and stream triggers: every change becomes one message on a reserved topic.

A step with a `state` (or `stream`) trigger subscribes to `STATE_TOPIC` (`STREAM_TOPIC`),
on a FIFO queue; each change is published with a message group per changed key, so the
changes of one key reach each step in the order they were made, at least once, retried
like any message. The step's wrapper (`steps.triggers.wrap_handler`) then drops the
changes its trigger does not watch and asks its condition.

When a change message becomes durable:
- a state write made by a queue-triggered handler on a backend whose queue holds state
  writes (PostgreSQL, `events.atomicState`): the write and its change message commit in
  the transaction that completes the message, or neither does (atomic);
- every other state write, and every stream change: the message is published right after
  the write succeeds. A crash between the two loses that one message (the write stays);
  a handler that fails after writing still has its change delivered, and its retry writes
  again, so a trigger may see a change twice (at least once).

Changes made through `ctx.state` / `ctx.streams` (any language) are
fed; writes straight to the store (`tester.state`, the workbench editor) are not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from motia.adapters.state.pending import PendingStateWrites
from motia.adapters.streams.base import StreamUpdateError, apply_ops
from motia.clock import new_trace_id
from motia.runtime.events import Event
from motia.steps.triggers import STATE_TOPIC, STREAM_TOPIC

if TYPE_CHECKING:
    from motia.adapters.state.base import StateAdapter
    from motia.runtime.bus import EventBus
    from motia.runtime.invocation import Invocation
    from motia.runtime.streams import StreamService
    from motia.steps.model import Step


class ChangeFeed:
    """Publishes state changes for the steps that watch them."""

    __slots__ = ("_bus",)

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    async def publish(self, events: list[Event], store: StateAdapter, outbox: list[Event]) -> None:
        if isinstance(store, PendingStateWrites):
            outbox.extend(events)  # committed with the writes, or dropped with them
        else:
            await self._bus.publish(events)


def install_change_feeds(
    steps: Sequence[Step], bus: EventBus, streams: StreamService
) -> ChangeFeed | None:
    """The feed `ctx.state` uses, or None when no step has a state trigger; the stream
    service gets its listener when some step has a stream trigger."""
    kinds = {step.trigger["type"] for step in steps if step.trigger is not None}

    async def stream_changed(
        name: str, group_id: str, item_id: str, kind: str, old: Any, new: Any
    ) -> None:
        change = {
            "stream_name": name,
            "group_id": group_id,
            "id": item_id,
            "type": kind,
            "old_value": old,
            "new_value": new,
        }
        group = f"stream:{name}:{group_id}:{item_id}"
        await bus.publish([Event(STREAM_TOPIC, change, new_trace_id(), [], group)])

    streams.on_change = stream_changed if "stream" in kinds else None
    return ChangeFeed(bus) if "state" in kinds else None


class StateWrites:
    """`ctx.state`'s writes when a state trigger listens: each write reads the old value
    first and reports the change."""

    __slots__ = ("_feed", "_flows", "_invocation", "_store", "_trace_id")

    def __init__(
        self,
        feed: ChangeFeed,
        store: StateAdapter,
        invocation: Invocation,
        trace_id: str,
        flows: list[str],
    ) -> None:
        self._feed = feed
        self._store = store
        self._invocation = invocation
        self._trace_id = trace_id
        self._flows = flows

    def _event(self, group: str, key: str, kind: str, old: Any, new: Any) -> Event:
        change = {"group": group, "key": key, "type": kind, "old_value": old, "new_value": new}
        return Event(STATE_TOPIC, change, self._trace_id, self._flows, f"state:{group}:{key}")

    async def _report(self, events: list[Event]) -> None:
        if events:
            await self._feed.publish(events, self._store, self._invocation.outbox)

    async def set(self, group: str, key: str, value: Any) -> Any:
        old = await self._store.get(group, key)
        result = await self._store.set(group, key, value)
        await self._report([self._event(group, key, "set", old, value)])
        return result

    async def update(self, group: str, key: str, ops: Sequence[dict[str, Any]]) -> Any:
        old = await self._store.get(group, key)
        new = apply_state_ops(old, ops)
        await self._store.set(group, key, new)
        await self._report([self._event(group, key, "update", old, new)])
        return new

    async def delete(self, group: str, key: str) -> Any:
        old = await self._store.delete(group, key)
        if old is not None:
            await self._report([self._event(group, key, "delete", old, None)])
        return old

    async def clear(self, group: str) -> None:
        items = await self._store.items(group)
        await self._store.clear(group)
        await self._report([self._event(group, k, "delete", v, None) for k, v in items.items()])


def apply_state_ops(current: Any, ops: Sequence[dict[str, Any]]) -> Any:
    """`ctx.state.update`'s operations on a value (a dict; a missing value is `{}`):
    set, merge, increment, decrement and remove on dotted paths. A `set` without a
    path replaces the whole value."""
    if isinstance(ops, dict):
        ops = [ops]
    value = current
    rest = []
    for op in ops:
        if isinstance(op, dict) and op.get("type") == "set" and not op.get("path"):
            value = op.get("value")
        else:
            rest.append(op)
    if not rest:
        return value
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ValueError(
            f"state.update: field operations need a dict value, not {type(value).__name__}"
        )
    try:
        return apply_ops(value, rest)
    except StreamUpdateError as exc:
        raise ValueError(f"state.update: {exc}") from None
