"""A hostile stream client on a raw socket, against a real server: it never reads, and
joins a large group again and again (snapshot amplification), or lets updates pile up.

The server's memory stays within the configured budgets (measured from /proc), repeated
joins queue no duplicate snapshots, and a client over its budget is closed with 4008."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, start_server, wait_for, write_project

pytestmark = pytest.mark.slow

ITEMS, PAD = 500, 2000  # a group of about 1 MB: each snapshot of it is 1 MB
PROJECT = {
    "config.yml": """
        streams:
          clientBuffer: 2mib
          totalBuffer: 5mib
    """,
    "steps/big_stream.py": """
        config = {"name": "big", "baseConfig": {"storageType": "default"}}
    """,
    "steps/fill_step.py": """
        config = {"type": "api", "name": "Fill", "method": "POST", "path": "/fill/:group",
                  "emits": []}

        async def handler(req, ctx):
            group, body = req["pathParams"]["group"], req["body"]
            for i in range(body["from"], body["to"]):
                await ctx.streams.big.set(group, f"item-{i}", {"i": i, "pad": "x" * body["pad"]})
            return {"status": 200, "body": {"done": body["to"] - body["from"]}}
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("stream-buffers")
    project = write_project(root / "project", PROJECT)
    process = start_server(project, "start", "--memory", log_dir=root)
    try:
        fill(process, "large", 0, ITEMS)
        yield process
    finally:
        process.stop()


def fill(server: ServerProcess, group: str, start: int, end: int, pad: int = PAD) -> None:
    response = server.client.post(
        f"/fill/{group}", json={"from": start, "to": end, "pad": pad}, timeout=60
    )
    assert response.status_code == 200, response.text


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc")


class RawSocket:
    """A WebSocket client on a plain socket with a tiny receive buffer, which reads only
    when told to."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.pending = b""
        while b"\r\n\r\n" not in self.pending:
            self.pending += self.sock.recv(1024)
        head, self.pending = self.pending.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def send_text(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x81, 0x80 | length)
        else:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def join(self, group: str, subscription_id: str) -> None:
        data = {"streamName": "big", "groupId": group, "subscriptionId": subscription_id}
        self.send_text(json.dumps({"type": "join", "data": data}))

    def _read(self, size: int) -> bytes:
        while len(self.pending) < size:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("closed without a close frame")
            self.pending += chunk
        data, self.pending = self.pending[:size], self.pending[size:]
        return data

    def read_until_close(self) -> tuple[int, int]:
        """Read every frame; returns (data frames read, close code)."""
        frames = 0
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read(8))
            payload = self._read(length)
            if first & 0x0F == 0x8:
                return frames, struct.unpack("!H", payload[:2])[0]
            frames += 1

    def close(self) -> None:
        self.sock.close()


def test_a_client_joining_a_large_group_1000_times_costs_no_more_than_its_budget(
    server: ServerProcess,
) -> None:
    pid = server.process.pid
    before = rss_mib(pid)
    clients = [RawSocket(server.port) for _ in range(3)]
    try:
        for client in clients:
            for _ in range(1000):  # the same subscription, over and over
                client.join("large", "same")
            for n in range(1000):  # and 200 different ones, 5 times each
                client.join("large", f"sub-{n % 200}")
        # Once the server has handled the 6,000 joins, it answers anything else.
        time.sleep(1)
        assert server.client.get("/__motia/health").status_code == 200
        after = rss_mib(pid)
    finally:
        for client in clients:
            client.close()
    print(f"RSS before {before:.0f} MiB, after 3 x 2000 joins {after:.0f} MiB")
    # Unbounded, this was a gigabyte per client; each may hold its budget plus what the
    # socket took (one snapshot and the transport's 64 KiB).
    assert after - before < 60, f"RSS grew from {before:.0f} to {after:.0f} MiB"


def test_a_client_that_does_not_read_its_updates_is_closed_with_4008(
    server: ServerProcess,
) -> None:
    slow = RawSocket(server.port)
    try:
        slow.join("updates", "s")
        # 12 MB of updates to a group it joined, while it reads nothing: more than the
        # kernel's socket buffers (up to 4 MiB) and its 2 MiB, in fewer frames than the
        # 1000 that would make it resync instead.
        fill(server, "updates", 0, 400, pad=30_000)
        wait_for(lambda: "stream client dropped" in server.output(), timeout=20)
        frames, code = slow.read_until_close()
        assert code == 4008
        assert 0 < frames < 401  # the snapshot and what it was sent before it was dropped
    finally:
        slow.close()
    assert server.client.get("/__motia/health").status_code == 200


def test_the_total_budget_drops_clients_within_their_own(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    # Each client may hold 64 MiB, but all of them together 3 MiB.
    files = {**PROJECT, "config.yml": "streams:\n  clientBuffer: 64mib\n  totalBuffer: 3mib\n"}
    total_server = server_factory(write_project(tmp_path / "project", files), "start", "--memory")
    clients = [RawSocket(total_server.port) for _ in range(2)]
    try:
        for n, client in enumerate(clients):
            client.join(f"total-{n}", "s")
        for n in range(2):
            # 8 MB each: the kernel's socket buffers take at most 4 MiB of it.
            fill(total_server, f"total-{n}", 0, 270, pad=30_000)
        wait_for(lambda: "stream client dropped" in total_server.output(), timeout=20)
        output = total_server.output()
        assert "over the total budget of 3145728 bytes" in output
        assert "over its own budget" not in output
        codes = []
        for client in clients:
            client.sock.settimeout(3)
            try:
                codes.append(client.read_until_close()[1])
            except (TimeoutError, ConnectionError):
                codes.append(None)
        assert 4008 in codes, codes
    finally:
        for client in clients:
            client.close()
    assert total_server.client.get("/__motia/health").status_code == 200


def test_many_clients_joining_a_huge_group_once_are_held_to_the_total_budget(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    # Each snapshot (6 MB) is taken by the socket at once; what the socket keeps unsent
    # counts against the 5 MiB total until the client reads it.
    files = {**PROJECT, "config.yml": "streams:\n  clientBuffer: 2mib\n  totalBuffer: 5mib\n"}
    huge_server = server_factory(write_project(tmp_path / "project", files), "start", "--memory")
    fill(huge_server, "huge", 0, 200, pad=30_000)
    clients = [RawSocket(huge_server.port) for _ in range(8)]
    try:
        for client in clients:
            client.join("huge", "once")
        wait_for(lambda: "over the total budget" in huge_server.output(), timeout=30)
        assert huge_server.client.get("/__motia/health").status_code == 200
    finally:
        for client in clients:
            client.close()


def test_an_sse_client_that_does_not_read_is_dropped_and_its_stream_ends(
    server: ServerProcess,
) -> None:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(30)
    try:
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(b"GET /__motia/streams/big/sse-updates HTTP/1.1\r\nHost: x\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)  # only the response head: the events stay unread
        assert head.startswith(b"HTTP/1.1 200")
        drops = server.output().count("stream client dropped")
        fill(server, "sse-updates", 0, 400, pad=30_000)  # 12 MB it does not read
        wait_for(lambda: server.output().count("stream client dropped") > drops, timeout=30)
        received = b""
        while chunk := sock.recv(1 << 20):  # the stream ends: the last chunk, then EOF
            received += chunk
        assert received.endswith(b"0\r\n\r\n")
        # Some or none of the updates (they may all come before the response starts).
        assert received.count(b"data: ") < 401
    finally:
        sock.close()
