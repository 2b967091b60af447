"""Awaiting Redis commands without losing a cancellation.

redis-py sends every command under `asyncio.wait_for` when the connection has a socket
timeout (its default). On Python 3.11, `wait_for` swallows a cancellation that arrives just
as the command completes: the caller gets the result, the task stays marked as cancelling,
and a loop that is stopped by cancelling it (a worker's lease loop, say) goes on for ever.
`settle` gives the cancellation back: when the task was asked to cancel during the command
and the command still returned, it raises CancelledError instead of returning."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def settle(command: Awaitable[T]) -> T:
    task = asyncio.current_task()
    before = task.cancelling() if task is not None else 0
    result = await command
    if task is not None and task.cancelling() > before:
        raise asyncio.CancelledError
    return result
