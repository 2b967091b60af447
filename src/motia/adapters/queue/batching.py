"""Many concurrent writes, one round trip.

A request to a remote store costs a fixed amount of CPU on both sides (the client library's
command machinery, the server's script set-up and socket I/O) that dwarfs the work of one
small write. `Batcher` gathers the writes that callers make while the event loop is busy
(all the handlers that finished in one loop turn, say) and hands them to one `flush` call;
each caller still awaits its own result. At most one flush runs at a time: writes that
arrive meanwhile form the next batch, so batches grow with the load and a lone write waits
only for the next loop turn.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Request(Generic[T, R]):
    item: T
    weight: int
    future: asyncio.Future[R]
    orphaned: Callable[[R], None] | None


class Batcher(Generic[T, R]):
    def __init__(self, flush: Callable[[list[T]], Awaitable[Sequence[R]]], max_weight: int) -> None:
        """`flush` writes a batch and returns one result per item, in order; a batch holds
        at most `max_weight` (the sum of the items' weights), or one heavier item."""
        self._flush = flush
        self._max_weight = max_weight
        self._pending: deque[_Request[T, R]] = deque()
        self._runner: asyncio.Task[None] | None = None

    async def submit(
        self, item: T, weight: int = 1, orphaned: Callable[[R], None] | None = None
    ) -> R:
        """Write `item` with the next batch. A caller cancelled before its batch is sent
        writes nothing; once sent, the write happens whether or not anybody waits, and its
        result goes to `orphaned` (to undo what nobody will use) when nobody does."""
        loop = asyncio.get_running_loop()
        if self._runner is not None and self._runner.get_loop() is not loop:
            # The loop that ran the last batch was closed mid-way: its callers are gone.
            self._runner, self._pending = None, deque()
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append(_Request(item, weight, future, orphaned))
        if self._runner is None:
            self._runner = loop.create_task(self._run())  # its first step: the next turn
        return await future

    async def drain(self) -> None:
        """Wait until everything submitted so far is written (or failed)."""
        runner = self._runner
        if runner is not None and runner.get_loop() is asyncio.get_running_loop():
            await asyncio.wait([runner])

    def _take(self) -> list[_Request[T, R]]:
        batch: list[_Request[T, R]] = []
        weight = 0
        while self._pending and (not batch or weight + self._pending[0].weight <= self._max_weight):
            request = self._pending.popleft()
            if request.future.cancelled():
                continue
            batch.append(request)
            weight += request.weight
        return batch

    async def _run(self) -> None:
        me = asyncio.current_task()
        try:
            while self._pending:
                batch = self._take()
                if batch:
                    await self._write(batch)
        finally:
            if self._runner is me:  # not a runner of a closed loop, finalised late
                self._runner = None
                for request in self._pending:  # only when this task itself was cancelled
                    request.future.cancel()
                self._pending.clear()

    async def _write(self, batch: list[_Request[T, R]]) -> None:
        try:
            results = await self._flush([request.item for request in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} writes got {len(results)} results")
        except Exception as exc:
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(exc)
            return
        except BaseException:
            for request in batch:
                request.future.cancel()
            raise
        for request, result in zip(batch, results, strict=True):
            if not request.future.done():
                request.future.set_result(result)
            elif request.orphaned is not None:  # the caller was cancelled meanwhile
                request.orphaned(result)
