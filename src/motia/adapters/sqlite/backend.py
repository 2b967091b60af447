"""One SQLite file beside the project (the default): durable, nothing to install or run.

Several processes may share the file (`motia start --workers N`, or several `motia start`
on one machine): the queue leases in write transactions, cron ticks are claimed in a table,
and the processes find each other through Unix sockets in the file's peer folder, which
carry stream changes and queue wake-ups between them."""

from __future__ import annotations

import asyncio

from motia.adapters.backend import Backend
from motia.adapters.broadcast.base import Broadcast
from motia.adapters.flow.base import FlowSlots
from motia.adapters.locks.base import CronLocks
from motia.adapters.observability.base import ObservabilityStore
from motia.adapters.queue.base import QueueAdapter
from motia.adapters.sqlite.broadcast import SqliteBroadcast
from motia.adapters.sqlite.database import SqliteDatabase
from motia.adapters.sqlite.fanout import Fanout, peer_folder
from motia.adapters.sqlite.flow_slots import SqliteFlowSlots
from motia.adapters.sqlite.locks import SqliteCronLocks
from motia.adapters.sqlite.observability import SqliteObservabilityStore
from motia.adapters.sqlite.peer_queue import PeerSqliteQueueAdapter
from motia.adapters.sqlite.state import SqliteStateAdapter
from motia.adapters.sqlite.streams import SqliteStreamStore
from motia.adapters.state.base import StateAdapter
from motia.adapters.streams.base import StreamStore
from motia.clock import Clock
from motia.errors import StoreUnavailable
from motia.settings import Settings


class SqliteBackend(Backend):
    spans_processes = True

    def __init__(self, settings: Settings, clock: Clock) -> None:
        super().__init__(settings, clock)
        self._database: SqliteDatabase | None = None
        self._fanout: Fanout | None = None

    @property
    def database(self) -> SqliteDatabase:
        """The file every SQLite adapter shares, opened (and created) on first use."""
        if self._database is None:
            self._database = SqliteDatabase(
                self.settings.database_path, synchronous=self.settings.sqlite_synchronous
            )
        return self._database

    @property
    def fanout(self) -> Fanout:
        """This process's link to the others that share the file (bound when started)."""
        if self._fanout is None:
            self._fanout = Fanout(peer_folder(self.settings.database_path))
        return self._fanout

    def state(self) -> StateAdapter:
        return SqliteStateAdapter(self.database)

    def queue(self) -> QueueAdapter:
        return PeerSqliteQueueAdapter(self.database, self.clock, self.fanout)

    def streams(self) -> StreamStore:
        return SqliteStreamStore(self.database, self.clock)

    def observability(self) -> ObservabilityStore:
        return SqliteObservabilityStore(self.database)

    def broadcast(self) -> Broadcast:
        return SqliteBroadcast(self.fanout)

    def flow_slots(self) -> FlowSlots:
        return SqliteFlowSlots(self.database, self.clock)

    def cron_locks(self) -> CronLocks:
        return SqliteCronLocks(self.database, self.clock)

    def degraded(self) -> str | None:
        problem = None if self._fanout is None else self._fanout.problem
        if problem is None:
            return None
        return (
            f"{problem}; other processes on {self.settings.database_path} will not see this "
            "one's stream changes and will find its events at their next poll"
        )

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
        if self._fanout is not None:
            await self._fanout.close()
        if self._database is not None:
            self._database.close()
