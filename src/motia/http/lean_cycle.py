"""One request and its answer, as the app sees it through ASGI, for every request but the
system routes and WebSocket upgrades.

The same interface and the same rules as uvicorn's cycle (flow control both ways,
`100 Continue`, pipelining, `HEAD`, chunked or sized bodies, header checks, a 500 when the
app fails before answering), with less per request: no `asyncio.Event` (a future only
while the app waits for body or disconnect), no copy of a body that came whole, the
status line and headers held until the body follows so the answer leaves in one write.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Scope
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import HEADER_RE, HEADER_VALUE_RE, STATUS_LINE

if TYPE_CHECKING:
    from motia.http.http_protocol import LimitedHttpProtocol

_logger = logging.getLogger("uvicorn.error")
_DISCONNECT: Message = {"type": "http.disconnect"}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_NO_BODY = (204, 304)


class LeanCycle:
    __slots__ = (
        "_end_delivered",
        "_expected_length",
        "_head",
        "_protocol",
        "_waiter",
        "body",
        "chunked",
        "disconnected",
        "keep_alive",
        "more_body",
        "response_complete",
        "response_started",
        "scope",
        "waiting_for_100_continue",
    )

    def __init__(
        self, protocol: LimitedHttpProtocol, scope: Scope, keep_alive: bool, expect_100: bool
    ) -> None:
        self._protocol = protocol
        self.scope = scope
        self.keep_alive = keep_alive
        self.waiting_for_100_continue = expect_100
        self.disconnected = False
        self.body = b""  # received, not yet handed to the app
        self.more_body = True  # the parser has not seen the request's end
        self._end_delivered = False
        self._waiter: asyncio.Future[None] | None = None
        self.response_started = False
        self.response_complete = False
        self.chunked = False
        self._expected_length = 0
        self._head: bytes | None = None  # status line and headers, until the body follows

    # What the protocol tells the cycle. `message_event.set()` is how uvicorn's own
    # protocol code wakes a cycle (on disconnect): the cycle answers to that name too.
    @property
    def message_event(self) -> LeanCycle:
        return self

    def set(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def body_received(self, chunk: bytes) -> None:
        if self.response_complete:
            return
        self.body = self.body + chunk if self.body else chunk
        if len(self.body) > HIGH_WATER_LIMIT:
            self._protocol.flow.pause_reading()
        self.set()

    def request_complete(self) -> None:
        if self.response_complete:
            return
        self.more_body = False
        self.set()

    # The app's side.
    async def run(self, app: ASGIApp) -> None:
        try:
            await app(self.scope, self.receive, self.send)
        except BaseException as exc:
            _logger.error("Exception in ASGI application\n", exc_info=exc)
            if not self.response_started:
                await self._send_500()
            else:
                self._protocol.transport.close()
        else:
            if not self.response_started and not self.disconnected:
                _logger.error("ASGI callable returned without starting response.")
                await self._send_500()
            elif not self.response_complete and not self.disconnected:
                _logger.error("ASGI callable returned without completing response.")
                self._release_head()
                self._protocol.transport.close()

    async def receive(self) -> Message:
        transport = self._protocol.transport
        if self.waiting_for_100_continue and not transport.is_closing():
            transport.write(_CONTINUE)
            self.waiting_for_100_continue = False
        while not self.disconnected and not self.response_complete:
            if self.body or (not self.more_body and not self._end_delivered):
                body, self.body = self.body, b""
                if not self.more_body:
                    self._end_delivered = True
                self._protocol.flow.resume_reading()
                return {"type": "http.request", "body": body, "more_body": self.more_body}
            # Nothing to hand over: wait for more of the body, or (once all of it was
            # read) for the client to leave or the answer to finish.
            self._protocol.flow.resume_reading()
            self._waiter = self._protocol.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return _DISCONNECT

    async def send(self, message: Message) -> None:
        protocol = self._protocol
        if protocol.flow.write_paused and not self.disconnected:
            await protocol.flow.drain()
        if self.disconnected:
            return
        if not self.response_started:
            if message["type"] != "http.response.start":
                raise RuntimeError(
                    f"Expected ASGI message 'http.response.start', but got '{message['type']}'."
                )
            self._start(message["status"], message.get("headers", ()))
        elif not self.response_complete:
            if message["type"] != "http.response.body":
                raise RuntimeError(
                    f"Expected ASGI message 'http.response.body', but got '{message['type']}'."
                )
            self._body(message.get("body", b""), message.get("more_body", False))
        else:
            raise RuntimeError(
                f"Unexpected ASGI message '{message['type']}' sent, after response already "
                "completed."
            )

    @property
    def can_respond(self) -> bool:
        """`respond` may be used: nothing sent yet, the client is there and reading."""
        return not (self.response_started or self.disconnected or self._protocol.flow.write_paused)

    def respond(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """The whole answer in one call, for the app's own answers: its headers are
        lower-case and already checked (`motia.http.response`), `content-length` among
        them when the status has a body, so none of `send`'s checks apply. Only when
        `can_respond`: a client that does not read gets its answers through `send`, which
        waits for the socket to drain."""
        if not self.can_respond:
            raise RuntimeError("respond() after the answer began, the client left or stalled")
        protocol = self._protocol
        parts = self._head_start(status)
        closing = False
        for name, value in headers:
            if name == b"connection" and b"close" in _tokens(value):
                self.keep_alive = False
                closing = True
            parts += (name, b": ", value, b"\r\n")
        if not self.keep_alive and not closing:
            parts.append(b"connection: close\r\n")
        parts.append(b"\r\n")
        if self.scope["method"] != "HEAD":
            parts.append(body)
        self.response_started = True
        self.waiting_for_100_continue = False
        self.response_complete = True
        transport = protocol.transport
        transport.write(b"".join(parts))
        self.set()
        if not self.keep_alive:
            transport.close()
        protocol.on_response_complete()

    def _head_start(self, status: int) -> list[bytes]:
        """The status line and the server's default headers (logged as it goes out)."""
        protocol = self._protocol
        if protocol.access_log:
            protocol.log_access(self.scope, status)
        parts = [STATUS_LINE[status]]
        for name, value in protocol.server_state.default_headers:
            parts += (name, b": ", value, b"\r\n")
        return parts

    def _start(self, status: int, headers: Any) -> None:
        """Builds the head, held for the body; started only once it is valid, so a bad
        header gets the client a 500 rather than a cut connection."""
        parts = self._head_start(status)
        chunked: bool | None = None  # None: neither a length nor chunked named yet
        closing = False
        for name, value in headers:
            if HEADER_RE.search(name):
                raise RuntimeError("Invalid HTTP header name.")
            if HEADER_VALUE_RE.search(value):
                raise RuntimeError("Invalid HTTP header value.")
            name = name.lower()
            if name == b"content-length" and chunked is None:
                self._expected_length = int(value.decode())
                chunked = False
            elif name == b"transfer-encoding" and value.lower() == b"chunked":
                self._expected_length = 0
                chunked = True
            elif name == b"connection" and b"close" in _tokens(value):
                self.keep_alive = False
                closing = True
            parts += (name, b": ", value, b"\r\n")
        if not self.keep_alive and not closing:
            parts.append(b"connection: close\r\n")
        if chunked is None and self.scope["method"] != "HEAD" and status not in _NO_BODY:
            chunked = True
            parts.append(b"transfer-encoding: chunked\r\n")
        self.chunked = bool(chunked)
        self.response_started = True
        self.waiting_for_100_continue = False
        parts.append(b"\r\n")
        self._head = b"".join(parts)

    def _body(self, body: bytes, more_body: bool) -> None:
        if self.scope["method"] == "HEAD":
            self._expected_length = 0
            out = b""
        elif self.chunked:
            out = b"%x\r\n%b\r\n" % (len(body), body) if body else b""
            if not more_body:
                out += b"0\r\n\r\n"
        else:
            if len(body) > self._expected_length:
                raise RuntimeError("Response content longer than Content-Length")
            self._expected_length -= len(body)
            out = body
        head, self._head = self._head, None
        transport = self._protocol.transport
        if head is not None:
            transport.write(head + out)
        elif out:
            transport.write(out)
        if not more_body:
            if self._expected_length != 0:
                raise RuntimeError("Response content shorter than Content-Length")
            self.response_complete = True
            self.set()
            if not self.keep_alive:
                transport.close()
            self._protocol.on_response_complete()

    def _release_head(self) -> None:
        head, self._head = self._head, None
        if head is not None and not self._protocol.transport.is_closing():
            self._protocol.transport.write(head)

    async def _send_500(self) -> None:
        await self.send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", b"21"),
                    (b"connection", b"close"),
                ],
            }
        )
        await self.send({"type": "http.response.body", "body": b"Internal Server Error"})


def _tokens(value: bytes) -> list[bytes]:
    return [token.lower().strip() for token in value.split(b",")]
