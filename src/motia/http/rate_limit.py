"""Rate limits of API steps: each step's limit is worked out once (its own `rateLimit`, the
project's `http.rateLimit`, or none), so a step without one pays a dictionary lookup.

The check runs after routing and before the body is read, so a client over its limit costs
no body upload and no parsing. Counts are per step and per key (client address, a header,
the authenticated subject or the step's own `by(req)`)."""

from __future__ import annotations

import hashlib
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from motia.adapters.ratelimit.base import Decision
from motia.http.response import Headers
from motia.settings.rate_limit import BY_IP, BY_SUBJECT, HEADER_PREFIX
from motia.steps.rate_limit import RateLimitConfig

if TYPE_CHECKING:
    from motia.runtime.rate_limits import RateLimits
    from motia.settings import Settings
    from motia.steps.model import Step


_MAX_CACHED = 4096


@dataclass(frozen=True, slots=True)
class StepLimit:
    requests: int
    per: float
    by: str | Callable[..., Any]
    scope: str  # the key's prefix: the step's name
    policy: bytes  # RateLimit-Policy: "100;w=60"


class ApiRateLimits:
    def __init__(self, rate_limits: RateLimits, settings: Settings) -> None:
        self._rate_limits = rate_limits
        self._default: RateLimitConfig | None = None
        if settings.rate_limit_requests is not None:
            self._default = RateLimitConfig(
                requests=settings.rate_limit_requests,
                per=settings.rate_limit_per,
                by=settings.rate_limit_by,
            )
        self._steps: dict[Step, StepLimit | None] = {}

    def for_step(self, step: Step) -> StepLimit | None:
        try:
            return self._steps[step]
        except KeyError:
            if len(self._steps) >= _MAX_CACHED:  # `motia dev` reloads make new steps
                self._steps.clear()
            limit = self._steps[step] = self._limit_of(step)
            return limit

    def _limit_of(self, step: Step) -> StepLimit | None:
        own = getattr(step.config, "rate_limit", None)
        config = self._default if own is None else own
        if not config:  # none, or `rateLimit: false`
            return None
        window = math.ceil(config.per)
        return StepLimit(
            config.requests,
            config.per,
            config.by,
            f"api:{step.name}",
            f"{config.requests};w={window}".encode(),
        )

    async def check(self, limit: StepLimit, view: dict[str, Any]) -> Decision | None:
        """Count this request; None when the counts cannot be reached (see `fail_closed`)."""
        key = await request_key(limit.by, view)
        return await self._rate_limits.hit(f"{limit.scope}:{key}", limit.requests, limit.per)

    @property
    def fail_closed(self) -> bool:
        return self._rate_limits.fail_closed


async def request_key(by: str | Callable[..., Any], view: dict[str, Any]) -> str:
    """What the request is counted under. Header values and keys of the step's own are
    hashed: API keys and tokens never land in the store's key names."""
    client = f"ip:{view['client']['ip'] or 'unknown'}"
    if by == BY_IP:
        return client
    value: Any = None
    if callable(by):
        value = by(view)
        if inspect.isawaitable(value):
            value = await value
    elif by == BY_SUBJECT:
        auth = view.get("auth")
        value = auth.get("sub") if isinstance(auth, dict) else None
    elif by.startswith(HEADER_PREFIX):
        value = view["headers"].get(by[len(HEADER_PREFIX) :])
    if value is None or value == "":
        return client
    digest = hashlib.blake2b(str(value).encode(), digest_size=12).hexdigest()
    return f"k:{digest}"


def limit_headers(limit: StepLimit, decision: Decision) -> Headers:
    """The IETF draft's RateLimit headers, in whole seconds."""
    return [
        (b"ratelimit-limit", str(decision.limit).encode()),
        (b"ratelimit-remaining", str(decision.remaining).encode()),
        (b"ratelimit-reset", str(math.ceil(decision.reset)).encode()),
        (b"ratelimit-policy", limit.policy),
    ]


def retry_after(seconds: float) -> Headers:
    return [(b"retry-after", str(max(1, math.ceil(seconds))).encode())]
