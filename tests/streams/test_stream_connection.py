"""StreamConnection with a writer (the WebSocket fast path), in process: frames go
straight to the writer, fall back to the buffer while the client is behind, and keep their
order across both; a full buffer still drops and resyncs."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from motia.runtime.stream_connection import BufferBudget, SlowConsumer, StreamConnection
from motia.runtime.streams import StreamEvent, StreamHub

# Each test is bounded: the default bound of async tests is longer.
pytestmark = pytest.mark.async_timeout(10)

GROUP = "room"


class Service:
    """What a connection needs of StreamService: one stream, `ticker`, of one group."""

    def __init__(self) -> None:
        self.hub = StreamHub()
        self.definitions = {"ticker": SimpleNamespace(config=SimpleNamespace(can_access=None))}
        self.items: list[dict[str, Any]] = []

    async def get_group(self, name: str, group_id: str) -> list[dict[str, Any]]:
        await asyncio.sleep(0)  # a real store answers later
        return list(self.items)

    def change(self, n: int) -> None:
        self.items = [{"id": "latest", "n": n}]
        event = StreamEvent("ticker", GROUP, "latest", "update", self.items[0], float(n))
        self.hub.deliver(event)


class Writer:
    """Takes frames while `open`; records what it took."""

    def __init__(self) -> None:
        self.open = True
        self.written: list[dict[str, Any]] = []

    def __call__(self, payload: bytes) -> bool:
        if self.open:
            self.written.append(json.loads(payload))
        return self.open


def connection_of(service: Service, writer: Writer, **options: Any) -> StreamConnection:
    return StreamConnection(service, None, writer=writer, **options)  # type: ignore[arg-type]


def kinds_and_numbers(frames: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    out = []
    for frame in frames:
        data = frame["event"]["data"]
        out.append((frame["event"]["type"], data["n"] if isinstance(data, dict) else data))
    return out


async def test_frames_go_straight_to_the_writer_without_a_sender() -> None:
    service, writer = Service(), Writer()
    connection = connection_of(service, writer)
    await connection.join({"streamName": "ticker", "groupId": GROUP, "subscriptionId": "s"})
    for n in range(3):
        service.change(n)
    assert kinds_and_numbers(writer.written) == [
        ("sync", []),
        ("update", 0),
        ("update", 1),
        ("update", 2),
    ]
    connection.close()


async def test_refused_frames_wait_in_the_buffer_and_later_ones_queue_behind_them() -> None:
    service, writer = Service(), Writer()
    connection = connection_of(service, writer)
    await connection.join({"streamName": "ticker", "groupId": GROUP, "subscriptionId": "s"})
    writer.open = False  # the client falls behind
    service.change(1)
    writer.open = True  # the socket could take more, but 1 is still waiting
    service.change(2)
    assert kinds_and_numbers(writer.written) == [("sync", [])]

    sent: list[str] = []
    release = asyncio.Event()

    async def slow_send(text: str) -> None:
        await release.wait()  # the ASGI send waits for the client to catch up
        sent.append(text)

    sender = asyncio.create_task(connection.send_buffered(slow_send))
    await asyncio.sleep(0)
    service.change(3)  # arrives while the sender holds 1: must not overtake it
    release.set()
    await sender
    await connection.send_buffered(slow_send)
    await connection.send_buffered(slow_send)
    sent_frames = [json.loads(text) for text in sent]
    assert kinds_and_numbers(sent_frames) == [("update", 1), ("update", 2), ("update", 3)]
    service.change(4)  # nothing waits any more: straight to the writer again
    assert kinds_and_numbers(writer.written) == [("sync", []), ("update", 4)]
    connection.close()


async def test_full_buffer_drops_and_resyncs_with_a_writer_too() -> None:
    service, writer = Service(), Writer()
    connection = connection_of(service, writer, buffer_size=5)
    await connection.join({"streamName": "ticker", "groupId": GROUP, "subscriptionId": "s"})
    writer.open = False  # the client stalls
    for n in range(20):
        service.change(n)
    assert connection.resyncs >= 1
    writer.open = True
    sent: list[str] = []

    async def send(text: str) -> None:
        sent.append(text)

    while not connection._buffer.empty():
        await connection.send_buffered(send)
    frames = [json.loads(text) for text in sent]
    # A fresh snapshot replaces what was dropped; what came after it follows.
    assert frames[0]["event"]["type"] == "sync"
    assert len(frames) < 20
    assert frames[-1]["event"]["data"]["n"] == 19
    connection.close()


async def test_repeated_joins_while_behind_queue_one_snapshot_read_when_sent() -> None:
    service, writer = Service(), Writer()
    connection = connection_of(service, writer)
    join = {"streamName": "ticker", "groupId": GROUP, "subscriptionId": "s"}
    writer.open = False  # the client reads nothing
    for _ in range(100):
        await connection.join(join)
    assert connection._buffer.qsize() == 1  # one snapshot waits, as a marker
    service.change(7)  # the snapshot is read when sent: it has the latest item
    writer.open = True
    sent: list[str] = []

    async def send(text: str) -> None:
        sent.append(text)

    await connection.send_buffered(send)
    assert len(sent) == 1
    snapshot = json.loads(sent[0])
    assert snapshot["event"] == {"type": "sync", "data": [{"id": "latest", "n": 7}]}
    connection.close()


async def test_byte_budgets_drop_a_slow_client_and_give_back_what_it_held() -> None:
    service, writer = Service(), Writer()
    budget = BufferBudget(10_000)
    reasons: list[str] = []
    first = connection_of(
        service, writer, max_buffer_bytes=5_000, budget=budget, on_drop=reasons.append
    )
    await first.join({"streamName": "ticker", "groupId": GROUP, "subscriptionId": "s"})
    writer.open = False
    for n in range(10):  # about 100 bytes a frame: 1,000 bytes held
        service.change(n)
    assert 0 < budget.used < 5_000 and not first.dropped
    for n in range(100):
        service.change(n)
    assert first.dropped and reasons == ["over its own budget of 5000 bytes"]
    assert budget.used == 0  # the dropped client's frames are freed
    with pytest.raises(SlowConsumer):
        await first.next_frames()
    service.change(1)  # no longer listening
    assert budget.used == 0

    # The total budget: a second client fits its own budget but not the total.
    second = connection_of(service, writer, max_buffer_bytes=50_000, budget=budget)
    third = connection_of(service, writer, max_buffer_bytes=50_000, budget=budget)
    for connection in (second, third):
        await connection.join({"streamName": "ticker", "groupId": GROUP, "subscriptionId": "s"})
    for n in range(60):  # 2 x 60 x ~100 bytes: more than 10,000 in all
        service.change(n)
    assert second.dropped != third.dropped  # the first to pass the total goes
    assert budget.used <= 10_000
    for connection in (second, third):
        connection.close()
    assert budget.used == 0


async def test_a_large_snapshot_the_socket_took_counts_until_the_socket_drained() -> None:
    service, writer = Service(), Writer()
    service.items = [{"id": f"i{n}", "pad": "x" * 1000} for n in range(100)]  # ~100 KB
    budget, drained = BufferBudget(1 << 20), asyncio.Event()
    connection = StreamConnection(
        service,  # type: ignore[arg-type]
        None,
        writer=writer,
        drained=drained.wait,
        budget=budget,
    )
    await connection.join({"streamName": "ticker", "groupId": GROUP, "subscriptionId": "s"})
    assert len(writer.written) == 1  # written at once
    assert budget.used > 100_000  # and counted while the socket holds it
    drained.set()  # the client read it
    for _ in range(3):  # the waiting task ends, then its callback runs
        await asyncio.sleep(0)
    assert budget.used == 0
    connection.close()
