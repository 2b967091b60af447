"""Turning an ASGI request into the classic Motia `req` dict."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from motia import jsoncodec
from motia.http.json_depth import depth_message, too_deep


class BadRequest(Exception):
    """The request cannot be handed to a step; `status` and `message` form the answer."""

    def __init__(self, status: int, message: str, errors: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def headers_dict(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Lower-case names; a header sent several times is joined with ', ' as Node does."""
    headers: dict[str, str] = {}
    for name_bytes, value_bytes in raw:
        name = name_bytes.decode("latin-1").lower()
        value = value_bytes.decode("latin-1")
        if name in headers:
            headers[name] = f"{headers[name]}, {value}"
        else:
            headers[name] = value
    return headers


def query_dict(query_string: bytes) -> dict[str, str | list[str]]:
    """A value is a string, or a list when the parameter is repeated."""
    params: dict[str, str | list[str]] = {}
    if not query_string:
        return params
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        existing = params.get(name)
        if existing is None:
            params[name] = value
        elif isinstance(existing, list):
            existing.append(value)
        else:
            params[name] = [existing, value]
    return params


def parse_body(raw: bytes, content_type: str, max_depth: int | None = None) -> Any:
    """JSON, form or text bodies, as body-parser gives them; other types stay raw only.
    JSON nested deeper than `max_depth` is refused."""
    if not raw:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            value = jsoncodec.loads(raw)
        except jsoncodec.JSONDecodeError as exc:
            if max_depth is not None and "depth limit" in str(exc):  # past orjson's own
                raise BadRequest(400, depth_message(max_depth)) from None
            raise BadRequest(400, f"Malformed JSON body: {exc}") from None
        if max_depth is not None and too_deep(raw, value, max_depth):
            raise BadRequest(400, depth_message(max_depth))
        return value
    if media == "application/x-www-form-urlencoded":
        return query_dict(raw)
    text = raw.decode("utf-8", "replace")
    if media.startswith("text/"):
        return text
    if not media:
        # No content type: JSON if it parses, the text otherwise.
        try:
            value = jsoncodec.loads(raw)
        except jsoncodec.JSONDecodeError:
            return text
        if max_depth is not None and too_deep(raw, value, max_depth):
            raise BadRequest(400, depth_message(max_depth))
        return value
    return None
