"""Redis flow-control slots: a sorted set per scope, holder -> expiry time. A take (of one
or several slots) is one Lua script, atomic in Redis: drop expired slots, then renew or
add the holder's in every scope, or, when one is full, write nothing and answer when its
earliest live slot expires. A key expires with its last slot."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from motia.adapters.flow.base import FlowSlots, Take
from motia.adapters.redis.calls import settle
from motia.adapters.redis.connection import key
from motia.clock import Clock

# KEYS: the scopes' sets. ARGV[1]: now; then per key: holder, limit, expires_at, ttl in
# ms. Checks every scope before writing any: all or none. Returns "index wait" (1-based
# index of the refused take) or "0 0".
_TAKE_ALL = """
local now = tonumber(ARGV[1])
for i, scope in ipairs(KEYS) do
  local a = 2 + (i - 1) * 4
  redis.call('ZREMRANGEBYSCORE', scope, '-inf', now)
  if not redis.call('ZSCORE', scope, ARGV[a]) then
    if redis.call('ZCARD', scope) >= tonumber(ARGV[a + 1]) then
      local first = redis.call('ZRANGE', scope, 0, 0, 'WITHSCORES')
      return i .. ' ' .. tostring(tonumber(first[2]) - now)
    end
  end
end
for i, scope in ipairs(KEYS) do
  local a = 2 + (i - 1) * 4
  redis.call('ZADD', scope, ARGV[a + 2], ARGV[a])
  local ttl = tonumber(ARGV[a + 3])
  if redis.call('PTTL', scope) < ttl then
    redis.call('PEXPIRE', scope, ttl)
  end
end
return '0 0'
"""


class RedisFlowSlots(FlowSlots):
    def __init__(self, client: Redis, prefix: str, clock: Clock) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock
        self._take_all = client.register_script(_TAKE_ALL)

    def _key(self, scope: str) -> str:
        return key(self._prefix, "flow", scope)

    async def take(self, scope: str, holder: str, limit: int, ttl: float) -> float:
        _, wait = await self.take_all([Take(scope, holder, limit, ttl)])
        return wait

    async def take_all(self, takes: Sequence[Take]) -> tuple[int, float]:
        now = self._clock.time()
        args: list[str | int] = [repr(now)]
        for take in takes:
            # The key outlives its last slot a little, so clock skew never shortens it.
            keep_ms = max(1, int(take.ttl * 1000) + 1000)
            args += [take.holder, take.limit, repr(now + take.ttl), keep_ms]
        answer = await settle(
            self._take_all(keys=[self._key(take.scope) for take in takes], args=args)
        )
        index, wait = (answer.decode() if isinstance(answer, bytes) else str(answer)).split()
        if int(index) == 0:
            return -1, 0.0
        return int(index) - 1, max(float(wait), 1e-3)

    async def give_back(self, scope: str, holder: str) -> None:
        await settle(self._client.zrem(self._key(scope), holder))
