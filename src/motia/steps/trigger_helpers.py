"""Helpers that write the triggers of a 1.0-form step: `http(...)`, `queue(...)`,
`cron(...)`, `state(...)` and `stream(...)` return the plain dicts a `triggers` list holds,
so a config may use either form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Condition = Callable[[Any, Any], Any]


def _trigger(kind: str, condition: Condition | None, fields: dict[str, Any]) -> dict[str, Any]:
    trigger: dict[str, Any] = {"type": kind}
    trigger.update((key, value) for key, value in fields.items() if value is not None)
    if condition is not None:
        trigger["condition"] = condition
    return trigger


def http(
    method: str,
    path: str,
    *,
    body_schema: Any = None,
    response_schema: dict[int, Any] | None = None,
    query_params: list[Any] | None = None,
    middleware: list[Callable[..., Any]] | None = None,
    condition: Condition | None = None,
    **options: Any,
) -> dict[str, Any]:
    """`{"type": "http", "method", "path", ...}`; other route options (auth, timeout,
    cors, rateLimit ...) pass through as written."""
    return _trigger(
        "http",
        condition,
        {
            "method": method,
            "path": path,
            "bodySchema": body_schema,
            "responseSchema": response_schema,
            "queryParams": query_params,
            "middleware": middleware,
            **options,
        },
    )


# The Python SDK of Motia 1.0 names the HTTP helper `api`.
api = http


def queue(
    topic: str,
    *,
    input: Any = None,
    config: dict[str, Any] | None = None,
    condition: Condition | None = None,
) -> dict[str, Any]:
    """`{"type": "queue", "topic", "input"?, "config"?}`; `config` holds the queue options
    (type fifo/standard, maxRetries, visibilityTimeout, delaySeconds, concurrency, backoff)."""
    return _trigger("queue", condition, {"topic": topic, "input": input, "config": config})


def cron(expression: str, *, condition: Condition | None = None) -> dict[str, Any]:
    """`{"type": "cron", "expression"}`: 5 fields, or 6 with leading seconds."""
    return _trigger("cron", condition, {"expression": expression})


def state(
    *,
    group: str | None = None,
    key: str | None = None,
    config: dict[str, Any] | None = None,
    condition: Condition | None = None,
) -> dict[str, Any]:
    """`{"type": "state"}`: runs on every state change (set, update, delete) that passes
    `condition`; `group` / `key` narrow it to one group or one key; `config` holds queue
    options (maxRetries, backoff ...; the queue is always FIFO per key)."""
    return _trigger("state", condition, {"group": group, "key": key, "config": config})


def stream(
    stream_name: str,
    *,
    group_id: str | None = None,
    config: dict[str, Any] | None = None,
    condition: Condition | None = None,
) -> dict[str, Any]:
    """`{"type": "stream", "streamName"}`: runs when an item of the stream is created,
    updated or deleted; `groupId` narrows it to one group; `config` as for `state`."""
    return _trigger(
        "stream",
        condition,
        {"streamName": stream_name, "groupId": group_id, "config": config},
    )
