"""Redis (the `redis` extra): one store shared by every process of a deployment, so it
also carries stream updates between them and elects the process that runs a cron tick."""

from __future__ import annotations

import asyncio

from motia.adapters.backend import Backend
from motia.adapters.broadcast.base import Broadcast
from motia.adapters.flow.base import FlowSlots
from motia.adapters.locks.base import CronLocks
from motia.adapters.observability.base import ObservabilityStore
from motia.adapters.queue.base import QueueAdapter
from motia.adapters.ratelimit.base import RateLimiter
from motia.adapters.redis.broadcast import RedisBroadcast
from motia.adapters.redis.connection import connect
from motia.adapters.redis.flow_slots import RedisFlowSlots
from motia.adapters.redis.locks import RedisCronLocks
from motia.adapters.redis.observability import RedisObservabilityStore
from motia.adapters.redis.queue import RedisQueueAdapter
from motia.adapters.redis.rate_limit import RedisRateLimiter
from motia.adapters.redis.state import RedisStateAdapter
from motia.adapters.redis.streams import RedisStreamStore
from motia.adapters.state.base import StateAdapter
from motia.adapters.streams.base import StreamStore
from motia.clock import Clock
from motia.errors import SettingsError, StoreUnavailable
from motia.settings import Settings, redis_location


class RedisBackend(Backend):
    spans_processes = True
    spans_machines = True

    def __init__(self, settings: Settings, clock: Clock) -> None:
        super().__init__(settings, clock)
        if settings.redis_url is None:  # settings refuse this; a direct caller may not
            raise SettingsError("a Redis adapter is chosen but no Redis URL is configured")
        self.url = settings.redis_url
        self.prefix = settings.redis_prefix
        self.client = connect(self.url)  # connects on the first command

    def state(self) -> StateAdapter:
        return RedisStateAdapter(self.client, self.prefix)

    def queue(self) -> QueueAdapter:
        return RedisQueueAdapter(self.client, self.prefix, self.clock)

    def streams(self) -> StreamStore:
        return RedisStreamStore(self.client, self.prefix, self.clock)

    def observability(self) -> ObservabilityStore:
        return RedisObservabilityStore(self.client, self.prefix, self.settings.retention_seconds)

    def broadcast(self) -> Broadcast:
        return RedisBroadcast(self.client, self.prefix)

    def flow_slots(self) -> FlowSlots:
        return RedisFlowSlots(self.client, self.prefix, self.clock)

    def cron_locks(self) -> CronLocks:
        return RedisCronLocks(self.client, self.prefix)

    def rate_limiter(self) -> RateLimiter:
        return RedisRateLimiter(self.url, self.prefix)

    async def ping(self, timeout: float) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self.client.ping()
        except Exception as exc:  # whatever the cause, the deployment cannot use Redis
            reason = (
                "no answer" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
            )
            raise StoreUnavailable(
                f"cannot reach Redis at {redis_location(self.url)} ({reason})"
            ) from exc

    async def close(self) -> None:
        await self.client.aclose()  # closes its connection pool as well
