"""The Redis rate limiter on its own: exact under concurrent calls, its keys expire, extreme
rates do not break its script, and an unreachable Redis is a prompt StoreUnavailable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from motia.adapters.redis.rate_limit import RedisRateLimiter
from motia.errors import StoreUnavailable
from tests.conftest import free_port
from tests.unit import redis_support


@pytest.fixture
def prefix() -> Iterator[str]:
    redis_support.require_redis()
    chosen = redis_support.new_prefix()
    yield chosen
    redis_support.delete_prefix(chosen)


async def test_concurrent_calls_are_counted_exactly(prefix: str) -> None:
    limiter = RedisRateLimiter(redis_support.REDIS_URL, prefix)
    try:
        decisions = await asyncio.gather(*(limiter.hit("k", 3, 3600) for _ in range(20)))
        assert sum(d.allowed for d in decisions) == 3
        assert sorted(d.remaining for d in decisions if d.allowed) == [0, 1, 2]
        refused = [d for d in decisions if not d.allowed]
        assert all(1199 <= d.retry_after <= 1200 for d in refused), refused
        assert all(3599 <= d.reset <= 3600 for d in refused), refused
        assert (await limiter.hit("other", 3, 3600)).remaining == 2
    finally:
        await limiter.close()


async def test_the_key_expires_when_its_quota_is_whole_again(prefix: str) -> None:
    limiter = RedisRateLimiter(redis_support.REDIS_URL, prefix)
    check = redis_support.client()
    try:
        await limiter.hit("k", 2, 10)
        ttl = await check.pttl(f"{prefix}:ratelimit:k")
        assert 4000 <= ttl <= 5000  # one of two used: back in per / requests
    finally:
        await limiter.close()
        await check.aclose()


async def test_extreme_rates_work(prefix: str) -> None:
    limiter = RedisRateLimiter(redis_support.REDIS_URL, prefix)
    try:
        for _ in range(3):  # an interval of a nanosecond
            assert (await limiter.hit("fast", 1_000_000_000, 1)).allowed
        assert (await limiter.hit("slow", 1, 86400)).allowed
        assert not (await limiter.hit("slow", 1, 86400)).allowed
    finally:
        await limiter.close()


async def test_an_unreachable_redis_is_a_prompt_store_unavailable() -> None:
    port = free_port()  # nobody listens here
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{port}/0", "p")
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match=f"127.0.0.1:{port}"):
            await limiter.hit("k", 1, 1)
        assert time.monotonic() - started < 5  # no retries for seconds
    finally:
        await limiter.close()
