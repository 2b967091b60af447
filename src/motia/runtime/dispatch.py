"""Calling user handlers: coroutines directly, plain functions in a bounded thread pool."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from motia.errors import HandlerTimeout


class Dispatcher:
    def __init__(self, sync_threads: int) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=sync_threads, thread_name_prefix="motia-step"
        )
        self._is_async: dict[Callable[..., Any], bool] = {}

    def _async(self, handler: Callable[..., Any]) -> bool:
        known = self._is_async.get(handler)
        if known is None:
            known = self._is_async[handler] = inspect.iscoroutinefunction(
                handler
            ) or inspect.iscoroutinefunction(type(handler).__call__)
        return known

    async def call(
        self, handler: Callable[..., Any], args: tuple[Any, ...], timeout: float | None = None
    ) -> Any:
        if timeout is None:
            return await self._call(handler, args)
        try:
            async with asyncio.timeout(timeout):
                return await self._call(handler, args)
        except TimeoutError:
            raise HandlerTimeout(
                f"the handler ran longer than its timeout of {timeout:g} s"
            ) from None

    async def _call(self, handler: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        if self._async(handler):
            return await handler(*args)
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        result = await loop.run_in_executor(
            self._executor, functools.partial(context.run, handler, *args)
        )
        if inspect.isawaitable(result):
            result = await result
        return result

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
