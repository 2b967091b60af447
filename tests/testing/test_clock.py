"""ManualClock: time that moves only when a test moves it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from motia.clock import Clock
from motia.testing import ManualClock


def test_now_and_time_stand_still_until_moved() -> None:
    clock = ManualClock()
    assert isinstance(clock, Clock)
    assert clock.now() == datetime(2025, 1, 1, tzinfo=UTC)
    assert clock.time() == clock.now().timestamp()
    clock.advance(1.5)
    assert clock.now() == datetime(2025, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)
    clock.set(datetime(2030, 6, 1, 8, tzinfo=UTC))
    assert clock.now().year == 2030
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2030, 6, 1))
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)


async def test_sleep_waits_for_fake_time() -> None:
    clock = ManualClock(datetime(2025, 5, 5, tzinfo=UTC))
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    tasks = [
        asyncio.create_task(sleeper("ten", 10)),
        asyncio.create_task(sleeper("five", 5)),
    ]
    await asyncio.sleep(0)
    assert clock.next_timer() == clock.time() + 5
    clock.advance(4.999)
    for _ in range(5):
        await asyncio.sleep(0)
    assert woke == []
    clock.advance(0.001)
    await asyncio.sleep(0)
    assert clock.pending_wakeups in (0, 1)
    await asyncio.sleep(0)
    assert woke == ["five"]
    assert clock.pending_wakeups == 0
    clock.advance(100)
    await asyncio.gather(*tasks)
    await clock.sleep(0)  # no wait at all
    assert woke == ["five", "ten"]


async def test_a_cancelled_sleep_is_forgotten() -> None:
    clock = ManualClock()
    task = asyncio.create_task(clock.sleep(60))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.next_timer() is None
    clock.advance(120)
    assert clock.pending_wakeups == 0
