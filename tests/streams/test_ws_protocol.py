"""motia.http.ws_protocol under a real uvicorn server (in a thread), with real clients: the
`websockets` client, and raw sockets where a client must misbehave (stop reading, ignore
pings). The apps are small ASGI apps that use `SEND_NOW` next to plain ASGI."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import pickle
import socket
import struct
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from motia.cli.serve import _config
from motia.http.ws_protocol import SEND_NOW, StreamWebSocketProtocol, text_frame
from motia.settings import load_settings
from tests.conftest import ServerProcess, free_port, until, write_project
from tests.streams.conftest import STREAM_PROJECT, set_call, stream_ops, ws_url

# Each test is bounded: the default bound of async tests is longer.
pytestmark = pytest.mark.async_timeout(20)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
SendNow = Callable[[bytes], bool]

TEXT, CLOSE, PING = 0x1, 0x8, 0x9


@contextmanager
def serving(app: App, **options: Any) -> Iterator[int]:
    """A uvicorn server with the stream protocol on a free port, in a thread."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ws=StreamWebSocketProtocol,
        ws_per_message_deflate=False,
        lifespan="off",
        log_level="warning",
        **options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


async def accept(scope: Scope, receive: Receive, send: Send) -> SendNow:
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    send_now: SendNow = scope["extensions"][SEND_NOW]
    return send_now


class RawSocket:
    """A WebSocket client on a bare socket, which does only what a test tells it to."""

    def __init__(self, port: int, receive_buffer: int | None = None) -> None:
        self.sock = socket.socket()
        if receive_buffer is not None:  # before connecting, so the window stays small
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        self.pending = b""

    def handshake(self, headers: str | None = None) -> bytes:
        """Send an upgrade request; returns the response head."""
        if headers is None:
            key = base64.b64encode(os.urandom(16)).decode()
            headers = f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        self.sock.sendall(
            b"GET / HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + headers.encode()
            + b"\r\n"
        )
        while b"\r\n\r\n" not in self.pending:
            self._read()
        head, self.pending = self.pending.split(b"\r\n\r\n", 1)
        return head

    def send_text(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        assert len(payload) < 126
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes((0x81, 0x80 | len(payload))) + mask + masked)

    def frame(self) -> tuple[int, bytes]:
        """The next frame from the server: (opcode, payload)."""
        self._need(2)
        opcode, length = self.pending[0] & 0x0F, self.pending[1] & 0x7F
        header = 2
        if length == 126:
            self._need(4)
            (length,) = struct.unpack("!H", self.pending[2:4])
            header = 4
        elif length == 127:
            self._need(10)
            (length,) = struct.unpack("!Q", self.pending[2:10])
            header = 10
        self._need(header + length)
        payload = self.pending[header : header + length]
        self.pending = self.pending[header + length :]
        return opcode, payload

    def at_eof(self) -> bool:
        return not self.pending and self.sock.recv(1) == b""

    def _need(self, size: int) -> None:
        while len(self.pending) < size:
            self._read()

    def _read(self) -> None:
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("the server closed the connection")
        self.pending += chunk

    def close(self) -> None:
        self.sock.close()


# --- writing frames -------------------------------------------------------------------------


def test_frame_header_forms() -> None:
    assert text_frame(b"") == b"\x81\x00"
    assert text_frame(b"x" * 125)[:2] == b"\x81\x7d"
    assert text_frame(b"x" * 126)[:4] == b"\x81\x7e\x00\x7e"
    assert text_frame(b"x" * 65535)[:4] == b"\x81\x7e\xff\xff"
    assert text_frame(b"x" * 65536)[:10] == b"\x81\x7f" + struct.pack("!Q", 65536)


SIZES = [0, 1, 125, 126, 65535, 65536, 200_000]  # each side of the three header forms


async def test_frames_of_every_length_arrive_intact_in_order_with_asgi_sends_and_http() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":  # plain HTTP on the same port is untouched
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"plain"})
            return
        send_now = await accept(scope, receive, send)
        await receive()  # the client is ready
        for size in SIZES:
            assert send_now(text_frame(b"x" * size))
        assert send_now(text_frame("first é".encode()))
        await send({"type": "websocket.send", "text": "second"})
        assert send_now(text_frame(b"third"))
        await receive()

    with serving(app) as port:
        async with connect(f"ws://127.0.0.1:{port}/", max_size=None) as ws:
            await ws.send("go")
            for size in SIZES:
                assert await ws.recv() == "x" * size  # str: a text frame
            assert [await ws.recv() for _ in range(3)] == ["first é", "second", "third"]
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{port}/")).text == "plain"


def test_send_now_refuses_while_the_client_is_behind_and_resumes_once_it_reads() -> None:
    frame = text_frame(b"x" * 65536)
    seen: dict[str, Any] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        send_now = await accept(scope, receive, send)
        await receive()  # "go"
        accepted = 0
        while accepted < 2000 and send_now(frame):  # the client reads nothing meanwhile
            accepted += 1
        seen["accepted"] = accepted
        # ASGI `send` waits for the client to catch up, then `send_now` writes again.
        await send({"type": "websocket.send", "text": "drained"})
        seen["after"] = send_now(text_frame(b"again"))
        await receive()

    with serving(app) as port:
        client = RawSocket(port, receive_buffer=8192)
        try:
            assert b" 101 " in client.handshake()
            client.send_text("go")
            deadline = time.monotonic() + 10
            while "accepted" not in seen and time.monotonic() < deadline:
                time.sleep(0.01)
            accepted = seen["accepted"]
            assert 0 < accepted < 2000, "send_now never refused a client that does not read"
            for _ in range(accepted):  # everything accepted arrives, whole and in order
                assert client.frame() == (TEXT, b"x" * 65536)
            assert client.frame() == (TEXT, b"drained")
            assert client.frame() == (TEXT, b"again")
            assert seen["after"] is True
        finally:
            client.close()


# --- keepalive, limits and closing ----------------------------------------------------------


async def test_pings_close_a_silent_peer_and_keep_an_answering_one() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        send_now = await accept(scope, receive, send)
        while (await receive())["type"] != "websocket.disconnect":
            send_now(text_frame(b"still here"))

    with serving(app, ws_ping_interval=0.2, ws_ping_timeout=0.5) as port:
        silent = RawSocket(port)
        try:
            assert b" 101 " in silent.handshake()
            opcode, _ = silent.frame()
            assert opcode == PING
            opcode, payload = silent.frame()  # no pong: the server gives up on the peer
            assert opcode == CLOSE and struct.unpack("!H", payload[:2])[0] == 1011
            assert silent.at_eof()
        finally:
            silent.close()
        # The `websockets` client answers pings by itself; it sends none of its own here.
        async with connect(f"ws://127.0.0.1:{port}/", ping_interval=None) as ws:
            await asyncio.sleep(1.5)  # several ping intervals and timeouts
            await ws.send("are you there?")
            assert await ws.recv() == "still here"
            await asyncio.wait_for(await ws.ping(), 5)  # the server answers pings too


async def test_oversized_message_closes_with_1009_and_send_now_after_close_is_harmless() -> None:
    seen: dict[str, Any] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        send_now = await accept(scope, receive, send)
        message = await receive()
        seen["code"] = message.get("code")
        seen["after"] = send_now(text_frame(b"too late"))

    with serving(app, ws_max_size=1024) as port:
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            await ws.send("x" * 2048)
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        await until(lambda: "after" in seen, what="the app's send_now after the close")
    assert seen == {"code": 1009, "after": True}


def test_app_close_code_reaches_the_client_and_later_send_now_writes_nothing() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        send_now = await accept(scope, receive, send)
        await send({"type": "websocket.close", "code": 4401, "reason": "authentication failed"})
        assert send_now(text_frame(b"after close")) is True  # moot, not an error

    with serving(app) as port:
        client = RawSocket(port)
        try:
            assert b" 101 " in client.handshake()
            opcode, payload = client.frame()
            assert opcode == CLOSE
            assert struct.unpack("!H", payload[:2])[0] == 4401
            assert payload[2:] == b"authentication failed"
            client.sock.settimeout(0.5)
            with pytest.raises((TimeoutError, EOFError)):
                client.frame()  # and nothing after the close frame
        finally:
            client.close()


async def test_refused_upgrade_gets_an_http_error_and_the_server_goes_on() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        send_now = await accept(scope, receive, send)
        send_now(text_frame(b"hello"))
        await receive()

    with serving(app) as port:
        bad = RawSocket(port)
        try:
            head = bad.handshake("Sec-WebSocket-Version: 13\r\n")  # no key
            assert head.startswith(b"HTTP/1.1 400")
        finally:
            bad.close()
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            assert await ws.recv() == "hello"


# --- motia dev, motia start, --workers ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["dev", "start"])
def test_motia_serves_websockets_with_this_protocol_in_every_mode(
    tmp_path: Path, mode: str
) -> None:
    settings = load_settings(tmp_path, mode, environ={})  # type: ignore[arg-type]
    # `--workers` passes an import string for the app, and the config to each worker process.
    for app in ("motia.cli.serve:worker_app", object()):
        config = _config(settings, app)
        assert config.ws is StreamWebSocketProtocol and not config.ws_per_message_deflate
    copied = pickle.loads(pickle.dumps(_config(settings, "motia.cli.serve:worker_app")))
    assert copied.ws is StreamWebSocketProtocol


@pytest.mark.slow
async def test_motia_dev_fans_out_through_the_socket(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:

    server = server_factory(write_project(tmp_path / "project", STREAM_PROJECT), "dev")

    async with connect(ws_url(server), open_timeout=5) as ws:
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
        join = {"streamName": "scores", "groupId": "dev", "subscriptionId": "s"}
        await ws.send(json.dumps({"type": "join", "data": join}))
        assert json.loads(await ws.recv())["event"]["type"] == "sync"
        await asyncio.to_thread(stream_ops, server, set_call("scores", "dev", "a", {"n": 1}))
        frame = json.loads(await ws.recv())
        assert frame["event"] == {"type": "create", "data": {"n": 1, "id": "a"}}
