"""Build the adapters that settings name; backends are imported only when chosen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from motia.adapters.broadcast.base import Broadcast, LocalBroadcast
from motia.adapters.locks.base import CronLocks, LocalCronLocks
from motia.adapters.observability.base import ObservabilityStore
from motia.adapters.observability.memory import MemoryObservabilityStore
from motia.adapters.queue.base import QueueAdapter
from motia.adapters.sqlite_database import SqliteDatabase
from motia.adapters.state.base import StateAdapter
from motia.adapters.streams.base import StreamStore
from motia.clock import Clock
from motia.errors import SettingsError
from motia.settings import Settings


@dataclass
class Stores:
    state: StateAdapter
    queue: QueueAdapter
    streams: StreamStore
    database: SqliteDatabase | None
    observability: ObservabilityStore
    broadcast: Broadcast = field(default_factory=LocalBroadcast)
    cron_locks: CronLocks = field(default_factory=LocalCronLocks)
    redis: Any = None  # the shared client, when any adapter uses Redis

    async def ping(self) -> None:
        """Raise when a store the deployment needs cannot be reached or cannot write
        (`StoreUnavailable` for the SQLite file)."""
        if self.database is not None:
            await self.database.probe()
        if self.redis is not None:
            await self.redis.ping()

    async def close(self) -> None:
        await self.observability.close()
        await self.broadcast.close()
        await self.cron_locks.close()
        await self.queue.close()
        await self.streams.close()
        await self.state.close()
        if self.database is not None:
            self.database.close()
        if self.redis is not None:
            await self.redis.aclose()


REDIS_HINT = "install the Redis extra: pip install 'motia-python[redis]'"


def open_stores(settings: Settings, clock: Clock) -> Stores:
    database: SqliteDatabase | None = None
    redis_client: Any = None

    def redis() -> Any:
        nonlocal redis_client
        if redis_client is None:
            try:
                from motia.adapters.redis_connection import connect
            except ImportError as exc:  # the redis package is an optional extra
                raise SettingsError(f"Redis is configured but unavailable: {REDIS_HINT}") from exc
            assert settings.redis_url is not None
            redis_client = connect(settings.redis_url)
        return redis_client

    def sqlite() -> SqliteDatabase:
        nonlocal database
        if database is None:
            database = SqliteDatabase(
                settings.database_path, synchronous=settings.sqlite_synchronous
            )
        return database

    state: StateAdapter
    if settings.state_adapter == "redis":
        from motia.adapters.state.redis import RedisStateAdapter

        state = RedisStateAdapter(redis(), settings.redis_prefix)
    elif settings.state_adapter == "memory":
        from motia.adapters.state.memory import MemoryStateAdapter

        state = MemoryStateAdapter()
    else:
        from motia.adapters.state.sqlite import SqliteStateAdapter

        state = SqliteStateAdapter(sqlite())
    queue: QueueAdapter
    if settings.queue_adapter == "redis":
        from motia.adapters.queue.redis import RedisQueueAdapter

        queue = RedisQueueAdapter(redis(), settings.redis_prefix, clock)
    elif settings.queue_adapter == "memory":
        from motia.adapters.queue.memory import MemoryQueueAdapter

        queue = MemoryQueueAdapter(clock)
    else:
        from motia.adapters.queue.sqlite import SqliteQueueAdapter

        queue = SqliteQueueAdapter(sqlite(), clock)
    streams: StreamStore
    if settings.streams_store == "redis":
        from motia.adapters.streams.redis import RedisStreamStore

        streams = RedisStreamStore(redis(), settings.redis_prefix, clock)
    elif settings.streams_store == "memory":
        from motia.adapters.streams.memory import MemoryStreamStore

        streams = MemoryStreamStore(clock)
    else:
        from motia.adapters.streams.sqlite import SqliteStreamStore

        streams = SqliteStreamStore(sqlite(), clock)
    # Logs and traces for the workbench are kept where state is (bounded in memory).
    observability: ObservabilityStore
    if settings.state_adapter == "redis":
        from motia.adapters.observability.redis import RedisObservabilityStore

        observability = RedisObservabilityStore(
            redis(), settings.redis_prefix, settings.retention_seconds
        )
    elif settings.state_adapter == "sqlite":
        from motia.adapters.observability.sqlite import SqliteObservabilityStore

        observability = SqliteObservabilityStore(sqlite())
    else:
        observability = MemoryObservabilityStore()
    stores = Stores(state, queue, streams, database, observability)
    if redis_client is not None:
        # Many processes share this deployment: streams and cron ticks go through Redis.
        from motia.adapters.broadcast.redis import RedisBroadcast
        from motia.adapters.locks.redis import RedisCronLocks

        stores.broadcast = RedisBroadcast(redis_client, settings.redis_prefix)
        stores.cron_locks = RedisCronLocks(redis_client, settings.redis_prefix)
        stores.redis = redis_client
    return stores
