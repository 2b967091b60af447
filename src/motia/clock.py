"""Time and ids, injectable so cron, delays and retries are testable without sleeping."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime


class Clock:
    """The real clock. Tests substitute a clock they can move forward by hand."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def new_trace_id() -> str:
    """A 32-hex-digit id, the same shape as a W3C trace id."""
    return os.urandom(16).hex()


def new_message_id() -> str:
    return os.urandom(12).hex()
