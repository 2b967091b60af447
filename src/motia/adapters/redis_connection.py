"""One Redis connection pool per process, shared by every Redis adapter.

Commands that fail because Redis restarted are retried with exponential backoff, so a
short outage slows the server down instead of failing requests or losing work."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

RETRIES = 8  # about 13 s of backoff in all: a Redis restart fits in it


def connect(url: str) -> Redis:
    client: Redis = Redis.from_url(
        url,
        retry=Retry(ExponentialBackoff(cap=4.0, base=0.05), RETRIES),
        retry_on_error=[RedisConnectionError, RedisTimeoutError, ConnectionResetError],
        health_check_interval=15,
        socket_connect_timeout=5,
        socket_keepalive=True,
        max_connections=64,
    )
    return client


def key(prefix: str, *parts: Any) -> str:
    """Keys are `prefix:part:part`; hash tags keep a group's keys together on a cluster."""
    return ":".join([prefix, *(str(p) for p in parts)])
