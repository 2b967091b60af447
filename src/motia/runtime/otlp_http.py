"""POSTs of encoded OTLP requests to a collector, configured as the OpenTelemetry SDK is.

The variables are the standard ones, read the way the Python SDK reads them: the signal's
own endpoint as given, else the base endpoint plus `/v1/traces`; headers as `k=v` pairs
(URL-encoded values); the timeout in seconds (default 10); `gzip` compression; a CA
certificate and a client certificate and key for TLS. A collector that answers 429, 502,
503 or 504, or cannot be reached, is tried again with backoff until the timeout passes.
"""

from __future__ import annotations

import gzip
import http.client
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from motia import __version__

DEFAULT_ENDPOINT = "http://localhost:4318"
DEFAULT_TIMEOUT = 10.0
RETRYABLE = frozenset({429, 502, 503, 504})
# Between attempts of one export: 0.5 s, doubled each time, never past the deadline.
FIRST_BACKOFF = 0.5


@dataclass(frozen=True)
class OtlpTarget:
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    gzip: bool = False
    certificate: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], signal: str) -> OtlpTarget:
        """`signal` is `traces` or `logs`: `OTEL_EXPORTER_OTLP_TRACES_*` wins over
        `OTEL_EXPORTER_OTLP_*`."""
        own = f"OTEL_EXPORTER_OTLP_{signal.upper()}_"

        def setting(name: str) -> str | None:
            return environ.get(own + name) or environ.get(f"OTEL_EXPORTER_OTLP_{name}") or None

        url = environ.get(own + "ENDPOINT")
        if not url:
            base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or DEFAULT_ENDPOINT
            url = f"{base.removesuffix('/')}/v1/{signal}"
        return cls(
            url=url,
            headers=parse_headers(setting("HEADERS") or ""),
            timeout=_seconds(setting("TIMEOUT")),
            gzip=(setting("COMPRESSION") or "").strip().lower() == "gzip",
            certificate=setting("CERTIFICATE"),
            client_certificate=setting("CLIENT_CERTIFICATE"),
            client_key=setting("CLIENT_KEY"),
        )


def parse_headers(value: str) -> dict[str, str]:
    """`api-key=secret,x-team=a%20b` → {"api-key": "secret", "x-team": "a b"}; pairs
    without `=` are skipped."""
    headers: dict[str, str] = {}
    for pair in value.split(","):
        name, equals, raw = pair.partition("=")
        if equals and name.strip():
            headers[unquote(name.strip()).lower()] = unquote(raw.strip())
    return headers


def _seconds(value: str | None) -> float:
    try:
        seconds = float(value) if value else DEFAULT_TIMEOUT
    except ValueError:
        return DEFAULT_TIMEOUT
    return seconds if seconds > 0 else DEFAULT_TIMEOUT


class OtlpPoster:
    """Keeps one connection to the collector; used from one export thread only."""

    def __init__(self, target: OtlpTarget, warn: Callable[[str], None]) -> None:
        self.target = target
        self._warn = warn
        parts = urlsplit(target.url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (443 if self._https else 80)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._connection: http.client.HTTPConnection | None = None
        self._headers = {
            "content-type": "application/x-protobuf",
            "user-agent": f"motia-python/{__version__}",
            **target.headers,
        }
        if target.gzip:
            self._headers["content-encoding"] = "gzip"

    def post(self, body: bytes, deadline: float | None = None) -> bool:
        """Send one request; True when the collector took it. Failures are reported
        through `warn` and the batch is dropped, as the SDK's exporters do."""
        if self.target.gzip:
            body = gzip.compress(body, compresslevel=6)
        deadline = deadline if deadline is not None else time.monotonic() + self.target.timeout
        backoff = FIRST_BACKOFF
        while True:
            problem = self._attempt(body, max(0.1, deadline - time.monotonic()))
            if problem is None:
                return True
            retry, reason = problem
            if not retry or time.monotonic() + backoff >= deadline:
                self._warn(f"OTLP export to {self.target.url} failed: {reason}; batch dropped")
                return False
            time.sleep(backoff)
            backoff *= 2

    def _attempt(self, body: bytes, timeout: float) -> tuple[bool, str] | None:
        """None when sent; else (whether to try again, why not)."""
        try:
            connection = self._connect(timeout)
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
            connection.request("POST", self._path, body, self._headers)
            response = connection.getresponse()
            text = response.read()[:200]
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return True, f"{type(exc).__name__}: {exc}"
        if 200 <= response.status < 300:
            return None
        if response.will_close:
            self.close()
        detail = text.decode("utf-8", "replace").strip()
        return response.status in RETRYABLE, f"HTTP {response.status} {detail}".strip()

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        if self._connection is None:
            if self._https:
                context = ssl.create_default_context(cafile=self.target.certificate)
                if self.target.client_certificate:
                    context.load_cert_chain(self.target.client_certificate, self.target.client_key)
                self._connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=timeout, context=context
                )
            else:
                self._connection = http.client.HTTPConnection(self._host, self._port, timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
