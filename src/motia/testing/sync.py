"""`SyncMotiaTester`: the tester for plain (non-async) test functions.

It owns a private event loop and runs it only while one of its methods runs, in the
calling thread: nothing happens between two calls, so a test reads captures and state
without races, and `wait_until_idle()` is where queued work runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TextIO, TypeVar

from motia.logs import LogRecord
from motia.testing.captures import EventWatcher, StreamCapture, TesterState
from motia.testing.clock import ManualClock
from motia.testing.failures import HandlerFailure
from motia.testing.tester import MotiaTester, create_tester

if TYPE_CHECKING:
    import httpx

    from motia.runtime.runtime import Runtime

T = TypeVar("T")
P = ParamSpec("P")


class _Blocking(Protocol):
    """A synchronous face of an async object: `target`'s coroutines run through `run`."""

    @property
    def target(self) -> Any: ...

    def run(self, awaitable: Awaitable[T]) -> T: ...


def blocking(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[_Blocking, P], T]:
    """The async `method` as a plain one: it runs on the sync tester's loop until done.
    Signature and docstring are the async method's."""

    def call(self: _Blocking, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.run(method(self.target, *args, **kwargs))

    functools.update_wrapper(call, method)
    return call


class SyncState:
    """`tester.state` with plain methods."""

    def __init__(self, tester: SyncMotiaTester) -> None:
        self._tester = tester

    @property
    def target(self) -> TesterState:
        return self._tester.aio.state

    def run(self, awaitable: Awaitable[T]) -> T:
        return self._tester.run(awaitable)

    get = blocking(TesterState.get)
    set = blocking(TesterState.set)
    delete = blocking(TesterState.delete)
    get_group = blocking(TesterState.get_group)
    items = blocking(TesterState.items)
    clear = blocking(TesterState.clear)
    groups = blocking(TesterState.groups)


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

    @property
    def target(self) -> MotiaTester:
        return self.aio

    # The HTTP methods pass httpx's keyword arguments on; spelled out, so that none of
    # them can clash with `self`.
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

    emit = blocking(MotiaTester.emit)
    stream_items = blocking(MotiaTester.stream_items)
    stream_item = blocking(MotiaTester.stream_item)
    dead_letters = blocking(MotiaTester.dead_letters)
    run_cron = blocking(MotiaTester.run_cron)
    advance = blocking(MotiaTester.advance)
    wait_until_idle = blocking(MotiaTester.wait_until_idle)

    def watch(self, topic: str) -> EventWatcher:
        return self.aio.watch(topic)

    def stream(self, name: str) -> StreamCapture:
        return self.aio.stream(name)

    def steps(self) -> list[str]:
        return self.aio.steps()

    def __repr__(self) -> str:
        return f"Sync{self.aio!r}"


async def _wrap(awaitable: Awaitable[T]) -> T:
    return await awaitable
