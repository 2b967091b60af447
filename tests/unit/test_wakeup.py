"""`Wakeup`, the flag a queue worker waits on between leases."""

from __future__ import annotations

import asyncio

import pytest

from motia.runtime.wakeup import Wakeup


async def test_a_flag_set_before_the_wait_returns_at_once() -> None:
    wakeup = Wakeup()
    wakeup.set()
    assert wakeup.is_set()
    assert await wakeup.wait(60, asyncio.get_running_loop()) is True
    wakeup.clear()
    assert not wakeup.is_set()


async def test_setting_the_flag_ends_the_wait() -> None:
    loop = asyncio.get_running_loop()
    wakeup = Wakeup()
    waiting = asyncio.ensure_future(wakeup.wait(60, loop))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    started = loop.time()
    wakeup.set()
    assert await waiting is True
    assert loop.time() - started < 1
    wakeup.set()  # again, with nobody waiting: nothing to wake


async def test_the_wait_ends_unset_after_the_timeout() -> None:
    loop = asyncio.get_running_loop()
    wakeup = Wakeup()
    started = loop.time()
    assert await wakeup.wait(0.05, loop) is False
    assert loop.time() - started >= 0.04
    assert not wakeup.is_set()
    assert await wakeup.wait(0, loop) is False


async def test_a_cancelled_wait_is_cancelled_and_leaves_nothing_behind() -> None:
    loop = asyncio.get_running_loop()
    wakeup = Wakeup()
    waiting = asyncio.ensure_future(wakeup.wait(0.05, loop))
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.sleep(0.08)  # past the timeout: its timer was cancelled with the wait
    wakeup.set()  # no waiter left to resolve
    assert await wakeup.wait(60, loop) is True
