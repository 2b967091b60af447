"""The runtime's rate limits: the API steps' limits and `ctx.rate_limit` count through one
limiter (in-process, or Redis when processes share it), and an outage of its store is
handled here: requests are let through (`open`) or refused (`closed`), the outage is logged
once, and counting resumes by itself once the store answers again."""

from __future__ import annotations

import time

from motia.adapters.ratelimit.base import Decision, RateLimiter
from motia.errors import StoreUnavailable
from motia.logs import Logger

# While the store is down, it is asked again at most this often (seconds); the calls in
# between are decided by the outage policy at once instead of each waiting for a timeout.
RETRY_INTERVAL = 1.0


class RateLimits:
    def __init__(self, limiter: RateLimiter, logger: Logger, *, fail_closed: bool) -> None:
        self.limiter = limiter
        self.fail_closed = fail_closed
        self._logger = logger
        self._down = False
        self._next_try = 0.0

    async def hit(self, key: str, requests: int, per: float) -> Decision | None:
        """Count one call of `key`; None when the store cannot be reached (the caller applies
        `fail_closed`)."""
        if self._down and time.monotonic() < self._next_try:
            return None
        try:
            decision = await self.limiter.hit(key, requests, per)
        except StoreUnavailable as exc:
            self._next_try = time.monotonic() + RETRY_INTERVAL
            if not self._down:
                self._down = True
                policy = (
                    "requests to rate-limited steps get 503"
                    if self.fail_closed
                    else "rate limits are not enforced"
                )
                self._logger.error(
                    f"rate limits unavailable: {policy} until their store answers again",
                    {"error": str(exc)},
                )
            return None
        if self._down:
            self._down = False
            self._logger.info("rate limits available again")
        return decision

    async def check(self, key: str, requests: int, per: float) -> Decision:
        """`ctx.rate_limit`: an outage answers by the policy, as it does for API steps."""
        decision = await self.hit(key, requests, per)
        if decision is not None:
            return decision
        if self.fail_closed:
            return Decision(False, requests, 0, RETRY_INTERVAL, RETRY_INTERVAL)
        return Decision(True, requests, requests - 1, 0.0, 0.0)
