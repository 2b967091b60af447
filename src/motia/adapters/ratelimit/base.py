"""Rate limiting by GCRA (the generic cell rate algorithm): a key may make `requests` calls
per `per` seconds, all at once or spread out. One number per key, the theoretical arrival
time (TAT) of its next call, says everything: a burst of `requests` is allowed from a
fresh key, then one more every `per / requests` seconds. No window edges, so no double
burst at a boundary, and the count is exact.

The in-process limiter here serves one process (memory, SQLite); a backend that spans
processes (Redis) runs the same arithmetic atomically in the store."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

from motia.clock import Clock

# Rounding slack when counting what is left: (n - 1) * T / T may come out as n - 1.0000001.
_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one call: allowed or not, and what the RateLimit headers say."""

    allowed: bool
    limit: int
    remaining: int
    # Seconds until a call would be allowed (0 when this one was).
    retry_after: float
    # Seconds until the key is back to its full quota.
    reset: float

    def __iter__(self) -> Iterator[bool | float]:
        """`allowed, retry_after = ctx.rate_limit(...)` reads well too."""
        yield self.allowed
        yield self.retry_after


def gcra(tat: float | None, now: float, requests: int, per: float) -> tuple[float | None, Decision]:
    """One call at `now` against a key whose TAT is `tat` (None: never seen). Returns the TAT
    to store (None: leave it as it is, the call was refused) and the decision."""
    interval = per / requests
    start = now if tat is None or tat < now else tat
    next_tat = start + interval
    allow_at = next_tat - per
    if now < allow_at:
        return None, Decision(False, requests, 0, allow_at - now, start - now)
    remaining = math.floor((now - allow_at) / interval + _SLACK)
    return next_tat, Decision(True, requests, min(remaining, requests - 1), 0.0, next_tat - now)


class RateLimiter(ABC):
    """Counts calls per key; every process that shares a limiter shares the counts."""

    @abstractmethod
    async def hit(self, key: str, requests: int, per: float) -> Decision:
        """Count one call of `key` if it is allowed; raise `StoreUnavailable` when the
        store that keeps the counts cannot be reached."""

    async def close(self) -> None:
        return None


class LocalRateLimiter(RateLimiter):
    """Counts in this process's memory, on the injected clock."""

    # Forgotten keys are swept once this many were added since the last sweep.
    _SWEEP_EVERY = 10_000

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._tats: dict[str, float] = {}
        self._added = 0

    async def hit(self, key: str, requests: int, per: float) -> Decision:
        return self.hit_now(key, requests, per)

    def hit_now(self, key: str, requests: int, per: float) -> Decision:
        now = self._clock.time()
        tats = self._tats
        tat = tats.get(key)
        stored, decision = gcra(tat, now, requests, per)
        if stored is not None:
            if tat is None:
                self._added += 1
                if self._added >= self._SWEEP_EVERY:
                    self._sweep(now)
            tats[key] = stored
        return decision

    def _sweep(self, now: float) -> None:
        """A key whose TAT has passed is a fresh key: forgetting it changes nothing."""
        self._tats = {key: tat for key, tat in self._tats.items() if tat > now}
        self._added = 0
