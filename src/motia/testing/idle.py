"""Running a project's queued work to the end on a manual clock.

The runtime counts its own work exactly (`Runtime.join`); what it cannot know is time: on
a `ManualClock`, a retry backoff, a `delaySeconds` or a cron timer waits until the clock
moves. `drain` alternates the two: wait until nothing more can happen at this moment,
then move the clock to the next moment something is due, until nothing is left."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from motia.testing.clock import ManualClock

if TYPE_CHECKING:
    from motia.runtime.runtime import Runtime


async def drain(
    runtime: Runtime,
    clock: ManualClock,
    *,
    deadline: float,
    until: float | None,
    wake_timers: bool,
    requests: Callable[[], int],
) -> None:
    """Run what is queued, moving `clock` to each delayed message's visibility (and to
    each timer's, with `wake_timers`) up to `until` (no bound when None). `requests`
    counts the test's HTTP requests still being answered. Raises `TimeoutError` when
    `deadline` (monotonic time) passes first."""
    while True:
        try:
            pending = await runtime.join(max(0.0, deadline - time.monotonic()), delayed=False)
        except TimeoutError:
            left = await runtime.pending()
            raise TimeoutError(
                "the project did not become idle in time; still pending: "
                + (left.describe() if left.total else "work in progress")
            ) from None
        if clock.pending_wakeups or requests():
            # A timer fired and its coroutine has not run yet, or a request is still being
            # answered (it may emit): let them go on.
            if time.monotonic() > deadline:
                raise TimeoutError(
                    "the project did not become idle in time; still pending: "
                    f"{requests()} request(s), {clock.pending_wakeups} timer(s)"
                )
            await asyncio.sleep(0 if clock.pending_wakeups else 0.001)
            continue
        candidates = [] if pending.next_due_at is None else [pending.next_due_at]
        if wake_timers and (timer := clock.next_timer()) is not None:
            candidates.append(timer)
        target = min(candidates, default=None)
        if target is None or (until is not None and target > until):
            return  # idle; anything left waits beyond `until`
        clock.advance_to_time(target)
        runtime.bus.notify_all()
