"""Several `motia start` processes on one SQLite file, on one machine: no services.

The process fixtures and the time bound are the Redis suite's: the same `motia start`
children, stopped the same way; the stream client driver is the stream suite's (imported
so that pytest finds them here too)."""

from __future__ import annotations

import pytest

from tests.redis.conftest import _bounded_in_time, servers  # noqa: F401
from tests.streams.conftest import driver_factory, stream_client  # noqa: F401

# Settings from the environment that would move a store off SQLite.
OTHER_STORES = ("MOTIA_REDIS_URL", "REDIS_URL", "MOTIA_DATABASE_URL", "DATABASE_URL")


@pytest.fixture
def sqlite_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment that leaves every store on the project's SQLite file."""
    for name in OTHER_STORES:
        monkeypatch.delenv(name, raising=False)
    return {}
