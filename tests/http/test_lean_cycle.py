"""The HTTP protocol's lean cycle: every request but the system routes and WebSocket
upgrades. Driven byte by byte through the real protocol (httptools parser, limits,
keep-alive, pipelining) with a transport that records what it is asked to do."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send
from uvicorn.server import ServerState

from motia.http.http_protocol import HeaderLimits, LimitedHttpProtocol, ServerConfig
from motia.http.lean_cycle import LeanCycle

App = Callable[[Scope, Receive, Send], Awaitable[None]]


class _Socket(asyncio.Transport):
    """Records writes, closing and the pausing of reads."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.reading = True
        self.protocol: Any = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.protocol is not None:
                asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading

    def get_protocol(self) -> Any:
        return self.protocol

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 3000)}.get(
            name, default
        )

    @property
    def sent(self) -> bytes:
        return b"".join(self.writes)


def _connect(app: App, keep_alive: float = 5.0) -> tuple[LimitedHttpProtocol, _Socket]:
    config = ServerConfig(
        app,
        header_limits=HeaderLimits(),
        lifespan="off",
        log_level="critical",
        access_log=False,
        proxy_headers=False,
        timeout_keep_alive=keep_alive,  # type: ignore[arg-type]
    )
    protocol = LimitedHttpProtocol(config, ServerState(), {}, asyncio.get_running_loop())
    sock = _Socket()
    sock.protocol = protocol
    protocol.connection_made(sock)
    return protocol, sock


async def _settle(protocol: LimitedHttpProtocol) -> None:
    for _ in range(20):
        await asyncio.sleep(0)
    if protocol.tasks:
        await asyncio.wait(set(protocol.tasks), timeout=5)
    await asyncio.sleep(0)


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    answer = b"%s %s %s" % (scope["method"].encode(), scope["path"].encode(), body)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", b"%d" % len(answer))],
        }
    )
    await send({"type": "http.response.body", "body": answer})


def _post(path: bytes, body: bytes, extra: bytes = b"") -> bytes:
    return b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n%s\r\n%s" % (
        path,
        len(body),
        extra,
        body,
    )


async def test_an_answer_leaves_in_one_write_and_the_cycle_is_lean() -> None:
    protocol, sock = _connect(_echo)
    protocol.data_received(_post(b"/items", b'{"a":1}'))
    assert type(protocol.cycle) is LeanCycle
    await _settle(protocol)
    assert len(sock.writes) == 1
    assert sock.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert sock.writes[0].endswith(b'\r\n\r\nPOST /items {"a":1}')
    assert not sock.closed  # kept alive


async def test_system_routes_keep_uvicorns_cycle() -> None:
    protocol, sock = _connect(_echo)
    protocol.data_received(b"GET /__motia/health HTTP/1.1\r\nHost: t\r\n\r\n")
    assert type(protocol.cycle) is not LeanCycle
    await _settle(protocol)
    assert sock.sent.endswith(b"GET /__motia/health ")


async def test_a_percent_encoded_path_is_decoded_and_its_raw_form_kept() -> None:
    seen: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await _echo(scope, receive, send)

    protocol, _ = _connect(app)
    protocol.data_received(b"GET /a%20b?x=1&y=%2F HTTP/1.1\r\nHost: t\r\n\r\n")
    await _settle(protocol)
    scope = seen[0]
    assert (scope["path"], scope["raw_path"], scope["query_string"]) == (
        "/a b",
        b"/a%20b",
        b"x=1&y=%2F",
    )
    assert scope["client"] == ("127.0.0.1", 50000) and scope["scheme"] == "http"


async def test_pipelined_requests_are_answered_in_order() -> None:
    protocol, sock = _connect(_echo)
    protocol.data_received(_post(b"/one", b"1") + _post(b"/two", b"22") + _post(b"/three", b""))
    await _settle(protocol)
    await _settle(protocol)
    text = sock.sent
    assert text.index(b"POST /one 1") < text.index(b"POST /two 22") < text.index(b"POST /three ")
    assert text.count(b"HTTP/1.1 200 OK") == 3


async def test_a_chunked_request_body_reaches_the_app_whole() -> None:
    protocol, sock = _connect(_echo)
    protocol.data_received(
        b"POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
    )
    await asyncio.sleep(0.01)
    protocol.data_received(b"2\r\nde\r\n0\r\n\r\n")
    await _settle(protocol)
    assert sock.sent.endswith(b"POST /c abcde")


async def test_a_large_body_pauses_reading_until_the_app_takes_it() -> None:
    chunks: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            chunks.append(len(message["body"]))
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    protocol, sock = _connect(app)
    size = 200_000
    protocol.data_received(b"POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size)
    protocol.data_received(b"x" * 100_000)
    assert not sock.reading  # more than the high-water mark waits in memory: reads stop
    await asyncio.sleep(0.01)
    assert sock.reading  # the app took it
    protocol.data_received(b"x" * 100_000)
    await _settle(protocol)
    assert sum(chunks) == size
    assert sock.sent.startswith(b"HTTP/1.1 204 No Content\r\n")


async def test_expect_100_continue_is_answered_when_the_app_reads_the_body() -> None:
    protocol, sock = _connect(_echo)
    protocol.data_received(
        b"POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
    )
    await asyncio.sleep(0.01)
    assert sock.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    protocol.data_received(b"ok")
    await _settle(protocol)
    assert sock.sent.endswith(b"POST /e ok")


async def test_a_failing_app_answers_500_and_closes() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("boom")

    protocol, sock = _connect(app)
    protocol.data_received(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
    await _settle(protocol)
    assert sock.sent.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert sock.sent.endswith(b"\r\n\r\nInternal Server Error")
    assert sock.closed


async def test_an_app_that_never_answers_gets_a_500() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    protocol, sock = _connect(app)
    protocol.data_received(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
    await _settle(protocol)
    assert sock.sent.startswith(b"HTTP/1.1 500 ")


async def test_a_header_value_with_a_line_break_is_refused() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"x-note", b"a\r\nset-cookie: stolen=1"), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    protocol, sock = _connect(app)
    protocol.data_received(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
    await _settle(protocol)
    assert b"stolen" not in sock.sent
    assert sock.sent.startswith(b"HTTP/1.1 500 ")


async def test_a_body_longer_than_its_content_length_is_an_error() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
        )
        await send({"type": "http.response.body", "body": b"toolong"})

    protocol, sock = _connect(app)
    protocol.data_received(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
    await _settle(protocol)
    assert b"toolong" not in sock.sent
    assert sock.closed  # the head had started: the connection is cut, not answered twice


async def test_an_answer_without_a_length_is_chunked() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"abc", "more_body": True})
        await send({"type": "http.response.body", "body": b"de"})

    protocol, sock = _connect(app)
    protocol.data_received(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
    await _settle(protocol)
    assert b"transfer-encoding: chunked\r\n" in sock.sent
    assert sock.sent.endswith(b"\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")


async def test_head_answers_keep_their_length_and_send_no_body() -> None:
    protocol, sock = _connect(_echo)
    protocol.data_received(b"HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n")
    await _settle(protocol)
    assert b"content-length: 8\r\n" in sock.sent
    assert sock.sent.endswith(b"\r\n\r\n")


async def test_http_1_0_and_connection_close_end_the_connection() -> None:
    for request in (
        b"GET /x HTTP/1.0\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    ):
        protocol, sock = _connect(_echo)
        protocol.data_received(request)
        await _settle(protocol)
        assert b"connection: close\r\n" in sock.sent
        assert sock.sent.endswith(b"GET /x ")
        assert sock.closed


async def test_a_client_that_leaves_is_told_to_a_waiting_app() -> None:
    told: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        told.append(await receive())  # the (empty) body
        told.append(await receive())  # waits: nothing more comes but the disconnect

    protocol, sock = _connect(app)
    protocol.data_received(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
    await asyncio.sleep(0.01)
    assert len(told) == 1
    protocol.connection_lost(None)
    await _settle(protocol)
    assert told[1] == {"type": "http.disconnect"}
    assert sock.writes == []  # nobody to answer


async def test_an_idle_connection_is_closed_after_the_keep_alive_timeout() -> None:
    protocol, sock = _connect(_echo, keep_alive=0.1)
    protocol.data_received(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
    await _settle(protocol)
    await asyncio.sleep(0.06)
    protocol.data_received(b"GET /y HTTP/1.1\r\nHost: t\r\n\r\n")  # used again before
    await _settle(protocol)
    await asyncio.sleep(0.07)  # the first timer is due now: the connection was used since
    assert not sock.closed
    await asyncio.sleep(0.1)
    assert sock.closed
    assert sock.sent.endswith(b"GET /y ")


async def test_a_connection_busy_with_a_slow_answer_is_not_closed_as_idle() -> None:
    release = asyncio.Event()

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/slow":
            await release.wait()
        await _echo(scope, receive, send)

    protocol, sock = _connect(slow, keep_alive=0.05)
    protocol.data_received(b"GET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
    await _settle(protocol)
    protocol.data_received(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
    await asyncio.sleep(0.15)  # three timeouts while the handler runs
    assert not sock.closed
    release.set()
    await _settle(protocol)
    assert sock.sent.endswith(b"GET /slow ")
    await asyncio.sleep(0.12)
    assert sock.closed


@pytest.mark.parametrize("chunked", [False, True])
async def test_the_body_of_a_second_request_on_the_connection_is_its_own(chunked: bool) -> None:
    protocol, sock = _connect(_echo)
    if chunked:
        first = (
            b"POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n\r\n"
        )
    else:
        first = _post(b"/a", b"A")
    protocol.data_received(first)
    await _settle(protocol)
    protocol.data_received(_post(b"/b", b"B"))
    await _settle(protocol)
    assert sock.sent.count(b"HTTP/1.1 200 OK") == 2
    assert sock.sent.endswith(b"POST /b B")


def _responder(headers: list[tuple[bytes, bytes]], body: bytes = b"hi") -> App:
    """An app answering as Motia's own answers do: through `respond` when it may."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        cycle = send.__self__  # type: ignore[attr-defined]
        sized = [*headers, (b"content-length", b"%d" % len(body))]
        if cycle.can_respond:
            cycle.respond(200, sized, body)
        else:
            await send({"type": "http.response.start", "status": 200, "headers": sized})
            await send({"type": "http.response.body", "body": body})

    return app


async def test_respond_writes_the_whole_answer_once() -> None:
    protocol, sock = _connect(_responder([(b"content-type", b"text/plain")]))
    protocol.data_received(b"GET /r HTTP/1.1\r\nHost: t\r\n\r\n")
    await _settle(protocol)
    assert sock.writes == [
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nhi"
    ]
    protocol.data_received(b"HEAD /r HTTP/1.1\r\nHost: t\r\n\r\n")  # the next one: no body
    await _settle(protocol)
    assert sock.writes[1].endswith(b"content-length: 2\r\n\r\n")
    assert not sock.closed


async def test_respond_names_connection_close_once_and_closes() -> None:
    protocol, sock = _connect(_responder([(b"connection", b"Keep-Alive, Close")]))
    protocol.data_received(b"GET /r HTTP/1.0\r\n\r\n")
    await _settle(protocol)
    assert sock.sent.lower().count(b"connection:") == 1
    assert sock.closed


async def test_a_client_that_does_not_read_gets_its_answer_after_the_socket_drains() -> None:
    protocol, sock = _connect(_responder([]))
    protocol.pause_writing()  # the transport's buffer is full: the client does not read
    protocol.data_received(b"GET /r HTTP/1.1\r\nHost: t\r\n\r\n")
    await asyncio.sleep(0.02)
    assert sock.writes == []  # `respond` was not allowed; `send` waits for the drain
    protocol.resume_writing()
    await _settle(protocol)
    assert sock.sent.endswith(b"\r\n\r\nhi")
