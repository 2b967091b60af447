"""`motia.runtime.loop_block.timed` on a real event loop: each slice of a handler is
measured; values, errors and cancellations pass through unchanged."""

from __future__ import annotations

import asyncio
import time

import pytest

from motia.runtime.loop_block import BlockReporter, timed


def _hold(seconds: float) -> None:
    """Keep the loop's thread busy, as CPU-bound code does."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _reporter(threshold: float = 0.05) -> tuple[BlockReporter, list[tuple[str, float]]]:
    heard: list[tuple[str, float]] = []
    return BlockReporter(
        threshold, lambda step, trace, seconds: heard.append((step, seconds))
    ), heard


async def test_a_slice_past_the_threshold_is_reported_once_with_its_length() -> None:
    reporter, heard = _reporter()

    async def handler() -> str:
        await asyncio.sleep(0.01)
        _hold(0.12)  # the second slice blocks
        await asyncio.sleep(0.01)
        return "done"

    assert await timed(handler(), reporter, "S", "t1") == "done"
    assert len(heard) == 1
    step, seconds = heard[0]
    assert step == "S" and 0.12 <= seconds < 1.0
    # The same step again right away is not reported twice.
    assert await timed(handler(), reporter, "S", "t2") == "done"
    assert len(heard) == 1


async def test_a_handler_that_awaits_between_short_slices_is_not_reported() -> None:
    reporter, heard = _reporter()

    async def handler() -> None:
        for _ in range(5):
            _hold(0.02)
            await asyncio.sleep(0.01)

    await timed(handler(), reporter, "S", None)
    assert heard == []


async def test_errors_and_cancellation_reach_the_handler_and_the_caller() -> None:
    reporter, _ = _reporter()

    async def fails() -> None:
        await asyncio.sleep(0)
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await timed(fails(), reporter, "S", None)

    cleaned = asyncio.Event()

    async def waits() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            cleaned.set()

    task = asyncio.ensure_future(timed(waits(), reporter, "S", None))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned.is_set()
