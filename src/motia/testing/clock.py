"""A clock that only moves when a test moves it.

Cron ticks, retry backoff, `delaySeconds` and stream item TTLs all read the injected clock,
so a test can make minutes pass in no time: `clock.advance(60)` fires a `* * * * *` job.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from motia.clock import Clock

# Fixed by default, so cron schedules in tests are predictable: a minute after the start is
# exactly the next `* * * * *` tick.
DEFAULT_START = datetime(2025, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROS = 1_000_000


@dataclass(eq=False)
class _Sleeper:
    until: int  # microseconds since the epoch
    future: asyncio.Future[None]
    woken: bool = field(default=False)


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("ManualClock needs a timezone-aware datetime (e.g. tzinfo=UTC)")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _MICROS + delta.microseconds


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class ManualClock(Clock):
    """`now()`/`time()` stand still until `advance(seconds)` or `set(datetime)`.

    `sleep(seconds)` waits until the clock reaches the target time, so every timer that
    runs on this clock (the cron scheduler) fires when a test moves time past it. Moving the
    clock is thread-safe; sleepers are woken on their own event loop.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _micros(start or DEFAULT_START)
        self._lock = threading.Lock()
        self._sleepers: list[_Sleeper] = []
        self._waking = 0  # sleepers woken whose coroutine has not resumed yet
        self._listeners: list[Callable[[], None]] = []

    # --- reading -------------------------------------------------------------------

    def now(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self._now)

    def time(self) -> float:
        return self._now / _MICROS

    # --- moving ----------------------------------------------------------------------

    def advance(self, seconds: float) -> datetime:
        """Move forward by `seconds`; wakes every sleeper that is due. Returns the new now."""
        if seconds < 0:
            raise ValueError("time only moves forward: advance() takes seconds >= 0")
        return self._move_to(self._now + round(seconds * _MICROS))

    def set(self, moment: datetime) -> datetime:
        """Jump to `moment` (timezone-aware). Going back in time is allowed; timers that
        already fired do not fire again."""
        return self._move_to(_micros(moment))

    def advance_to_time(self, timestamp: float) -> datetime:
        """Move to the epoch time `timestamp` (seconds) if it is ahead, at least a microsecond,
        so that something due at `timestamp` is due."""
        target = max(math.ceil(timestamp * _MICROS), self._now + 1)
        return self._move_to(target)

    def _move_to(self, target: int) -> datetime:
        with self._lock:
            self._now = target
            due = [s for s in self._sleepers if s.until <= target]
            self._sleepers = [s for s in self._sleepers if s.until > target]
            for sleeper in due:
                sleeper.woken = True
                self._waking += 1
        for sleeper in sorted(due, key=lambda s: s.until):
            try:
                sleeper.future.get_loop().call_soon_threadsafe(_wake, sleeper.future)
            except RuntimeError:  # its loop is closed: nobody is waiting any more
                with self._lock:
                    self._waking -= 1
        for listener in list(self._listeners):
            listener()
        return self.now()

    def on_move(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every move (the tester wakes the queue workers)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # --- waiting -----------------------------------------------------------------------

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            sleeper = _Sleeper(self._now + max(1, round(seconds * _MICROS)), future)
            self._sleepers.append(sleeper)
        try:
            await future
        finally:
            with self._lock:
                if sleeper.woken:
                    self._waking -= 1
                else:
                    with contextlib.suppress(ValueError):
                        self._sleepers.remove(sleeper)

    @property
    def pending_wakeups(self) -> int:
        """Sleepers that are due but have not run yet: work about to happen."""
        return self._waking

    def next_timer(self) -> float | None:
        """The epoch time (seconds) at which the next sleeper is due, if any."""
        with self._lock:
            if not self._sleepers:
                return None
            return min(s.until for s in self._sleepers) / _MICROS

    def __repr__(self) -> str:
        return f"ManualClock({self.now().isoformat()})"
