"""Flow-control slots: a small counted lease store that every process of a deployment
shares, behind the flow-control settings of event steps (see docs/flow-control.md).

One primitive serves three settings. A *scope* holds up to `limit` live slots, each owned
by a *holder* and expiring `ttl` seconds after it was taken:

- `concurrency`: one slot per running message (holder: the message id), given back when
  its run ends; a crashed process's slots expire on their own;
- `throttle`: one slot per start (a fresh holder each time), never given back, so at most
  `limit` starts fall in any `period` (a sliding window, exact);
- `idempotencyKey`: a scope of one slot kept for the window; the message that took it may
  take it again (a retry), any other is a duplicate.

`take` is atomic in every backend: two processes never both get the last slot."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import NamedTuple

from motia.clock import Clock


class Take(NamedTuple):
    """One slot to take: see `FlowSlots.take`."""

    scope: str
    holder: str
    limit: int
    ttl: float


class FlowSlots(ABC):
    @abstractmethod
    async def take(self, scope: str, holder: str, limit: int, ttl: float) -> float:
        """Take (or renew, when `holder` has one) a slot of `scope` for `ttl` seconds.
        Returns 0.0 when held; otherwise the seconds until the earliest live slot expires
        (when one more could be taken, if nobody gives one back first)."""

    async def take_all(self, takes: Sequence[Take]) -> tuple[int, float]:
        """Take every slot of `takes`, or none: returns (-1, 0.0) when all were taken, else
        the index of the first that could not be and its wait (what `take` answers).
        This default takes them one by one and gives back the new ones on a refusal; every
        backend here overrides it with one atomic step that writes nothing on a refusal."""
        for index, take in enumerate(takes):
            wait = await self.take(*take)
            if wait:
                for earlier in takes[:index]:
                    await self.give_back(earlier.scope, earlier.holder)
                return index, wait
        return -1, 0.0

    @abstractmethod
    async def give_back(self, scope: str, holder: str) -> None:
        """Free the slot `holder` has in `scope` (nothing when it has none)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class LocalFlowSlots(FlowSlots):
    """One process (memory): the slots live in this process's memory, on its clock."""

    # Expired slots of every scope are swept once this many slots were taken.
    _SWEEP_EVERY = 10_000

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._scopes: dict[str, dict[str, float]] = {}  # scope -> holder -> expires_at
        self._taken = 0

    async def take(self, scope: str, holder: str, limit: int, ttl: float) -> float:
        _, wait = await self.take_all([Take(scope, holder, limit, ttl)])
        return wait

    async def take_all(self, takes: Sequence[Take]) -> tuple[int, float]:
        now = self._clock.time()
        for index, take in enumerate(takes):  # check every scope before writing any
            slots = self._scopes.setdefault(take.scope, {})
            for other, expires in list(slots.items()):
                if expires <= now:
                    del slots[other]
            if take.holder not in slots and len(slots) >= take.limit:
                return index, max(min(slots.values()) - now, 1e-3)
        for take in takes:
            self._scopes[take.scope][take.holder] = now + take.ttl
        self._taken += len(takes)
        if self._taken >= self._SWEEP_EVERY:
            self._sweep(now)
        return -1, 0.0

    async def give_back(self, scope: str, holder: str) -> None:
        slots = self._scopes.get(scope)
        if slots is not None:
            slots.pop(holder, None)
            if not slots:
                del self._scopes[scope]

    def _sweep(self, now: float) -> None:
        self._taken = 0
        for scope, slots in list(self._scopes.items()):
            live = {h: at for h, at in slots.items() if at > now}
            if live:
                self._scopes[scope] = live
            else:
                del self._scopes[scope]
