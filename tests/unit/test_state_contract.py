"""One contract for every state adapter: each backend must pass all of it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from motia.adapters.sqlite.database import SqliteDatabase
from motia.adapters.sqlite.state import SqliteStateAdapter
from motia.adapters.state.base import StateAdapter
from tests.unit import backend_support


@pytest.fixture(params=backend_support.NAMES)
def make_state(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], StateAdapter]]:
    backend_support.require(request.param)
    # Every backend of the table, opened as the runtime opens it.
    yield lambda: backend_support.open_backend(request.param, tmp_path).state()
    backend_support.cleanup(tmp_path)


async def test_missing_key_is_none(make_state: Callable[[], StateAdapter]) -> None:
    state = make_state()
    assert await state.get("g", "missing") is None
    assert await state.get_group("nobody") == []


async def test_set_returns_value_and_get_reads_it(make_state: Callable[[], StateAdapter]) -> None:
    state = make_state()
    value = {"n": 1, "nested": {"list": [1, "two", None, True]}, "data": "kept"}
    assert await state.set("g", "k", value) == value
    assert await state.get("g", "k") == value  # no {'data': ...} wrapping, ever
    for scalar in (0, "", False, None, 3.5, "text", [1, 2]):
        await state.set("g", "scalar", scalar)
        assert await state.get("g", "scalar") == scalar


async def test_stored_value_is_a_copy(make_state: Callable[[], StateAdapter]) -> None:
    state = make_state()
    value = {"items": [1]}
    await state.set("g", "k", value)
    value["items"].append(2)
    assert await state.get("g", "k") == {"items": [1]}


async def test_overwrite_delete_and_old_value(make_state: Callable[[], StateAdapter]) -> None:
    state = make_state()
    await state.set("g", "k", "first")
    await state.set("g", "k", "second")
    assert await state.get("g", "k") == "second"
    assert await state.delete("g", "k") == "second"
    assert await state.get("g", "k") is None
    assert await state.delete("g", "k") is None


async def test_groups_are_exact_not_prefixes(make_state: Callable[[], StateAdapter]) -> None:
    state = make_state()
    await state.set("order", "a", 1)
    await state.set("order", "b", 2)
    await state.set("orders", "c", 3)  # classic adapters matched this by prefix
    assert await state.get_group("order") == [1, 2]
    assert await state.keys("order") == ["a", "b"]
    assert await state.items("orders") == {"c": 3}
    assert await state.groups() == ["order", "orders"]


async def test_clear_empties_one_group_only(make_state: Callable[[], StateAdapter]) -> None:
    state = make_state()
    await state.set("a", "k", 1)
    await state.set("b", "k", 2)
    await state.clear("a")
    assert await state.get_group("a") == []
    assert await state.get("b", "k") == 2
    assert await state.groups() == ["b"]
    await state.clear("never-existed")


async def test_unserialisable_value_is_rejected_and_nothing_stored(
    make_state: Callable[[], StateAdapter],
) -> None:
    state = make_state()
    with pytest.raises(TypeError):
        await state.set("g", "k", object.__new__(type("Opaque", (), {"__slots__": ()})))
    assert await state.get("g", "k") is None


async def test_concurrent_writers_all_land(make_state: Callable[[], StateAdapter]) -> None:
    state = make_state()
    await asyncio.gather(*(state.set("g", f"k{i:03}", i) for i in range(200)))
    assert await state.get_group("g") == list(range(200))


async def test_sqlite_state_survives_reopening(tmp_path: Path) -> None:
    database = SqliteDatabase(tmp_path / "motia.db")
    await SqliteStateAdapter(database).set("g", "k", {"kept": True})
    database.close()
    reopened = SqliteStateAdapter(SqliteDatabase(tmp_path / "motia.db"))
    assert await reopened.get("g", "k") == {"kept": True}


async def test_sqlite_write_is_committed_when_set_returns(tmp_path: Path) -> None:
    """Group commit must not acknowledge a write before it is on disk for other readers."""

    database = SqliteDatabase(tmp_path / "motia.db")
    await SqliteStateAdapter(database).set("g", "k", 42)
    other = SqliteDatabase(tmp_path / "motia.db")  # a second connection, like another process
    assert other.query_one("SELECT value FROM motia_state WHERE key = 'k'") == (b"42",)
    other.close()
    database.close()
