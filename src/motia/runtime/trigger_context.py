"""What `ctx` knows of the trigger that started a 1.0-form step: `ctx.trigger`, the
`is_*()` questions, `get_data()`, `match({...})` and `enqueue(...)`."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from motia.runtime.context import CallBridge

# `match` keys: the trigger types, and "api" as another name for "http".
_ALIASES = {"api": "http"}


class TriggerContext:
    """The base of `FlowContext`, which sets both slots in its constructor."""

    __slots__ = ("_trigger_data", "trigger")

    trigger: dict[str, Any] | None
    _trigger_data: Any
    _bridge: CallBridge

    def emit(self, event: Any) -> Any:  # defined by FlowContext
        raise NotImplementedError

    def bind_trigger(self, info: dict[str, Any], data: Any) -> None:
        self.trigger = info
        self._trigger_data = data

    def skip(self, reason: str) -> None:
        """Record that this run stopped before its handler (a condition said no)."""
        self._bridge.invocation.skipped = reason

    def wait(self, value: Any) -> Any:
        """A condition's answer in a sync handler's thread: awaited there if it must be."""
        if not inspect.isawaitable(value):
            return value

        async def settle() -> Any:
            return await value

        coro: Coroutine[Any, Any, Any] = settle()
        return self._bridge.state_call(coro)

    def _kind(self) -> str | None:
        return self.trigger.get("type") if self.trigger else None

    def is_api(self) -> bool:
        return self._kind() == "http"

    def is_queue(self) -> bool:
        return self._kind() == "queue"

    def is_cron(self) -> bool:
        return self._kind() == "cron"

    def is_state(self) -> bool:
        return self._kind() == "state"

    def is_stream(self) -> bool:
        return self._kind() == "stream"

    isApi, isQueue, isCron, isState, isStream = is_api, is_queue, is_cron, is_state, is_stream

    def get_data(self) -> Any:
        """The request body (http), the message (queue), the change (state, stream); None
        for cron."""
        data = self._trigger_data
        if self._kind() == "http" and isinstance(data, dict):
            return data.get("body")
        return data

    getData = get_data

    def match(self, handlers: dict[str, Callable[..., Any]]) -> Any:
        """Call the function for this run's trigger type with its input (the request for
        http), or `default`; its result is returned as is (await it if it is async)."""
        kind = self._kind()
        chosen = None
        for key, fn in handlers.items():
            if _ALIASES.get(key, key) == kind:
                chosen = fn
        chosen = chosen or handlers.get("default")
        if chosen is None:
            raise LookupError(
                f"ctx.match: no function for trigger type {kind!r} and no 'default'; "
                f"given: {', '.join(sorted(handlers))}"
            )
        return chosen(self._trigger_data)

    def enqueue(self, event: Any) -> Any:
        """`emit` under its 1.0 name: same message, same options (delay, at, key ...)."""
        return self.emit(event)
