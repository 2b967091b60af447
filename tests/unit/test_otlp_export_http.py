"""Posting spans to a collector: the standard variables, gzip, retries on 503, a collector
that refuses or is gone (said once, never blocking a run), a full queue, and the last
spans sent at shutdown. A real HTTP server on loopback plays the collector."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from motia.runtime.otlp_http import OtlpPoster, OtlpTarget, parse_headers
from motia.runtime.otlp_proto import KIND_INTERNAL, encode_resource, encode_scope
from motia.runtime.span_batches import SpanBatches
from motia.runtime.span_record import SpanRecord

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@dataclass
class Collector:
    url: str
    answers: list[int] = field(default_factory=list)  # statuses to give first, then 200
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def span_names(self) -> list[str]:
        names = []
        for headers, body in self.posts:
            if headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            request = ExportTraceServiceRequest.FromString(body)
            names += [
                s.name for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans
            ]
        return names


@pytest.fixture
def collector() -> Iterator[Collector]:
    state = Collector("")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = state.answers.pop(0) if state.answers else 200
            if status == 200:
                state.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def span(name: str) -> SpanRecord:
    now = time.time_ns()
    span = SpanRecord(TRACE, 7, 0, name, KIND_INTERNAL, now)
    span.end = now
    return span


def batches(target: OtlpTarget, warnings: list[str], **environ: str) -> SpanBatches:
    poster = OtlpPoster(target, warnings.append)
    return SpanBatches(
        poster,
        encode_resource({"service.name": "t"}),
        encode_scope("motia", None),
        environ,
        warnings.append,
    )


def test_the_standard_variables_name_the_collector() -> None:
    target = OtlpTarget.from_environ(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector:4318/",
            "OTEL_EXPORTER_OTLP_HEADERS": "api-key=s%3Dcret,X-Team = a%20b,broken",
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "2.5",
            "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
        },
        "traces",
    )
    assert target.url == "https://collector:4318/v1/traces"
    assert target.headers == {"api-key": "s=cret", "x-team": "a b"}
    assert (target.timeout, target.gzip) == (2.5, True)
    own = OtlpTarget.from_environ(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:9999/custom",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "nonsense",
        },
        "traces",
    )
    assert (own.url, own.timeout, own.gzip) == ("http://b:9999/custom", 10.0, False)
    assert parse_headers("") == {}


def test_spans_arrive_gzipped_with_the_headers_after_a_503(collector: Collector) -> None:
    collector.answers = [503]
    warnings: list[str] = []
    target = OtlpTarget(collector.url, {"api-key": "k"}, timeout=5, gzip=True)
    spans = batches(target, warnings, OTEL_BSP_SCHEDULE_DELAY="50")
    spans.add(span("first"))
    spans.add(span("second"))
    deadline = time.monotonic() + 5
    while not collector.posts and time.monotonic() < deadline:
        time.sleep(0.02)
    spans.shutdown()
    assert collector.span_names() == ["first", "second"]
    headers = collector.posts[0][0]
    assert headers["api-key"] == "k" and headers["content-type"] == "application/x-protobuf"
    assert warnings == []  # a retried 503 that then succeeds is not a failure


def test_a_refusing_collector_drops_the_batch_and_says_why(collector: Collector) -> None:
    collector.answers = [400]
    warnings: list[str] = []
    poster = OtlpPoster(OtlpTarget(collector.url, timeout=2), warnings.append)
    assert poster.post(b"not protobuf") is False
    assert len(warnings) == 1 and "HTTP 400" in warnings[0] and collector.url in warnings[0]
    assert poster.post(b"") is True  # the next batch goes through


def test_a_collector_that_is_gone_costs_the_export_thread_only() -> None:
    warnings: list[str] = []
    target = OtlpTarget("http://127.0.0.1:9/v1/traces", timeout=1)
    spans = batches(target, warnings, OTEL_BSP_SCHEDULE_DELAY="20")
    started = time.monotonic()
    for n in range(100):
        spans.add(span(f"s{n}"))
    assert time.monotonic() - started < 0.5  # adding never waits for the network
    spans.shutdown()
    assert warnings and "Connection" in warnings[0] and "batch dropped" in warnings[0]


def test_a_full_queue_drops_newer_spans_and_says_so_once(collector: Collector) -> None:
    warnings: list[str] = []
    target = OtlpTarget(collector.url, timeout=5)
    spans = batches(
        target,
        warnings,
        OTEL_BSP_SCHEDULE_DELAY="600000",
        OTEL_BSP_MAX_QUEUE_SIZE="10",
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE="1000",
    )
    for n in range(15):
        spans.add(span(f"s{n}"))
    assert spans.dropped == 5
    assert len(warnings) == 1 and "OTEL_BSP_MAX_QUEUE_SIZE" in warnings[0]
    spans.shutdown()  # what waited is sent at shutdown, however long the delay
    assert collector.span_names() == [f"s{n}" for n in range(10)]


def test_a_full_batch_leaves_before_the_delay(collector: Collector) -> None:
    warnings: list[str] = []
    target = OtlpTarget(collector.url, timeout=5)
    spans = batches(
        target, warnings, OTEL_BSP_SCHEDULE_DELAY="600000", OTEL_BSP_MAX_EXPORT_BATCH_SIZE="4"
    )
    for n in range(6):
        spans.add(span(f"s{n}"))
    deadline = time.monotonic() + 5
    while not collector.posts and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    assert collector.span_names() == ["s0", "s1", "s2", "s3"]  # the rest waits its turn
    spans.shutdown()
    assert collector.span_names() == [f"s{n}" for n in range(6)]
