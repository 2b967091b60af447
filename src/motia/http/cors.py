"""CORS for API steps, as ASGI middleware around the lean API path.

A request without an `Origin` header passes straight through. A request from an allowed
origin gets the allow headers on its answer, whatever produced it (a step, a 404, a
refused body, a failure of Motia itself); a preflight from an allowed origin is answered
here, before routing, so it works on every path.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from motia.clock import new_trace_id
from motia.http.request import headers_dict
from motia.http.response import TRACE_HEADER, Headers
from motia.settings import CorsSettings

# A browser script may read the trace id, and the request's span when spans are exported.
EXPOSED = TRACE_HEADER + b", traceparent"


class CorsMiddleware:
    def __init__(self, app: ASGIApp, cors: CorsSettings) -> None:
        self.app = app
        self.cors = cors
        self._any = "*" in cors.origins and not cors.credentials
        self._origins = frozenset(cors.origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = _origin(scope["headers"])
        if origin is None:
            await self.app(scope, receive, send)
            return
        allowed = self.allow_headers(origin)
        if not allowed:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            headers = headers_dict(scope["headers"])
            if "access-control-request-method" in headers:
                await self._preflight(headers, allowed, send)
                return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *allowed]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def allow_headers(self, origin: str) -> Headers:
        """The headers an answer to `origin` carries; none if the origin is not allowed."""
        if self._any:
            return [
                (b"access-control-allow-origin", b"*"),
                (b"access-control-expose-headers", EXPOSED),
            ]
        if origin in self._origins or "*" in self._origins:
            headers: Headers = [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"vary", b"Origin"),
                (b"access-control-expose-headers", EXPOSED),
            ]
            if self.cors.credentials:
                headers.append((b"access-control-allow-credentials", b"true"))
            return headers
        return []

    async def _preflight(self, headers: dict[str, str], allowed: Headers, send: Send) -> None:
        cors = self.cors
        methods = (
            ", ".join(cors.methods)
            if cors.methods != ("*",)
            else headers.get("access-control-request-method", "*")
        )
        allow_headers = (
            ", ".join(cors.headers)
            if cors.headers != ("*",)
            else headers.get("access-control-request-headers", "*")
        )
        answer: Headers = [
            (b"access-control-allow-methods", methods.encode("latin-1")),
            (b"access-control-allow-headers", allow_headers.encode("latin-1")),
            (b"access-control-max-age", str(cors.max_age).encode()),
            (TRACE_HEADER, new_trace_id().encode()),
            *allowed,
        ]
        await send({"type": "http.response.start", "status": 204, "headers": answer})
        await send({"type": "http.response.body", "body": b""})


def _origin(raw: list[tuple[bytes, bytes]]) -> str | None:
    """The Origin header, or None; sent several times, its values are joined as
    `headers_dict` joins them (and then match no allowed origin)."""
    found: list[str] = []
    for name, value in raw:
        if len(name) == 6 and name.lower() == b"origin":
            found.append(value.decode("latin-1"))
    return ", ".join(found) if found else None
