"""The SERVER span of each request to the API (imported only when spans are exported).

A caller's `traceparent` is its parent (unless `http.acceptTraceparent` is off). The app
opens the span before it picks the request's trace id, and leaves in the scope the trace
id and the `traceparent` header naming the span, so the request's step run, its emits and
its logs all fall in the same trace and the answer carries the header beside
`x-trace-id`. The app records the status it answered with in the scope too: no ASGI layer
or `send` wrapper stands between the server and the app.
"""

from __future__ import annotations

import contextvars
import time
import traceback

from starlette.types import Scope

from motia.clock import new_trace_id
from motia.http.traceparent import (
    STATUS_KEY,
    TRACE_ID_KEY,
    TRACEPARENT,
    TRACEPARENT_KEY,
)
from motia.runtime.otel_export import OtelExport, current_span, random_span_id
from motia.runtime.otlp_proto import (
    KIND_SERVER,
    STATUS_ERROR,
    SpanRecord,
    attribute,
    encode_attributes,
    exception_event,
)
from motia.tracecontext import TraceParent, format_traceparent, parse_traceparent

Token = contextvars.Token[SpanRecord | None]


class ServerSpans:
    def __init__(self, export: OtelExport, accept_traceparent: bool) -> None:
        self._export = export
        self._accept = accept_traceparent

    def open(self, scope: Scope) -> tuple[SpanRecord, Token]:
        """The request's span, current until `close`."""
        caller: TraceParent | None = None
        agent: bytes | None = None
        seen_traceparent = not self._accept
        for name, value in scope["headers"]:  # one pass for both headers the span reads
            if name == TRACEPARENT and not seen_traceparent:
                caller, seen_traceparent = parse_traceparent(value), True
            elif name == b"user-agent":
                agent = value
        if caller is not None:
            trace_id = caller.trace_id
            parent_id = int(caller.span_id, 16)
            sampled = self._export.sampled_under(trace_id, caller)
        else:
            trace_id = new_trace_id()
            parent_id = 0
            sampled = self._export.sampled(trace_id)
        method: str = scope["method"]
        span = SpanRecord(
            trace_id,
            random_span_id(),
            parent_id,
            method,
            KIND_SERVER,
            time.time_ns(),
            sampled,
            caller is not None,
            fixed=_request_attributes(scope, method, agent) if sampled else b"",
        )
        header = format_traceparent(trace_id, f"{span.span_id:016x}", sampled)
        scope[TRACE_ID_KEY] = trace_id  # the scope is this request's own
        scope[TRACEPARENT_KEY] = (TRACEPARENT, header.encode())
        return span, current_span.set(span)

    def failed(self, span: SpanRecord, exc: Exception) -> None:
        """The app raised instead of answering."""
        if span.sampled:
            stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            span.events = [exception_event(type(exc).__name__, str(exc), stack)]
            span.status, span.status_message = STATUS_ERROR, f"{type(exc).__name__}: {exc}"

    def close(self, span: SpanRecord, token: Token, scope: Scope) -> None:
        current_span.reset(token)
        status: int = scope.get(STATUS_KEY, 0)
        if status and span.sampled:
            span.fixed += attribute("http.response.status_code", status)
            if status >= 500:
                span.status = STATUS_ERROR
        self._export.end(span)


def _request_attributes(scope: Scope, method: str, agent: bytes | None) -> bytes:
    """Method, scheme and protocol version (few combinations repeat, encoded once), then
    what this request says of itself."""
    encoded = _fixed_attributes(scope, method) + attribute("url.path", scope["path"])
    if scope.get("query_string"):
        encoded += attribute("url.query", scope["query_string"].decode("latin-1"))
    client = scope.get("client")
    if client:
        encoded += attribute("client.address", client[0])
    if agent is not None:
        encoded += attribute("user_agent.original", agent.decode("latin-1"))
    return encoded


_fixed: dict[tuple[str, str, str], bytes] = {}


def _fixed_attributes(scope: Scope, method: str) -> bytes:
    key = (method, scope.get("scheme", "http"), scope.get("http_version", "1.1"))
    encoded = _fixed.get(key)
    if encoded is None:
        encoded = encode_attributes(
            {
                "http.request.method": key[0],
                "url.scheme": key[1],
                "network.protocol.version": key[2],
            }
        )
        if len(_fixed) < 64:  # a client can send any method name: keep a few
            _fixed[key] = encoded
    return encoded
