"""Stream clients that join and go away, hundreds of times, on raw sockets against a real
server: WebSocket clients that drop the connection without a close frame, and SSE
clients that hang up after their snapshot. Each one's subscription is released (no
listener is left in the hub, as the workbench counts them) and the server's memory does
not grow with the number of clients that came and went."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import ServerProcess, start_server, wait_for, write_project
from tests.hostile._handler_support import CONFIG, TOKEN
from tests.hostile.test_client_stream_buffers import RawSocket, rss_mib

pytestmark = pytest.mark.slow

CYCLES, WARM_UP = 500, 100
GROUPS = 10

PROJECT = {
    "config.yml": CONFIG,
    "steps/live_stream.py": """
        config = {"name": "live", "baseConfig": {"storageType": "default"}}
    """,
    "steps/put_step.py": """
        config = {"type": "api", "name": "Put", "method": "POST", "path": "/put/:group",
                  "emits": []}

        async def handler(req, ctx):
            group = req["pathParams"]["group"]
            await ctx.streams.live.set(group, "item", {"pad": "x" * 2000})
            return {"status": 200, "body": {}}
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("stream-disconnect")
    process = start_server(write_project(root / "project", PROJECT), "start", log_dir=root)
    try:
        for group in range(GROUPS):
            assert process.client.post(f"/put/g{group}").status_code == 200
        yield process
    finally:
        process.stop()


def subscribers(server: ServerProcess) -> int:
    answer = server.client.get("/__motia/api/streams", headers={"authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    (live,) = [item for item in answer.json()["items"] if item["name"] == "live"]
    count: int = live["subscribers"]
    return count


def websocket_cycle(server: ServerProcess, n: int) -> None:
    client = RawSocket(server.port)
    try:
        data = {"streamName": "live", "groupId": f"g{n % GROUPS}", "subscriptionId": f"s{n}"}
        client.send_text(json.dumps({"type": "join", "data": data}))
        while b'"sync"' not in client.pending:  # the snapshot: the join was served
            chunk = client.sock.recv(65536)
            assert chunk, "closed before the snapshot"
            client.pending += chunk
        if n % 2:  # half of them leave first; the others just vanish
            client.send_text(json.dumps({"type": "leave", "data": data}))
    finally:
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        client.close()  # a reset, no close frame


def sse_cycle(server: ServerProcess, n: int) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            f"GET /__motia/streams/live/g{n % GROUPS} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        )
        received = b""
        while b"data: " not in received:
            chunk = sock.recv(65536)
            assert chunk, "closed before the snapshot"
            received += chunk
        assert received.startswith(b"HTTP/1.1 200"), received[:200]
        if n % 2:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")


@pytest.mark.parametrize("cycle", [websocket_cycle, sse_cycle], ids=["websocket", "sse"])
def test_clients_that_come_and_go_leave_no_subscription_and_no_memory(
    server: ServerProcess, cycle: Callable[[ServerProcess, int], None]
) -> None:
    # The count is live: a client that stays is counted while it stays.
    staying = RawSocket(server.port)
    data = {"streamName": "live", "groupId": "g0", "subscriptionId": "staying"}
    staying.send_text(json.dumps({"type": "join", "data": data}))
    wait_for(lambda: subscribers(server) == 1, what="the staying client counted")
    staying.close()

    for n in range(WARM_UP):
        cycle(server, n)
    wait_for(lambda: subscribers(server) == 0, what="subscriptions released after warm-up")
    before = rss_mib(server.process.pid)

    for n in range(WARM_UP, CYCLES):
        cycle(server, n)
        if n % 100 == 0:  # a change now and then reaches whoever is still subscribed
            assert server.client.post(f"/put/g{n % GROUPS}").status_code == 200
    wait_for(lambda: subscribers(server) == 0, timeout=5, what="subscriptions released")
    after = rss_mib(server.process.pid)
    assert after - before < 8, f"RSS grew {before:.1f} -> {after:.1f} MiB over {CYCLES} clients"
    assert server.client.post("/put/g0").status_code == 200
    assert server.process.poll() is None
