"""One Redis connection pool per process, shared by every Redis adapter.

Commands that fail because Redis restarted are retried with exponential backoff, so a
short outage slows the server down instead of failing requests or losing work; a burst of
concurrent commands waits for a free connection instead of failing."""

from __future__ import annotations

from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

RETRIES = 8  # about 13 s of backoff in all: a Redis restart fits in it
MAX_CONNECTIONS = 64
POOL_WAIT = 20.0  # seconds a command waits for a free connection before failing


def connect(url: str) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=POOL_WAIT,
        retry=Retry(ExponentialBackoff(cap=4.0, base=0.05), RETRIES),
        retry_on_error=[RedisConnectionError, RedisTimeoutError, ConnectionResetError],
        health_check_interval=15,
        socket_connect_timeout=5,
        socket_keepalive=True,
    )
    client: Redis = Redis.from_pool(pool)  # closing the client closes the pool
    return client


def key(prefix: str, *parts: Any) -> str:
    """Keys are `prefix:part:part`."""
    return ":".join([prefix, *(str(p) for p in parts)])
