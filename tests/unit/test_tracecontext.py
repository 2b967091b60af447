"""The `traceparent` header: what is accepted, what is ignored, and the emit span id."""

from __future__ import annotations

import pytest

from motia.http.traceparent import own_trace_id, request_trace_id
from motia.tracecontext import (
    TraceParent,
    emit_span_id,
    format_traceparent,
    is_trace_id,
    parse_traceparent,
)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


def test_a_valid_traceparent_is_read() -> None:
    assert parse_traceparent(f"00-{TRACE}-{SPAN}-01") == TraceParent(TRACE, SPAN, True)
    assert parse_traceparent(f"00-{TRACE}-{SPAN}-00".encode()) == TraceParent(TRACE, SPAN, False)
    # A later version may add fields after the flags.
    assert parse_traceparent(f"01-{TRACE}-{SPAN}-03-more") == TraceParent(TRACE, SPAN, True)
    assert format_traceparent(TRACE, SPAN, True) == f"00-{TRACE}-{SPAN}-01"


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        f"00-{TRACE}-{SPAN}",
        f"00-{'0' * 32}-{SPAN}-01",  # all-zero trace id
        f"00-{TRACE}-{'0' * 16}-01",  # all-zero span id
        f"00-{TRACE.upper()}-{SPAN}-01",  # upper case is not allowed
        f"00-{TRACE[:-1]}-{SPAN}-01",
        f"00-{TRACE}-{SPAN}-01-extra",  # version 00 has exactly four fields
        f"ff-{TRACE}-{SPAN}-01",  # the forbidden version
        f"0g-{TRACE}-{SPAN}-01",
        f"00-{TRACE}-{SPAN}-zz",
    ],
)
def test_an_invalid_traceparent_is_ignored(header: str) -> None:
    assert parse_traceparent(header) is None
    scope = {"headers": [(b"traceparent", header.encode())]}
    trace_id = request_trace_id(scope)
    assert is_trace_id(trace_id) and trace_id != TRACE


def test_the_request_trace_id_is_the_callers() -> None:
    scope = {"headers": [(b"host", b"x"), (b"traceparent", f"00-{TRACE}-{SPAN}-01".encode())]}
    assert request_trace_id(scope) == TRACE
    # The OpenTelemetry middleware, when on, has chosen already.
    assert request_trace_id({**scope, "motia.trace_id": "f" * 32}) == "f" * 32
    assert request_trace_id({"headers": []}) != request_trace_id({"headers": []})
    # `http.acceptTraceparent: false`: the header is not read.
    assert own_trace_id(scope) != TRACE and is_trace_id(own_trace_id(scope))


def test_the_emit_span_id_is_fixed_by_the_event_id() -> None:
    first = emit_span_id("0190a1b2c3d4e5f6a7b8c9d0")
    assert first == emit_span_id("0190a1b2c3d4e5f6a7b8c9d0")
    assert len(first) == 16 and int(first, 16) != 0
    assert first != emit_span_id("0190a1b2c3d4e5f6a7b8c9d1")
