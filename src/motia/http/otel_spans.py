"""The SERVER span of each request to the API (imported only when spans are exported).

A caller's `traceparent` is its parent (unless `http.acceptTraceparent` is off). The span
is opened before the app picks the request's trace id and hands it over in the
scope, so the request's step run, its emits and its logs all fall in the same trace. The
response names the span in a `traceparent` header.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from motia.clock import new_trace_id
from motia.http.traceparent import TRACE_ID_KEY, TRACEPARENT, incoming_parent
from motia.runtime.otel_export import OtelExport
from motia.tracecontext import format_traceparent


class ServerSpans:
    def __init__(self, app: ASGIApp, export: OtelExport, accept_traceparent: bool) -> None:
        self._app = app
        self._export = export
        self._accept = accept_traceparent

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = incoming_parent(scope) if self._accept else None
        parent: Context | None = None
        if caller is not None:
            trace_id = caller.trace_id
            flags = TraceFlags(TraceFlags.SAMPLED if caller.sampled else 0)
            remote = SpanContext(int(trace_id, 16), int(caller.span_id, 16), True, flags)
            parent = trace.set_span_in_context(NonRecordingSpan(remote), Context())
        else:
            trace_id = new_trace_id()
            parent = Context()
        method: str = scope["method"]
        attributes: dict[str, Any] = {
            "http.request.method": method,
            "url.path": scope["path"],
            "url.scheme": scope.get("scheme", "http"),
            "network.protocol.version": scope.get("http_version", "1.1"),
        }
        if scope.get("query_string"):
            attributes["url.query"] = scope["query_string"].decode("latin-1")
        client = scope.get("client")
        if client:
            attributes["client.address"] = client[0]
        for name, value in scope["headers"]:
            if name == b"user-agent":
                attributes["user_agent.original"] = value.decode("latin-1")
        span = self._export.start(method, trace_id, SpanKind.SERVER, attributes, parent)
        context = span.get_span_context()
        header = format_traceparent(
            trace_id, f"{context.span_id:016x}", context.trace_flags.sampled
        ).encode()
        status = 0

        async def send_with_traceparent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {
                    **message,
                    "headers": [*message.get("headers", ()), (TRACEPARENT, header)],
                }
            await send(message)

        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            await self._app({**scope, TRACE_ID_KEY: trace_id}, receive, send_with_traceparent)
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise
        finally:
            if status:
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
            span.end()
            otel_context.detach(token)
