"""The SERVER span of each request to the API (imported only when spans are exported).

A caller's `traceparent` is its parent (unless `http.acceptTraceparent` is off). The span
is opened before the app picks the request's trace id and hands it over in the
scope, so the request's step run, its emits and its logs all fall in the same trace. The
response names the span in a `traceparent` header.
"""

from __future__ import annotations

import time
import traceback
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from motia.clock import new_trace_id
from motia.http.traceparent import TRACE_ID_KEY, TRACEPARENT, incoming_parent
from motia.runtime.otel_export import OtelExport, current_span, random_span_id
from motia.runtime.otlp_proto import (
    KIND_SERVER,
    STATUS_ERROR,
    SpanRecord,
    encode_attributes,
    exception_event,
)
from motia.tracecontext import format_traceparent


class ServerSpans:
    def __init__(self, app: ASGIApp, export: OtelExport, accept_traceparent: bool) -> None:
        self._app = app
        self._export = export
        self._accept = accept_traceparent

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = incoming_parent(scope) if self._accept else None
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
            _request_attributes(scope, method) if sampled else {},
            _fixed_attributes(scope, method) if sampled else b"",
        )
        header = format_traceparent(trace_id, f"{span.span_id:016x}", sampled).encode()
        status = 0

        async def send_with_traceparent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # The message is the app's own, made for this answer (as CORS does).
                message["headers"] = [*message.get("headers", ()), (TRACEPARENT, header)]
            await send(message)

        token = current_span.set(span)
        try:
            scope[TRACE_ID_KEY] = trace_id  # the scope is this request's own
            await self._app(scope, receive, send_with_traceparent)
        except Exception as exc:
            if sampled:
                stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                span.events = [exception_event(type(exc).__name__, str(exc), stack)]
                span.status, span.status_message = STATUS_ERROR, f"{type(exc).__name__}: {exc}"
            raise
        finally:
            current_span.reset(token)
            if status and sampled:
                span.attributes["http.response.status_code"] = status
                if status >= 500:
                    span.status = STATUS_ERROR
            self._export.end(span)


def _request_attributes(scope: Scope, method: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {"url.path": scope["path"]}
    if scope.get("query_string"):
        attributes["url.query"] = scope["query_string"].decode("latin-1")
    client = scope.get("client")
    if client:
        attributes["client.address"] = client[0]
    for name, value in scope["headers"]:
        if name == b"user-agent":
            attributes["user_agent.original"] = value.decode("latin-1")
    return attributes


_fixed: dict[tuple[str, str, str], bytes] = {}


def _fixed_attributes(scope: Scope, method: str) -> bytes:
    """Method, scheme and protocol version, in wire format: few combinations repeat."""
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
