"""One client connection to streams (WebSocket or SSE): its subscriptions, and a bounded
buffer of frames to send, so a slow or dead client never holds up anyone else.

With a `writer` (a WebSocket served by motia.http.ws_protocol), frames go straight to the
socket as events arrive; the buffer then only holds frames the socket could not take at
once (the client is behind) and those that must wait behind them. Without one (SSE, other
ASGI servers), every frame goes through the buffer.

Drop-and-resync: when a client falls so far behind that its buffer is full, the pending
frames are dropped and a fresh `sync` of each of its subscriptions is sent instead. The
client's state is then correct again; custom events sent in the dropped window are lost.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from motia import jsoncodec
from motia.runtime.dispatch import handler_exits
from motia.runtime.streams import StreamEvent, StreamService, bare_item, next_timestamp

Frame = dict[str, Any]
# Writes one frame's JSON to the client at once; False when the client is behind and the
# frame was not written (it goes to the buffer instead).
Writer = Callable[[bytes], bool]

ACCESS_DENIED = "STREAM_ACCESS_DENIED"
STREAM_NOT_FOUND = "STREAM_NOT_FOUND"
BAD_MESSAGE = "BAD_MESSAGE"
TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"


@dataclass(frozen=True)
class Subscription:
    stream: str
    group_id: str
    id: str | None
    subscription_id: str

    @property
    def channel(self) -> dict[str, Any]:
        return {"groupId": self.group_id, "id": self.id}


class _Resync:
    """Marker in the buffer: send fresh snapshots of every subscription."""


RESYNC = _Resync()


class StreamConnection:
    def __init__(
        self,
        service: StreamService,
        auth_context: Any,
        *,
        writer: Writer | None = None,
        buffer_size: int = 1000,
        max_subscriptions: int = 200,
    ) -> None:
        self._service = service
        self.auth_context = auth_context
        self._writer = writer
        # The sender task holds frames taken from the buffer and not yet sent: anything
        # newer must wait behind them, in the buffer.
        self._sending = False
        # Frames wait here already encoded: an event is encoded once for all connections.
        self._buffer: asyncio.Queue[str | _Resync] = asyncio.Queue(maxsize=buffer_size)
        self._max_subscriptions = max_subscriptions
        self.subscriptions: dict[str, Subscription] = {}
        # One hub listener per (stream, group), however many subscriptions use it.
        self._listening: dict[tuple[str, str], Callable[[], None]] = {}
        self.resyncs = 0

    # --- frames the client sends -----------------------------------------------------

    async def join(self, data: Any) -> str | None:
        """Subscribe; returns None, or the code of the refusal sent to the client."""
        subscription = self._parse(data)
        if subscription is None:
            return BAD_MESSAGE
        definition = self._service.definitions.get(subscription.stream)
        if definition is None:
            self._error(subscription, STREAM_NOT_FOUND, f"Stream {subscription.stream} not found")
            return STREAM_NOT_FOUND
        if (
            subscription.subscription_id not in self.subscriptions
            and len(self.subscriptions) >= self._max_subscriptions
        ):
            self._error(
                subscription,
                TOO_MANY_SUBSCRIPTIONS,
                f"at most {self._max_subscriptions} subscriptions per connection",
            )
            return TOO_MANY_SUBSCRIPTIONS
        if not await self._allowed(definition.config.can_access, subscription):
            self._error(subscription, ACCESS_DENIED, "Access denied")
            return ACCESS_DENIED
        # Listen before reading the snapshot: a change made meanwhile arrives before the
        # snapshot, whose newer timestamp then wins on the client.
        self.subscriptions[subscription.subscription_id] = subscription
        self._listen(subscription.stream, subscription.group_id)
        self.push(await self._snapshot(subscription))
        return None

    def leave(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        subscription = self.subscriptions.pop(str(data.get("subscriptionId")), None)
        if subscription is not None:
            self._unlisten_if_unused(subscription.stream, subscription.group_id)

    async def _allowed(self, can_access: Any, subscription: Subscription) -> bool:
        if can_access is None:
            return True
        try:
            with handler_exits():  # a canAccess that calls sys.exit() denies this join only
                verdict = can_access(
                    {"groupId": subscription.group_id, "id": subscription.id}, self.auth_context
                )
                if inspect.isawaitable(verdict):
                    verdict = await verdict
        except Exception:
            return False
        return bool(verdict)

    def _parse(self, data: Any) -> Subscription | None:
        if not isinstance(data, dict):
            self.bad_message("'data' must be an object")
            return None
        stream, group, sub_id = (
            data.get("streamName"),
            data.get("groupId"),
            data.get("subscriptionId"),
        )
        item_id = data.get("id")
        if not all(isinstance(v, str) and v for v in (stream, group, sub_id)):
            self.bad_message("join needs string 'streamName', 'groupId' and 'subscriptionId'")
            return None
        if item_id is not None and not isinstance(item_id, str):
            self.bad_message("'id' must be a string")
            return None
        return Subscription(str(stream), str(group), item_id or None, str(sub_id))

    # --- frames the server sends ----------------------------------------------------

    async def _snapshot(self, subscription: Subscription) -> Frame:
        service, name, group = self._service, subscription.stream, subscription.group_id
        frame: Frame = {"timestamp": next_timestamp(), "streamName": name, "groupId": group}
        if subscription.id is None:
            items = await service.get_group(name, group)
            frame["event"] = {"type": "sync", "data": [bare_item(i) for i in items]}
        else:
            item = await service.get(name, group, subscription.id)
            frame["id"] = subscription.id
            frame["event"] = {"type": "sync", "data": None if item is None else bare_item(item)}
        return frame

    def _listen(self, stream: str, group_id: str) -> None:
        key = (stream, group_id)
        if key not in self._listening:
            self._listening[key] = self._service.hub.subscribe(stream, group_id, self._on_event)

    def _unlisten_if_unused(self, stream: str, group_id: str) -> None:
        if any(s.stream == stream and s.group_id == group_id for s in self.subscriptions.values()):
            return
        unsubscribe = self._listening.pop((stream, group_id), None)
        if unsubscribe is not None:
            unsubscribe()

    def _on_event(self, event: StreamEvent) -> None:
        # Once per connection, whatever the number of its matching subscriptions: the
        # client routes a frame to its item and group subscriptions itself.
        for s in self.subscriptions.values():
            if (
                s.stream == event.stream
                and s.group_id == event.group_id
                and (s.id is None or s.id == event.id)
            ):
                break
        else:
            return
        if not self._write_now(event.wire_bytes):
            self._enqueue(event.wire)

    def push(self, frame: Frame) -> None:
        payload = jsoncodec.dumps(frame)
        if not self._write_now(payload):
            self._enqueue(payload.decode())

    def _write_now(self, payload: bytes) -> bool:
        # Only with nothing waiting to be sent before it: frames stay in order.
        writer = self._writer
        return writer is not None and not self._sending and self._buffer.empty() and writer(payload)

    def _enqueue(self, text: str) -> None:
        try:
            self._buffer.put_nowait(text)
        except asyncio.QueueFull:
            self._resync()

    def _resync(self) -> None:
        while not self._buffer.empty():
            self._buffer.get_nowait()
        self.resyncs += 1
        self._buffer.put_nowait(RESYNC)

    async def next_frames(self) -> list[str]:
        """Wait for the next frames to send, as JSON text (a resync becomes fresh
        snapshots)."""
        return await self._frames_of(await self._buffer.get())

    async def send_buffered(self, send: Callable[[str], Awaitable[None]]) -> None:
        """Wait for the next buffered frames and send them; frames that arrive meanwhile
        wait in the buffer, behind them (a writer's sender task calls this in a loop)."""
        item = await self._buffer.get()
        self._sending = True
        try:
            for text in await self._frames_of(item):
                await send(text)
        finally:
            self._sending = False

    async def _frames_of(self, item: str | _Resync) -> list[str]:
        if isinstance(item, _Resync):
            snapshots = [await self._snapshot(s) for s in list(self.subscriptions.values())]
            return [jsoncodec.dumps_str(frame) for frame in snapshots]
        return [item]

    def bad_message(self, message: str) -> None:
        self.push(_error_frame("", "", None, BAD_MESSAGE, message))

    def _error(self, subscription: Subscription, code: str, message: str) -> None:
        self.push(
            _error_frame(subscription.stream, subscription.group_id, subscription.id, code, message)
        )

    def close(self) -> None:
        for unsubscribe in self._listening.values():
            unsubscribe()
        self._listening.clear()
        self.subscriptions.clear()


def _error_frame(stream: str, group_id: str, item_id: str | None, code: str, message: str) -> Frame:
    frame: Frame = {"timestamp": next_timestamp(), "streamName": stream, "groupId": group_id}
    if item_id is not None:
        frame["id"] = item_id
    frame["event"] = {
        "type": "event",
        "event": {"type": "error", "data": {"code": code, "message": message}},
    }
    return frame
