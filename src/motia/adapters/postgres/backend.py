"""PostgreSQL (the `postgres` extra): one database shared by every process of a deployment,
in a schema of its own, so it also carries stream updates between them (LISTEN/NOTIFY)
and elects the process that runs a cron tick. Its tables are created and migrated on
first use (`motia db migrate` does it ahead of time)."""

from __future__ import annotations

import asyncio

from motia.adapters.backend import Backend
from motia.adapters.broadcast.base import Broadcast
from motia.adapters.flow.base import FlowSlots
from motia.adapters.locks.base import CronLocks
from motia.adapters.observability.base import ObservabilityStore
from motia.adapters.postgres.broadcast import PostgresBroadcast
from motia.adapters.postgres.database import PostgresDatabase, channel_name
from motia.adapters.postgres.flow_slots import PostgresFlowSlots
from motia.adapters.postgres.locks import PostgresCronLocks
from motia.adapters.postgres.migrations import LATEST, migrate_database
from motia.adapters.postgres.observability import PostgresObservabilityStore
from motia.adapters.postgres.queue import PostgresQueueAdapter
from motia.adapters.postgres.state import PostgresStateAdapter
from motia.adapters.postgres.streams import PostgresStreamStore
from motia.adapters.queue.base import QueueAdapter
from motia.adapters.state.base import StateAdapter
from motia.adapters.streams.base import StreamStore
from motia.clock import Clock
from motia.errors import SettingsError, StoreUnavailable
from motia.settings import Settings


class PostgresBackend(Backend):
    spans_processes = True
    spans_machines = True

    def __init__(self, settings: Settings, clock: Clock) -> None:
        super().__init__(settings, clock)
        if settings.database_url is None:  # settings refuse this; a direct caller may not
            raise SettingsError("a PostgreSQL adapter is chosen but no database URL is configured")
        self.database = PostgresDatabase(settings.database_url, settings.database_schema)

    def state(self) -> StateAdapter:
        return PostgresStateAdapter(self.database)

    def queue(self) -> QueueAdapter:
        return PostgresQueueAdapter(
            self.database, self.clock, channel_name(self.database.schema, "queue")
        )

    def streams(self) -> StreamStore:
        return PostgresStreamStore(self.database, self.clock)

    def observability(self) -> ObservabilityStore:
        return PostgresObservabilityStore(self.database)

    def broadcast(self) -> Broadcast:
        return PostgresBroadcast(self.database, channel_name(self.database.schema, "broadcast"))

    def flow_slots(self) -> FlowSlots:
        return PostgresFlowSlots(self.database, self.clock)

    def cron_locks(self) -> CronLocks:
        return PostgresCronLocks(self.database, self.clock)

    async def migrate(self) -> str:
        applied = await migrate_database(self.database)
        where = f"schema {self.database.schema!r} at {self.database.location}"
        if not applied:
            return f"{where}: already at version {LATEST}"
        versions = ", ".join(str(v) for v in applied)
        return f"{where}: applied migration(s) {versions}; now at version {LATEST}"

    async def ping(self, timeout: float) -> None:
        """Connects (and migrates the schema, the first time) and checks that the server
        takes writes; its StoreUnavailable names host, port and database."""
        try:
            async with asyncio.timeout(timeout):
                await self.database.probe()
        except TimeoutError as exc:
            # The pool keeps retrying quietly: one direct attempt says why it cannot connect.
            raise await self.database.why_unreachable(exc) from None
        except StoreUnavailable:
            raise
        except Exception as exc:  # whatever the cause, the deployment cannot use it
            raise self.database.unavailable(exc) from exc

    async def close(self) -> None:
        await self.database.close()
