"""`SyncMotiaTester`: the tester for plain (non-async) test functions.

It owns a private event loop and runs it only while one of its methods runs, in the
calling thread: nothing happens between two calls, so a test reads captures and state
without races, and `wait_until_idle()` is where queued work runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from motia.adapters.queue.base import DeadLetter
from motia.logs import LogRecord
from motia.runtime.events import Event
from motia.testing.clock import ManualClock
from motia.testing.tester import (
    EventWatcher,
    HandlerFailure,
    MotiaTester,
    StreamCapture,
    create_tester,
)

if TYPE_CHECKING:
    import httpx

    from motia.runtime.runtime import Runtime

T = TypeVar("T")


class SyncState:
    """`tester.state` with plain methods."""

    def __init__(self, tester: SyncMotiaTester) -> None:
        self._tester = tester

    def get(self, group_id: str, key: str) -> Any:
        return self._tester.run(self._tester.aio.state.get(group_id, key))

    def set(self, group_id: str, key: str, value: Any) -> Any:
        return self._tester.run(self._tester.aio.state.set(group_id, key, value))

    def delete(self, group_id: str, key: str) -> Any:
        return self._tester.run(self._tester.aio.state.delete(group_id, key))

    def get_group(self, group_id: str) -> list[Any]:
        return self._tester.run(self._tester.aio.state.get_group(group_id))

    def items(self, group_id: str) -> dict[str, Any]:
        return self._tester.run(self._tester.aio.state.items(group_id))

    def clear(self, group_id: str) -> None:
        self._tester.run(self._tester.aio.state.clear(group_id))

    def groups(self) -> list[str]:
        return self._tester.run(self._tester.aio.state.groups())


class SyncMotiaTester:
    """The same API as `MotiaTester`, with plain methods. `run(coro)` runs any coroutine on
    the tester's loop (e.g. an async scenario written against `tester.aio`)."""

    def __init__(
        self,
        project_dir: str | os.PathLike[str],
        *,
        env: Mapping[str, str] | None = None,
        config: Mapping[str, Any] | None = None,
        clock: ManualClock | None = None,
        echo_logs: TextIO | None = None,
    ) -> None:
        self._loop = asyncio.new_event_loop()
        self.aio: MotiaTester = create_tester(
            project_dir, env=env, config=config, clock=clock, echo_logs=echo_logs
        )
        self.state = SyncState(self)
        try:
            self.run(self.aio.start())
        except BaseException:
            self._shutdown_loop()
            raise

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run a coroutine on the tester's loop until it finishes."""
        if self._loop.is_closed():
            raise RuntimeError("the tester is closed")
        return self._loop.run_until_complete(_wrap(awaitable))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self.run(self.aio.close())
        finally:
            self._shutdown_loop()

    def _shutdown_loop(self) -> None:
        loop = self._loop
        tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_asyncgens())
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()

    def __enter__(self) -> SyncMotiaTester:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the tester's API, synchronously --------------------------------------------------

    @property
    def clock(self) -> ManualClock:
        return self.aio.clock

    @property
    def runtime(self) -> Runtime:
        return self.aio.runtime

    @property
    def logs(self) -> list[LogRecord]:
        return self.aio.logs

    @property
    def failures(self) -> list[HandlerFailure]:
        return self.aio.failures

    def logs_for(self, trace_id: str) -> list[LogRecord]:
        return self.aio.logs_for(trace_id)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.run(self.aio.request(method, path, **kwargs))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def emit(self, event: Mapping[str, Any], *, trace_id: str | None = None) -> Event:
        return self.run(self.aio.emit(event, trace_id=trace_id))

    def watch(self, topic: str) -> EventWatcher:
        return self.aio.watch(topic)

    def stream(self, name: str) -> StreamCapture:
        return self.aio.stream(name)

    def stream_items(self, name: str, group_id: str) -> list[dict[str, Any]]:
        return self.run(self.aio.stream_items(name, group_id))

    def stream_item(self, name: str, group_id: str, item_id: str) -> dict[str, Any] | None:
        return self.run(self.aio.stream_item(name, group_id, item_id))

    def dead_letters(self) -> list[DeadLetter]:
        return self.run(self.aio.dead_letters())

    def run_cron(self, step_name: str) -> str:
        return self.run(self.aio.run_cron(step_name))

    def advance(self, seconds: float, *, timeout: float = 5.0) -> None:
        self.run(self.aio.advance(seconds, timeout=timeout))

    def wait_until_idle(self, timeout: float = 5.0, *, raise_errors: bool = True) -> None:
        self.run(self.aio.wait_until_idle(timeout, raise_errors=raise_errors))

    def steps(self) -> list[str]:
        return self.aio.steps()

    def __repr__(self) -> str:
        return f"Sync{self.aio!r}"


async def _wrap(awaitable: Awaitable[T]) -> T:
    return await awaitable
