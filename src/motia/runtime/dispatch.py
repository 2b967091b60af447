"""Calling user handlers: coroutines directly, plain functions in a bounded thread pool.

Whatever a handler raises is that run's failure. `SystemExit`, `KeyboardInterrupt` and the
other exceptions that are not an `Exception` become `HandlerExited`, so a handler that
calls `sys.exit()` fails its own run (retried, then dead-lettered) instead of stopping the
server. Only a cancellation that comes from outside the handler (shutdown, a timeout, a
client that went away) travels on as a cancellation. Tasks the handler starts are marked
as its own (see `motia.runtime.handler_tasks`), so they cannot stop the server either.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from motia.errors import HandlerExited, HandlerTimeout
from motia.logs import Logger
from motia.runtime.handler_tasks import enter_handler, handler_call, leave_handler
from motia.runtime.loop_block import BlockReporter, block_message, timed
from motia.runtime.sync_pool import SyncPool


class Dispatcher:
    def __init__(
        self,
        sync_threads: int,
        sync_threads_per_step: int | None = None,
        logger: Logger | None = None,
        block_warning: float = 0.0,
    ) -> None:
        self.pool = SyncPool(sync_threads, sync_threads_per_step, logger)
        self._is_async: dict[Callable[..., Any], bool] = {}
        # Set (in `motia dev` by default): async handlers' slices are timed.
        self.blocks: BlockReporter | None = None
        if block_warning > 0 and logger is not None:
            self.blocks = BlockReporter(block_warning, _block_warner(logger, block_warning))

    def is_async(self, handler: Callable[..., Any]) -> bool:
        known = self._is_async.get(handler)
        if known is None:
            known = self._is_async[handler] = inspect.iscoroutinefunction(
                handler
            ) or inspect.iscoroutinefunction(type(handler).__call__)
        return known

    async def call(
        self,
        handler: Callable[..., Any],
        args: tuple[Any, ...],
        timeout: float | None = None,
        step: str = "",
        trace_id: str | None = None,
    ) -> Any:
        if timeout is None and self.blocks is None and self.is_async(handler):
            # The common case, without the generator-based context managers: the call is
            # marked as the handler's (see `handler_tasks`) and what it raises that is not
            # an `Exception` becomes `HandlerExited`, as in `handler_exits`.
            token = enter_handler(step, trace_id)
            try:
                return await handler(*args)
            except Exception:
                raise
            except BaseException as exc:
                exited = _exited(exc)
                if exited is None:
                    raise
                raise exited from exc
            finally:
                leave_handler(token)
        with handler_call(step, trace_id):
            if timeout is None:
                return await self._call(handler, args, step, trace_id)
            return await self._call_within(timeout, handler, args, step, trace_id)

    async def _call_within(
        self,
        timeout: float,
        handler: Callable[..., Any],
        args: tuple[Any, ...],
        step: str,
        trace_id: str | None,
    ) -> Any:
        try:
            async with asyncio.timeout(timeout):
                return await self._call(handler, args, step, trace_id)
        except TimeoutError:
            raise HandlerTimeout(
                f"the handler ran longer than its timeout of {timeout:g} s"
            ) from None

    async def _call(
        self, handler: Callable[..., Any], args: tuple[Any, ...], step: str, trace_id: str | None
    ) -> Any:
        with handler_exits():
            if self.is_async(handler):
                if self.blocks is not None:
                    return await timed(handler(*args), self.blocks, step, trace_id)
                return await handler(*args)
            context = contextvars.copy_context()
            result = await self.pool.run(step, functools.partial(context.run, handler, *args))
            if inspect.isawaitable(result):
                result = await result
            return result

    def close(self) -> None:
        self.pool.close()


def _block_warner(logger: Logger, threshold: float) -> Callable[[str, str | None, float], None]:
    def warn(step: str, trace_id: str | None, seconds: float) -> None:
        logger.child(step, trace_id, []).warn(
            block_message(step, seconds, threshold), {"blockedMs": round(seconds * 1000)}
        )

    return warn


@contextmanager
def handler_exits() -> Iterator[None]:
    """Turn what user code raises that is not an `Exception` into `HandlerExited`."""
    try:
        yield
    except Exception:
        raise
    except BaseException as exc:
        exited = _exited(exc)
        if exited is None:
            raise
        raise exited from exc


def _exited(exc: BaseException) -> HandlerExited | None:
    """What a handler's non-`Exception` becomes: None for a cancellation from outside
    (shutdown, a timeout, a client that went away), which travels on as it is."""
    if isinstance(exc, asyncio.CancelledError):
        task = asyncio.current_task()
        if task is None or task.cancelling():
            return None
    return HandlerExited(exc)  # the handler raised CancelledError itself, or SystemExit
