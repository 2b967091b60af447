"""Who a stream client is: the token it sent, and the project's `authenticate` hook."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs

from motia.runtime.dispatch import handler_exits

TOKEN_PROTOCOL = "Authorization"


class AuthenticationFailed(Exception):
    """The project's `authenticate` hook rejected the client."""


def token_from(
    subprotocols: Sequence[str], query_string: bytes, headers: dict[str, str]
) -> str | None:
    """The classic clients send `Sec-WebSocket-Protocol: Authorization,<token>`; others may
    use `?authToken=` or (SSE) an `Authorization: Bearer` header."""
    offered = [p.strip() for p in subprotocols]
    if TOKEN_PROTOCOL in offered:
        index = offered.index(TOKEN_PROTOCOL)
        if index + 1 < len(offered) and offered[index + 1]:
            return offered[index + 1]
    query = parse_qs(query_string.decode("latin-1"))
    for name in ("authToken", "token"):
        if query.get(name):
            return query[name][0]
    bearer = headers.get("authorization", "")
    if bearer.lower().startswith("bearer "):
        return bearer[7:].strip() or None
    return None


async def authenticate(
    hook: Callable[..., Any] | None, headers: dict[str, str], url: str, token: str | None
) -> Any:
    """The auth context for a connection: what the hook returned, or None (anonymous)."""
    if hook is None:
        return None
    try:
        with handler_exits():  # a hook that calls sys.exit() refuses this connection only
            context = hook({"headers": headers, "url": url, "token": token})
            if inspect.isawaitable(context):
                context = await context
    except Exception as exc:
        raise AuthenticationFailed(str(exc) or type(exc).__name__) from exc
    return context
