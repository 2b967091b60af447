"""An OTLP/HTTP receiver for tests: collects what is POSTed to /v1/traces and /v1/logs and
decodes it with the OpenTelemetry protobuf definitions."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

KINDS = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}


def value_of(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [value_of(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


def attributes_of(pairs: Any) -> dict[str, Any]:
    return {pair.key: value_of(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


@dataclass
class Span:
    trace_id: str
    span_id: str
    parent_id: str
    name: str
    kind: str
    attributes: dict[str, Any]
    status: str
    status_message: str
    events: list[tuple[str, dict[str, Any]]]
    resource: dict[str, Any]


@dataclass
class Log:
    trace_id: str
    span_id: str
    body: Any
    severity: str
    attributes: dict[str, Any]
    resource: dict[str, Any]


@dataclass
class Received:
    spans: list[Span] = field(default_factory=list)
    logs: list[Log] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, body: bytes) -> None:
        if path == "/v1/traces":
            traces = ExportTraceServiceRequest.FromString(body)
            spans = [
                _span(span, attributes_of(rs.resource.attributes))
                for rs in traces.resource_spans
                for ss in rs.scope_spans
                for span in ss.spans
            ]
            with self.lock:
                self.spans += spans
                self.posts.append(path)
        elif path == "/v1/logs":
            request = ExportLogsServiceRequest.FromString(body)
            logs = [
                Log(
                    record.trace_id.hex(),
                    record.span_id.hex(),
                    value_of(record.body),
                    record.severity_text,
                    attributes_of(record.attributes),
                    attributes_of(rl.resource.attributes),
                )
                for rl in request.resource_logs
                for sl in rl.scope_logs
                for record in sl.log_records
            ]
            with self.lock:
                self.logs += logs
                self.posts.append(path)

    def trace(self, trace_id: str) -> list[Span]:
        with self.lock:
            return [span for span in self.spans if span.trace_id == trace_id]

    def logs_of(self, trace_id: str) -> list[Log]:
        with self.lock:
            return [log for log in self.logs if log.trace_id == trace_id]


def _span(span: Any, resource: dict[str, Any]) -> Span:
    return Span(
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_id=span.parent_span_id.hex(),
        name=span.name,
        kind=KINDS.get(span.kind, str(span.kind)),
        attributes=attributes_of(span.attributes),
        status=STATUS.get(span.status.code, str(span.status.code)),
        status_message=span.status.message,
        events=[(event.name, attributes_of(event.attributes)) for event in span.events],
        resource=resource,
    )


def serve() -> tuple[ThreadingHTTPServer, Received]:
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if self.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            received.add(self.path, body)
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received


def running() -> Iterator[tuple[str, Received]]:
    """(the endpoint URL, what it received); for a fixture."""
    server, received = serve()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
