"""The stream server without the npm client: raw WebSocket frames (`websockets`) and SSE
(`httpx`), against one real `motia start` server for the module."""

from __future__ import annotations

import asyncio
import json
import socket as socket_module
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import ServerProcess, start_server, write_project
from tests.http.support import records_for
from tests.streams.conftest import (
    STREAM_PROJECT,
    async_stream_ops,
    delete_call,
    get_call,
    group_call,
    send_call,
    set_call,
    stream_ops,
    update_call,
    ws_url,
)

# Each test is bounded: the default bound of async tests is longer.
pytestmark = [pytest.mark.slow, pytest.mark.async_timeout(20)]

Frame = dict[str, Any]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("streams")
    project = write_project(root / "project", STREAM_PROJECT)
    server = start_server(project, log_dir=root)
    try:
        yield server
    finally:
        server.stop()


def unique(prefix: str) -> str:
    """A fresh group id: the tests share one server."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class RawClient:
    """One raw stream WebSocket speaking the classic join/leave protocol."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    async def send(self, message: Any) -> None:
        await self.socket.send(message if isinstance(message, str) else json.dumps(message))

    async def join(self, stream: str, group: str, item: str | None = None) -> dict[str, str]:
        data = {"streamName": stream, "groupId": group, "subscriptionId": str(uuid.uuid4())}
        if item is not None:
            data["id"] = item
        await self.send({"type": "join", "data": data})
        return data

    async def leave(self, data: dict[str, str]) -> None:
        await self.send({"type": "leave", "data": data})

    async def recv(self, timeout: float = 5, what: str = "frame") -> Frame:
        try:
            async with asyncio.timeout(timeout):
                raw = await self.socket.recv()
        except TimeoutError:
            raise AssertionError(f"no {what} within {timeout} s") from None
        assert isinstance(raw, str), "frames must be text"
        frame: Frame = json.loads(raw)
        return frame


@asynccontextmanager
async def raw_client(
    server: ServerProcess, path: str = "/", subprotocols: list[str] | None = None
) -> AsyncIterator[RawClient]:
    async with connect(
        ws_url(server, path),
        subprotocols=subprotocols,  # type: ignore[arg-type]
        open_timeout=5,
        close_timeout=1,
    ) as socket:
        yield RawClient(socket)


def error_of(frame: Frame) -> dict[str, Any] | None:
    """The `{code, message}` of an error frame, or None for any other frame."""
    event = frame.get("event", {})
    if event.get("type") == "event" and event.get("event", {}).get("type") == "error":
        data: dict[str, Any] = event["event"]["data"]
        return data
    return None


def is_sync(frame: Frame) -> bool:
    return bool(frame.get("event", {}).get("type") == "sync")


# --- TTL ---------------------------------------------------------------------------------


async def test_ttl_expiry_removes_item_and_tells_subscribers(server: ServerProcess) -> None:
    group = unique("ttl")

    async with raw_client(server) as client, httpx.AsyncClient(base_url=server.url) as http:
        await client.join("ephemeral", group)
        assert (await client.recv())["event"] == {"type": "sync", "data": []}
        [created] = await async_stream_ops(
            http,
            set_call("ephemeral", group, "e1", {"v": 1}),
        )
        set_at = time.monotonic()
        assert created["id"] == "e1"
        frame = await client.recv()
        assert frame["event"] == {"type": "create", "data": {"v": 1, "id": "e1"}}
        # ttl is 1 s; the sweeper runs every second.
        frame = await client.recv(timeout=5)
        assert frame["event"]["type"] == "delete", frame
        assert frame["id"] == "e1" and frame["groupId"] == group
        assert frame["event"]["data"]["id"] == "e1"
        assert time.monotonic() - set_at >= 0.9, "expired before its ttl"
        [item, items] = await async_stream_ops(
            http,
            get_call("ephemeral", group, "e1"),
            group_call("ephemeral", group),
        )
        assert item is None and items == []


@pytest.mark.parametrize("store", ["sqlite", "memory"])
async def test_ttl_expiry_is_announced_even_when_read_first(
    store: str, server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    """Reading an expired item (here: polling `get` until it is gone) must not swallow the
    `delete` its subscribers are owed."""
    project = write_project(tmp_path / "project", STREAM_PROJECT)
    server = server_factory(project, "start", *(["--memory"] if store == "memory" else []))

    async with raw_client(server) as client, httpx.AsyncClient(base_url=server.url) as http:
        await client.join("ephemeral", "g")
        assert is_sync(await client.recv())
        await async_stream_ops(http, set_call("ephemeral", "g", "e1", {"v": 1}))
        set_at = time.monotonic()
        assert (await client.recv())["event"]["type"] == "create"
        async with asyncio.timeout(5):  # polls the store, not the subscriber
            while True:
                [item] = await async_stream_ops(http, get_call("ephemeral", "g", "e1"))
                if item is None:
                    break
                await asyncio.sleep(0.01)
        assert time.monotonic() - set_at >= 0.9, "expired before its ttl"
        frame = await client.recv(3, f"delete of the expired item ({store} store)")
        assert frame["event"] == {"type": "delete", "data": {"id": "e1"}}, frame


# --- schema ------------------------------------------------------------------------------


def test_schema_violation_fails_the_step_and_names_stream_and_field(
    server: ServerProcess,
) -> None:
    group = unique("schema")
    response = server.client.post(
        "/ops",
        json={"calls": [set_call("strict", group, "s1", {"title": "ok", "count": "three"})]},
    )
    assert response.status_code == 500, response.text
    trace_id = response.headers["x-trace-id"]

    def failure() -> dict[str, Any] | None:
        return next((r for r in records_for(server, trace_id) if r.get("level") == "error"), None)

    deadline = time.monotonic() + 5
    record = failure()
    while record is None and time.monotonic() < deadline:
        time.sleep(0.05)
        record = failure()
    assert record is not None, server.output()
    assert "strict" in record["error"] and "count" in record["error"], record
    # Nothing was stored.
    [item] = stream_ops(server, get_call("strict", group, "s1"))
    assert item is None

    # A valid item passes, and an update that breaks the schema is refused as well.
    stream_ops(
        server,
        set_call("strict", group, "s1", {"title": "ok", "count": 3}),
    )
    response = server.client.post(
        "/ops",
        json={"calls": [update_call("strict", group, "s1", [{"type": "remove", "path": "title"}])]},
    )
    assert response.status_code == 500
    [item] = stream_ops(server, get_call("strict", group, "s1"))
    assert item["title"] == "ok"


# --- malformed input -----------------------------------------------------------------------


async def test_malformed_frames_get_error_frames_and_socket_stays_usable(
    server: ServerProcess,
) -> None:

    group = unique("bad")

    async with raw_client(server) as client:
        for message in (
            "this is not json",
            json.dumps({"data": {"streamName": "todo"}}),  # no type
            json.dumps([1, 2, 3]),
            json.dumps({"type": "dance", "data": {}}),
            json.dumps({"type": "join", "data": {"groupId": group, "subscriptionId": "s"}}),
            json.dumps({"type": "join", "data": "todo"}),
        ):
            await client.send(message)
            error = error_of(await client.recv())
            assert error is not None and error["code"] == "BAD_MESSAGE", message
            assert error["message"]
        await client.join("todo", group)
        assert is_sync(await client.recv())


async def test_oversized_frame_gets_error_frame_and_socket_stays_open(
    server: ServerProcess,
) -> None:
    group = unique("big")

    async with raw_client(server) as client:
        padding = "x" * (64 * 1024 + 10)
        await client.send(
            {
                "type": "join",
                "data": {
                    "streamName": "todo",
                    "groupId": group,
                    "subscriptionId": "s",
                    "pad": padding,
                },
            }
        )
        error = error_of(await client.recv())
        assert error is not None and error["code"] == "BAD_MESSAGE", error
        await client.join("todo", group)
        frame = await client.recv()
        assert is_sync(frame) and frame["groupId"] == group


async def test_unknown_stream_gets_stream_not_found(server: ServerProcess) -> None:
    async with raw_client(server) as client:
        await client.join("no-such-stream", "g", "i")
        frame = await client.recv()
        error = error_of(frame)
        assert error is not None and error["code"] == "STREAM_NOT_FOUND", frame
        assert "no-such-stream" in error["message"]
        assert frame["streamName"] == "no-such-stream" and frame["id"] == "i"
        await client.join("todo", unique("after"))
        assert is_sync(await client.recv())


# --- handshake ----------------------------------------------------------------------------


async def test_token_from_subprotocol_or_query_on_any_path(server: ServerProcess) -> None:
    async with raw_client(server, "/", ["Authorization", "user-ann"]) as client:
        assert client.socket.subprotocol == "Authorization"
        await client.join("private", "ann")
        assert is_sync(await client.recv())
    async with raw_client(server, "/any/path?authToken=user-ann") as client:
        assert client.socket.subprotocol is None
        await client.join("private", "ann")
        assert is_sync(await client.recv())
        await client.join("private", "someone-else")
        error = error_of(await client.recv())
        assert error is not None and error["code"] == "STREAM_ACCESS_DENIED"


# --- fan-out ------------------------------------------------------------------------------


@pytest.mark.async_timeout(40)
async def test_200_subscribers_all_receive_every_update(server: ServerProcess) -> None:
    group = unique("crowd")
    subscribers, updates = 200, 10

    async def subscriber(ready: asyncio.Event, joined: list[int]) -> list[Frame]:
        async with raw_client(server) as client:
            await client.join("scores", group)
            assert is_sync(await client.recv(timeout=15))
            joined.append(1)
            if len(joined) == subscribers:
                ready.set()
            frames: list[Frame] = []
            while len(frames) < updates:
                frame = await client.recv(timeout=15)
                frames.append(frame)
            return frames

    ready = asyncio.Event()
    joined: list[int] = []
    tasks = [asyncio.create_task(subscriber(ready, joined)) for _ in range(subscribers)]
    await asyncio.wait_for(ready.wait(), 20)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        for n in range(updates):
            await async_stream_ops(
                http,
                set_call("scores", group, "board", {"n": n}),
            )
    results = await asyncio.gather(*tasks)
    expected = [n for n in range(updates)]
    for frames in results:
        assert [f["event"]["data"]["n"] for f in frames] == expected
        assert [f["event"]["type"] for f in frames] == ["create"] + ["update"] * (updates - 1)


# --- SSE ------------------------------------------------------------------------------------


async def sse_frames(response: httpx.Response) -> AsyncIterator[Frame]:
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            yield json.loads(line[len("data:") :].strip())


async def test_sse_yields_sync_then_live_events(server: ServerProcess) -> None:
    group = unique("sse")
    stream_ops(
        server,
        set_call("todo", group, "a", {"description": "A"}),
    )

    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as http,
        http.stream("GET", f"/__motia/streams/todo/{group}") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        frames = sse_frames(response)
        sync = await anext(frames)
        assert sync["event"] == {"type": "sync", "data": [{"description": "A", "id": "a"}]}
        await async_stream_ops(
            http,
            set_call("todo", group, "b", {"description": "B"}),
            delete_call("todo", group, "a"),
            send_call("todo", {"groupId": group}, "ping", 1),
        )
        create, delete, custom = [await anext(frames) for _ in range(3)]
        assert create["id"] == "b"
        assert create["event"] == {"type": "create", "data": {"description": "B", "id": "b"}}
        assert delete["id"] == "a" and delete["event"]["type"] == "delete"
        assert custom["event"] == {"type": "event", "event": {"type": "ping", "data": 1}}

    # One item: its sync is the object.
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as http,
        http.stream("GET", f"/__motia/streams/todo/{group}/b") as response,
    ):
        assert response.status_code == 200
        sync = await anext(sse_frames(response))
        assert sync["id"] == "b"
        assert sync["event"] == {"type": "sync", "data": {"description": "B", "id": "b"}}


def test_sse_refused_by_can_access_is_403(server: ServerProcess) -> None:
    response = server.client.get("/__motia/streams/sealed/any")
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "STREAM_ACCESS_DENIED"
    response = server.client.get("/__motia/streams/private/ann")  # anonymous
    assert response.status_code == 403
    response = server.client.get(
        "/__motia/streams/private/ann/x", headers={"authorization": "Bearer forged"}
    )
    assert response.status_code == 401
    response = server.client.get("/__motia/streams/no-such-stream/g")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "STREAM_NOT_FOUND"


# --- leave ------------------------------------------------------------------------------------


async def test_leave_stops_delivery(server: ServerProcess) -> None:
    left, kept = unique("left"), unique("kept")

    async with raw_client(server) as client, httpx.AsyncClient(base_url=server.url) as http:
        left_sub = await client.join("todo", left)
        assert (await client.recv())["groupId"] == left
        await client.join("todo", kept)
        assert (await client.recv())["groupId"] == kept
        await async_stream_ops(
            http,
            set_call("todo", left, "1", {}),
        )
        assert (await client.recv())["groupId"] == left  # joined: delivered

        await client.leave(left_sub)
        # The server handles frames in order: once a later join is answered, the leave
        # has been applied.
        await client.join("todo", unique("barrier"))
        assert is_sync(await client.recv())
        # Frames of one connection arrive in order: the change to `kept` is the marker
        # that the change to `left` (made first) was not sent.
        await async_stream_ops(
            http,
            set_call("todo", left, "2", {}),
            set_call("todo", kept, "1", {}),
        )
        frame = await client.recv()
        assert frame["groupId"] == kept, frame


# --- update operations -----------------------------------------------------------------------


async def test_update_ops_produce_update_events_with_the_new_item(server: ServerProcess) -> None:
    group = unique("ops")

    async with raw_client(server) as client, httpx.AsyncClient(base_url=server.url) as http:
        original = {"votes": 1, "stock": 10, "meta": {"a": 1}, "tmp": "x"}
        await async_stream_ops(http, set_call("scores", group, "p1", original))
        await client.join("scores", group, "p1")
        assert is_sync(await client.recv())
        ops: list[dict[str, Any]] = [
            {"type": "increment", "path": "votes", "by": 2},
            {"type": "decrement", "path": "stock", "by": 3},
            {"type": "merge", "path": "meta", "value": {"b": 2}},
            {"type": "remove", "path": "tmp"},
        ]
        [updated] = await async_stream_ops(http, update_call("scores", group, "p1", ops))
        expected = {"votes": 3, "stock": 7, "meta": {"a": 1, "b": 2}, "id": "p1"}
        assert {k: v for k, v in updated.items() if k != "__motia"} == expected
        frame = await client.recv()
        assert frame["id"] == "p1"
        assert frame["event"] == {"type": "update", "data": expected}

        # An update of a missing item creates it.
        await client.join("scores", group)
        assert is_sync(await client.recv())
        await async_stream_ops(
            http,
            update_call("scores", group, "p2", [{"type": "increment", "path": "votes"}]),
        )
        frame = await client.recv()
        assert frame["event"] == {"type": "create", "data": {"votes": 1, "id": "p2"}}


# --- names ------------------------------------------------------------------------------------


async def test_stream_name_with_dash_by_item_access(server: ServerProcess) -> None:
    group = unique("dash")

    async with raw_client(server) as client, httpx.AsyncClient(base_url=server.url) as http:
        await client.join("name-with-dash", group)
        assert is_sync(await client.recv())
        [created, got, items] = await async_stream_ops(
            http,
            set_call("name-with-dash", group, "d1", {"ok": True}),
            get_call("name-with-dash", group, "d1"),
            group_call("name-with-dash", group),
        )
        marker = {
            "type": "state-stream",
            "streamName": "name-with-dash",
            "groupId": group,
            "id": "d1",
        }
        assert created == got == {"ok": True, "id": "d1", "__motia": marker}
        assert items == [got]
        frame = await client.recv()
        assert frame["streamName"] == "name-with-dash"
        assert frame["event"] == {"type": "create", "data": {"ok": True, "id": "d1"}}


# --- the socket itself: compression, pings, limits, close codes, slow clients --------------


async def test_socket_is_not_compressed_and_answers_pings(server: ServerProcess) -> None:
    # The `websockets` client offers permessage-deflate; every subscriber gets the same
    # bytes, so the server declines it.
    async with connect(ws_url(server), open_timeout=5) as socket:
        assert socket.response is not None
        assert "Sec-WebSocket-Extensions" not in socket.response.headers
        await asyncio.wait_for(await socket.ping(), 5)
        client = RawClient(socket)
        await client.join("todo", unique("ping"))
        assert is_sync(await client.recv())


async def test_message_over_1_mib_closes_the_socket_with_1009(server: ServerProcess) -> None:
    async with raw_client(server) as client:
        await client.send("x" * (1024 * 1024 + 1))
        with pytest.raises(ConnectionClosed) as closed:
            await client.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_bad_token_closes_the_socket_with_4401(server: ServerProcess) -> None:
    async with raw_client(server, "/", ["Authorization", "forged"]) as client:
        with pytest.raises(ConnectionClosed) as closed:
            await client.recv()
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
            4401,
            "authentication failed",
        )


@pytest.mark.async_timeout(90)
async def test_client_that_stops_reading_is_dropped_and_resynced(server: ServerProcess) -> None:
    group = unique("slow")
    batches, per_batch = 10, 500  # 10 MB of 2 KB events, more than the socket's buffers
    pad = "x" * 2000

    sock = socket_module.socket()
    sock.setsockopt(socket_module.SOL_SOCKET, socket_module.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    # max_queue=1: the client takes one frame off the socket, then stops reading.
    async with (
        connect(ws_url(server), sock=sock, max_queue=1, open_timeout=5) as socket,
        httpx.AsyncClient(base_url=server.url, timeout=30) as http,
    ):
        client = RawClient(socket)
        await client.join("scores", group)
        assert is_sync(await client.recv())
        for batch in range(batches):
            calls = [
                send_call("scores", {"groupId": group}, "blob", {"i": i, "pad": pad})
                for i in range(batch * per_batch, (batch + 1) * per_batch)
            ]
            await async_stream_ops(http, *calls)
        await async_stream_ops(http, set_call("scores", group, "after", {"n": 1}))
        received, syncs = [], []
        while True:  # now read everything, up to the item set last
            frame = await client.recv(timeout=15)
            if is_sync(frame):
                syncs.append(frame)
                if any(item["id"] == "after" for item in frame["event"]["data"]):
                    break
            elif frame["event"]["type"] == "event":
                received.append(frame["event"]["event"]["data"]["i"])
            elif frame.get("id") == "after":
                break
        total = batches * per_batch
        assert syncs, "a client that fell behind got no fresh snapshot"
        assert 0 < len(received) < total  # some events were dropped, not all buffered
        assert received == sorted(received)  # what arrived came in order
        # Caught up: changes are delivered as they happen again.
        await async_stream_ops(http, set_call("scores", group, "later", {"n": 2}))
        while (frame := await client.recv(timeout=15)).get("id") != "later":
            pass
        assert frame["event"]["type"] == "create"
