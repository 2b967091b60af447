"""Request timeouts: an API handler that runs past its time is cancelled and its client
gets `504`.

An `async def` handler is cancelled where it awaits. A plain `def` handler runs in a thread,
which Python cannot stop: its thread runs on to its end (its state writes take effect) but
its answer and its emits are dropped, as for a cancelled one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


class RequestTimedOut(Exception):
    """The handler did not answer within the request timeout."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"the handler ran longer than the request timeout of {seconds:g} s; it was "
            "cancelled and its emits were dropped"
        )
        self.seconds = seconds


async def within(seconds: float | None, run: Awaitable[T]) -> T:
    """Await `run`, raising `RequestTimedOut` once `seconds` have passed (None: no limit)."""
    if seconds is None:
        return await run
    scope = asyncio.timeout(seconds)
    try:
        async with scope:
            return await run
    except TimeoutError:
        if scope.expired():
            raise RequestTimedOut(seconds) from None
        raise  # the handler's own TimeoutError is its failure, not ours
