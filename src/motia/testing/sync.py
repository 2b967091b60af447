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
from motia.testing.captures import TesterState
from motia.testing.clock import ManualClock
from motia.testing.failures import HandlerFailure
from motia.testing.tester import MotiaTester, create_tester

if TYPE_CHECKING:
    from motia.http.app import MotiaApp
    from motia.runtime.runtime import Runtime

T = TypeVar("T")
P = ParamSpec("P")


class _Facade(Protocol):
    """A synchronous face of an async object: `target`'s coroutines run through `run`."""

    @property
    def target(self) -> Any: ...

    def run(self, awaitable: Awaitable[T]) -> T: ...


def blocking(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[_Facade, P], T]:
    """The async `method` as a plain one: it runs on the sync tester's loop until done.
    Signature and docstring are the async method's."""

    def call(self: _Facade, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.run(method(self.target, *args, **kwargs))

    functools.update_wrapper(call, method)
    return call


def passed_on(method: Callable[Concatenate[Any, P], T]) -> Callable[Concatenate[_Facade, P], T]:
    """A plain method of the async object, called on it as it is."""

    def call(self: _Facade, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return method(self.target, *args, **kwargs)

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

    # --- the tester's API, synchronously ----------------------------------------------------

    @property
    def target(self) -> MotiaTester:
        return self.aio

    @property
    def clock(self) -> ManualClock:
        return self.aio.clock

    @property
    def runtime(self) -> Runtime:
        return self.aio.runtime

    @property
    def app(self) -> MotiaApp:
        return self.aio.app

    @property
    def started(self) -> bool:
        return self.aio.started

    @property
    def logs(self) -> list[LogRecord]:
        return self.aio.logs

    @property
    def failures(self) -> list[HandlerFailure]:
        return self.aio.failures

    request = blocking(MotiaTester.request)
    get = blocking(MotiaTester.get)
    post = blocking(MotiaTester.post)
    put = blocking(MotiaTester.put)
    patch = blocking(MotiaTester.patch)
    delete = blocking(MotiaTester.delete)
    emit = blocking(MotiaTester.emit)
    stream_items = blocking(MotiaTester.stream_items)
    stream_item = blocking(MotiaTester.stream_item)
    dead_letters = blocking(MotiaTester.dead_letters)
    run_cron = blocking(MotiaTester.run_cron)
    advance = blocking(MotiaTester.advance)
    wait_until_idle = blocking(MotiaTester.wait_until_idle)

    watch = passed_on(MotiaTester.watch)
    stream = passed_on(MotiaTester.stream)
    logs_for = passed_on(MotiaTester.logs_for)
    steps = passed_on(MotiaTester.steps)
    cron_steps = passed_on(MotiaTester.cron_steps)

    def __repr__(self) -> str:
        return f"Sync{self.aio!r}"


async def _wrap(awaitable: Awaitable[T]) -> T:
    return await awaitable
