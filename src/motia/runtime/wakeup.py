"""A flag one task waits on, for at most a given time.

What `asyncio.Event` with `asyncio.timeout` around its `wait()` does, for a worker that
waits once per lease: one future and one timer per wait, and the timer resolves the wait
instead of cancelling the task, so a timeout never meets a cancellation from outside.
"""

from __future__ import annotations

import asyncio


class Wakeup:
    __slots__ = ("_set", "_waiter")

    def __init__(self) -> None:
        self._set = False
        self._waiter: asyncio.Future[bool] | None = None

    def set(self) -> None:
        self._set = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)

    def clear(self) -> None:
        self._set = False

    def is_set(self) -> bool:
        return self._set

    async def wait(self, timeout: float, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether the flag was set (now or within `timeout` seconds). One waiter at a
        time; `loop` is the running one."""
        if self._set:
            return True
        waiter: asyncio.Future[bool] = loop.create_future()
        timer = loop.call_later(timeout, _expire, waiter)
        self._waiter = waiter
        try:
            return await waiter
        finally:
            timer.cancel()
            self._waiter = None


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)
