"""The published npm client (`@motiadev/stream-client-node`) against real `motia start`
servers, with streams changed by real API step handlers."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess, free_port, wait_for, wait_until_ready, write_project
from tests.streams.conftest import (
    STREAM_PROJECT,
    DriverFactory,
    delete_call,
    get_call,
    send_call,
    set_call,
    stream_ops,
    ws_url,
)

pytestmark = pytest.mark.slow

ServerFactory = Callable[..., ServerProcess]


@pytest.fixture
def server(server_factory: ServerFactory, tmp_path: Path) -> ServerProcess:
    return server_factory(write_project(tmp_path / "project", STREAM_PROJECT))


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


def test_group_and_item_subscriptions_get_sync_then_live_changes(
    server: ServerProcess, driver_factory: DriverFactory
) -> None:
    stream_ops(
        server,
        set_call("todo", "inbox", "t1", {"description": "a"}),
        set_call("todo", "other", "x", {"description": "o"}),
    )
    driver = driver_factory(
        ws_url(server),
        [
            {"label": "group", "stream": "todo", "group": "inbox", "events": ["error", "typing"]},
            {
                "label": "item",
                "stream": "todo",
                "group": "inbox",
                "id": "t1",
                "events": ["error", "typing"],
            },
        ],
    )
    # The sync snapshots: the group is an array of bare items (no `__motia`), the item an object.
    assert driver.wait_state("group", lambda s: True) == [{"description": "a", "id": "t1"}]
    assert driver.wait_state("item", lambda s: True) == {"description": "a", "id": "t1"}

    mark = driver.mark()
    stream_ops(
        server,
        set_call("todo", "inbox", "t2", {"description": "b"}),
    )
    state = driver.wait_state("group", lambda s: len(s) == 2, after=mark)
    assert by_id(state) == {
        "t1": {"description": "a", "id": "t1"},
        "t2": {"description": "b", "id": "t2"},
    }
    create = next(f for f in driver.frames(mark) if f["event"]["type"] == "create")
    assert create["id"] == "t2" and create["groupId"] == "inbox" and create["streamName"] == "todo"

    mark = driver.mark()
    stream_ops(
        server,
        set_call("todo", "inbox", "t1", {"description": "a2", "done": True}),
    )
    expected = {"description": "a2", "done": True, "id": "t1"}
    assert driver.wait_state("item", lambda s: s is not None and s.get("done"), after=mark) == (
        expected
    )
    state = driver.wait_state("group", lambda s: by_id(s)["t1"].get("done") is True, after=mark)
    assert by_id(state)["t1"] == expected
    assert [f["event"]["type"] for f in driver.frames(mark)] == ["update"]

    mark = driver.mark()
    [deleted] = stream_ops(server, delete_call("todo", "inbox", "t1"))
    assert deleted["id"] == "t1"
    assert driver.wait_state("item", lambda s: s is None, after=mark) is None
    state = driver.wait_state("group", lambda s: "t1" not in by_id(s), after=mark)
    assert state == [{"description": "b", "id": "t2"}]

    # Custom events: group-level reaches the group subscription only, item-level both.
    mark = driver.mark()
    stream_ops(
        server,
        send_call("todo", {"groupId": "inbox"}, "typing", {"who": "group-level"}),
        send_call("todo", {"groupId": "inbox", "id": "t1"}, "typing", {"who": "item-level"}),
    )
    assert driver.wait_event("item", "typing", after=mark) == {"who": "item-level"}
    driver.wait_for(
        lambda o: (
            o["kind"] == "event" and o["label"] == "group" and o["data"] == {"who": "item-level"}
        ),
        after=mark,
        what="item-level event on the group subscription",
    )
    group_events = [o["data"] for o in driver.of_kind("event", "group", mark)]
    item_events = [o["data"] for o in driver.of_kind("event", "item", mark)]
    assert group_events == [{"who": "group-level"}, {"who": "item-level"}]
    assert item_events == [{"who": "item-level"}]

    # Nothing of the other group ever reached this client, and it never crashed.
    assert all(f["groupId"] == "inbox" for f in driver.frames())
    assert driver.of_kind("uncaught") == []


def test_two_sets_in_quick_succession_both_arrive(
    server: ServerProcess, driver_factory: DriverFactory
) -> None:
    driver = driver_factory(
        ws_url(server),
        [
            {"label": "item", "stream": "todo", "group": "fast", "id": "f1"},
            {"label": "group", "stream": "todo", "group": "fast"},
        ],
    )
    assert driver.wait_state("item", lambda s: True) is None  # the sync of a missing item
    assert driver.wait_state("group", lambda s: True) == []
    mark = driver.mark()
    # One handler run, three changes back to back: usually within the same millisecond.
    stream_ops(
        server,
        set_call("todo", "fast", "f1", {"description": "1"}),
        set_call("todo", "fast", "f1", {"description": "2"}),
        set_call("todo", "fast", "f1", {"description": "3"}),
    )
    driver.wait_state("item", lambda s: s == {"description": "3", "id": "f1"}, after=mark)
    driver.wait_state("group", lambda s: s == [{"description": "3", "id": "f1"}], after=mark)
    # The item subscription drops a frame not newer than the last one: all three got through.
    assert [s["description"] for s in driver.states("item", mark)] == ["1", "2", "3"]
    assert [s[0]["description"] for s in driver.states("group", mark)] == ["1", "2", "3"]
    stamps = [f["timestamp"] for f in driver.frames(mark)]
    assert len(stamps) == 3
    assert all(a < b for a, b in itertools.pairwise(stamps)), stamps


def test_item_set_again_right_after_expiry_reaches_group_subscribers(
    server: ServerProcess, driver_factory: DriverFactory
) -> None:
    """An item of a ttl-1 stream expires and is set again at once: the group subscription
    must show the new value (it ignores a `create` for an id it still holds)."""
    driver = driver_factory(
        ws_url(server), [{"label": "group", "stream": "ephemeral", "group": "r"}]
    )
    assert driver.wait_state("group", lambda s: True) == []
    stream_ops(server, set_call("ephemeral", "r", "e1", {"v": 1}))
    driver.wait_state("group", lambda s: s == [{"v": 1, "id": "e1"}])
    wait_for(lambda: stream_ops(server, get_call("ephemeral", "r", "e1")) == [None], 5, 0.01)
    mark = driver.mark()
    stream_ops(server, set_call("ephemeral", "r", "e1", {"v": 2}))
    # The new item lives 1 s; it must show before it expires in turn.
    driver.wait_state("group", lambda s: s == [{"v": 2, "id": "e1"}], timeout=3, after=mark)


# --- reconnect -------------------------------------------------------------------------------


def start_on_port(project: Path, port: int, log_dir: Path) -> ServerProcess:
    """`motia start` on a given port (conftest.start_server always picks a free one)."""
    log_path = log_dir / f"server-{port}-{time.monotonic_ns()}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "motia", "start", "--dir", str(project), "--port", str(port)],
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=project,
    )
    server = ServerProcess(process, port, log_path)
    wait_until_ready(server)
    return server


@pytest.fixture
def fixed_port_servers() -> Iterator[list[ServerProcess]]:
    servers: list[ServerProcess] = []
    yield servers
    for server in servers:
        server.stop(signal.SIGKILL)


def test_client_reconnects_after_restart_and_gets_fresh_sync(
    tmp_path: Path, driver_factory: DriverFactory, fixed_port_servers: list[ServerProcess]
) -> None:
    project = write_project(tmp_path / "project", STREAM_PROJECT)
    port = free_port()
    first = start_on_port(project, port, tmp_path)
    fixed_port_servers.append(first)
    stream_ops(
        first,
        set_call("todo", "g", "kept", {"description": "k"}),
    )
    driver = driver_factory(
        ws_url(first),
        [
            {"label": "group", "stream": "todo", "group": "g"},
            {"label": "item", "stream": "todo", "group": "g", "id": "kept"},
        ],
    )
    driver.wait_state("group", lambda s: s == [{"description": "k", "id": "kept"}])

    first.stop()
    driver.wait_for(lambda o: o["kind"] == "close", what="socket close after the server stopped")
    mark = driver.mark()
    second = start_on_port(project, port, tmp_path)
    fixed_port_servers.append(second)
    ready_at = time.monotonic()

    # The client retries every 2 s and re-joins every subscription on open.
    driver.wait_for(lambda o: o["kind"] == "open", timeout=6, after=mark, what="re-open")

    def fresh_sync(item: bool) -> Callable[[dict[str, Any]], bool]:
        return lambda o: (
            o["kind"] == "frame"
            and o["frame"]["event"]["type"] == "sync"
            and ("id" in o["frame"]) == item
        )

    syncs = [
        driver.wait_for(fresh_sync(item), timeout=6, after=mark, what="a fresh sync")
        for item in (False, True)
    ]
    assert time.monotonic() - ready_at < 3.5, "re-join took longer than the 2 s retry period"
    assert syncs[0]["frame"]["event"]["data"] == [{"description": "k", "id": "kept"}]
    assert syncs[1]["frame"]["event"]["data"] == {"description": "k", "id": "kept"}

    # And live changes flow again over the new connection.
    stream_ops(
        second,
        set_call("todo", "g", "new", {"description": "n"}),
    )
    state = driver.wait_state("group", lambda s: len(s) == 2, after=mark)
    assert by_id(state)["new"] == {"description": "n", "id": "new"}
    assert driver.of_kind("uncaught") == []


# --- authentication and authorization -------------------------------------------------------


def test_token_accepted_and_used_by_can_access(
    server: ServerProcess, driver_factory: DriverFactory
) -> None:
    driver = driver_factory(
        ws_url(server),
        [
            {"label": "mine", "stream": "private", "group": "alice"},
            {"label": "mine-item", "stream": "private", "group": "alice", "id": "n1"},
        ],
        token="user-alice",
    )
    opened = driver.wait_for(lambda o: o["kind"] == "open", what="socket open")
    assert opened["protocol"] == "Authorization"
    assert driver.wait_state("mine", lambda s: True) == []
    mark = driver.mark()
    stream_ops(
        server,
        set_call("private", "alice", "n1", {"text": "hi"}),
    )
    assert driver.wait_state("mine", lambda s: len(s) == 1, after=mark) == [
        {"text": "hi", "id": "n1"}
    ]
    assert driver.wait_state("mine-item", lambda s: s is not None, after=mark) == {
        "text": "hi",
        "id": "n1",
    }
    assert driver.of_kind("event") == []  # no error events


def test_can_access_refusal_reaches_on_event_error(
    server: ServerProcess, driver_factory: DriverFactory
) -> None:
    stream_ops(
        server,
        set_call("private", "bob", "b1", {"text": "secret"}),
    )
    driver = driver_factory(
        ws_url(server),
        [
            {"label": "theirs", "stream": "private", "group": "bob"},
            {"label": "theirs-item", "stream": "private", "group": "bob", "id": "b1"},
            {"label": "mine", "stream": "private", "group": "alice"},
        ],
        token="user-alice",
    )
    error = driver.wait_event("theirs", "error")
    assert error["code"] == "STREAM_ACCESS_DENIED"
    assert driver.wait_event("theirs-item", "error")["code"] == "STREAM_ACCESS_DENIED"
    # The socket stays open and the allowed subscription works.
    assert driver.wait_state("mine", lambda s: True) == []
    mark = driver.mark()
    stream_ops(
        server,
        set_call("private", "bob", "b2", {"text": "more"}),
        set_call("private", "alice", "a1", {"text": "ok"}),
    )
    driver.wait_state("mine", lambda s: len(s) == 1, after=mark)
    assert driver.states("theirs") == [] and driver.states("theirs-item") == []
    assert all(f["groupId"] != "bob" or f["event"]["type"] == "event" for f in driver.frames())
    assert driver.of_kind("close") == []

    # Anonymous (no token): refused too, since the auth context is None.
    anonymous = driver_factory(ws_url(server), [{"label": "p", "stream": "private", "group": "x"}])
    assert anonymous.wait_event("p", "error")["code"] == "STREAM_ACCESS_DENIED"


def test_bad_token_closes_socket_with_4401(
    server: ServerProcess, driver_factory: DriverFactory
) -> None:
    driver = driver_factory(
        ws_url(server), [{"label": "g", "stream": "todo", "group": "inbox"}], token="forged"
    )
    closed = driver.wait_for(lambda o: o["kind"] == "close", what="socket close")
    assert closed["code"] == 4401
    assert driver.frames() == [] and driver.states("g") == []
    assert driver.of_kind("uncaught") == []
    server.wait_for_output("stream client refused")


def test_api_body_with_stream_item_carries_motia_marker(
    server: ServerProcess, driver_factory: DriverFactory
) -> None:
    stream_ops(
        server,
        set_call("todo", "shop", "milk", {"description": "2 l"}),
    )
    response = server.client.get("/todo/shop/milk")
    assert response.status_code == 200, response.text
    body = response.json()
    marker = {"type": "state-stream", "streamName": "todo", "groupId": "shop", "id": "milk"}
    assert body == {"description": "2 l", "id": "milk", "__motia": marker}
    assert server.client.get("/todo/shop/none").status_code == 404

    # Like the Workbench, subscribe with the marker; the socket sends the item without it.
    driver = driver_factory(
        ws_url(server),
        [
            {
                "label": "item",
                "stream": marker["streamName"],
                "group": marker["groupId"],
                "id": marker["id"],
            }
        ],
    )
    assert driver.wait_state("item", lambda s: True) == {"description": "2 l", "id": "milk"}
    mark = driver.mark()
    [updated] = stream_ops(
        server,
        set_call("todo", "shop", "milk", {"description": "3 l"}),
    )
    assert updated["__motia"] == marker
    assert driver.wait_state("item", lambda s: True, after=mark) == {
        "description": "3 l",
        "id": "milk",
    }
