"""Retries with exponential backoff, and a circuit breaker kept in state, around every
call to the provider.

The breaker is shared by every worker (it lives in the `llm-breaker` state group): after
`LLM_BREAKER_THRESHOLD` failed calls in a row it opens, and calls fail at once without
touching the provider; after `LLM_BREAKER_COOLDOWN` seconds it is half-open and lets one
trial call through, which closes it on success and opens it again on failure.
"""

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from steps.lib.llm.provider import ProviderError

T = TypeVar("T")
GROUP = "llm-breaker"


class CircuitOpen(ProviderError):
    """The breaker is open: the provider failed too often, recently."""


def _setting(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise ValueError(f"the environment variable {name} must be a number >= 0, not {raw!r}")
    return value


class CircuitBreaker:
    def __init__(self, state: Any, now: Callable[[], datetime], key: str = "provider") -> None:
        self.state, self.now, self.key = state, now, key
        self.threshold = int(_setting("LLM_BREAKER_THRESHOLD", 3))
        self.cooldown = _setting("LLM_BREAKER_COOLDOWN", 30)

    async def read(self) -> dict[str, Any]:
        saved: dict[str, Any] | None = await self.state.get(GROUP, self.key)
        return saved or {"status": "closed", "failures": 0}

    async def before_call(self) -> None:
        """Refuse the call while open; after the cool-down, let one trial through."""
        breaker = await self.read()
        if breaker["status"] == "closed":
            return
        waited = self.now().timestamp() - breaker["openedAt"]
        if waited < self.cooldown:
            wait = self.cooldown - waited
            failures = breaker["failures"]
            raise CircuitOpen(f"the provider failed {failures} times; next try in {wait:.0f}s")
        # Half-open: this call is the trial; others wait another cool-down for its outcome.
        trial = {**breaker, "status": "half-open", "openedAt": self.now().timestamp()}
        await self.state.set(GROUP, self.key, trial)

    async def succeeded(self) -> None:
        await self.state.set(GROUP, self.key, {"status": "closed", "failures": 0})

    async def failed(self) -> None:
        breaker = await self.read()
        failures = int(breaker["failures"]) + 1
        if breaker["status"] == "half-open" or failures >= self.threshold:
            opened = {"status": "open", "failures": failures, "openedAt": self.now().timestamp()}
            await self.state.set(GROUP, self.key, opened)
        else:
            await self.state.set(GROUP, self.key, {"status": "closed", "failures": failures})


async def call_with_retries(
    call: Callable[[int], Awaitable[T]],
    breaker: CircuitBreaker,
    attempts: int | None = None,
    base_delay: float | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """`call(attempt)` until it succeeds, at most `attempts` times (`LLM_RETRIES` + 1),
    waiting `base_delay` (`LLM_RETRY_DELAY`), then twice as long, and so on. Every outcome
    feeds the breaker; an open breaker ends the retries at once."""
    attempts = attempts or int(_setting("LLM_RETRIES", 2)) + 1
    delay = _setting("LLM_RETRY_DELAY", 0.5) if base_delay is None else base_delay
    for attempt in range(1, attempts + 1):
        await breaker.before_call()
        try:
            result = await call(attempt)
        except ProviderError:
            await breaker.failed()
            if attempt == attempts:
                raise
            await sleep(delay * 2 ** (attempt - 1))
        else:
            await breaker.succeeded()
            return result
    raise AssertionError("unreachable")
