"""Which `async def` handler holds the event loop, and for how long.

An async handler runs in slices: from one `await` that suspends to the next. While a slice
runs nothing else on the server does (no request is answered, no event is leased), so a
slice longer than `loopBlockWarning` is reported with the step's name and its length.

Only the handler's own slices are timed: its coroutine is driven through `timed`, which
reads the clock before and after each one (two clock reads per suspension). A loop-lag
probe would see the stall too, but could not say whose it was. `motia start` does not time
anything unless the setting asks it to.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Generator
from typing import Any

# A step that keeps blocking is reported again after this long, not on every run.
REPORT_EVERY = 10.0


class BlockReporter:
    def __init__(self, threshold: float, warn: Callable[[str, str | None, float], None]) -> None:
        self.threshold = threshold
        self._warn = warn
        self._reported: dict[str, float] = {}

    def blocked(self, step: str, trace_id: str | None, seconds: float) -> None:
        now = time.monotonic()
        if now - self._reported.get(step, -REPORT_EVERY) < REPORT_EVERY:
            return
        self._reported[step] = now
        self._warn(step, trace_id, seconds)


class _Timed:
    __slots__ = ("_coro", "_reporter", "_step", "_trace_id")

    def __init__(
        self,
        coro: Coroutine[Any, Any, Any],
        reporter: BlockReporter,
        step: str,
        trace_id: str | None,
    ) -> None:
        self._coro = coro
        self._reporter = reporter
        self._step = step
        self._trace_id = trace_id

    def __await__(self) -> Generator[Any, Any, Any]:
        coro = self._coro
        threshold = self._reporter.threshold
        clock = time.perf_counter
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            started = clock()
            try:
                yielded = coro.send(sent) if thrown is None else coro.throw(thrown)
            except StopIteration as done:
                self._measure(clock() - started, threshold)
                return done.value
            except BaseException:
                self._measure(clock() - started, threshold)
                raise
            self._measure(clock() - started, threshold)
            thrown = None
            try:
                sent = yield yielded
            except BaseException as exc:  # a cancellation: the handler hears it
                sent, thrown = None, exc

    def _measure(self, seconds: float, threshold: float) -> None:
        if seconds >= threshold:
            self._reporter.blocked(self._step, self._trace_id, seconds)


async def timed(
    coro: Coroutine[Any, Any, Any], reporter: BlockReporter, step: str, trace_id: str | None
) -> Any:
    """Await `coro`, reporting each slice of it that holds the loop past the threshold."""
    return await _Timed(coro, reporter, step, trace_id)


def block_message(step: str, seconds: float, threshold: float) -> str:
    return (
        f"step '{step}' blocked the event loop for {seconds * 1000:.0f} ms without awaiting "
        f"(loopBlockWarning is {threshold * 1000:.0f} ms): nothing else on the server ran "
        "meanwhile. Move CPU-heavy work to a plain `def` handler (thread pool) or set "
        '"executor": "process" on the step; use async libraries for I/O'
    )
