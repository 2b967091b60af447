"""One contract for every stream store: each backend must pass all of it.

Time is a fake clock moved by hand, so TTLs expire without sleeping. The stores are opened
by the backends of the table, so a new backend runs the whole contract."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from motia.adapters.streams.base import StreamStore
from motia.testing.clock import ManualClock
from tests.unit import backend_support

START = 1_750_000_000.0


def start_clock() -> ManualClock:
    """The test clock, at START: it only moves when a test advances it."""
    return ManualClock(datetime.fromtimestamp(START, UTC))


# Stores whose items are shared by every store opened on the same storage.
SHARED = {"sqlite", "redis", "postgres"}


@dataclass
class Harness:
    name: str
    tmp: Path
    clock: ManualClock = field(default_factory=start_clock)

    def open(self) -> StreamStore:
        # Each open is a new backend object on the same storage, like a new process.
        return backend_support.open_backend(self.name, self.tmp, self.clock).streams()


def _harness(name: str, tmp: Path) -> Iterator[Harness]:
    backend_support.require(name)
    yield Harness(name, tmp)
    backend_support.cleanup(tmp)


@pytest.fixture(params=backend_support.NAMES)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    yield from _harness(request.param, tmp_path)


@pytest.fixture(params=sorted(SHARED))
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    yield from _harness(request.param, tmp_path)


async def ids(store: StreamStore, stream: str, group: str) -> list[str]:
    return [item["id"] for item in await store.get_group(stream, group)]


# --- get, set, delete ----------------------------------------------------------------------


async def test_missing_item_group_and_stream(harness: Harness) -> None:
    store = harness.open()
    assert await store.get("s", "g", "nope") is None
    assert await store.get_group("s", "g") == []
    assert await store.groups("s") == []
    assert await store.delete("s", "g", "nope") is None
    assert await store.expired() == []


async def test_set_reports_created_then_replaced_and_get_reads_it(harness: Harness) -> None:
    store = harness.open()
    data = {"title": "one", "nested": {"list": [1, None, True]}, "u": "äø"}
    item, result = await store.set("s", "g", "i1", data, None)
    assert result == "created"
    assert item == {**data, "id": "i1"}
    assert await store.get("s", "g", "i1") == {**data, "id": "i1"}

    item, result = await store.set("s", "g", "i1", {"title": "two"}, None)
    assert result == "updated"
    assert item == {"title": "two", "id": "i1"}
    assert await store.get("s", "g", "i1") == {"title": "two", "id": "i1"}


async def test_id_and_internal_fields_are_not_stored_and_value_is_a_copy(harness: Harness) -> None:
    store = harness.open()
    data: dict[str, Any] = {"id": "other", "__motia": {"x": 1}, "items": [1]}
    item, _ = await store.set("s", "g", "i1", data, None)
    assert item == {"items": [1], "id": "i1"}
    data["items"].append(2)
    assert await store.get("s", "g", "i1") == {"items": [1], "id": "i1"}


async def test_delete_returns_the_old_item(harness: Harness) -> None:
    store = harness.open()
    await store.set("s", "g", "i1", {"v": 1}, None)
    await store.set("s", "g", "i2", {"v": 2}, None)
    assert await store.delete("s", "g", "i1") == {"v": 1, "id": "i1"}
    assert await store.get("s", "g", "i1") is None
    assert await store.delete("s", "g", "i1") is None
    assert await ids(store, "s", "g") == ["i2"]
    _, result = await store.set("s", "g", "i1", {"v": 3}, None)
    assert result == "created"  # deleted items are created anew


# --- groups ----------------------------------------------------------------------------------


async def test_get_group_is_in_creation_order_and_replacing_keeps_the_place(
    harness: Harness,
) -> None:
    store = harness.open()
    for item_id in ("c", "a", "b"):
        await store.set("s", "g", item_id, {"n": item_id}, None)
        harness.clock.advance(1)
    assert await ids(store, "s", "g") == ["c", "a", "b"]
    await store.set("s", "g", "c", {"n": "c2"}, None)  # replaced, not re-created
    assert await store.get_group("s", "g") == [
        {"n": "c2", "id": "c"},
        {"n": "a", "id": "a"},
        {"n": "b", "id": "b"},
    ]
    await store.delete("s", "g", "a")
    await store.set("s", "g", "a", {"n": "a2"}, None)  # deleted, then created: last
    assert await ids(store, "s", "g") == ["c", "b", "a"]


async def test_groups_and_streams_are_exact_and_separate(harness: Harness) -> None:
    store = harness.open()
    await store.set("todo", "order", "i1", {}, None)
    await store.set("todo", "orders", "i2", {}, None)  # not a prefix match of "order"
    await store.set("todo", "b:c", "i3", {}, None)
    await store.set("todo:b", "c", "i4", {}, None)  # separators in names stay apart
    await store.set("other", "order", "i5", {}, None)
    assert await store.groups("todo") == ["b:c", "order", "orders"]
    assert await store.groups("todo:b") == ["c"]
    assert await store.groups("other") == ["order"]
    assert await ids(store, "todo", "order") == ["i1"]
    assert await ids(store, "todo", "b:c") == ["i3"]
    assert await ids(store, "todo:b", "c") == ["i4"]
    assert await store.get("other", "order", "i1") is None

    await store.delete("todo", "order", "i1")  # a group without items is gone
    assert await store.groups("todo") == ["b:c", "orders"]


# --- TTL -------------------------------------------------------------------------------------


async def test_item_with_ttl_disappears_when_it_expires(harness: Harness) -> None:
    store = harness.open()
    await store.set("s", "g", "short", {"v": 1}, 10)
    await store.set("s", "g", "forever", {"v": 2}, None)
    await store.set("s", "lonely", "only", {"v": 3}, 10)
    harness.clock.advance(9.9)
    assert await store.get("s", "g", "short") == {"v": 1, "id": "short"}
    assert await store.groups("s") == ["g", "lonely"]
    harness.clock.advance(0.1)
    assert await store.get("s", "g", "short") is None
    assert await ids(store, "s", "g") == ["forever"]
    assert await store.groups("s") == ["g"]  # only expired items left in "lonely"
    harness.clock.advance(1_000_000)
    assert await store.get("s", "g", "forever") == {"v": 2, "id": "forever"}


async def test_set_after_expiry_revives_and_new_ttl_replaces_old(harness: Harness) -> None:
    store = harness.open()
    await store.set("s", "g", "i", {"v": 1}, 5)
    harness.clock.advance(1)
    await store.set("s", "g", "later", {}, None)
    harness.clock.advance(4)
    assert await ids(store, "s", "g") == ["later"]
    _, result = await store.set("s", "g", "i", {"v": 2}, 5)
    assert result == "revived"  # expired, not swept: the caller announces the expiry
    assert await ids(store, "s", "g") == ["i", "later"]  # and it keeps its place
    assert await store.expired() == []  # so the sweep does not announce it again
    harness.clock.advance(4)
    _, result = await store.set("s", "g", "i", {"v": 3}, None)  # no TTL any more
    assert result == "updated"
    harness.clock.advance(100)
    assert await store.get("s", "g", "i") == {"v": 3, "id": "i"}
    assert await store.expired() == []


async def test_reading_an_expired_item_leaves_it_for_the_sweep(harness: Harness) -> None:
    store = harness.open()
    await store.set("s", "g", "read", {}, 5)
    await store.set("s", "g", "deleted", {}, 5)
    harness.clock.advance(5)
    assert await store.get("s", "g", "read") is None
    assert await store.get_group("s", "g") == []
    assert await store.delete("s", "g", "deleted") is None  # gone, and not announced
    assert await store.expired() == [("s", "g", "read")]  # announced exactly once
    assert await store.expired() == []


async def test_expired_returns_and_removes_expired_items(harness: Harness) -> None:
    store = harness.open()
    await store.set("s", "g", "a", {}, 10)
    await store.set("s", "g", "b", {}, 20)
    await store.set("s:x", "g:y", "c:z", {}, 10)  # separators survive the round trip
    await store.set("s", "g", "keep", {}, None)
    assert await store.expired() == []
    harness.clock.advance(10)
    assert sorted(await store.expired()) == [("s", "g", "a"), ("s:x", "g:y", "c:z")]
    assert await store.expired() == []  # removed: reported once
    assert await ids(store, "s", "g") == ["b", "keep"]
    assert await store.groups("s:x") == []
    harness.clock.advance(10)
    assert await store.expired() == [("s", "g", "b")]
    assert await ids(store, "s", "g") == ["keep"]


# --- shared storage --------------------------------------------------------------------------


async def test_stores_on_the_same_storage_see_each_other(shared: Harness) -> None:
    one, two = shared.open(), shared.open()
    await one.set("s", "g", "i", {"v": 1}, 10)
    assert await two.get("s", "g", "i") == {"v": 1, "id": "i"}
    _, result = await two.set("s", "g", "i", {"v": 2}, 10)
    assert result == "updated"
    assert await one.get_group("s", "g") == [{"v": 2, "id": "i"}]
    shared.clock.advance(10)
    assert await one.expired() == [("s", "g", "i")]
    assert await two.expired() == []


@pytest.mark.parametrize("name", ["redis", "postgres"])
async def test_expired_is_reported_once_across_concurrent_sweeps(name: str, tmp_path: Path) -> None:
    gen = _harness(name, tmp_path)
    h = next(gen)
    try:
        stores = [h.open() for _ in range(3)]
        await asyncio.gather(*(stores[0].set("s", "g", f"i{n}", {}, 1) for n in range(50)))
        h.clock.advance(1)
        swept = await asyncio.gather(*(store.expired() for store in stores))
        reported = [item for batch in swept for item in batch]
        assert sorted(reported) == sorted(("s", "g", f"i{n}") for n in range(50))
        assert await stores[1].groups("s") == []

    finally:
        next(gen, None)
