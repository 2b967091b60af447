"""Streams at run time: named collections of items that handlers change through
`ctx.streams.<name>` and that clients watch live over WebSocket or SSE.

Every change is published to the hub, which hands it to the subscribers of its group and
item; the hub is in-process here, and shared across processes by the Redis adapters.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from motia import jsoncodec
from motia.adapters.broadcast.base import Broadcast, LocalBroadcast
from motia.adapters.streams.base import (
    Item,
    PutResult,
    StreamStore,
    StreamUpdateError,
    apply_ops,
)
from motia.errors import MotiaError
from motia.logs import Logger
from motia.steps.model import StreamDefinition
from motia.tasks import start_task, stop_task


class StreamError(MotiaError):
    """A stream call was wrong: unknown stream, bad item, or a schema violation."""


@dataclass(frozen=True)
class StreamEvent:
    """One change (`create`, `update`, `delete`) or custom event (`event`) of a stream."""

    stream: str
    group_id: str
    id: str | None
    type: str
    data: Any
    timestamp: float  # milliseconds (with microsecond decimals), as the clients compare them
    event_type: str | None = None  # the custom event's own type, for `send`

    @cached_property
    def wire_bytes(self) -> bytes:
        """The classic protocol frame as JSON, encoded once for every connection."""
        return jsoncodec.dumps(event_frame(self))

    @cached_property
    def wire(self) -> str:
        return self.wire_bytes.decode()


Listener = Callable[[StreamEvent], None]


def encode_event(event: StreamEvent) -> bytes:
    return jsoncodec.dumps(
        [
            event.stream,
            event.group_id,
            event.id,
            event.type,
            event.data,
            event.timestamp,
            event.event_type,
        ]
    )


def decode_event(payload: bytes) -> StreamEvent:
    stream, group_id, item_id, kind, data, timestamp, event_type = jsoncodec.loads(payload)
    return StreamEvent(stream, group_id, item_id, kind, data, timestamp, event_type)


class StreamHub:
    """Fan-out of stream events to listeners of a (stream, group), in every process."""

    def __init__(self, broadcast: Broadcast | None = None) -> None:
        self._broadcast = broadcast or LocalBroadcast()
        self._listeners: dict[tuple[str, str], set[Listener]] = {}
        self._all: set[Listener] = set()
        # For the metrics: the frames this process's client connections took, by (stream,
        # kind). Each process counts its own clients, so the sum over the processes is
        # every frame sent.
        self.sent: dict[tuple[str, str], int] = {}

    def count_sent(self, event: StreamEvent) -> None:
        """A client connection takes `event` (one frame)."""
        key = (event.stream, event.type)
        self.sent[key] = self.sent.get(key, 0) + 1

    def subscribe(self, stream: str, group_id: str, listener: Listener) -> Callable[[], None]:
        key = (stream, group_id)
        self._listeners.setdefault(key, set()).add(listener)

        def unsubscribe() -> None:
            listeners = self._listeners.get(key)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del self._listeners[key]

        return unsubscribe

    def listener_count(self, stream: str) -> int:
        """Listeners of this process on any group of `stream` (open subscriptions)."""
        return sum(len(found) for (name, _), found in self._listeners.items() if name == stream)

    def subscribe_all(self, listener: Listener) -> Callable[[], None]:
        """Every event of every stream (the workbench)."""
        self._all.add(listener)
        return lambda: self._all.discard(listener)

    async def start(self) -> None:
        await self._broadcast.start(self._receive)

    async def publish(self, event: StreamEvent) -> None:
        """Send an event to the listeners of every process (through the broadcast)."""
        await self._broadcast.publish(encode_event(event))

    def _receive(self, payload: bytes) -> None:
        try:
            event = decode_event(payload)
        except (ValueError, KeyError, TypeError):
            return  # not one of ours
        self.deliver(event)

    def deliver(self, event: StreamEvent) -> None:
        """Hand an event to local listeners; listeners never block (they buffer)."""
        for listener in list(self._listeners.get((event.stream, event.group_id), ())):
            listener(event)
        for listener in list(self._all):
            listener(event)


class StreamService:
    def __init__(self, store: StreamStore, hub: StreamHub, logger: Logger) -> None:
        self.store = store
        self.hub = hub
        self._logger = logger
        self.definitions: dict[str, StreamDefinition] = {}
        self._sweeper: asyncio.Task[None] | None = None
        # Told of every item change when a step has a stream trigger (state_triggers.py):
        # (stream, group, id, "create" | "update" | "delete", old item, new item).
        self.on_change: Callable[[str, str, str, str, Any, Any], Awaitable[None]] | None = None
        # For the metrics: the changes and custom events this process published, by
        # (stream, kind: create, update, delete or event).
        self.published: dict[tuple[str, str], int] = {}

    async def _hand_to_hub(self, event: StreamEvent) -> None:
        key = (event.stream, event.type)
        self.published[key] = self.published.get(key, 0) + 1
        await self.hub.publish(event)

    def apply(self, streams: Sequence[StreamDefinition]) -> None:
        self.definitions = {s.name: s for s in streams}

    def definition(self, name: str) -> StreamDefinition:
        definition = self.definitions.get(name)
        if definition is None:
            known = ", ".join(sorted(self.definitions)) or "none are defined"
            raise StreamError(f"no stream named '{name}' ({known})")
        return definition

    async def get(self, name: str, group_id: str, item_id: str) -> Item | None:
        self.definition(name)
        item = await self.store.get(name, str(group_id), str(item_id))
        return None if item is None else _marked(item, name, str(group_id))

    async def get_group(self, name: str, group_id: str) -> list[Item]:
        self.definition(name)
        items = await self.store.get_group(name, str(group_id))
        return [_marked(item, name, str(group_id)) for item in items]

    async def set(self, name: str, group_id: str, item_id: str, data: Any) -> Item:
        definition = self.definition(name)
        if not isinstance(data, dict):
            raise StreamError(
                f"stream '{name}': an item must be a dict (a JSON object), "
                f"not {type(data).__name__}"
            )
        self._validate(definition, data)
        group_id, item_id = str(group_id), str(item_id)
        old = await self.store.get(name, group_id, item_id) if self.on_change else None
        item, result = await self.store.set(name, group_id, item_id, data, _ttl(definition))
        await self._announce(name, group_id, item_id, result, item)
        await self._changed(name, group_id, item_id, result, old, item)
        return _marked(item, name, group_id)

    async def update(
        self, name: str, group_id: str, item_id: str, ops: Sequence[dict[str, Any]]
    ) -> Item:
        definition = self.definition(name)
        group_id, item_id = str(group_id), str(item_id)
        try:
            current = await self.store.get(name, group_id, item_id)
            candidate = apply_ops({k: v for k, v in (current or {}).items() if k != "id"}, ops)
        except StreamUpdateError as exc:
            raise StreamError(f"stream '{name}': {exc}") from None
        self._validate(definition, candidate)
        item, result = await self.store.set(name, group_id, item_id, candidate, _ttl(definition))
        await self._announce(name, group_id, item_id, result, item)
        await self._changed(name, group_id, item_id, result, current, item)
        return _marked(item, name, group_id)

    async def delete(self, name: str, group_id: str, item_id: str) -> Item | None:
        self.definition(name)
        group_id, item_id = str(group_id), str(item_id)
        old = await self.store.delete(name, group_id, item_id)
        if old is None:
            return None
        await self._publish(name, group_id, item_id, "delete", old)
        if self.on_change is not None:
            await self.on_change(name, group_id, item_id, "delete", old, None)
        return _marked(old, name, group_id)

    async def send(self, name: str, channel: Any, event: Any) -> None:
        """An ephemeral custom event to the subscribers of a group (or one item)."""
        self.definition(name)
        if not isinstance(channel, dict) or channel.get("groupId") is None:
            raise StreamError(f"stream '{name}': send needs a channel like {{'groupId': ...}}")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise StreamError(
                f"stream '{name}': send needs an event like {{'type': 'typing', 'data': ...}}"
            )
        item_id = channel.get("id")
        await self._hand_to_hub(
            StreamEvent(
                stream=name,
                group_id=str(channel["groupId"]),
                id=None if item_id is None else str(item_id),
                type="event",
                data=event.get("data"),
                timestamp=next_timestamp(),
                event_type=event["type"],
            )
        )

    def _validate(self, definition: StreamDefinition, data: dict[str, Any]) -> None:
        if definition.schema is None:
            return
        problems = definition.schema.validate({k: v for k, v in data.items() if k != "__motia"})
        if problems:
            details = "; ".join(f"{p.field}: {p.message}" for p in problems)
            raise StreamError(
                f"stream '{definition.name}': item does not match the schema: {details}"
            )

    async def _announce(
        self, name: str, group_id: str, item_id: str, result: PutResult, item: Item
    ) -> None:
        if result == "revived":
            # It had expired unseen: subscribers first hear it is gone, then that it is new.
            await self._publish(name, group_id, item_id, "delete", {"id": item_id})
        kind = "update" if result == "updated" else "create"
        await self._publish(name, group_id, item_id, kind, item)

    async def _changed(
        self, name: str, group_id: str, item_id: str, result: PutResult, old: Any, new: Item
    ) -> None:
        if self.on_change is not None:
            kind = "update" if result == "updated" else "create"
            await self.on_change(
                name, group_id, item_id, kind, old if kind == "update" else None, new
            )

    async def _publish(self, name: str, group_id: str, item_id: str, kind: str, item: Item) -> None:
        await self._hand_to_hub(
            StreamEvent(
                stream=name,
                group_id=group_id,
                id=item_id,
                type=kind,
                data=item,
                timestamp=next_timestamp(),
            )
        )

    async def start(self, interval: float = 1.0) -> None:
        await self.hub.start()
        self._sweeper = start_task(self._sweep(interval), self._logger, "expiring stream items")

    async def _sweep(self, interval: float) -> None:
        """Remove expired items and tell their subscribers they are gone."""
        while True:
            await asyncio.sleep(interval)
            try:
                for stream, group_id, item_id in await self.store.expired():
                    await self._publish(stream, group_id, item_id, "delete", {"id": item_id})
            except Exception as exc:
                self._logger.error(f"expiring stream items failed: {type(exc).__name__}: {exc}")

    async def stop(self) -> None:
        await stop_task(self._sweeper)


def _ttl(definition: StreamDefinition) -> float | None:
    return definition.config.base_config.ttl


class _Timestamps:
    """Strictly increasing stamps in milliseconds with microsecond decimals: the classic
    clients drop a frame whose timestamp is not newer than the last one they saw, so two
    changes in the same millisecond must not share one. Microsecond steps keep a burst of
    changes from running ahead of the clock, which would make a later change from another
    process look older."""

    def __init__(self) -> None:
        self._last = 0.0

    def next(self) -> float:
        self._last = max(time.time_ns() // 1000 / 1000, round(self._last + 0.001, 3))
        return self._last


next_timestamp = _Timestamps().next


def _marked(item: Item, stream: str, group_id: str) -> Item:
    """Items carry the classic `__motia` marker, so a client given one (say, in an API
    response) knows how to subscribe to it."""
    marked = dict(item)
    marked["__motia"] = {
        "type": "state-stream",
        "streamName": stream,
        "groupId": group_id,
        "id": item["id"],
    }
    return marked


def event_frame(event: StreamEvent) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "timestamp": event.timestamp,
        "streamName": event.stream,
        "groupId": event.group_id,
    }
    if event.id is not None:
        frame["id"] = event.id
    if event.type == "event":
        frame["event"] = {"type": "event", "event": {"type": event.event_type, "data": event.data}}
    else:
        frame["event"] = {"type": event.type, "data": bare_item(event.data)}
    return frame


def bare_item(item: Any) -> Any:
    """Items go over the wire without their `__motia` marker."""
    if isinstance(item, dict) and "__motia" in item:
        return {k: v for k, v in item.items() if k != "__motia"}
    return item
