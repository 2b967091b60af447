"""Cancelling an API handler whose client went away: nobody will read its answer, so its
work stops and its emits are not committed (they would announce a change the client never
heard of)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from typing import Any, TypeVar

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
T = TypeVar("T")


class ClientDisconnected(Exception):
    """The client closed the connection before the handler answered."""

    def __init__(self) -> None:
        super().__init__(
            "the client disconnected before the answer; the handler was cancelled and its "
            "emits were dropped"
        )


async def run_until_disconnect(run: Coroutine[Any, Any, T], receive: Receive) -> T:
    """Await `run`, cancelling it if the client disconnects first.

    The body has been read, so the next ASGI message is the disconnect. The cancellation
    goes through a timeout scope, which asyncio withdraws cleanly when `run` finishes
    first: a disconnect racing the end of the handler never cancels what comes after.
    """
    scope = asyncio.timeout(None)
    watcher: asyncio.Task[None] | None = None
    try:
        async with scope:
            watcher = asyncio.get_running_loop().create_task(_expire_on_disconnect(receive, scope))
            return await run
    except TimeoutError:
        if scope.expired():
            raise ClientDisconnected() from None
        raise  # the handler's own TimeoutError
    finally:
        if watcher is not None:
            watcher.cancel()


async def _expire_on_disconnect(receive: Receive, scope: asyncio.Timeout) -> None:
    try:
        while (await receive())["type"] != "http.disconnect":
            pass
    except Exception:  # the server cannot tell: leave the handler alone
        return
    with contextlib.suppress(RuntimeError):  # the scope closed meanwhile
        scope.reschedule(asyncio.get_running_loop().time())
