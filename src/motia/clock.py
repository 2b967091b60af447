"""Time and ids, injectable so cron, delays and retries are testable without sleeping."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from motia.randomness import random_hex


class Clock:
    """The real clock. Tests substitute a clock they can move forward by hand."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def new_trace_id() -> str:
    """A 32-hex-digit id, the same shape as a W3C trace id. Like a UUIDv7 it starts with
    the time in milliseconds, so ids sort by creation and indexes on them (state groups,
    queue messages) grow at one end instead of touching a random page per write."""
    return f"{time.time_ns() // 1_000_000:012x}{random_hex(10)}"


def new_message_id() -> str:
    """24 hex digits: the time in milliseconds, then 48 random bits."""
    return f"{time.time_ns() // 1_000_000:012x}{random_hex(6)}"
