"""Cancelling an API handler whose client went away: nobody will read its answer, so its
work stops and its emits are not committed (they would announce a change the client never
heard of)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from starlette.types import Receive

T = TypeVar("T")

# A request is watched once its handler has run this long (seconds); a client that left
# is noticed this much later at most. Most handlers answer sooner and are never watched.
WATCH_AFTER = 0.05


class ClientDisconnected(Exception):
    """The client closed the connection before the handler answered."""

    def __init__(self) -> None:
        super().__init__(
            "the client disconnected before the answer; the handler was cancelled and its "
            "emits were dropped"
        )


class _Request:
    __slots__ = ("gone", "receive", "started", "task", "watcher")

    def __init__(self, task: asyncio.Task[Any], receive: Receive, started: float) -> None:
        self.task = task
        self.receive = receive
        self.started = started
        self.gone = False
        self.watcher: asyncio.Task[None] | None = None


class DisconnectWatch:
    """Runs handlers so that a client disconnecting cancels them.

    A fast request costs a set insertion: one sweeper task, waking every `WATCH_AFTER`,
    starts a watcher (a task waiting for the ASGI disconnect message) only for requests
    still running by then.
    """

    def __init__(self) -> None:
        self._running: set[_Request] = set()
        self._sweeper: asyncio.Task[None] | None = None

    async def run(self, run: Coroutine[Any, Any, T], receive: Receive) -> T:
        """Await `run` (the body has been read), cancelling it if the client leaves.

        The watcher cancels the request's own task; that cancellation can only surface
        inside `run`, since the watcher runs while the request is suspended in it and is
        itself cancelled the moment `run` ends.
        """
        task = asyncio.current_task()
        assert task is not None
        loop = task.get_loop()
        request = _Request(task, receive, loop.time())
        self._running.add(request)
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = loop.create_task(self._sweep(), name="motia-disconnect-watch")
        try:
            return await run
        except asyncio.CancelledError:
            if request.gone:
                task.uncancel()
                raise ClientDisconnected() from None
            raise
        finally:
            self._running.discard(request)
            if request.watcher is not None:
                request.watcher.cancel()

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        while self._running:
            await asyncio.sleep(WATCH_AFTER)
            due = loop.time() - WATCH_AFTER
            for request in self._running:
                if request.watcher is None and request.started <= due:
                    request.watcher = loop.create_task(self._watch(request))

    async def _watch(self, request: _Request) -> None:
        try:
            while (await request.receive())["type"] != "http.disconnect":
                pass
        except Exception:  # the server cannot tell: leave the handler alone
            return
        if request in self._running:
            request.gone = True
            request.task.cancel()
