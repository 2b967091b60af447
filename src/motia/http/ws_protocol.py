"""uvicorn's sans-I/O WebSocket protocol, plus a synchronous write for stream fan-out.

An ASGI `websocket.send` costs, per message and per connection, a task switch, an await
and a pass through the `websockets` state machine that frames the message again. A stream
change fanned out to many connections is the same bytes for each, so the stream socket
frames it once (`TextFrames`) and writes it to every transport in one loop through
`scope["extensions"][SEND_NOW]`. Everything else (handshake, receive, ping/pong, close,
size limits) is uvicorn's, and plain ASGI works as before on the same connection.

`scope["extensions"][DRAINED]` waits until the client has read what was written (so the
stream socket knows when a large frame no longer costs memory), and
`scope["extensions"][CLOSE_NOW]` closes a connection without waiting for the client to
read: an ASGI `websocket.close` waits, like every send, until the client has caught up,
which a slow consumer never does.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, cast

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import State

SEND_NOW = "motia.websocket.send_now"
CLOSE_NOW = "motia.websocket.close_now"
DRAINED = "motia.websocket.drained"

# What `send_now` and the stream socket rely on: write flow control (uvicorn 0.52.1) and
# keepalive pings (0.44). Fail at start-up, not in the first handler that changes a stream.
if not {"resume_writing", "start_keepalive"} <= vars(WebSocketsSansIOProtocol).keys():
    raise ImportError("motia's stream socket needs uvicorn >= 0.52.1")

# `send_now(frame)`: True when written (or moot: the connection is closing); False when the
# client is behind and the frame was not written (the caller buffers it, see below).
SendNow = Callable[[bytes], bool]
# `close_now(code, reason)`: see StreamWebSocketProtocol.close_now.
CloseNow = Callable[[int, str], None]


def text_frame(payload: bytes) -> bytes:
    """A whole unmasked, unfragmented text frame (RFC 6455 section 5.2), as servers send."""
    length = len(payload)
    if length < 126:
        return bytes((0x81, length)) + payload
    if length < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, length) + payload
    return struct.pack("!BBQ", 0x81, 127, length) + payload


class TextFrames:
    """Frames each payload once for all the connections it goes to: the hub hands one
    event to all its listeners in a row, so remembering the last payload is enough."""

    def __init__(self) -> None:
        self._payload = b""
        self._frame = text_frame(b"")

    def __call__(self, payload: bytes) -> bytes:
        if payload is not self._payload:  # identity: the event's cached encoding
            self._payload, self._frame = payload, text_frame(payload)
        return self._frame


class StreamWebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The app's task only starts on the next loop turn, so the scope can still grow.
        scope = cast(dict[str, Any] | None, getattr(self, "scope", None))
        if scope is not None:  # no scope: the upgrade was refused
            extensions = scope.setdefault("extensions", {})
            extensions[SEND_NOW] = self.send_now
            extensions[CLOSE_NOW] = self.close_now
            extensions[DRAINED] = self.writable.wait  # set again once the client caught up

    def send_now(self, frame: bytes) -> bool:
        """Write a whole frame (see `text_frame`) to the transport, without awaiting.

        Refused while the transport has paused writing (its buffer went over the high-water
        mark: the client is behind), which is when an ASGI `send` would wait: the caller
        then keeps the frame and sends it through `send`, so its own bounded buffer and
        slow-client policy apply. Frames written here and through `send` reach the client
        in call order, as both write at once.
        """
        transport = self.transport
        if self.close_sent or self.conn.state is not State.OPEN or transport.is_closing():
            return True  # closing: its reader ends the connection, nothing to resend
        if not self.writable.is_set():
            return False
        transport.write(frame)
        return True

    def close_now(self, code: int, reason: str) -> None:
        """Queue a close frame behind what is still unsent and end the connection: the app
        receives `websocket.disconnect` at once; a client that reads everything gets the
        code; one that does not is cut off after the close timeout, so the unsent bytes
        and the socket are not kept for it."""
        transport = self.transport
        if self.close_sent or self.conn.state is not State.OPEN or transport.is_closing():
            return
        self.conn.send_close(code, reason)
        transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        if self.read_paused:  # the client's close frame must still be read
            self.read_paused = False
            transport.resume_reading()
        self.close_timer = self.loop.call_later(self.close_timeout, transport.abort)
