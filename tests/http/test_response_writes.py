"""A response leaves in one write (head and body together), and nothing that depends on
the head going out first waits for a body: pipelined requests, `Expect: 100-continue`,
`Connection: close`, HEAD and streamed bodies, against a real server over raw sockets."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from motia.http.http_protocol import JoinedWrites
from tests.conftest import ServerProcess
from tests.http.support import module_server

STEPS = {
    "steps/echo_step.py": """
        config = {"type": "api", "name": "Echo", "method": "POST", "path": "/echo", "emits": []}

        async def handler(req, ctx):
            return {"status": 201, "body": {"got": req["body"]}}
    """,
    "steps/hello_step.py": """
        config = {"type": "api", "name": "Hello", "method": "GET", "path": "/hello", "emits": []}

        async def handler(req, ctx):
            return {"status": 200, "body": {"hello": "world"}}
    """,
}


class _Recording(asyncio.Transport):
    """Stands in for the socket: records each write the cycle's transport makes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


async def test_head_and_body_leave_in_one_write() -> None:
    transport = _Recording()
    joined = JoinedWrites(transport, asyncio.get_running_loop())
    joined.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    assert transport.writes == []  # held until the body follows
    joined.write(b"ok")
    assert transport.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    joined.write(b"more")  # later writes pass straight through
    assert transport.writes[-1] == b"more"
    await asyncio.sleep(0)  # the scheduled flush finds nothing held: no empty write
    assert len(transport.writes) == 2


async def test_a_head_without_a_body_yet_goes_out_at_the_next_loop_turn() -> None:
    transport = _Recording()
    joined = JoinedWrites(transport, asyncio.get_running_loop())
    joined.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    await asyncio.sleep(0)
    assert transport.writes == [b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"]
    joined.write(b"5\r\nhello\r\n")
    assert transport.writes[-1] == b"5\r\nhello\r\n"


async def test_closing_sends_what_is_held_first() -> None:
    transport = _Recording()
    joined = JoinedWrites(transport, asyncio.get_running_loop())
    joined.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    joined.close()
    assert transport.writes == [b"HTTP/1.1 204 No Content\r\n\r\n"]
    assert transport.closed and joined.is_closing()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "response_writes", STEPS) as running:
        yield running


def _connect(server: ServerProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _read_until(sock: socket.socket, done: bytes, count: int = 1) -> bytes:
    data = b""
    deadline = time.monotonic() + 10
    while data.count(done) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"no complete answer within 10 s: {data!r}")
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _post(body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)
    )


@pytest.mark.slow
def test_pipelined_requests_are_answered_in_order(server: ServerProcess) -> None:
    with _connect(server) as sock:
        sock.sendall(_post(b'{"n":1}') + _post(b'{"n":2}') + _post(b'{"n":3}'))
        data = _read_until(sock, b"}}", count=3)
    answers = data.split(b"HTTP/1.1 ")[1:]
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"201 Created"] * 3
    assert [a.rsplit(b"\r\n\r\n", 1)[1] for a in answers] == [
        b'{"got":{"n":1}}',
        b'{"got":{"n":2}}',
        b'{"got":{"n":3}}',
    ]


@pytest.mark.slow
def test_expect_100_continue_gets_its_interim_answer_before_the_body_is_sent(
    server: ServerProcess,
) -> None:
    body = b'{"n":100}'
    with _connect(server) as sock:
        head = _post(body, b"Expect: 100-continue\r\n")[: -len(body)]
        sock.sendall(head)
        interim = _read_until(sock, b"\r\n\r\n")
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n")
        sock.sendall(body)
        answer = _read_until(sock, b"}}")
    assert b"HTTP/1.1 201 Created" in answer
    assert answer.endswith(b'{"got":{"n":100}}')


@pytest.mark.slow
def test_connection_close_gets_the_whole_answer_then_the_close(server: ServerProcess) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):  # until the server closes
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert data.endswith(b'{"hello":"world"}')


@pytest.mark.slow
def test_head_answers_carry_no_body(server: ServerProcess) -> None:
    with _connect(server) as sock:
        sock.sendall(
            b"HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
        )
        data = _read_until(sock, b"}")
    head, rest = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK") and b"content-length: 17" in head.lower()
    assert rest.startswith(b"HTTP/1.1 200 OK")  # the next answer, not a body
    assert rest.endswith(b'{"hello":"world"}')
