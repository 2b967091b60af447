"""One run of one handler: the calls it made to the context and the emits it produced.

Context calls are awaitable; a call the handler forgot to await still runs (it starts on
the next loop turn) and is finished before the run is considered complete, so nothing a
handler asked for is lost when it returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any

from motia.runtime.events import Event


class ContextCall:
    """An awaitable around one context coroutine that starts itself if nobody awaits it."""

    __slots__ = ("_coro", "_task")

    def __init__(
        self,
        coro: Coroutine[Any, Any, Any],
        invocation: Invocation,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        """`loop` is the running one (passed: asking for it costs a system call on 3.11)."""
        self._coro: Coroutine[Any, Any, Any] | None = coro
        self._task: asyncio.Task[Any] | None = None
        invocation.calls.append(self)
        loop.call_soon(self._start_if_forgotten, loop)

    def _start_if_forgotten(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._coro is not None:
            self._task = loop.create_task(self._coro)
            self._coro = None

    def __await__(self) -> Generator[Any, None, Any]:
        if self._coro is not None:
            coro, self._coro = self._coro, None
            return coro.__await__()
        if self._task is None:
            raise RuntimeError("this context call was already awaited")
        return self._task.__await__()

    @property
    def finished(self) -> bool:
        """Awaited by the handler already; a call that started on its own is still
        settled, so its error is reported."""
        return self._coro is None and self._task is None

    async def settle(self) -> BaseException | None:
        """Finish a call nobody awaited; returns its error instead of raising it."""
        try:
            if self._coro is not None:
                coro, self._coro = self._coro, None
                await coro
            elif self._task is not None:
                await self._task
        except Exception as exc:
            return exc
        return None


class Invocation:
    """Collects what a handler run did; the runtime commits it when the run succeeds."""

    __slots__ = ("calls", "outbox", "skipped", "state_ops", "stream_ops")

    def __init__(self) -> None:
        # Why a trigger's condition stopped the run before its handler, if it did.
        self.skipped: str | None = None
        self.calls: list[ContextCall] = []
        self.outbox: list[Event] = []
        self.state_ops = 0
        self.stream_ops = 0

    async def settle(self) -> list[BaseException]:
        errors: list[BaseException] = []
        # Calls may add calls (a forgotten call inside a forgotten call), so loop until done.
        index = 0
        while index < len(self.calls):
            call = self.calls[index]
            index += 1
            if call.finished:
                continue
            error = await call.settle()
            if error is not None:
                errors.append(error)
        return errors
