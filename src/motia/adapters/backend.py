"""A backend is one kind of store (memory, SQLite, Redis): it opens every adapter on its
own connection, tells whether that connection works, and closes it.

Each adapter setting (`state.adapter`, `queue.adapter`, `streams.adapter`) names a
backend, so one deployment may use several (SQLite state with Redis streams, say); every
backend is opened once and its adapters share its connection.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from motia.adapters.broadcast.base import Broadcast, LocalBroadcast
from motia.adapters.flow.base import FlowSlots, LocalFlowSlots
from motia.adapters.locks.base import CronLocks, LocalCronLocks
from motia.adapters.observability.base import ObservabilityStore
from motia.adapters.queue.base import QueueAdapter
from motia.adapters.ratelimit.base import LocalRateLimiter, RateLimiter
from motia.adapters.state.base import StateAdapter
from motia.adapters.streams.base import StreamStore
from motia.clock import Clock
from motia.settings import Settings


class Backend(ABC):
    """Opens the stores of one kind of storage; its connection is opened on first use."""

    # True when every process of a deployment uses the same store: it then carries
    # stream updates between them and elects the one process that runs each cron tick.
    spans_processes: ClassVar[bool] = False
    # True when those processes may be on several machines (a server, not a local file).
    spans_machines: ClassVar[bool] = False

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    @abstractmethod
    def state(self) -> StateAdapter: ...

    @abstractmethod
    def queue(self) -> QueueAdapter: ...

    @abstractmethod
    def streams(self) -> StreamStore: ...

    @abstractmethod
    def observability(self) -> ObservabilityStore:
        """Where the workbench's logs and traces are kept (the state backend's)."""

    def broadcast(self) -> Broadcast:
        """Delivers stream updates to the subscribers of every process that shares it."""
        return LocalBroadcast()

    def cron_locks(self) -> CronLocks:
        """Lets one process among those that share it run each cron tick."""
        return LocalCronLocks()

    def rate_limiter(self) -> RateLimiter:
        """Counts the calls of rate-limited keys for the processes that share it."""
        return LocalRateLimiter(self.clock)

    def flow_slots(self) -> FlowSlots:
        """Counts the flow-control slots of event steps for the processes that share it."""
        return LocalFlowSlots(self.clock)

    def degraded(self) -> str | None:
        """Once started: what works less well than it should (for the log), or None."""
        return None

    async def migrate(self) -> str:
        """Bring the backend's tables to this version now (they are also migrated on first
        use); says what was done, for people (`motia db migrate`)."""
        return f"{type(self).__name__}: nothing to migrate"

    @abstractmethod
    async def ping(self, timeout: float) -> None:
        """Return when the backend can read and write within `timeout` seconds; raise
        `StoreUnavailable`, with a message for people that names the store, otherwise."""

    @abstractmethod
    async def close(self) -> None:
        """Close the shared connection, after every adapter opened here was closed."""
