"""What the trigger tests share: one config per backend, with every store on it, and the
clean-up of the Redis keys and PostgreSQL schema a test used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.unit import backend_support
from tests.unit.postgres_support import DATABASE_URL, require_postgres, schema_for
from tests.unit.redis_support import REDIS_URL, prefix_for, require_redis

BACKENDS = ["memory", "sqlite", "redis", "postgres"]
_STORES = ("state_adapter", "queue_adapter", "streams_adapter")


def backend_config(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    """Every store of the backend: state, queue and streams."""
    request.addfinalizer(lambda: backend_support.cleanup(tmp_path))
    if backend == "memory":
        return {}
    stores = dict.fromkeys(_STORES, backend)
    if backend == "sqlite":
        return {**stores, "data_dir": tmp_path / "data"}
    if backend == "redis":
        require_redis()
        return {**stores, "redis_url": REDIS_URL, "redis_prefix": prefix_for(tmp_path)}
    require_postgres()
    return {**stores, "database_url": DATABASE_URL, "database_schema": schema_for(tmp_path)}
