"""W3C trace context: the `traceparent` header, and the span id an emit is known by.

Motia's trace ids are W3C trace ids (32 hex digits), so a caller's `traceparent` can name
the trace a request joins, and a trace exported with OpenTelemetry keeps the id shown in
the workbench and the logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from motia.randomness import random_hex

_HEX = re.compile("[0-9a-f]*").fullmatch


@dataclass(frozen=True)
class TraceParent:
    trace_id: str  # 32 lowercase hex digits
    span_id: str  # 16 lowercase hex digits
    sampled: bool


def parse_traceparent(value: str | bytes) -> TraceParent | None:
    """The parent named by a `traceparent` header, or None when it is not a valid one
    (a malformed header is ignored, as the W3C spec asks)."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    parts = value.strip().split("-")
    if len(parts) < 4:
        return None
    version, trace_id, span_id, flags = parts[:4]
    if (
        len(version) != 2
        or version == "ff"
        or (version == "00" and len(parts) != 4)
        or len(flags) != 2
        or not _hex(version + flags)
        or not is_trace_id(trace_id)
        or len(span_id) != 16
        or not _hex(span_id)
        or span_id == "0" * 16
    ):
        return None
    return TraceParent(trace_id, span_id, bool(int(flags, 16) & 1))


def format_traceparent(trace_id: str, span_id: str, sampled: bool) -> str:
    return f"00-{trace_id}-{span_id}-{'01' if sampled else '00'}"


def is_trace_id(value: str) -> bool:
    """32 lowercase hex digits, not all zero."""
    return len(value) == 32 and _hex(value) and value != "0" * 32


def new_span_id() -> str:
    """A fresh span id (16 hex digits, never all zero): each step run has one, on its log
    lines and, when spans are exported, as its span's id."""
    value = random_hex(8)
    return value if value != "0" * 16 else "0" * 15 + "1"


def emit_span_id(event_id: str) -> str:
    """The span id of the emit that produced event `event_id`, derived from the id every
    queued copy of the event carries: a subscriber's run names its parent span without
    the message holding more than it already does."""
    import hashlib  # only spans need it: keep the import of this module light

    digest = hashlib.blake2b(event_id.encode(), digest_size=8).hexdigest()
    return digest if digest != "0" * 16 else "0" * 15 + "1"


def _hex(value: str) -> bool:
    return _HEX(value) is not None  # every character is a lowercase hex digit
