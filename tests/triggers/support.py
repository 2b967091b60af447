"""What the trigger tests share: one config per backend, with every store on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.unit.redis_support import REDIS_URL, prefix_for, require_redis

BACKENDS = ["memory", "sqlite", "redis"]


def backend_config(backend: str, tmp_path: Path) -> dict[str, Any]:
    """Every store of the backend: state, queue and streams."""
    if backend == "memory":
        return {}
    if backend == "sqlite":
        stores = dict.fromkeys(("state_adapter", "queue_adapter", "streams_adapter"), "sqlite")
        return {**stores, "data_dir": tmp_path / "data"}
    require_redis()
    stores = dict.fromkeys(("state_adapter", "queue_adapter", "streams_adapter"), "redis")
    return {**stores, "redis_url": REDIS_URL, "redis_prefix": prefix_for(tmp_path)}
