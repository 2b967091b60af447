"""The queue contract for scheduled emits, on every backend: they fire once at their
time, can be listed, cancelled by id or by key, replaced by key, and survive a restart.

Copies of one scheduled emit (one per subscriber) share its event id, as the bus makes
them. Time is the harness's manual clock.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from motia.adapters.queue.base import OutgoingMessage, QueueAdapter
from tests.unit import backend_support
from tests.unit.test_queue_contract import (
    DURABLE,
    FAIL,
    LEASE,
    SHARED,
    START,
    Harness,
    _harness,
    lease_ids,
    lease_one,
    msg,
)


@pytest.fixture(params=backend_support.NAMES)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    yield from _harness(request.param, tmp_path)


@pytest.fixture(params=sorted(DURABLE))
def durable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    yield from _harness(request.param, tmp_path)


@pytest.fixture(params=sorted(SHARED))
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    yield from _harness(request.param, tmp_path)


_numbers = itertools.count(1)


def scheduled(
    event: str,
    *subscribers: str,
    fire_in: float,
    topic: str = "reminder.due",
    key: str | None = None,
    data: object = None,
) -> list[OutgoingMessage]:
    """The copies of one scheduled emit, as `EventBus.fan_out` makes them."""
    return [
        OutgoingMessage(
            id=f"{event}-{subscriber}-{next(_numbers)}",
            event_id=event,
            subscriber=subscriber,
            topic=topic,
            data={"event": event} if data is None else data,
            trace_id=f"trace-{event}",
            flows=["reminders"],
            delay=fire_in,
            fire_at=START + fire_in,
            key=key,
        )
        for subscriber in subscribers or ("Sub",)
    ]


async def listed(queue: QueueAdapter, topic: str | None = None) -> list[str]:
    return [emit.id for emit in await queue.scheduled(topic)]


async def test_fires_once_at_its_time(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish(scheduled("e1", "A", "B", fire_in=60))
    assert await lease_ids(queue, "A") == []
    harness.clock.advance(59.9)
    assert await lease_ids(queue, "A") == []
    assert await queue.next_delayed_at("A", harness.clock.time()) == START + 60
    harness.clock.advance(0.1)
    first = await lease_one(queue, "A")
    assert (first.event_id, first.topic, first.attempt) == ("e1", "reminder.due", 1)
    assert await lease_ids(queue, "A") == []  # once
    assert await queue.complete(first, []) is True
    harness.clock.advance(LEASE * 3)
    assert await lease_ids(queue, "A") == []
    assert len(await lease_ids(queue, "B")) == 1  # every subscriber gets its copy


async def test_lists_pending_emits_soonest_first(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish(scheduled("late", "A", "B", fire_in=300, key="k1", data={"n": 1}))
    await queue.publish(scheduled("soon", "A", fire_in=10, topic="other.topic"))
    await queue.publish([msg("A", id="plain")])  # not scheduled: never listed
    emits = await queue.scheduled()
    assert [e.id for e in emits] == ["soon", "late"]
    late = emits[1]
    assert late.as_dict() == {
        "id": "late",
        "topic": "reminder.due",
        "key": "k1",
        "fireAt": START + 300,
        "traceId": "trace-late",
        "steps": ["A", "B"],
        "data": {"n": 1},
    }
    assert await listed(queue, "other.topic") == ["soon"]
    assert [e.id for e in await queue.scheduled(limit=1)] == ["soon"]
    # Once fired and leased, an emit is no longer pending.
    harness.clock.advance(10)
    leased = {d.event_id for d in await queue.lease("A", 10, LEASE)}
    assert "soon" in leased and len(leased) == 2  # the plain message and "soon"
    assert await listed(queue) == ["late"]


async def test_cancel_by_id_deletes_every_pending_copy(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish(scheduled("e1", "A", "B", fire_in=30))
    await queue.publish(scheduled("e2", "A", fire_in=30))
    assert await queue.cancel_scheduled("e1") == 2
    assert await queue.cancel_scheduled("e1") == 0  # nothing left to cancel
    assert await queue.cancel_scheduled("unknown") == 0
    assert await listed(queue) == ["e2"]
    harness.clock.advance(31)
    assert [d.event_id for d in await queue.lease("A", 10, LEASE)] == ["e2"]
    assert await lease_ids(queue, "B") == []


async def test_cancel_leaves_a_leased_copy_alone(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish(scheduled("e1", "A", "B", fire_in=5))
    harness.clock.advance(5)
    running = await lease_one(queue, "A")
    assert await queue.cancel_scheduled("e1") == 1  # only B's copy was still pending
    assert await lease_ids(queue, "B") == []
    assert await queue.complete(running, []) is True
    # A copy that failed once is a retry, not a pending schedule.
    await queue.publish(scheduled("e2", "A", fire_in=0))
    failing = await lease_one(queue, "A")
    await queue.retry(failing, 10, FAIL)
    assert await queue.cancel_scheduled("e2") == 0
    harness.clock.advance(10)
    assert (await lease_one(queue, "A")).attempt == 2


async def test_cancel_by_key_on_a_topic_or_on_all(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish(scheduled("e1", "A", fire_in=30, topic="t.one", key="user-1"))
    await queue.publish(scheduled("e2", "A", fire_in=30, topic="t.two", key="user-1"))
    await queue.publish(scheduled("e3", "A", fire_in=30, topic="t.two", key="user-2"))
    assert await queue.cancel_scheduled(topic="t.one", key="user-2") == 0
    assert await queue.cancel_scheduled(topic="t.one", key="user-1") == 1
    assert await listed(queue) == ["e2", "e3"]
    assert await queue.cancel_scheduled(key="user-2") == 1
    assert await listed(queue) == ["e2"]
    assert await queue.cancel_scheduled() == 0  # names nothing: cancels nothing


async def test_same_key_replaces_the_pending_emit(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish(scheduled("first", "A", "B", fire_in=60, key="cart-7"))
    await queue.publish(scheduled("other-topic", "A", fire_in=60, topic="t.x", key="cart-7"))
    await queue.publish(scheduled("second", "A", "B", fire_in=120, key="cart-7"))
    assert await listed(queue) == ["other-topic", "second"]
    harness.clock.advance(120)
    got = [d.event_id for d in await queue.lease("A", 10, LEASE)]
    assert sorted(got) == ["other-topic", "second"]
    assert [d.event_id for d in await queue.lease("B", 10, LEASE)] == ["second"]


async def test_replace_in_one_publish_keeps_the_last(harness: Harness) -> None:
    queue = harness.open()
    batch = [
        *scheduled("one", "A", fire_in=10, key="k"),
        *scheduled("two", "A", fire_in=20, key="k"),
    ]
    await queue.publish(batch)
    assert await listed(queue) == ["two"]


async def test_a_handlers_scheduled_emits_commit_with_its_completion(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish(scheduled("old", "A", fire_in=100, key="debounce"))
    await queue.publish([msg("Worker", id="job")])
    held = await lease_one(queue, "Worker")
    assert await queue.complete(held, scheduled("new", "A", fire_in=50, key="debounce"))
    assert await listed(queue) == ["new"]
    # A completion that lost its lease schedules nothing and replaces nothing.
    await queue.publish([msg("Worker", id="job2")])
    lost = await lease_one(queue, "Worker")
    harness.clock.advance(LEASE + 1)
    await lease_one(queue, "Worker")  # taken over
    assert not await queue.complete(lost, scheduled("never", "A", fire_in=5, key="debounce"))
    assert await listed(queue) == ["new"]


async def test_scheduled_emits_survive_a_restart(durable: Harness) -> None:
    queue = durable.open()
    await queue.publish(scheduled("keep", "A", "B", fire_in=60, key="k-keep"))
    await queue.publish(scheduled("drop", "A", fire_in=60, key="k-drop"))
    durable.close()  # the process goes away

    queue = durable.open()
    assert await listed(queue) == ["drop", "keep"]
    assert await queue.cancel_scheduled(key="k-drop") == 1
    await queue.publish(scheduled("keep-2", "A", "B", fire_in=90, key="k-keep"))
    durable.close()

    queue = durable.open()
    assert await listed(queue) == ["keep-2"]
    durable.clock.advance(89)
    assert await lease_ids(queue, "A") == []
    durable.clock.advance(1)
    assert [d.event_id for d in await queue.lease("A", 10, LEASE)] == ["keep-2"]
    assert await listed(queue) == ["keep-2"]  # B's copy still pending
    assert len(await lease_ids(queue, "B")) == 1
    assert await listed(queue) == []


async def test_fires_once_with_two_consumers(shared: Harness) -> None:
    first, second = shared.open(), shared.open()
    for n in range(20):
        await first.publish(scheduled(f"e{n}", "A", fire_in=10 + n % 3))
    shared.clock.advance(13)
    got = await asyncio.gather(
        *(queue.lease("A", 4, LEASE) for _ in range(5) for queue in (first, second))
    )
    ids = [d.event_id for batch in got for d in batch]
    ids += [d.event_id for d in await second.lease("A", 100, LEASE)]
    assert sorted(ids) == sorted(f"e{n}" for n in range(20))
    assert await second.scheduled() == []


async def test_cancel_races_a_lease_without_losing_or_doubling(shared: Harness) -> None:
    first, second = shared.open(), shared.open()
    for n in range(20):
        await first.publish(scheduled(f"e{n}", "A", fire_in=5))
    shared.clock.advance(5)
    leased, *cancelled = await asyncio.gather(
        first.lease("A", 100, LEASE), *(second.cancel_scheduled(f"e{n}") for n in range(20))
    )
    assert isinstance(leased, list)
    # Each copy was either leased or cancelled, never both and never neither.
    assert len(leased) + sum(cancelled) == 20
    leased_ids = {d.event_id for d in leased}
    assert all((f"e{n}" in leased_ids) != bool(count) for n, count in enumerate(cancelled))


async def index_size(harness: Harness) -> int:
    """How many scheduled emits the backend's index holds (fired ones not pruned yet too)."""
    backend = harness._opened[-1]
    if harness.name == "sqlite":
        row = backend.database.query_one("SELECT count(*) FROM motia_scheduled")  # type: ignore[attr-defined]
    elif harness.name == "postgres":
        row = await backend.database.fetch_one("SELECT count(*) FROM scheduled_emits")  # type: ignore[attr-defined]
    else:
        prefix = backend_support.settings_for(harness.tmp).redis_prefix
        return int(await backend.client.zcard(f"{prefix}:s:at"))  # type: ignore[attr-defined]
    assert row is not None
    return int(row[0])


async def test_the_index_forgets_fired_emits_behind_waiting_ones(durable: Harness) -> None:
    """Emits due but not taken yet (no worker for their step) stay; those that fired are
    dropped as new ones are scheduled, however many wait in front of them."""
    queue = durable.open()
    for n in range(120):
        await queue.publish(scheduled(f"idle-{n}", "Idle", fire_in=1))
    for n in range(30):
        await queue.publish(scheduled(f"busy-{n}", "Busy", fire_in=2))
    durable.clock.advance(2)
    for delivery in await queue.lease("Busy", 100, LEASE):
        assert await queue.complete(delivery, [])
    assert await index_size(durable) == 150
    await queue.publish(scheduled("new-1", "Idle", fire_in=100))
    await queue.publish(scheduled("new-2", "Idle", fire_in=100))
    assert await index_size(durable) == 122  # the 120 waiting and the 2 new
    assert len(await queue.scheduled(limit=1000)) == 122
