"""The scheduling fields of an emit: `delay` (seconds), `at` (a moment) and `key`.

An emit with any of them is scheduled: it fires at `now + delay` or at `at`, and until a
subscriber leases it, it can be listed and cancelled. A second emit with the same `key`
on the same topic replaces the pending one (a debounce). An `at` in the past fires at
once: the moment may have passed while the handler ran, and refusing it would lose the
event.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from motia.errors import InvalidEmit

# Longer than any sane schedule and still exact as a float of epoch seconds.
MAX_DELAY = 10 * 365 * 86_400.0
MAX_KEY_LENGTH = 200


def parse_schedule(
    raw: Mapping[str, Any], now: float, where: str
) -> tuple[float | None, str | None]:
    """(fire time in epoch seconds or None, key or None); `where` names the emit in errors."""
    delay = raw.get("delay")
    at = raw.get("at")
    key = raw.get("key")
    if delay is not None and at is not None:
        raise InvalidEmit(f"{where}: give 'delay' or 'at', not both")
    fire_at: float | None = None
    if delay is not None:
        fire_at = now + _seconds(delay, where)
    elif at is not None:
        fire_at = _moment(at, where)
    if key is not None:
        if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidEmit(
                f"{where}: 'key' must be a non-empty string of at most {MAX_KEY_LENGTH} "
                f"characters, not {key!r}"
            )
        if fire_at is None:
            fire_at = now  # keyed without a time: fires now, still replaces the pending one
    return fire_at, key


def _seconds(delay: object, where: str) -> float:
    if isinstance(delay, bool) or not isinstance(delay, int | float):
        raise InvalidEmit(f"{where}: 'delay' must be a number of seconds, not {delay!r}")
    seconds = float(delay)
    if not math.isfinite(seconds) or seconds < 0 or seconds > MAX_DELAY:
        raise InvalidEmit(
            f"{where}: 'delay' must be between 0 and {MAX_DELAY:.0f} seconds, not {delay!r}"
        )
    return seconds


def _moment(at: object, where: str) -> float:
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at.replace("Z", "+00:00") if at.endswith("Z") else at)
        except ValueError:
            raise InvalidEmit(
                f"{where}: 'at' {at!r} is not an ISO-8601 date-time "
                "(like '2026-05-01T09:00:00+00:00')"
            ) from None
    if not isinstance(at, datetime):
        raise InvalidEmit(
            f"{where}: 'at' must be a timezone-aware datetime or an ISO-8601 string with "
            f"an offset, not {type(at).__name__}"
        )
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidEmit(
            f"{where}: 'at' {at.isoformat()} has no timezone; give one "
            "(datetime(..., tzinfo=UTC) or '...+00:00'), a naive time is ambiguous"
        )
    return at.timestamp()
