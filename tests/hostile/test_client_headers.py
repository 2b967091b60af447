"""Request headers from a hostile client, on raw sockets against a real server: too large
or too many get 431 before the app sees them, and a client that sends its headers slowly
(slowloris) is disconnected after `http.headerTimeout`. The trailers of a chunked body
count against the same limits, bytes still unparsed included."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator

import pytest
from websockets.sync.client import connect as ws_connect

from tests.conftest import ServerProcess, start_server, write_project

pytestmark = pytest.mark.slow

STEPS = {
    "config.yml": """
        http:
          maxHeaderSize: 16kib
          maxHeaders: 50
          headerTimeout: 2
    """,
    "steps/hello_step.py": """
        config = {"type": "api", "name": "Hello", "method": "GET", "path": "/hello", "emits": []}

        async def handler(req, ctx):
            return {"status": 200, "body": {"headers": len(req["headers"])}}
    """,
    "steps/feed_stream.py": """
        config = {"name": "feed", "schema": {"type": "object"},
                  "baseConfig": {"storageType": "default"}}
    """,
    "steps/post_step.py": """
        config = {"type": "api", "name": "Post", "method": "POST", "path": "/feed/:id", "emits": []}

        async def handler(req, ctx):
            item = await ctx.streams.feed.set("g", req["pathParams"]["id"], req["body"])
            return {"status": 200, "body": item}
    """,
    "steps/echo_step.py": """
        config = {"type": "api", "name": "Echo", "method": "POST", "path": "/echo", "emits": []}

        async def handler(req, ctx):
            return {"status": 200, "body": {"headers": sorted(req["headers"]),
                                            "body": req["body"]}}
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("headers")
    process = start_server(write_project(root / "project", STEPS), "start", log_dir=root)
    try:
        yield process
    finally:
        process.stop()


def connect(server: ServerProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def read_answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def send_all_tolerating_reset(sock: socket.socket, data: bytes) -> None:
    """The server may close before the client has sent everything: that is the point."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(data)


def test_a_header_over_the_limit_gets_431_and_the_server_goes_on(server: ServerProcess) -> None:
    # 100 MB would take the server seconds to collect; it answers after 16 KiB and a chunk.
    with connect(server) as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        chunk = b"a" * 65536
        try:
            while sent < 100 * 1024 * 1024:
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_answer(sock)
    assert status_of(answer) == 431, answer[:200]
    assert b"larger than 16384 bytes" in answer
    assert sent < 10 * 1024 * 1024  # refused long before the 100 MB were sent
    assert server.client.get("/hello").status_code == 200


def test_a_long_request_line_counts_too(server: ServerProcess) -> None:
    with connect(server) as sock:
        send_all_tolerating_reset(sock, b"GET /hello?q=" + b"a" * 40_000 + b" HTTP/1.1\r\n\r\n")
        answer = read_answer(sock)
    assert status_of(answer) == 431


def test_too_many_headers_get_431(server: ServerProcess) -> None:
    lines = b"".join(b"X-H%d: v\r\n" % n for n in range(60))
    with connect(server) as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n")
        answer = read_answer(sock)
    assert status_of(answer) == 431
    assert b"More than 50 request headers" in answer


def test_headers_within_the_limits_and_large_bodies_are_served(server: ServerProcess) -> None:
    lines = b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 200) for n in range(45))
    with connect(server) as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + lines + b"\r\n")
        answer = read_answer(sock)
    assert status_of(answer) == 200
    assert b'"headers":47' in answer
    # A body far larger than the header limit, in the same packets as the headers, is a body.
    body = b"x" * 300_000
    response = server.client.post("/hello", content=body)
    assert response.status_code == 405  # reached the router: GET only


def test_keep_alive_requests_each_get_their_own_header_budget(server: ServerProcess) -> None:
    request = b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 10_000 + b"\r\n\r\n"
    with connect(server) as sock:
        for _ in range(5):  # 50 KB of headers over the connection, 10 KB per request
            sock.sendall(request)
            answer = b""
            while not answer.endswith(b"}"):
                answer += sock.recv(65536)
            assert status_of(answer) == 200
        # The next request on the same connection stalls in its headers: 408 after 2 s.
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        answer = read_answer(sock)
        assert status_of(answer) == 408
        assert b"not received within 2 s" in answer
        assert 1.5 < time.monotonic() - started < 9


def test_slowloris_connections_are_closed_after_the_header_timeout(
    server: ServerProcess,
) -> None:
    # 200 half-open connections, each sending one header byte every half second.
    sockets = [connect(server) for _ in range(200)]
    try:
        for sock in sockets:
            sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        open_sockets = list(sockets)
        answers: list[bytes] = []
        while open_sockets and time.monotonic() - started < 20:
            still_open = []
            for sock in open_sockets:
                try:
                    sock.sendall(b"X")
                    still_open.append(sock)
                except (BrokenPipeError, ConnectionResetError):
                    answers.append(b"")
            open_sockets = still_open
            time.sleep(0.5)
        assert not open_sockets, f"{len(open_sockets)} slow connections were kept open"
        for sock in sockets[:5]:
            sock.settimeout(5)
            try:
                answer = read_answer(sock)
            except ConnectionResetError:
                continue
            if answer:
                assert status_of(answer) == 408
        # Meanwhile and afterwards, ordinary requests are served.
        assert server.client.get("/hello").status_code == 200
    finally:
        for sock in sockets:
            sock.close()


def test_a_connection_that_sends_nothing_is_closed(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.settimeout(10)
        started = time.monotonic()
        assert sock.recv(100) == b""  # closed by the server, without an answer
        assert time.monotonic() - started < 9


CHUNKED_HEAD = (
    b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    b'8\r\n{"a": 1}\r\n0\r\n'  # one chunk, then the last chunk: trailers follow
)


def test_trailers_within_the_limits_are_read_and_not_taken_for_headers(
    server: ServerProcess,
) -> None:
    with connect(server) as sock:
        sock.sendall(CHUNKED_HEAD + b"X-Checksum: abc\r\nAuthorization: Bearer sneaked\r\n\r\n")
        answer = read_answer(sock)
    assert status_of(answer) == 200, answer
    body = answer.split(b"\r\n\r\n", 1)[1]
    assert b'"body":{"a":1}' in body
    # A trailer is not a header: it cannot add (or override) one after the fact.
    assert b"x-checksum" not in body and b"authorization" not in body


def test_too_many_trailers_get_431(server: ServerProcess) -> None:
    trailers = b"".join(b"X-T%d: v\r\n" % n for n in range(60))
    with connect(server) as sock:
        send_all_tolerating_reset(sock, CHUNKED_HEAD + trailers + b"\r\n")
        answer = read_answer(sock)
    assert status_of(answer) == 431, answer
    assert b"More than 50 request headers" in answer
    assert server.client.get("/hello").status_code == 200


def test_trailers_and_headers_share_the_size_limit(server: ServerProcess) -> None:
    # 10 KB of headers and 10 KB of trailers: each fits, together they do not.
    head = CHUNKED_HEAD.replace(b"Host: x\r\n", b"Host: x\r\nX-Pad: " + b"p" * 10_000 + b"\r\n")
    with connect(server) as sock:
        send_all_tolerating_reset(sock, head + b"X-Big: " + b"t" * 10_000 + b"\r\n\r\n")
        answer = read_answer(sock)
    assert status_of(answer) == 431, answer
    assert b"larger than 16384 bytes" in answer


def test_an_unterminated_trailer_sent_slowly_gets_431(server: ServerProcess) -> None:
    # The parser keeps collecting a trailer that never ends: what it holds counts.
    with connect(server) as sock:
        sock.sendall(CHUNKED_HEAD + b"X-Slow: ")
        sent = 0
        try:
            while sent < 1024 * 1024:
                sock.sendall(b"s" * 1024)
                sent += 1024
                time.sleep(0.002)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_answer(sock)
    assert status_of(answer) == 431, answer[:200]
    assert b"larger than 16384 bytes" in answer
    assert sent < 256 * 1024  # refused soon after the limit, not after the megabyte
    assert server.client.get("/hello").status_code == 200


def test_a_slow_chunked_body_larger_than_the_limit_is_still_a_body(server: ServerProcess) -> None:
    # Chunk sizes and data in separate packets, 64 KB in all: none of it is a trailer.
    head = CHUNKED_HEAD.split(b"8\r\n")[0]
    with connect(server) as sock:
        sock.sendall(head + b'1\r\n"\r\n')
        for _ in range(16):
            sock.sendall(b"1000\r\n")
            time.sleep(0.005)
            sock.sendall(b"b" * 4096)
            time.sleep(0.005)
            sock.sendall(b"\r\n")
        sock.sendall(b'1\r\n"\r\n0\r\n\r\n')
        answer = read_answer(sock)
    assert status_of(answer) == 200, answer[:300]
    assert b'"body":"' + b"b" * 100 in answer


def test_a_websocket_outlives_the_header_timeout(server: ServerProcess) -> None:
    """The header timer belongs to the HTTP request that asked for the upgrade: the stream
    connection it became stays open and keeps receiving after `http.headerTimeout`."""
    join = {"type": "join", "data": {"streamName": "feed", "groupId": "g", "subscriptionId": "s"}}
    with ws_connect(f"ws://127.0.0.1:{server.port}/", open_timeout=10) as ws:
        ws.send(json.dumps(join))
        ws.recv(timeout=10)  # the snapshot
        time.sleep(3.5)  # past the 2 s header timeout
        response = server.client.post("/feed/late", json={"n": 1})
        assert response.status_code == 200, response.text
        event = json.loads(ws.recv(timeout=10))
        assert event["event"]["data"]["id"] == "late", event
