"""State writes held back for the outbox: the handler reads its own writes, the store sees
nothing until they are applied, and the recorded writes replay to the same result."""

from __future__ import annotations

import pytest

from motia.adapters.memory.state import MemoryStateAdapter
from motia.adapters.state.pending import PendingStateWrites, StateWrite


async def seeded() -> MemoryStateAdapter:
    store = MemoryStateAdapter()
    await store.set("orders", "a", {"n": 1})
    await store.set("orders", "b", {"n": 2})
    await store.set("other", "x", 1)
    return store


async def replay(store: MemoryStateAdapter, writes: list[StateWrite]) -> None:
    """What a queue does with the writes at completion, on a store without transactions."""
    for write in writes:
        if write.key is None:
            await store.clear(write.group_id)
        elif write.value is None:
            await store._delete(write.group_id, write.key)
        else:
            await store._set(write.group_id, write.key, write.value)


async def test_the_handler_reads_its_writes_and_the_store_sees_none() -> None:
    store = await seeded()
    pending = PendingStateWrites(store)
    assert await pending.set("orders", "c", {"n": 3}) == {"n": 3}
    assert await pending.set("orders", "a", {"n": 10}) == {"n": 10}
    assert await pending.delete("orders", "b") == {"n": 2}
    assert await pending.delete("orders", "b") is None
    assert await pending.get("orders", "a") == {"n": 10}
    assert await pending.get("orders", "b") is None
    assert await pending.get("other", "x") == 1  # untouched groups read through
    assert await pending.get_group("orders") == [{"n": 10}, {"n": 3}]  # key order
    assert await pending.keys("orders") == ["a", "c"]

    assert await store.items("orders") == {"a": {"n": 1}, "b": {"n": 2}}
    await replay(store, pending.writes)
    assert await store.items("orders") == {"a": {"n": 10}, "c": {"n": 3}}


async def test_clear_hides_the_stored_group_and_later_sets_survive_it() -> None:
    store = await seeded()
    pending = PendingStateWrites(store)
    await pending.set("orders", "z", 0)
    await pending.clear("orders")
    assert await pending.get("orders", "a") is None
    assert await pending.get("orders", "z") is None
    assert await pending.get_group("orders") == []
    await pending.set("orders", "b", {"n": 20})
    assert await pending.items("orders") == {"b": {"n": 20}}
    assert await pending.groups() == ["orders", "other"]
    await pending.clear("other")
    assert await pending.groups() == ["orders"]

    assert await store.groups() == ["orders", "other"]
    await replay(store, pending.writes)
    assert await store.items("orders") == {"b": {"n": 20}}
    assert await store.groups() == ["orders"]


async def test_a_value_is_copied_when_set_and_bad_values_are_refused_at_once() -> None:
    pending = PendingStateWrites(MemoryStateAdapter())
    value = {"items": [1]}
    await pending.set("g", "k", value)
    value["items"].append(2)
    assert await pending.get("g", "k") == {"items": [1]}
    with pytest.raises(TypeError):
        await pending.set("g", "bad", {"x": object()})
    assert [w.key for w in pending.writes] == ["k"]
