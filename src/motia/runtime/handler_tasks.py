"""Tasks that handlers start: they cannot stop the server either.

A handler may start a task (`asyncio.create_task`) and return before it ends. If that task
raises `SystemExit` or `KeyboardInterrupt`, asyncio re-raises it out of the event loop and
the whole server stops; `GeneratorExit` and the like end as "exception never retrieved"
noise with no step named. The dispatcher marks each handler call in a context variable,
which every task started inside the call inherits; the loop's task factory wraps the
coroutine of such a task, so that what is not an `Exception` becomes `HandlerExited` (the
task's failure, seen by whoever awaits it) and is logged with the step and the trace id.

Tasks started outside handler calls (the server's own) are created as before: the
factory costs them one context-variable lookup.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import Context, ContextVar, Token
from dataclasses import dataclass
from typing import Any

from motia.errors import HandlerExited
from motia.logs import Logger


@dataclass(frozen=True, slots=True)
class HandlerOrigin:
    """The handler call a task was started from."""

    step: str
    trace_id: str | None


_origin: ContextVar[HandlerOrigin | None] = ContextVar("motia_handler_origin", default=None)


@contextmanager
def handler_call(step: str, trace_id: str | None) -> Iterator[None]:
    """Marks the code inside as a handler's: tasks it starts are contained."""
    token = enter_handler(step, trace_id)
    try:
        yield
    finally:
        leave_handler(token)


def enter_handler(step: str, trace_id: str | None) -> Token[HandlerOrigin | None]:
    """`handler_call` for the dispatcher's hot path, which resets the token itself."""
    return _origin.set(HandlerOrigin(step, trace_id))


def leave_handler(token: Token[HandlerOrigin | None]) -> None:
    _origin.reset(token)


TaskFactory = Callable[..., "asyncio.Future[Any]"]


class HandlerTaskFactory:
    """The event loop's task factory while a runtime runs on it."""

    def __init__(self, logger: Logger, previous: TaskFactory | None = None) -> None:
        self._logger = logger
        self._previous = previous

    def __call__(
        self, loop: asyncio.AbstractEventLoop, coro: Any, **options: Any
    ) -> asyncio.Future[Any]:
        context: Context | None = options.get("context")
        origin = context.get(_origin) if context is not None else _origin.get()
        if origin is not None and asyncio.iscoroutine(coro):
            coro = _contained(coro, origin, self._logger)
        if self._previous is not None:
            return self._previous(loop, coro, **options)
        return asyncio.Task(coro, loop=loop, **options)


def install(loop: asyncio.AbstractEventLoop, logger: Logger) -> Callable[[], None]:
    """Contain the tasks handlers start on `loop`; returns what puts the old factory back."""
    previous = loop.get_task_factory()
    loop.set_task_factory(HandlerTaskFactory(logger, previous))

    def uninstall() -> None:
        loop.set_task_factory(previous)

    return uninstall


async def _contained(coro: Coroutine[Any, Any, Any], origin: HandlerOrigin, logger: Logger) -> Any:
    try:
        return await coro
    except (Exception, asyncio.CancelledError):
        raise  # an ordinary failure or a cancellation: asyncio reports it as it always does
    except BaseException as exc:
        logger.child(origin.step, origin.trace_id, []).error(
            f"a task started by the handler raised {exc!r}; a handler's task cannot stop "
            "the server, so only that task failed",
            {
                "error": repr(exc),
                "stack": "".join(traceback.format_exception(exc)),
            },
        )
        task = asyncio.current_task()
        if task is not None:  # logged here already: no "never retrieved" report at exit
            task.add_done_callback(_mark_retrieved)
        raise HandlerExited(exc) from exc


def _mark_retrieved(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()
