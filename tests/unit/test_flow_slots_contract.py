"""One contract for the flow-control slots of every backend (concurrency, throttle and
idempotency all stand on `take` / `give_back`). Time is a fake clock moved by hand; a
second backend object on the same storage is a second process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from motia.adapters.backend import Backend
from motia.adapters.flow.base import FlowSlots, Take
from motia.adapters.sqlite.backend import SqliteBackend
from tests.unit import backend_support
from tests.unit.test_queue_contract import START, start_clock

SHARED = ("sqlite", "redis", "postgres")


class Slots:
    def __init__(self, name: str, tmp: Path) -> None:
        self.name = name
        self.tmp = tmp
        self.clock = start_clock()
        self._opened: list[Backend] = []

    def open(self) -> FlowSlots:
        backend = backend_support.open_backend(self.name, self.tmp, self.clock)
        self._opened.append(backend)
        return backend.flow_slots()

    def close(self) -> None:
        for backend in self._opened:
            if isinstance(backend, SqliteBackend):
                backend.database.close()


def _slots(name: str, tmp: Path) -> Iterator[Slots]:
    backend_support.require(name)
    slots = Slots(name, tmp)
    yield slots
    slots.close()
    backend_support.cleanup(tmp)


@pytest.fixture(params=backend_support.NAMES)
def slots(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Slots]:
    yield from _slots(request.param, tmp_path)


@pytest.fixture(params=SHARED)
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Slots]:
    yield from _slots(request.param, tmp_path)


async def test_take_up_to_limit_then_wait_for_the_earliest_expiry(slots: Slots) -> None:
    store = slots.open()
    assert await store.take("s", "a", 2, 10) == 0
    slots.clock.advance(3)
    assert await store.take("s", "b", 2, 10) == 0
    # Full: the answer is when the earliest slot ("a", taken at START) expires.
    assert await store.take("s", "c", 2, 10) == pytest.approx(7)
    # Another scope has its own slots.
    assert await store.take("other", "c", 2, 10) == 0
    slots.clock.advance(7)
    assert await store.take("s", "c", 2, 10) == 0
    assert await store.take("s", "d", 2, 10) == pytest.approx(3)


async def test_holder_renews_its_own_slot(slots: Slots) -> None:
    store = slots.open()
    assert await store.take("s", "a", 1, 10) == 0
    slots.clock.advance(8)
    assert await store.take("s", "a", 1, 10) == 0  # a retry of the same message
    slots.clock.advance(8)
    assert await store.take("s", "b", 1, 10) == pytest.approx(2)  # renewed at START + 8


async def test_give_back_frees_the_slot_at_once(slots: Slots) -> None:
    store = slots.open()
    assert await store.take("s", "a", 1, 100) == 0
    assert await store.take("s", "b", 1, 100) > 0
    await store.give_back("s", "a")
    await store.give_back("s", "nobody")  # nothing to give back: no error
    assert await store.take("s", "b", 1, 100) == 0


async def test_expired_slots_of_a_crashed_process_free_themselves(shared: Slots) -> None:
    crashed = shared.open()
    assert await crashed.take("s", "a", 1, 30) == 0
    survivor = shared.open()  # another process on the same storage
    assert await survivor.take("s", "b", 1, 30) == pytest.approx(30)
    shared.clock.advance(30)
    assert await survivor.take("s", "b", 1, 30) == 0


async def test_processes_never_take_more_than_the_limit_together(shared: Slots) -> None:
    stores = [shared.open() for _ in range(3)]
    holders = [f"h{i}" for i in range(12)]
    answers = await asyncio.gather(
        *(stores[i % 3].take("s", holder, 4, 60) for i, holder in enumerate(holders))
    )
    assert sum(1 for wait in answers if wait == 0) == 4
    assert shared.clock.time() == START


async def test_take_all_takes_every_slot_or_none(slots: Slots) -> None:
    store = slots.open()
    assert await store.take("full", "x", 1, 10) == 0
    takes = [Take("a", "m1", 1, 10), Take("full", "m1", 1, 10), Take("b", "m1", 1, 10)]
    refused, wait = await store.take_all(takes)
    assert (refused, wait) == (1, pytest.approx(10))
    # Nothing was kept of the refused call: "a" and "b" are still free for others.
    assert await store.take("a", "other", 1, 10) == 0
    assert await store.take("b", "other", 1, 10) == 0
    await store.give_back("a", "other")
    await store.give_back("b", "other")
    await store.give_back("full", "x")
    assert await store.take_all(takes) == (-1, 0.0)
    assert await store.take("a", "other", 1, 10) > 0
    assert await store.take("b", "other", 1, 10) > 0
    # A holder renews its own slots through take_all too.
    slots.clock.advance(5)
    assert await store.take_all(takes) == (-1, 0.0)
    assert await store.take("full", "other", 1, 10) == pytest.approx(10)


async def test_a_refused_take_all_leaves_the_holder_s_earlier_slots_alone(slots: Slots) -> None:
    store = slots.open()
    assert await store.take("claim", "m1", 1, 60) == 0  # a first attempt's claim
    assert await store.take("busy", "other", 1, 60) == 0
    # Its retry finds the concurrency key busy: refused, and its claim stays its own.
    takes = [Take("claim", "m1", 1, 60), Take("busy", "m1", 1, 60)]
    assert (await store.take_all(takes))[0] == 1
    assert await store.take("claim", "m2", 1, 60) == pytest.approx(60)
