"""Redis cron locks: `SET <prefix>:cron:{<job>}:<tick> NX PX <ttl>`; whoever sets the key
first runs the tick, in whichever process, and the key expires after `ttl`."""

from __future__ import annotations

import os
import socket

from redis.asyncio import Redis

from motia.adapters.locks.base import CronLocks
from motia.adapters.redis.calls import settle
from motia.adapters.redis.connection import key


class RedisCronLocks(CronLocks):
    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        # Who claimed a tick, for whoever looks at the key while debugging.
        self._owner = f"{socket.gethostname()}:{os.getpid()}"

    def tick_key(self, job: str, tick: float) -> str:
        return key(self._prefix, "cron", "{" + job + "}", f"{tick:.3f}")

    async def claim_tick(self, job: str, tick: float, ttl: float) -> bool:
        claimed = await settle(
            self._client.set(
                self.tick_key(job, tick), self._owner, nx=True, px=max(1, int(ttl * 1000))
            )
        )
        return bool(claimed)
