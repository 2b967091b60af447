"""Motia's hand-written OTLP encoding, read back with the official protobuf definitions:
every field of a span, its events and status, the resource and the scope."""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from motia.runtime.otlp_proto import (
    KIND_CONSUMER,
    KIND_INTERNAL,
    KIND_PRODUCER,
    KIND_SERVER,
    STATUS_ERROR,
    attribute,
    encode_request,
    encode_resource,
    encode_scope,
    exception_event,
    span_fields,
    span_head,
)
from motia.runtime.span_record import SpanRecord
from motia.tracecontext import emit_span_id

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def plain(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [plain(item) for item in value.array_value.values]
    return getattr(value, kind)


def record(
    trace_id: str,
    span_id: int,
    parent_id: int,
    name: str,
    kind: int,
    start: int = 0,
    **fields: object,
) -> SpanRecord:
    """A record with the fields the request path would have stored on it."""
    span = SpanRecord(trace_id, span_id, parent_id, name, kind, start)
    for key, value in fields.items():
        setattr(span, key, value)
    return span


def decoded(*spans: SpanRecord) -> ExportTraceServiceRequest:
    resource = encode_resource({"service.name": "shop", "host.cpus": 2, "tags": ["a", "b"]})
    body = encode_request(resource, encode_scope("motia", "0.1.0"), span_fields(spans))
    return ExportTraceServiceRequest.FromString(body)


def test_every_field_of_a_span_reads_back() -> None:
    span = record(
        TRACE,
        0x00F067AA0BA902B7,
        0xFFFFFFFFFFFFFFFF,
        "event Charge",
        KIND_CONSUMER,
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
    span = record(TRACE, 1, 0, "POST", KIND_SERVER, start=5, end=6)
    [out] = decoded(span).resource_spans[0].scope_spans[0].spans
    assert out.parent_span_id == b"" and out.status.code == 0 and out.status.message == ""
    assert out.flags == 0x101 and list(out.events) == []


def test_many_spans_and_repeated_attributes_keep_their_values() -> None:
    spans = [
        record(
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


def test_a_record_sends_the_emits_it_carries_as_its_producer_children() -> None:
    head = span_head("emit order.placed", KIND_PRODUCER, attribute("motia.topic", "order.placed"))
    run = record(TRACE, 0x1234, 0x99, "api PlaceOrder", KIND_INTERNAL, start=10, end=20)
    emits = [("018f0000000000000000000a", head, 15), ("018f0000000000000000000b", head, 16)]
    run.emit_id, run.emit_head, run.emit_at = emits[0]
    run.emitted = emits[1:]
    out = decoded(run).resource_spans[0].scope_spans[0].spans
    names = [span.name for span in out]
    assert names == ["api PlaceOrder", "emit order.placed", "emit order.placed"]
    for span, (message_id, _head, at) in zip(out[1:], emits, strict=True):
        assert span.trace_id.hex() == TRACE and span.kind == KIND_PRODUCER
        assert span.parent_span_id.hex() == f"{0x1234:016x}"
        assert span.span_id.hex() == emit_span_id(message_id)  # what its subscribers name
        assert (span.start_time_unix_nano, span.end_time_unix_nano) == (at, at)
        assert {kv.key: plain(kv.value) for kv in span.attributes} == {
            "motia.topic": "order.placed",
            "messaging.message.id": message_id,
        }
        assert span.flags == 0x101


def test_a_run_with_a_head_reads_back_as_with_its_fields() -> None:
    fixed = attribute("motia.step", "Charge") + attribute("motia.attempt", 1)
    with_head = record(TRACE, 5, 0, "event Charge", KIND_CONSUMER, start=1, end=2)
    with_head.head = span_head("event Charge", KIND_CONSUMER, fixed, remote=True)
    with_fields = record(TRACE, 5, 0, "event Charge", KIND_CONSUMER, start=1, end=2)
    with_fields.fixed, with_fields.parent_remote = fixed, True
    for span in (with_head, with_fields):
        span.message_id, span.parent_from_message = "018f0000000000000000000a", True
        span.outcome, span.emits = "ok", ["order.charged"]
    one, other = decoded(with_head, with_fields).resource_spans[0].scope_spans[0].spans
    assert one == other
    assert one.parent_span_id.hex() == emit_span_id("018f0000000000000000000a")
    assert {kv.key: plain(kv.value) for kv in one.attributes} == {
        "motia.step": "Charge",
        "motia.attempt": 1,
        "messaging.message.id": "018f0000000000000000000a",
        "motia.outcome": "ok",
        "motia.emits": ["order.charged"],
    }
    assert one.flags == 0x301


def test_server_spans_alike_but_for_ids_and_times_read_back_alike() -> None:
    request = ("POST", "http", "1.1", "/orders/7", b"a=1", "10.0.0.1", b"curl/8")
    spans = []
    for n in range(3):  # the second and third use what the first encoded
        span = record(TRACE, n + 1, 0xAB if n else 0, "POST", KIND_SERVER, start=n, end=n + 5)
        span.request, span.route, span.http_status = request, "/orders/:id", 201
        spans.append(span)
    out = decoded(*spans).resource_spans[0].scope_spans[0].spans
    assert [(s.span_id.hex()[-1], s.parent_span_id.hex()) for s in out] == [
        ("1", ""),
        ("2", "00000000000000ab"),
        ("3", "00000000000000ab"),
    ]
    assert [(s.start_time_unix_nano, s.end_time_unix_nano) for s in out] == [(0, 5), (1, 6), (2, 7)]
    for span in out:
        assert (span.name, span.kind, span.flags) == ("POST /orders/:id", KIND_SERVER, 0x101)
        assert {kv.key: plain(kv.value) for kv in span.attributes} == {
            "http.route": "/orders/:id",
            "http.request.method": "POST",
            "url.scheme": "http",
            "network.protocol.version": "1.1",
            "url.path": "/orders/7",
            "url.query": "a=1",
            "client.address": "10.0.0.1",
            "user_agent.original": "curl/8",
            "http.response.status_code": 201,
        }
