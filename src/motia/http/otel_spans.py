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
from random import getrandbits

from starlette.types import Scope

from motia.clock import new_trace_id
from motia.http.traceparent import (
    STATUS_KEY,
    TRACE_ID_KEY,
    TRACEPARENT,
    TRACEPARENT_KEY,
)
from motia.runtime.otel_export import OtelExport, current_span
from motia.runtime.otlp_proto import (
    KIND_SERVER,
    STATUS_ERROR,
    exception_event,
)
from motia.runtime.span_record import SpanRecord
from motia.tracecontext import TraceParent, parse_traceparent

Token = contextvars.Token[SpanRecord | None]


class ServerSpans:
    def __init__(self, export: OtelExport, accept_traceparent: bool) -> None:
        self._export = export
        self._accept = accept_traceparent
        self._all = export.samples_all  # every trace recorded: no decision to take
        assert export.spans is not None
        self._add = export.spans.add

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
            sampled = self._all or self._export.sampled(trace_id)
        method: str = scope["method"]
        span_id = getrandbits(64) or 1
        span = SpanRecord(trace_id, span_id, parent_id, method, KIND_SERVER, time.time_ns())
        if caller is not None:
            span.parent_remote = True
        if sampled:  # kept as they come: the export thread encodes them
            client = scope.get("client")
            span.request = (
                method,
                scope.get("scheme", "http"),
                scope.get("http_version", "1.1"),
                scope["path"],
                scope.get("query_string", b""),
                client[0] if client else None,
                agent,
            )
        else:
            span.sampled = False
        scope[TRACE_ID_KEY] = trace_id  # the scope is this request's own
        header = b"00-%s-%016x-01" if sampled else b"00-%s-%016x-00"
        scope[TRACEPARENT_KEY] = (TRACEPARENT, header % (trace_id.encode(), span_id))
        return span, current_span.set(span)

    def failed(self, span: SpanRecord, exc: Exception) -> None:
        """The app raised instead of answering."""
        if span.sampled:
            stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            span.events = [exception_event(type(exc).__name__, str(exc), stack)]
            span.status, span.status_message = STATUS_ERROR, f"{type(exc).__name__}: {exc}"

    def close(self, span: SpanRecord, token: Token, scope: Scope) -> None:
        current_span.reset(token)
        if span.sampled:
            status: int = scope.get(STATUS_KEY, 0)
            if status:
                span.http_status = status
                if status >= 500:
                    span.status = STATUS_ERROR
            span.end = time.time_ns()
            self._add(span)
