"""Run hooks: what happens to each step run, told to whoever subscribes.

The runtime calls every registered `RunHooks` when a run starts, when a handler raises,
when a message is retried or dead-lettered, and when the run ends. The recorder (spans for
the workbench), the test kit (the exceptions behind failed flows) and metrics or tracing
subscribe here instead of reaching into the executor:

    class CountFailures(RunHooks):
        def __init__(self) -> None:
            self.failed = 0

        def run_failed(self, run: Run, error: BaseException) -> None:
            self.failed += 1

    remove = runtime.add_hooks(CountFailures())

Hooks run inline on the event loop, between the handler and its acknowledgement: keep
them quick. A hook that raises is logged and never changes the run's outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from motia.adapters.queue.base import Failure
from motia.logs import Logger
from motia.steps.model import Step
from motia.tracecontext import new_span_id


@dataclass(eq=False)
class Run:
    """One run of one step: an API request, a delivery of an event, or a cron run."""

    step: Step
    kind: str  # "api" | "event" | "cron"
    trace_id: str
    trigger: str  # what started it, for people: "POST /orders", "topic order.created"
    started_at: float  # on the runtime's clock
    attempt: int = 1
    event_id: str | None = None
    # The run's span id: on its log lines, and its span's id when spans are exported.
    span_id: str = field(default_factory=new_span_id)


@dataclass(frozen=True, init=False)
class RunEnd:
    """How a run ended. `status` is ok, failed (API and cron), retrying, dead, lost (the
    lease was taken over) or rejected (a request refused before its handler ran)."""

    status: str
    ended_at: float
    emits: list[str] = field(default_factory=list)
    failure: Failure | None = None
    state_ops: int = 0
    stream_ops: int = 0
    http_status: int | None = None
    field_errors: list[dict[str, Any]] | None = None

    def __init__(
        self,
        status: str,
        ended_at: float,
        emits: list[str] | None = None,
        failure: Failure | None = None,
        state_ops: int = 0,
        stream_ops: int = 0,
        http_status: int | None = None,
        field_errors: list[dict[str, Any]] | None = None,
    ) -> None:
        # Two per request: set in the instance's dict, not field by field through
        # object.__setattr__ as a frozen dataclass's own __init__ does.
        fields = self.__dict__
        fields["status"] = status
        fields["ended_at"] = ended_at
        fields["emits"] = [] if emits is None else emits
        fields["failure"] = failure
        fields["state_ops"] = state_ops
        fields["stream_ops"] = stream_ops
        fields["http_status"] = http_status
        fields["field_errors"] = field_errors


class RunHooks:
    """Override what you need; every method does nothing here."""

    def run_started(self, run: Run) -> None:
        """The run begins (before its input is validated)."""

    def run_failed(self, run: Run, error: BaseException) -> None:
        """The handler of an event or cron run raised `error` (once per attempt). An API
        handler's failure arrives in `run_ended`, with the status it was answered with."""

    def run_retrying(self, run: Run, delay: float, failure: Failure) -> None:
        """The message runs again in `delay` seconds."""

    def run_dead_lettered(self, run: Run, failure: Failure) -> None:
        """The message moved to the dead-letter queue (attempts exhausted, invalid input)."""

    def run_ended(self, run: Run, end: RunEnd) -> None:
        """The run is over; `end` says how."""


_EVENTS = ("run_started", "run_failed", "run_retrying", "run_dead_lettered", "run_ended")


class HookChain(RunHooks):
    """The hooks a runtime calls, in the order they were added. Each event calls only
    the hooks that define it (a metrics hook that only counts ends costs nothing when a
    run starts), from a tuple rebuilt when hooks come or go, so a hook may remove itself
    while it runs."""

    def __init__(self, logger: Logger) -> None:
        self._hooks: list[RunHooks] = []
        self._logger = logger
        # event -> (hooks, their method) for the hooks that define it
        self._calls: dict[str, tuple[tuple[RunHooks, Callable[..., None]], ...]] = dict.fromkeys(
            _EVENTS, ()
        )

    def add(self, hooks: RunHooks) -> Callable[[], None]:
        """Subscribe `hooks`; returns the function that unsubscribes them."""
        self._hooks.append(hooks)
        self._rebuild()

        def remove() -> None:
            self._hooks.remove(hooks)
            self._rebuild()

        return remove

    def _rebuild(self) -> None:
        self._calls = {
            name: tuple(
                (hooks, getattr(hooks, name))
                for hooks in self._hooks
                if name in getattr(hooks, "__dict__", ())
                or getattr(type(hooks), name) is not getattr(RunHooks, name)
            )
            for name in _EVENTS
        }

    def _failed(self, hooks: RunHooks, name: str, exc: Exception) -> None:
        # observers never change what happens to a run
        self._logger.error(
            f"run hook {type(hooks).__name__}.{name} failed: {type(exc).__name__}: {exc}"
        )

    def run_started(self, run: Run) -> None:
        for hooks, method in self._calls["run_started"]:
            try:
                method(run)
            except Exception as exc:
                self._failed(hooks, "run_started", exc)

    def run_failed(self, run: Run, error: BaseException) -> None:
        for hooks, method in self._calls["run_failed"]:
            try:
                method(run, error)
            except Exception as exc:
                self._failed(hooks, "run_failed", exc)

    def run_retrying(self, run: Run, delay: float, failure: Failure) -> None:
        for hooks, method in self._calls["run_retrying"]:
            try:
                method(run, delay, failure)
            except Exception as exc:
                self._failed(hooks, "run_retrying", exc)

    def run_dead_lettered(self, run: Run, failure: Failure) -> None:
        for hooks, method in self._calls["run_dead_lettered"]:
            try:
                method(run, failure)
            except Exception as exc:
                self._failed(hooks, "run_dead_lettered", exc)

    def run_ended(self, run: Run, end: RunEnd) -> None:
        for hooks, method in self._calls["run_ended"]:
            try:
                method(run, end)
            except Exception as exc:
                self._failed(hooks, "run_ended", exc)
