"""Build the adapters that settings name; backends are imported only when chosen."""

from __future__ import annotations

from dataclasses import dataclass, field

from motia.adapters.broadcast.base import Broadcast, LocalBroadcast
from motia.adapters.locks.base import CronLocks, LocalCronLocks
from motia.adapters.queue.base import QueueAdapter
from motia.adapters.sqlite_database import SqliteDatabase
from motia.adapters.state.base import StateAdapter
from motia.adapters.streams.base import StreamStore
from motia.clock import Clock
from motia.settings import Settings


@dataclass
class Stores:
    state: StateAdapter
    queue: QueueAdapter
    streams: StreamStore
    database: SqliteDatabase | None
    broadcast: Broadcast = field(default_factory=LocalBroadcast)
    cron_locks: CronLocks = field(default_factory=LocalCronLocks)

    async def close(self) -> None:
        await self.broadcast.close()
        await self.cron_locks.close()
        await self.queue.close()
        await self.streams.close()
        await self.state.close()
        if self.database is not None:
            self.database.close()


def open_stores(settings: Settings, clock: Clock) -> Stores:
    database: SqliteDatabase | None = None

    def sqlite() -> SqliteDatabase:
        nonlocal database
        if database is None:
            database = SqliteDatabase(
                settings.database_path, synchronous=settings.sqlite_synchronous
            )
        return database

    state: StateAdapter
    if settings.state_adapter == "memory":
        from motia.adapters.state.memory import MemoryStateAdapter

        state = MemoryStateAdapter()
    else:
        from motia.adapters.state.sqlite import SqliteStateAdapter

        state = SqliteStateAdapter(sqlite())
    queue: QueueAdapter
    if settings.queue_adapter == "memory":
        from motia.adapters.queue.memory import MemoryQueueAdapter

        queue = MemoryQueueAdapter(clock)
    else:
        from motia.adapters.queue.sqlite import SqliteQueueAdapter

        queue = SqliteQueueAdapter(sqlite(), clock)
    # Stream items live where state does.
    streams: StreamStore
    if settings.state_adapter == "memory":
        from motia.adapters.streams.memory import MemoryStreamStore

        streams = MemoryStreamStore(clock)
    else:
        from motia.adapters.streams.sqlite import SqliteStreamStore

        streams = SqliteStreamStore(sqlite(), clock)
    return Stores(state, queue, streams, database)
