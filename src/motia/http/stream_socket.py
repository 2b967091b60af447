"""The stream WebSocket: the classic Motia protocol on any path of the API port.

Clients send `join`/`leave`; the server answers a join with a `sync` snapshot, then sends
every create/update/delete and custom event of what the client joined. A bad token closes
the socket with code 4401; a refused join gets an error event and the socket stays open.
A client that does not read its frames before they cost more than its buffer budget (or
the total one) is closed with code 4008.

Served by motia.http.ws_protocol, frames are written to the socket as events arrive
(`SEND_NOW`); under another ASGI server, they go through `send` from a sender task.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, cast

from starlette.types import Message, Receive, Scope, Send

from motia import jsoncodec
from motia.http.request import headers_dict
from motia.http.stream_auth import TOKEN_PROTOCOL, AuthenticationFailed, authenticate, token_from
from motia.http.ws_protocol import CLOSE_NOW, DRAINED, SEND_NOW, CloseNow, SendNow, TextFrames
from motia.runtime.stream_connection import BufferBudget, Drained, StreamConnection, Writer
from motia.tasks import start_task, stop_task

if TYPE_CHECKING:
    from motia.runtime.runtime import Runtime

CLOSE_AUTH_FAILED = 4401
CLOSE_SLOW_CONSUMER = 4008
SLOW_CONSUMER_REASON = "slow consumer: frames were not read in time"
MAX_FRAME_BYTES = 64 * 1024


class StreamSocketServer:
    def __init__(self, runtime: Runtime, budget: BufferBudget) -> None:
        self.runtime = runtime
        self.budget = budget
        self.connections: set[StreamConnection] = set()
        self._frames = TextFrames()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        offered: list[str] = list(scope.get("subprotocols") or [])
        headers = headers_dict(scope["headers"])
        query: bytes = scope.get("query_string", b"")
        url = scope["path"] + (f"?{query.decode('latin-1')}" if query else "")
        # Answer with a protocol the client offered (the classic clients need exactly
        # `Authorization` back), and with none when it offered none.
        accept: Message = {"type": "websocket.accept"}
        if offered:
            accept["subprotocol"] = TOKEN_PROTOCOL if TOKEN_PROTOCOL in offered else offered[0]
        try:
            auth_context = await authenticate(
                self.runtime.project.authenticate, headers, url, token_from(offered, query, headers)
            )
        except AuthenticationFailed as exc:
            await send(accept)
            await send(
                {
                    "type": "websocket.close",
                    "code": CLOSE_AUTH_FAILED,
                    "reason": "authentication failed",
                }
            )
            self.runtime.logger.warn(
                "stream client refused: authentication failed", {"error": str(exc)}
            )
            return
        await send(accept)
        extensions = scope.get("extensions") or {}
        send_now: SendNow | None = extensions.get(SEND_NOW)
        close_now: CloseNow | None = extensions.get(CLOSE_NOW)
        writer = None if send_now is None else self._writer(send_now)
        sender: asyncio.Task[None] | None = None
        closing: list[asyncio.Future[None]] = []

        def drop(reason: str) -> None:
            self.runtime.logger.warn(
                f"stream client dropped: it did not read its frames in time ({reason})",
                {"client": _client_of(scope), "code": CLOSE_SLOW_CONSUMER},
            )
            if close_now is not None:
                close_now(CLOSE_SLOW_CONSUMER, SLOW_CONSUMER_REASON)  # ends `receive` too
            elif sender is not None:  # another ASGI server: close once the sender stops
                sender.cancel()
                close = {"type": "websocket.close", "code": CLOSE_SLOW_CONSUMER}
                closing.append(asyncio.ensure_future(send(close)))

        settings = self.runtime.settings
        connection = StreamConnection(
            self.runtime.streams,
            auth_context,
            writer=writer,
            drained=cast(Drained | None, extensions.get(DRAINED)),
            max_buffer_bytes=settings.streams_client_buffer,
            budget=self.budget,
            on_drop=drop,
        )
        self.connections.add(connection)
        sender = start_task(
            self._send_frames(connection, send),
            self.runtime.logger,
            f"sending stream frames to {_client_of(scope)}",
        )
        try:
            await self._receive_frames(connection, receive)
        finally:
            self.connections.discard(connection)
            connection.close()
            await stop_task(sender)
            for close in closing:
                with contextlib.suppress(Exception):
                    await close

    async def _receive_frames(self, connection: StreamConnection, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect" or connection.dropped:
                return
            raw = message.get("text")
            if raw is None:
                raw_bytes = message.get("bytes") or b""
                raw = raw_bytes.decode("utf-8", "replace")
            if len(raw) > MAX_FRAME_BYTES:
                connection.bad_message(f"frame larger than {MAX_FRAME_BYTES} bytes")
                continue
            try:
                frame = jsoncodec.loads(raw)
            except jsoncodec.JSONDecodeError:
                connection.bad_message("frame is not JSON")
                continue
            kind = frame.get("type") if isinstance(frame, dict) else None
            if kind == "join":
                await connection.join(frame.get("data"))
            elif kind == "leave":
                connection.leave(frame.get("data"))
            else:
                connection.bad_message("'type' must be 'join' or 'leave'")

    def _writer(self, send_now: SendNow) -> Writer:
        frames = self._frames
        return lambda payload: send_now(frames(payload))

    async def _send_frames(self, connection: StreamConnection, send: Send) -> None:
        async def send_text(text: str) -> None:
            await send({"type": "websocket.send", "text": text})

        try:
            while True:
                await connection.send_buffered(send_text)
        except OSError:
            return  # the client went away
        except RuntimeError:
            if connection.dropped:
                return  # closed by the server (a slow consumer): nothing more may be sent
            raise


def _client_of(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "unknown"
