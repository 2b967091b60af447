"""A stand-in for Sentry's ingest endpoint: it keeps the envelopes the SDK posts to
`/api/<project>/envelope/`, decoded, so tests can read the events a server reported."""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Collector:
    port: int
    raw: list[bytes] = field(default_factory=list)  # every envelope, decompressed
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def dsn(self) -> str:
        return f"http://public@127.0.0.1:{self.port}/1"


def decompress(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli  # type: ignore[import-not-found]  # the SDK uses it only when installed

        return bytes(brotli.decompress(body))
    return body


def envelope_items(envelope: bytes) -> Iterator[tuple[dict[str, Any], bytes]]:
    """(item header, payload) of each item: a header line, then `length` bytes or a line."""
    _, _, rest = envelope.partition(b"\n")  # the envelope's own header
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        header = json.loads(header_line)
        length = header.get("length")
        if length is None:
            payload, _, rest = rest.partition(b"\n")
        else:
            payload, rest = rest[:length], rest[length:].removeprefix(b"\n")
        yield header, payload


@contextmanager
def sentry_collector() -> Iterator[Collector]:
    collector: Collector

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("content-length", "0"))
            body = decompress(self.rfile.read(size), self.headers.get("content-encoding", ""))
            if self.path.startswith("/api/1/envelope/"):
                collector.raw.append(body)
                for header, payload in envelope_items(body):
                    if header.get("type") == "event":
                        collector.events.append(json.loads(payload))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    collector = Collector(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield collector
    finally:
        server.shutdown()
        server.server_close()


def tags_of(event: dict[str, Any]) -> dict[str, str]:
    tags = event.get("tags") or {}
    return dict(tags) if isinstance(tags, dict) else {k: v for k, v in tags}


def exception_of(event: dict[str, Any]) -> tuple[str, str] | None:
    """(type, message) of the event's outermost exception."""
    values = (event.get("exception") or {}).get("values") or []
    if not values:
        return None
    last = values[-1]
    return last.get("type"), last.get("value")
