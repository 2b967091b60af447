"""Turning what a handler returns into status, headers and body bytes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from motia import jsoncodec

JSON_TYPE = b"application/json"
TEXT_TYPE = b"text/plain; charset=utf-8"
BINARY_TYPE = b"application/octet-stream"

Headers = list[tuple[bytes, bytes]]
# Every answer names its trace, so a client can find the run in logs and traces.
TRACE_HEADER = b"x-trace-id"
RESPONSE_KEYS = ("status", "body", "headers")


class InvalidResponse(Exception):
    """The handler returned something that is not a response."""


def json_response(
    status: int, body: Any, headers: Headers | None = None
) -> tuple[int, Headers, bytes]:
    return status, [(b"content-type", JSON_TYPE), *(headers or [])], jsoncodec.dumps(body)


def normalise(result: Any) -> tuple[int, Headers, bytes]:
    """Accepts `{status, body, headers?}` dicts, Pydantic models and objects with attributes."""
    if not result:
        raise InvalidResponse("the handler returned no response")
    if type(result) is not dict and not isinstance(result, Mapping):
        dump = getattr(result, "model_dump", None)
        if callable(dump):
            result = dump()
        elif hasattr(result, "__dict__"):
            result = vars(result)
        else:
            raise InvalidResponse(
                f"the handler returned {type(result).__name__}; return "
                "{'status': 200, 'body': ...}"
            )
    if not any(key in result for key in RESPONSE_KEYS):
        # `return {"pong": True}`: a body without its envelope. Classic Motia failed too;
        # guessing would make `{"status": 404, ...}` bodies mean something else.
        raise InvalidResponse(
            f"the handler returned a dict with the keys {_keys(result)} and no 'status', "
            "'body' or 'headers': to send it as the body, return {'status': 200, 'body': ...}"
        )
    status = result.get("status", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise InvalidResponse(f"the response status {status!r} is not an HTTP status code")
    headers: Headers = []
    has_type = False
    raw_headers = result.get("headers") or {}
    if not isinstance(raw_headers, Mapping):
        raise InvalidResponse("the response 'headers' must be a dict")
    for name, value in raw_headers.items():
        key = _header_name(name)
        if key == b"content-length":
            continue  # computed from the body actually sent
        has_type = has_type or key == b"content-type"
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            headers.append((key, _header_value(key, item)))
    body = result.get("body")
    if body is None:
        payload = b""
    elif isinstance(body, (bytes, bytearray, memoryview)):
        payload = bytes(body)
        content_type = BINARY_TYPE
    elif isinstance(body, str):
        payload = body.encode()
        content_type = TEXT_TYPE
    else:
        payload = jsoncodec.dumps(body)
        content_type = JSON_TYPE
    if payload and not has_type:
        headers.append((b"content-type", content_type))
    return status, headers, payload


def _keys(value: Mapping[Any, Any], shown: int = 5) -> str:
    names = [repr(key) for key in list(value)[: shown + 1]]
    return ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")


# What HTTP/1.1 allows: a header name is a token, a value has no control characters but
# tab. A CR or LF would split the header (response splitting), so the server would drop
# the connection without an answer; the handler's response is refused with a 500 instead.
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9a-z]+")
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def _header_name(name: object) -> bytes:
    try:
        key = str(name).lower().encode("latin-1")
    except UnicodeEncodeError:
        key = b""
    if not _TOKEN.fullmatch(key):
        raise InvalidResponse(f"the response header name {str(name)!r} is not a valid HTTP name")
    return key


def _header_value(key: bytes, value: object) -> bytes:
    text = str(value)
    try:
        encoded = text.encode("latin-1")
    except UnicodeEncodeError:
        raise InvalidResponse(
            f"the response header '{key.decode()}' has characters outside Latin-1; "
            "encode the value (for example with urllib.parse.quote)"
        ) from None
    if _BAD_VALUE.search(encoded):
        raise InvalidResponse(
            f"the response header '{key.decode()}' contains a control character "
            "(CR, LF or another); refused, as it would split the response"
        )
    return encoded
