"""Redis for the test suites: a reachability check, a unique key prefix per test, clients
closed inside the event loop that opened them, and deletion of a test's keys afterwards.

The server is `MOTIA_TEST_REDIS_URL` (default redis://127.0.0.1:6379/0). When it cannot be
reached the Redis cases are skipped, or fail when the CI environment variable is set."""

from __future__ import annotations

import os
from pathlib import Path
from uuid import uuid4

import pytest
from redis.asyncio import Redis
from redis.client import Redis as SyncRedis
from redis.exceptions import RedisError

from motia.adapters.redis.connection import connect
from tests.conftest import LOOP_CLEANUPS

REDIS_URL = os.environ.get("MOTIA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
_PREFIX_FILE = ".redis-prefix"
_reachable: bool | None = None
_open: list[Redis] = []


def require_redis() -> None:
    """Skip (fail, in CI) the current test when the Redis server is not reachable."""
    global _reachable
    if _reachable is None:
        probe = SyncRedis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        try:
            _reachable = bool(probe.ping())
        except (RedisError, OSError):
            _reachable = False
        finally:
            probe.close()
    if not _reachable:
        reason = f"no Redis server reachable at {REDIS_URL}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI is set, so the Redis tests must run")
        pytest.skip(f"{reason} (start redis-server or set MOTIA_TEST_REDIS_URL)")


def new_prefix() -> str:
    return f"test-{uuid4().hex}"


def prefix_for(tmp: Path) -> str:
    """The test's own key prefix, the same for every adapter the test opens."""
    path = tmp / _PREFIX_FILE
    if not path.exists():
        path.write_text(new_prefix())
    return path.read_text()


def client() -> Redis:
    """An asyncio client; `close_clients()` closes it in the loop that used it."""
    return track(connect(REDIS_URL))


def track(opened: Redis) -> Redis:
    """Have `close_clients()` close a client opened elsewhere (by a backend, say)."""
    _open.append(opened)
    return opened


async def close_clients() -> None:
    while _open:
        await _open.pop().aclose()


# Clients belong to the loop of the test that opened them: closed before that loop ends.
LOOP_CLEANUPS.append(close_clients)


def delete_prefix(prefix: str) -> int:
    """Delete every key of a prefix (SCAN: fine for tests)."""
    sync = SyncRedis.from_url(REDIS_URL)
    try:
        keys = list(sync.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 500):
            sync.delete(*keys[start : start + 500])
        return len(keys)
    finally:
        sync.close()


def cleanup(tmp: Path) -> None:
    """Delete the keys of the prefix a test used under `tmp`, if it used one."""
    path = tmp / _PREFIX_FILE
    if path.exists():
        delete_prefix(path.read_text())
