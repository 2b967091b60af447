"""One SQLite file beside the project (the default): durable, nothing to install or run."""

from __future__ import annotations

import asyncio

from motia.adapters.backend import Backend
from motia.adapters.observability.base import ObservabilityStore
from motia.adapters.queue.base import QueueAdapter
from motia.adapters.sqlite.database import SqliteDatabase
from motia.adapters.sqlite.observability import SqliteObservabilityStore
from motia.adapters.sqlite.queue import SqliteQueueAdapter
from motia.adapters.sqlite.state import SqliteStateAdapter
from motia.adapters.sqlite.streams import SqliteStreamStore
from motia.adapters.state.base import StateAdapter
from motia.adapters.streams.base import StreamStore
from motia.clock import Clock
from motia.errors import StoreUnavailable
from motia.settings import Settings


class SqliteBackend(Backend):
    def __init__(self, settings: Settings, clock: Clock) -> None:
        super().__init__(settings, clock)
        self._database: SqliteDatabase | None = None

    @property
    def database(self) -> SqliteDatabase:
        """The file every SQLite adapter shares, opened (and created) on first use."""
        if self._database is None:
            self._database = SqliteDatabase(
                self.settings.database_path, synchronous=self.settings.sqlite_synchronous
            )
        return self._database

    def state(self) -> StateAdapter:
        return SqliteStateAdapter(self.database)

    def queue(self) -> QueueAdapter:
        return SqliteQueueAdapter(self.database, self.clock)

    def streams(self) -> StreamStore:
        return SqliteStreamStore(self.database, self.clock)

    def observability(self) -> ObservabilityStore:
        return SqliteObservabilityStore(self.database)

    async def ping(self, timeout: float) -> None:
        """A small write must commit: a full disk or a damaged file fails it."""
        if self._database is None:
            return
        try:
            async with asyncio.timeout(timeout):
                await self._database.probe()  # its StoreUnavailable names the file
        except TimeoutError:
            raise StoreUnavailable(
                f"the database {self._database.path} did not answer within {timeout:g} s"
            ) from None

    async def close(self) -> None:
        if self._database is not None:
            self._database.close()
