"""Open the stores that settings name; a backend's code is imported only when chosen."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from motia.adapters.backend import Backend
from motia.adapters.broadcast.base import Broadcast
from motia.adapters.flow.base import FlowSlots
from motia.adapters.locks.base import CronLocks
from motia.adapters.observability.base import ObservabilityStore
from motia.adapters.queue.base import QueueAdapter
from motia.adapters.ratelimit.base import RateLimiter
from motia.adapters.state.base import StateAdapter
from motia.adapters.streams.base import StreamStore
from motia.clock import Clock
from motia.errors import SettingsError
from motia.settings import Settings


@dataclass(frozen=True)
class BackendEntry:
    """Where a backend's class is, and the package extra that installs its client."""

    target: str  # "module:Class"
    title: str  # the store's name in messages
    extra: str | None = None  # the pip extra
    # The top-level modules the extra installs, when not one module named as the extra.
    clients: tuple[str, ...] = ()

    @property
    def client_modules(self) -> tuple[str, ...]:
        return self.clients or ((self.extra,) if self.extra else ())


# Every backend, by the name that settings use for it.
BACKENDS: dict[str, BackendEntry] = {
    "memory": BackendEntry("motia.adapters.memory.backend:MemoryBackend", "Memory"),
    "sqlite": BackendEntry("motia.adapters.sqlite.backend:SqliteBackend", "SQLite"),
    "redis": BackendEntry("motia.adapters.redis.backend:RedisBackend", "Redis", extra="redis"),
    "postgres": BackendEntry(
        "motia.adapters.postgres.backend:PostgresBackend",
        "PostgreSQL",
        extra="postgres",
        clients=("psycopg", "psycopg_pool"),
    ),
}


def backend_class(name: str) -> type[Backend]:
    """The backend named `name`, imported now; SettingsError when it cannot be used."""
    entry = BACKENDS.get(name)
    if entry is None:
        raise SettingsError(f"unknown store {name!r}: use one of {', '.join(sorted(BACKENDS))}")
    module_name, class_name = entry.target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        if entry.extra is None or missing not in entry.client_modules:
            raise  # not a missing extra: a real error
        raise SettingsError(
            f"{entry.title} is configured but unavailable: install the {entry.title} extra: "
            f"pip install 'motia-python[{entry.extra}]'"
        ) from exc
    found: type[Backend] = getattr(module, class_name)
    return found


@dataclass
class Stores:
    state: StateAdapter
    queue: QueueAdapter
    streams: StreamStore
    observability: ObservabilityStore
    broadcast: Broadcast
    cron_locks: CronLocks
    backends: list[Backend]  # each backend once, in the order it was opened
    rate_limiter: RateLimiter
    # Flow-control slots of event steps: kept where the queue is.
    flow_slots: FlowSlots

    async def ping(self, timeout: float) -> None:
        """Raise `StoreUnavailable`, naming the store, when a backend the deployment
        uses cannot be reached or cannot write within `timeout` seconds."""
        for backend in self.backends:
            await backend.ping(timeout)

    async def close(self) -> None:
        await self.observability.close()
        await self.broadcast.close()
        await self.cron_locks.close()
        await self.rate_limiter.close()
        await self.flow_slots.close()
        await self.queue.close()
        await self.streams.close()
        await self.state.close()
        for backend in self.backends:
            await backend.close()


def open_stores(settings: Settings, clock: Clock) -> Stores:
    backends: dict[str, Backend] = {}

    def backend(name: str) -> Backend:
        if name not in backends:
            backends[name] = backend_class(name)(settings, clock)
        return backends[name]

    state_backend = backend(settings.state_adapter)
    state = state_backend.state()
    queue_backend = backend(settings.queue_adapter)
    queue = queue_backend.queue()
    streams = backend(settings.streams_store).streams()
    # Logs and traces for the workbench are kept where state is.
    observability = state_backend.observability()
    # When processes share a store, stream updates and cron ticks go through it: one that
    # machines share before the SQLite file of one machine, and among equals the streams'
    # store first (Redis beside PostgreSQL carries the fan-out).
    opened = list(backends.values())
    streams_backend = backends[settings.streams_store]
    best = max(_reach(b) for b in opened)
    if best == 0:
        coordinator = state_backend
    elif _reach(streams_backend) == best:
        coordinator = streams_backend
    else:
        coordinator = next(b for b in opened if _reach(b) == best)
    return Stores(
        state,
        queue,
        streams,
        observability,
        coordinator.broadcast(),
        coordinator.cron_locks(),
        opened,
        coordinator.rate_limiter(),
        queue_backend.flow_slots(),
    )


def _reach(backend: Backend) -> int:
    """How far the processes that share a backend may be: 2 machines, 1 one machine, 0 one
    process."""
    return 2 if backend.spans_machines else 1 if backend.spans_processes else 0
