"""Rate limits kept in Redis: one Lua script per call applies GCRA (see
`adapters.ratelimit.base`) atomically, on Redis's clock, so every process that shares the
Redis shares the counts exactly.

The limiter has its own connection, with short timeouts and no retries: the shared pool
retries for seconds through a Redis restart, which is right for state and the queue but
would hold every request that long; a rate limit decides at once, and the caller chooses
what an outage means (let through or refuse)."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from motia.adapters.ratelimit.base import Decision, RateLimiter
from motia.adapters.redis.connection import key
from motia.errors import StoreUnavailable
from motia.settings import redis_location

# Milliseconds throughout, Redis's TIME as the clock. Returns allowed (0/1), remaining,
# retry after and reset (ms, rounded up).
GCRA = """
local per = tonumber(ARGV[2])
local interval = per / tonumber(ARGV[1])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local next_tat = tat + interval
local allow_at = next_tat - per
if now < allow_at then
  return {0, 0, math.ceil(allow_at - now), math.ceil(tat - now)}
end
redis.call('SET', KEYS[1], string.format('%.3f', next_tat), 'PX', math.ceil(next_tat - now))
local remaining = math.floor((now - allow_at) / interval + 1e-9)
return {1, remaining, 0, math.ceil(next_tat - now)}
"""

TIMEOUT = 1.0  # seconds; a limiter that waits longer than this is as good as down


class RedisRateLimiter(RateLimiter):
    def __init__(self, url: str, prefix: str) -> None:
        self._url = url
        self._prefix = prefix
        self._client = Redis.from_url(
            url,
            socket_connect_timeout=TIMEOUT,
            socket_timeout=TIMEOUT,
            retry=Retry(NoBackoff(), 0),
            retry_on_error=[],
        )
        self._script = self._client.register_script(GCRA)

    async def hit(self, name: str, requests: int, per: float) -> Decision:
        per_ms = per * 1000
        try:
            allowed, remaining, retry_ms, reset_ms = await self._script(
                keys=[key(self._prefix, "ratelimit", name)], args=[requests, per_ms]
            )
        except Exception as exc:  # any failure: the counts cannot be read
            raise StoreUnavailable(
                f"cannot reach Redis at {redis_location(self._url)} for rate limits "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        return Decision(
            bool(allowed),
            requests,
            min(int(remaining), requests - 1),
            int(retry_ms) / 1000,
            int(reset_ms) / 1000,
        )

    async def close(self) -> None:
        await self._client.aclose()
