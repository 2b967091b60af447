"""Open the project's store from the command line, for commands that work on it directly
(`motia dlq`, `motia scheduled`) whether or not a server is running."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from motia.adapters.factory import Stores, open_stores
from motia.clock import Clock
from motia.errors import MotiaError
from motia.settings import load_settings
from motia.system_paths import SYSTEM_PREFIX

T = TypeVar("T")


def with_stores(
    project_dir: Path, action: Callable[[Stores], Awaitable[T]], what: str, api: str
) -> T:
    """Run `action` on the project's stores. `what` and `api` name what the command reads
    and its HTTP API path, for the error that a queue in memory lives in the server."""
    settings = load_settings(project_dir, "start", workbench_enabled=False)
    if settings.queue_adapter == "memory":
        raise MotiaError(
            f"the project's queue is in memory: its {what} live inside the running "
            f"server; use its HTTP API under {SYSTEM_PREFIX}/api/{api}"
        )
    if settings.queue_adapter == "sqlite" and not settings.database_path.exists():
        raise MotiaError(f"no Motia data at {settings.database_path}: the project never ran")

    async def main() -> T:
        stores = open_stores(settings, Clock())
        try:
            return await action(stores)
        finally:
            await stores.close()

    return asyncio.run(main())


def when(timestamp: float) -> str:
    """An epoch time as the commands print it (UTC)."""
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
