"""Stream counts of a real `motia start` server: the changes published and the frames its
WebSocket clients were sent, by stream and kind, read back from /__motia/metrics with
Prometheus's own text parser."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import start_server, wait_for, write_project
from tests.redis.support import get_fresh, post_fresh
from tests.streams.conftest import (
    STREAM_PROJECT,
    async_stream_ops,
    delete_call,
    send_call,
    set_call,
    update_call,
    ws_url,
)

pytestmark = [pytest.mark.slow, pytest.mark.async_timeout(40)]


def counters(text: str, family_name: str) -> dict[tuple[str, str], float]:
    """The samples of one counter family by (stream, kind)."""
    for family in text_string_to_metric_families(text):
        if family.name == family_name:
            assert family.type == "counter"
            return {
                (s.labels["stream"], s.labels["kind"]): s.value
                for s in family.samples
                if s.name.endswith("_total")
            }
    raise AssertionError(f"{family_name} is not in the exposition:\n{text}")


async def join(socket: ClientConnection, group: str, item: str | None = None) -> None:
    data = {"streamName": "todo", "groupId": group, "subscriptionId": str(uuid.uuid4())}
    if item is not None:
        data["id"] = item
    await socket.send(json.dumps({"type": "join", "data": data}))


async def kinds_received(socket: ClientConnection, count: int) -> list[str]:
    """The kinds of the next `count` change or event frames (sync frames skipped)."""
    kinds: list[str] = []
    async with asyncio.timeout(10):
        while len(kinds) < count:
            frame: dict[str, Any] = json.loads(await socket.recv())
            kind = frame.get("event", {}).get("type")
            if kind != "sync":
                kinds.append(kind)
    return kinds


async def test_frames_sent_to_clients_and_changes_are_counted_by_stream_and_kind(
    tmp_path: Any,
) -> None:
    project = write_project(tmp_path / "app", STREAM_PROJECT)
    server = start_server(project, "start", env={"MOTIA_METRICS_ENABLED": "1"}, log_dir=tmp_path)
    try:
        group = f"metrics-{uuid.uuid4().hex[:8]}"
        async with (
            connect(ws_url(server, "/"), open_timeout=5, close_timeout=1) as whole,
            connect(ws_url(server, "/"), open_timeout=5, close_timeout=1) as one_item,
            httpx.AsyncClient(base_url=server.url, timeout=10) as http,
        ):
            await join(whole, group)  # the whole group: every frame
            await join(one_item, group, "a")  # item `a` only: not b's changes, not events
            await asyncio.sleep(0.3)  # both joins handled before the changes
            await async_stream_ops(
                http,
                set_call("todo", group, "a", {"description": "first"}),
                set_call("todo", group, "a", {"description": "again"}),
                set_call("todo", group, "b", {"description": "other"}),
                update_call("todo", group, "b", [{"type": "set", "path": "done", "value": True}]),
                delete_call("todo", group, "a"),
                send_call("todo", {"groupId": group}, "typing", {"who": "ann"}),
            )
            assert await kinds_received(whole, 6) == [
                "create",
                "update",
                "create",
                "update",
                "delete",
                "event",
            ]
            assert await kinds_received(one_item, 3) == ["create", "update", "delete"]

            def scraped() -> str:
                response = server.client.get("/__motia/metrics")
                assert response.status_code == 200, response.text
                return response.text

            sent = wait_for(
                lambda: (
                    (c := counters(scraped(), "motia_stream_messages_sent")).get(("todo", "event"))
                    and c
                ),
                10,
                what="the frames counted",
            )
        assert sent == {
            ("todo", "create"): 3,
            ("todo", "update"): 3,
            ("todo", "delete"): 2,
            ("todo", "event"): 1,
        }
        assert counters(scraped(), "motia_stream_changes") == {
            ("todo", "create"): 2,
            ("todo", "update"): 2,
            ("todo", "delete"): 1,
            ("todo", "event"): 1,
        }
    finally:
        server.stop()


async def test_workers_add_up_the_frames_each_sent_to_its_own_clients(
    tmp_path: Any, redis_env: dict[str, str], servers: Any
) -> None:
    project = write_project(tmp_path / "app", STREAM_PROJECT)
    server = servers(project, "--workers", "2", env={**redis_env, "MOTIA_METRICS_ENABLED": "1"})
    group = f"workers-{uuid.uuid4().hex[:8]}"
    clients = 4  # new connections: the processes share them
    async with contextlib.AsyncExitStack() as stack:
        sockets = [
            await stack.enter_async_context(
                connect(ws_url(server, "/"), open_timeout=5, close_timeout=1)
            )
            for _ in range(clients)
        ]
        for socket in sockets:
            await join(socket, group)
        await asyncio.sleep(0.5)  # every join handled before the change
        assert post_fresh(server.url, "/ops", {"calls": [set_call("todo", group, "x", {})]})
        for socket in sockets:
            assert await kinds_received(socket, 1) == ["create"]

    def create_counts() -> list[float]:
        """Frames sent and changes published, both from one scrape (one process answers)."""
        text = get_fresh(server.url, "/__motia/metrics").text
        return [
            counters(text, name).get(("todo", "create"), 0)
            for name in ("motia_stream_messages_sent", "motia_stream_changes")
        ]

    # Each process writes its counts every second and before it answers a scrape; any
    # process answers with the sum, and a sum once complete stays so on every later scrape.
    wait_for(lambda: create_counts() == [clients, 1], 10, what="the counts of both processes")
    seen = [create_counts() for _ in range(6)]
    assert all(c == [clients, 1] for c in seen), seen
