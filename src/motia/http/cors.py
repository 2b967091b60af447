"""CORS for API steps, as ASGI middleware around the lean API path.

A request without an `Origin` header passes straight through. A request from an allowed
origin gets the allow headers on its answer, whatever produced it (a step, a 404, a
refused body, a failure of Motia itself); a preflight from an allowed origin is answered
here, before routing, so it works on every path.

The policy is the `http.cors.*` settings, or the `cors` of the step the request (for a
preflight: the requested method) is routed to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from motia.clock import new_trace_id
from motia.http.request import headers_dict
from motia.http.response import TRACE_HEADER, Headers
from motia.http.traceparent import STATUS_KEY, TRACE_ID_KEY, TRACEPARENT_KEY
from motia.settings import CorsSettings
from motia.settings.origins import Origins
from motia.steps.http_options import CorsConfig


class CorsPolicy:
    """One set of CORS rules, with the header values that do not depend on the request
    encoded once."""

    def __init__(
        self,
        origins: Sequence[str],
        *,
        credentials: bool = False,
        methods: Sequence[str] = ("*",),
        headers: Sequence[str] = ("*",),
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
    ) -> None:
        self.origins = Origins.of(origins)
        self.credentials = credentials
        # `*` without credentials: the literal `*` answers every origin.
        self._star = "*" in origins and not credentials
        # A browser script may read the trace id, and the request's span when spans are
        # exported (traceparent).
        exposed = [TRACE_HEADER.decode(), "traceparent", *expose_headers]
        expose = ", ".join(exposed).encode("latin-1")
        self._expose = (b"access-control-expose-headers", expose)
        self._methods = None if tuple(methods) == ("*",) else ", ".join(methods).encode()
        self._headers = None if tuple(headers) == ("*",) else ", ".join(headers).encode()
        self._max_age = str(max_age).encode()

    @classmethod
    def of(cls, cors: CorsSettings | CorsConfig) -> CorsPolicy:
        """The policy of the project's `http.cors.*` or of a step's `cors`."""
        return cls(
            cors.origins,
            credentials=cors.credentials,
            methods=cors.methods,
            headers=cors.headers,
            expose_headers=cors.expose_headers,
            max_age=cors.max_age,
        )

    def allow_headers(self, origin: str) -> Headers:
        """The headers an answer to `origin` carries; none if the origin is not allowed."""
        if self._star:
            return [(b"access-control-allow-origin", b"*"), self._expose]
        if self.origins.allows(origin):
            headers: Headers = [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"vary", b"Origin"),
                self._expose,
            ]
            if self.credentials:
                headers.append((b"access-control-allow-credentials", b"true"))
            return headers
        return []

    def preflight(self, request: dict[str, str], allowed: Headers) -> Headers:
        methods = self._methods or request.get("access-control-request-method", "*").encode(
            "latin-1"
        )
        headers = self._headers or request.get("access-control-request-headers", "*").encode(
            "latin-1"
        )
        return [
            (b"access-control-allow-methods", methods),
            (b"access-control-allow-headers", headers),
            (b"access-control-max-age", self._max_age),
            *allowed,
        ]


# The policy for a request to (method, scope): None when the route allows no CORS.
PolicyFor = Callable[[str, Scope], "CorsPolicy | None"]


class CorsMiddleware:
    def __init__(self, app: ASGIApp, policy_for: PolicyFor) -> None:
        self.app = app
        self.policy_for = policy_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = _origin(scope["headers"])
        if origin is None:
            await self.app(scope, receive, send)
            return
        preflight: dict[str, str] | None = None
        method: str = scope["method"]
        if method == "OPTIONS":
            headers = headers_dict(scope["headers"])
            if "access-control-request-method" in headers:
                preflight = headers
                method = headers["access-control-request-method"].strip().upper()
        policy = self.policy_for(method, scope)
        allowed = policy.allow_headers(origin) if policy is not None else []
        if not allowed:
            await self.app(scope, receive, send)
            return
        if preflight is not None:
            assert policy is not None
            trace_id: str = scope.get(TRACE_ID_KEY) or new_trace_id()
            answer = [
                *policy.preflight(preflight, allowed),
                (TRACE_HEADER, trace_id.encode()),
            ]
            traceparent = scope.get(TRACEPARENT_KEY)
            if traceparent is not None:  # the request's span, when spans are exported
                answer.append(traceparent)
            scope[STATUS_KEY] = 204
            await send({"type": "http.response.start", "status": 204, "headers": answer})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *allowed]
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _origin(raw: list[tuple[bytes, bytes]]) -> str | None:
    """The Origin header, or None; sent several times, its values are joined as
    `headers_dict` joins them (and then match no allowed origin)."""
    found: list[str] = []
    for name, value in raw:
        if len(name) == 6 and name.lower() == b"origin":
            found.append(value.decode("latin-1"))
    return ", ".join(found) if found else None
