"""The nesting limit of JSON request bodies (`http.maxJsonDepth`).

Deeply nested JSON is cheap to send and expensive to walk: every recursive function that
later meets it (validation, logging, a handler's own code) may exhaust the stack. orjson
parses the body once; the depth is then checked without a second parse. A body cannot nest
deeper than it has opening brackets, so most bodies are cleared by two byte counts; the
others have their containers walked, with no recursion and stopping at the limit.
"""

from __future__ import annotations

from typing import Any


def too_deep(raw: bytes, value: Any, limit: int) -> bool:
    """Whether `value`, parsed from `raw`, nests objects and arrays deeper than `limit`."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    return _deeper(value, limit)


def _deeper(value: Any, limit: int) -> bool:
    if not isinstance(value, dict | list):
        return False
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        container, depth = pending.pop()
        if depth > limit:
            return True
        children = container.values() if isinstance(container, dict) else container
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def depth_message(limit: int) -> str:
    return f"JSON body is nested too deeply: more than {limit} levels of objects and arrays"
