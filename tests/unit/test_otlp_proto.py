"""Motia's hand-written OTLP encoding, read back with the official protobuf definitions:
every field of a span, its events and status, the resource and the scope."""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from motia.runtime.otlp_proto import (
    KIND_CONSUMER,
    KIND_SERVER,
    STATUS_ERROR,
    SpanRecord,
    encode_request,
    encode_resource,
    encode_scope,
    exception_event,
    span_field,
)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def plain(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [plain(item) for item in value.array_value.values]
    return getattr(value, kind)


def decoded(*spans: SpanRecord) -> ExportTraceServiceRequest:
    resource = encode_resource({"service.name": "shop", "host.cpus": 2, "tags": ["a", "b"]})
    body = encode_request(resource, encode_scope("motia", "0.1.0"), map(span_field, spans))
    return ExportTraceServiceRequest.FromString(body)


def test_every_field_of_a_span_reads_back() -> None:
    span = SpanRecord(
        trace_id=TRACE,
        span_id=0x00F067AA0BA902B7,
        parent_id=0xFFFFFFFFFFFFFFFF,
        name="event Charge",
        kind=KIND_CONSUMER,
        start=1_700_000_000_000_000_001,
        end=1_700_000_000_500_000_000,
        parent_remote=True,
        attributes={
            "motia.step": "Charge",
            "motia.attempt": 2,
            "negative": -5,
            "ratio": 0.25,
            "ok": True,
            "emits": ["a.b", "c.d"],
            "unicode": "déjà vu",
        },
        status=STATUS_ERROR,
        status_message="ValueError: no card",
        events=[
            exception_event("ValueError", "no card", "Traceback...", 1_700_000_000_400_000_000),
            ("motia.retry", 1_700_000_000_450_000_000, {"motia.retry.delay": 1.5}),
        ],
    )
    request = decoded(span)
    [resource_spans] = request.resource_spans
    resource = {kv.key: plain(kv.value) for kv in resource_spans.resource.attributes}
    assert resource == {"service.name": "shop", "host.cpus": 2, "tags": ["a", "b"]}
    [scope_spans] = resource_spans.scope_spans
    assert (scope_spans.scope.name, scope_spans.scope.version) == ("motia", "0.1.0")
    [out] = scope_spans.spans
    assert out.trace_id.hex() == TRACE
    assert out.span_id.hex() == "00f067aa0ba902b7"
    assert out.parent_span_id.hex() == "ffffffffffffffff"
    assert (out.name, out.kind) == ("event Charge", KIND_CONSUMER)
    assert (out.start_time_unix_nano, out.end_time_unix_nano) == (
        1_700_000_000_000_000_001,
        1_700_000_000_500_000_000,
    )
    assert {kv.key: plain(kv.value) for kv in out.attributes} == {
        "motia.step": "Charge",
        "motia.attempt": 2,
        "negative": -5,
        "ratio": 0.25,
        "ok": True,
        "emits": ["a.b", "c.d"],
        "unicode": "déjà vu",
    }
    assert (out.status.code, out.status.message) == (STATUS_ERROR, "ValueError: no card")
    assert [(e.name, e.time_unix_nano) for e in out.events] == [
        ("exception", 1_700_000_000_400_000_000),
        ("motia.retry", 1_700_000_000_450_000_000),
    ]
    assert {kv.key: plain(kv.value) for kv in out.events[0].attributes} == {
        "exception.type": "ValueError",
        "exception.message": "no card",
        "exception.stacktrace": "Traceback...",
    }
    assert out.flags == 0x301  # sampled, and the parent is known to be remote


def test_a_root_span_has_no_parent_and_no_status() -> None:
    span = SpanRecord(TRACE, 1, 0, "POST", KIND_SERVER, start=5, end=6)
    [out] = decoded(span).resource_spans[0].scope_spans[0].spans
    assert out.parent_span_id == b"" and out.status.code == 0 and out.status.message == ""
    assert out.flags == 0x101 and list(out.events) == []


def test_many_spans_and_repeated_attributes_keep_their_values() -> None:
    spans = [
        SpanRecord(
            TRACE,
            n + 1,
            0,
            f"api Step{n % 3}",
            KIND_SERVER,
            start=n,
            end=n + 1,
            attributes={"motia.step": f"Step{n % 3}", "n": n % 2 == 0},
        )
        for n in range(50)
    ]
    out = decoded(*spans).resource_spans[0].scope_spans[0].spans
    assert [span.span_id.hex() for span in out] == [f"{n + 1:016x}" for n in range(50)]
    assert [span.end_time_unix_nano for span in out] == [n + 1 for n in range(50)]
    assert [plain(span.attributes[0].value) for span in out] == [f"Step{n % 3}" for n in range(50)]
    assert [plain(span.attributes[1].value) for span in out] == [n % 2 == 0 for n in range(50)]
