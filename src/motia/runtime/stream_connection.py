"""One client connection to streams (WebSocket or SSE): its subscriptions, and a bounded
buffer of frames to send, so a slow or dead client never holds up anyone else.

With a `writer` (a WebSocket served by motia.http.ws_protocol), frames go straight to the
socket as events arrive; the buffer then only holds frames the socket could not take at
once (the client is behind) and those that must wait behind them. Without one (SSE, other
ASGI servers), every frame goes through the buffer.

Drop-and-resync: when a client falls so far behind that its buffer is full (in frames),
the pending frames are dropped and a fresh `sync` of each of its subscriptions is sent
instead. The client's state is then correct again; custom events sent in the dropped window
are lost.

Bytes are budgeted too, per connection and across all of them (`BufferBudget`): a client
whose waiting frames would cost more than that is a slow consumer, and is dropped
(`on_drop`) instead of growing the server. A snapshot that cannot be written at once waits
as a marker, read from the store only when it is sent, and a subscription has at most one
snapshot waiting: joining again and again costs nothing more.
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
# Waits until the socket has passed on what it was given (or the connection is gone).
Drained = Callable[[], Awaitable[Any]]

# A snapshot at least this large that the socket took is counted until the socket has sent
# it: below, the socket's own limit (64 KiB waiting unsent) bounds what it holds.
LARGE_FRAME = 64 * 1024

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


class _Dropped:
    """Marker in the buffer: the connection was dropped; wakes whoever waits for frames."""


DROPPED = _Dropped()


@dataclass(frozen=True)
class _SnapshotDue:
    """Marker in the buffer: send a snapshot of this subscription, read when it is sent."""

    subscription_id: str


# A buffered frame: its JSON text and its size in bytes, counted against the budgets.
_Buffered = tuple[str, int]
_Item = _Buffered | _Resync | _Dropped | _SnapshotDue


class SlowConsumer(Exception):
    """The connection was dropped: its client did not read its frames in time."""


class BufferBudget:
    """Bytes of stream frames waiting for their clients, across all connections.

    Counted in O(1) per frame: a frame takes its size when it starts waiting and gives it
    back once it is sent or dropped."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, size: int) -> bool:
        if self.used + size > self.limit:
            return False
        self.used += size
        return True

    def release(self, size: int) -> None:
        self.used -= size


class StreamConnection:
    def __init__(
        self,
        service: StreamService,
        auth_context: Any,
        *,
        writer: Writer | None = None,
        drained: Drained | None = None,
        buffer_size: int = 1000,
        max_buffer_bytes: int = 4 * 1024 * 1024,
        budget: BufferBudget | None = None,
        on_drop: Callable[[str], None] | None = None,
        max_subscriptions: int = 200,
    ) -> None:
        self._service = service
        self.auth_context = auth_context
        self._writer = writer
        # The sender task holds frames taken from the buffer and not yet sent: anything
        # newer must wait behind them, in the buffer.
        self._sending = False
        # Frames wait here already encoded: an event is encoded once for all connections.
        self._buffer: asyncio.Queue[_Item] = asyncio.Queue(maxsize=buffer_size)
        # Bytes this connection holds: frames in the buffer and the one being sent.
        self._held = 0
        self._max_bytes = max_buffer_bytes
        self._budget = budget if budget is not None else BufferBudget(1 << 62)
        self._on_drop = on_drop
        self._drained = drained
        self._draining: set[asyncio.Future[Any]] = set()
        self._snapshots_due: set[str] = set()
        self._resync_due = False
        self.dropped = False
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
        await self._send_snapshot(subscription)
        return None

    async def _send_snapshot(self, subscription: Subscription) -> None:
        """Write the snapshot now if the socket takes it; otherwise it waits as a marker,
        once per subscription (a resync waiting sends every snapshot anyway)."""
        sub_id = subscription.subscription_id
        if self._resync_due or sub_id in self._snapshots_due or self.dropped:
            return
        if self._writer is not None and self._idle():
            payload = jsoncodec.dumps(await self._snapshot(subscription))
            if self._write_now(payload):
                self._count_until_sent(len(payload))
                return
            if sub_id in self._snapshots_due:  # queued while the store was read
                return
        self._snapshots_due.add(sub_id)
        try:
            self._buffer.put_nowait(_SnapshotDue(sub_id))
        except asyncio.QueueFull:
            self._snapshots_due.discard(sub_id)
            self._resync()

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
        self._service.hub.count_sent(event)
        payload = event.wire_bytes
        if not self._write_now(payload):
            self._enqueue(event.wire, len(payload))

    def push(self, frame: Frame) -> None:
        payload = jsoncodec.dumps(frame)
        if not self._write_now(payload):
            self._enqueue(payload.decode(), len(payload))

    def _idle(self) -> bool:
        return not self._sending and self._buffer.empty()

    def _write_now(self, payload: bytes) -> bool:
        # Only with nothing waiting to be sent before it: frames stay in order.
        writer = self._writer
        return writer is not None and not self._sending and self._buffer.empty() and writer(payload)

    def _enqueue(self, text: str, size: int) -> None:
        if self.dropped or not self._take(size):
            return
        try:
            self._buffer.put_nowait((text, size))
        except asyncio.QueueFull:
            self._release(size)
            self._resync()

    def _take(self, size: int) -> bool:
        """Count `size` more bytes held for the client, or drop the connection when that
        would pass its own budget or the total one. A single frame larger than the
        connection's budget may still wait alone (a large snapshot is no slow client)."""
        if self._held and self._held + size > self._max_bytes:
            self.drop(f"over its own budget of {self._max_bytes} bytes")
            return False
        if not self._budget.take(size):
            self.drop(f"over the total budget of {self._budget.limit} bytes")
            return False
        self._held += size
        return True

    def _count_until_sent(self, size: int) -> None:
        """A large snapshot the socket took still costs memory until the client reads it:
        it counts against the budgets until the socket has drained."""
        if self._drained is None or size < LARGE_FRAME or self.dropped:
            return
        if not self._take(size):
            return
        task = asyncio.ensure_future(self._drained())

        def released(done: asyncio.Future[Any]) -> None:
            # Also when cancelled (the connection closed), even before it ever ran.
            self._draining.discard(done)
            self._release(size)

        self._draining.add(task)
        task.add_done_callback(released)

    def _release(self, size: int) -> None:
        self._held -= size
        self._budget.release(size)

    def _clear_buffer(self) -> None:
        while not self._buffer.empty():
            item = self._buffer.get_nowait()
            if isinstance(item, tuple):
                self._release(item[1])
        self._snapshots_due.clear()
        self._resync_due = False

    def _resync(self) -> None:
        self._clear_buffer()
        self.resyncs += 1
        self._resync_due = True
        self._buffer.put_nowait(RESYNC)

    def drop(self, reason: str) -> None:
        """Give up on a client that does not read: free what waits for it, stop listening,
        and tell the owner (which closes the socket)."""
        if self.dropped:
            return
        self.dropped = True
        self._clear_buffer()
        self.close()
        self._buffer.put_nowait(DROPPED)  # wakes a waiting `next_frames`
        if self._on_drop is not None:
            self._on_drop(reason)

    async def next_frames(self) -> list[str]:
        """Wait for the next frames to send, as JSON text (a resync becomes fresh
        snapshots); raises SlowConsumer once the connection was dropped."""
        item = await self._buffer.get()
        if isinstance(item, tuple):
            self._release(item[1])
            return [item[0]]
        return [jsoncodec.dumps_str(await self._snapshot(s)) for s in self._due(item)]

    async def send_buffered(self, send: Callable[[str], Awaitable[None]]) -> None:
        """Wait for the next buffered frames and send them; frames that arrive meanwhile
        wait in the buffer, behind them (a writer's sender task calls this in a loop).
        A frame's bytes stay counted until `send` has taken it."""
        item = await self._buffer.get()
        self._sending = True
        try:
            if isinstance(item, tuple):
                text, size = item
                try:
                    await send(text)
                finally:
                    self._release(size)
                return
            for subscription in self._due(item):  # one snapshot in memory at a time
                payload = jsoncodec.dumps(await self._snapshot(subscription))
                if not self._take(len(payload)):
                    return
                try:
                    await send(payload.decode())
                finally:
                    self._release(len(payload))
                self._count_until_sent(len(payload))
        finally:
            self._sending = False

    def _due(self, item: _Resync | _Dropped | _SnapshotDue) -> list[Subscription]:
        """The subscriptions whose snapshot a marker asks for."""
        if isinstance(item, _Dropped):
            raise SlowConsumer("the client did not read its frames in time")
        if isinstance(item, _Resync):
            self._resync_due = False
            return list(self.subscriptions.values())
        self._snapshots_due.discard(item.subscription_id)
        subscription = self.subscriptions.get(item.subscription_id)
        return [] if subscription is None else [subscription]

    def bad_message(self, message: str) -> None:
        self.push(_error_frame("", "", None, BAD_MESSAGE, message))

    def _error(self, subscription: Subscription, code: str, message: str) -> None:
        self.push(
            _error_frame(subscription.stream, subscription.group_id, subscription.id, code, message)
        )

    def close(self) -> None:
        self._clear_buffer()  # what waited gives its bytes back to the total budget
        for task in list(self._draining):
            task.cancel()  # each gives its bytes back as it ends
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
