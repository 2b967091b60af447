"""The framework's own long-running tasks (lease loops, timers, sweepers, watchdogs).

Such a task ends only when it is stopped; one that dies of an error must say so when it
dies, not when (or if) someone awaits it: asyncio reports an unretrieved error only when
the collector happens to free the task, and `task.cancel()` on a finished task drops the
report altogether. Stopping one never raises what it died of (that was logged already),
so a dead loop cannot stop the rest of a shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import traceback
from collections.abc import Coroutine
from typing import Any, TypeVar

from motia.logs import Logger

T = TypeVar("T")


def start_task(
    coro: Coroutine[Any, Any, T], logger: Logger, what: str, *, name: str | None = None
) -> asyncio.Task[T]:
    """Start `coro` on the running loop; an error it ends with is logged as `what` stopped."""
    task = asyncio.get_running_loop().create_task(coro, name=name)
    task.add_done_callback(functools.partial(_report, logger, what))
    return task


def _report(logger: Logger, what: str, task: asyncio.Task[Any]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        logger.error(
            f"{what} stopped: {type(error).__name__}: {error}",
            {"stack": "".join(traceback.format_exception(error))},
        )


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel a task from `start_task` and wait until it has ended."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(Exception):  # its error was logged when it happened
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the caller itself is being cancelled: that goes on
