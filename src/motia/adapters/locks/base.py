"""Cron locks: each tick of a cron job runs once, however many processes schedule it."""

from __future__ import annotations

from abc import ABC, abstractmethod


class CronLocks(ABC):
    @abstractmethod
    async def claim_tick(self, job: str, tick: float, ttl: float) -> bool:
        """True for exactly one caller per (job, tick); `tick` is the tick's epoch time and
        the claim is remembered for `ttl` seconds."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class LocalCronLocks(CronLocks):
    """One process: every tick is ours, once."""

    def __init__(self) -> None:
        self._claimed: dict[str, float] = {}

    async def claim_tick(self, job: str, tick: float, ttl: float) -> bool:
        if self._claimed.get(job) == tick:
            return False
        self._claimed[job] = tick
        return True
