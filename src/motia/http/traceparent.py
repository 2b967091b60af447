"""The trace id of an HTTP request: the caller's, when it sends a valid `traceparent`."""

from __future__ import annotations

from starlette.types import Scope

from motia.clock import new_trace_id
from motia.tracecontext import TraceParent, parse_traceparent

TRACEPARENT = b"traceparent"
# Where the request's SERVER span (when spans are exported) leaves its trace id, and the
# `traceparent` header that names it in the answer.
TRACE_ID_KEY = "motia.trace_id"
TRACEPARENT_KEY = "motia.traceparent"
# Where the app leaves the status it answered with.
STATUS_KEY = "motia.status"


def request_trace_id(scope: Scope) -> str:
    """Costs one scan of the header list: the caller's trace is continued whether or not
    spans are exported, so the id in its logs finds this request's logs."""
    chosen: str | None = scope.get(TRACE_ID_KEY)
    if chosen is not None:
        return chosen
    parent = incoming_parent(scope)
    return parent.trace_id if parent is not None else new_trace_id()


def own_trace_id(scope: Scope) -> str:
    """`http.acceptTraceparent: false`: the caller's header is not read."""
    chosen: str | None = scope.get(TRACE_ID_KEY)
    return chosen if chosen is not None else new_trace_id()


def incoming_parent(scope: Scope) -> TraceParent | None:
    for name, value in scope["headers"]:
        if name == TRACEPARENT:
            return parse_traceparent(value)
    return None
