"""Redis flow-control slots: a sorted set per scope, holder -> expiry time. A take is one
Lua script (atomic in Redis): drop expired slots, renew or add the holder's, or answer when
the earliest live one expires. The key itself expires with its last slot."""

from __future__ import annotations

from redis.asyncio import Redis

from motia.adapters.flow.base import FlowSlots
from motia.adapters.redis.calls import settle
from motia.adapters.redis.connection import key
from motia.clock import Clock

# KEYS[1]: the scope's set. ARGV: holder, limit, now, expires_at, ttl in ms.
_TAKE = """
local now = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return tostring(tonumber(first[2]) - now)
  end
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
local ttl = tonumber(ARGV[5])
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return '0'
"""


class RedisFlowSlots(FlowSlots):
    def __init__(self, client: Redis, prefix: str, clock: Clock) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock
        self._take = client.register_script(_TAKE)

    def _key(self, scope: str) -> str:
        return key(self._prefix, "flow", scope)

    async def take(self, scope: str, holder: str, limit: int, ttl: float) -> float:
        now = self._clock.time()
        # The key outlives the last slot's expiry a little, so clock skew never shortens it.
        keep_ms = max(1, int(ttl * 1000) + 1000)
        answer = await settle(
            self._take(
                keys=[self._key(scope)],
                args=[holder, limit, repr(now), repr(now + ttl), keep_ms],
            )
        )
        wait = float(answer.decode() if isinstance(answer, bytes) else answer)
        return 0.0 if wait == 0 else max(wait, 1e-3)

    async def give_back(self, scope: str, holder: str) -> None:
        await settle(self._client.zrem(self._key(scope), holder))
