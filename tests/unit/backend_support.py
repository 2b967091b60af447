"""Open any backend of the table as the runtime does, for the contract suites: a new
backend passes them all by being added to `BACKENDS`.

Redis backends use the test server and the test's own key prefix, and their clients are
closed with the others by `redis_support.close_clients()`; `require(name)` skips (fails, in
CI) a backend whose server is not there."""

from __future__ import annotations

from pathlib import Path

from motia.adapters.backend import Backend
from motia.adapters.factory import BACKENDS, backend_class
from motia.clock import Clock
from motia.settings import Settings
from tests.unit import redis_support

NAMES = sorted(BACKENDS)


def settings_for(tmp: Path, **changes: object) -> Settings:
    """Settings whose data folder and Redis key prefix belong to the test."""
    settings = Settings(
        project_dir=tmp,
        data_dir=tmp / "data",
        redis_url=redis_support.REDIS_URL,
        redis_prefix=redis_support.prefix_for(tmp),
    )
    return settings.with_overrides(**changes)


def open_backend(name: str, tmp: Path, clock: Clock | None = None) -> Backend:
    """A new backend object on the test's storage: a second one is another process."""
    backend = backend_class(name)(settings_for(tmp), clock or Clock())
    if name == "redis":
        from motia.adapters.redis.backend import RedisBackend

        assert isinstance(backend, RedisBackend)
        redis_support.track(backend.client)
    return backend


def require(name: str) -> None:
    if name == "redis":
        redis_support.require_redis()


def cleanup(tmp: Path) -> None:
    redis_support.cleanup(tmp)
