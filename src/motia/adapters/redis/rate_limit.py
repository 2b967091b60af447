"""Rate limits kept in Redis: one Lua script per call applies GCRA (see
`adapters.ratelimit.base`) atomically, on Redis's clock, so every process that shares the
Redis shares the counts exactly.

The limiter has its own connection, with short timeouts and no retries: the shared pool
retries for seconds through a Redis restart, which is right for state and the queue but
would hold every request that long; a rate limit decides at once, and the caller chooses
what an outage means (let through or refuse)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError

from motia.adapters.ratelimit.base import Decision, RateLimiter
from motia.adapters.redis.connection import key
from motia.errors import StoreUnavailable
from motia.settings import redis_location

# Milliseconds throughout, Redis's TIME as the clock. Returns "allowed remaining retry
# reset" (allowed 0/1; retry after and reset in ms, rounded up) as one string: a reply of
# one line parses several times faster than an array of four.
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
  return '0 0 ' .. math.ceil(allow_at - now) .. ' ' .. math.ceil(tat - now)
end
-- At least 1 ms: next to a clock of 1.7e12 ms, an interval of a few ns vanishes.
redis.call('SET', KEYS[1], string.format('%.3f', next_tat), 'PX',
  math.max(1, math.ceil(next_tat - now)))
local remaining = math.floor((now - allow_at) / interval + 1e-9)
return '1 ' .. remaining .. ' 0 ' .. math.ceil(next_tat - now)
"""

TIMEOUT = 1.0  # seconds; a limiter that waits longer than this is as good as down

# (key, requests, per in ms, the caller's future)
_Call = tuple[str, int, float, "asyncio.Future[Decision]"]


class RedisRateLimiter(RateLimiter):
    """Calls made while a round trip is under way are sent together in the next one (one
    pipeline of scripts), so under load a round trip serves many requests."""

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
        self._sha = hashlib.sha1(GCRA.encode()).hexdigest()
        self._waiting: list[_Call] = []
        self._sender: asyncio.Task[None] | None = None

    async def hit(self, name: str, requests: int, per: float) -> Decision:
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        self._waiting.append((key(self._prefix, "ratelimit", name), requests, per * 1000, future))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send_all())
        return await future

    async def _send_all(self) -> None:
        while self._waiting:
            calls, self._waiting = self._waiting, []
            try:
                results = await self._run(calls)
            except Exception as exc:  # any failure: the counts cannot be read
                failure = StoreUnavailable(
                    f"cannot reach Redis at {redis_location(self._url)} for rate limits "
                    f"({type(exc).__name__}: {exc})"
                )
                failure.__cause__ = exc
                for *_, future in calls:
                    if not future.done():
                        future.set_exception(failure)
                continue
            for (_key, requests, _per, future), result in zip(calls, results, strict=True):
                if not future.done():
                    future.set_result(_decision(requests, result))

    async def _run(self, calls: list[_Call]) -> list[Any]:
        results = await self._pipeline(calls)
        if any(isinstance(result, NoScriptError) for result in results):
            await self._client.script_load(GCRA)  # Redis restarted: its scripts are gone
            results = await self._pipeline(calls)
        for result in results:
            if isinstance(result, Exception):
                raise result
        return results

    async def _pipeline(self, calls: list[_Call]) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for name, requests, per_ms, _future in calls:
            pipe.evalsha(self._sha, 1, name, requests, per_ms)
        results: list[Any] = await pipe.execute(raise_on_error=False)
        return results

    async def close(self) -> None:
        if self._sender is not None and not self._sender.done():
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        await self._client.aclose()


def _decision(requests: int, result: Any) -> Decision:
    allowed, remaining, retry_ms, reset_ms = result.split()
    return Decision(
        allowed == b"1",
        requests,
        min(int(remaining), requests - 1),
        int(retry_ms) / 1000,
        int(reset_ms) / 1000,
    )
