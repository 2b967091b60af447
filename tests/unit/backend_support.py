"""Open any backend of the table as the runtime does, for the contract suites: a new
backend passes them all by being added to `BACKENDS`.

Redis backends use the test server and the test's own key prefix, PostgreSQL backends the
test server and the test's own schema; their connections are closed in the test's event
loop. `require(name)` skips (fails, in CI) a backend whose server is not there."""

from __future__ import annotations

from pathlib import Path

from motia.adapters.backend import Backend
from motia.adapters.factory import BACKENDS, backend_class
from motia.clock import Clock
from motia.settings import Settings
from tests.unit import postgres_support, redis_support

NAMES = sorted(BACKENDS)


def settings_for(tmp: Path, **changes: object) -> Settings:
    """Settings whose data folder, Redis key prefix and PostgreSQL schema belong to the
    test."""
    settings = Settings(
        project_dir=tmp,
        data_dir=tmp / "data",
        redis_url=redis_support.REDIS_URL,
        redis_prefix=redis_support.prefix_for(tmp),
        database_url=postgres_support.DATABASE_URL,
        database_schema=postgres_support.schema_for(tmp),
    )
    return settings.with_overrides(**changes)


def open_backend(name: str, tmp: Path, clock: Clock | None = None) -> Backend:
    """A new backend object on the test's storage: a second one is another process."""
    backend = backend_class(name)(settings_for(tmp), clock or Clock())
    if name == "redis":
        from motia.adapters.redis.backend import RedisBackend

        assert isinstance(backend, RedisBackend)
        redis_support.track(backend.client)
    if name == "postgres":
        from motia.adapters.postgres.backend import PostgresBackend

        assert isinstance(backend, PostgresBackend)
        postgres_support.track(backend.database)
    return backend


def require(name: str) -> None:
    if name == "redis":
        redis_support.require_redis()
    if name == "postgres":
        postgres_support.require_postgres()


def cleanup(tmp: Path) -> None:
    redis_support.cleanup(tmp)
    postgres_support.cleanup(tmp)
