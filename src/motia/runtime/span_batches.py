"""Ended spans wait here and leave in batches from one background thread.

A span waits as its record and is encoded by the export thread with the rest of its
batch: one tight loop over a few hundred spans costs less than encoding each one on the
request path, between the request's other work. Adding one is an append to a deque
(atomic under the GIL) and, once per full batch, a wake-up: the event loop never waits
for the collector, and a record is never changed once added. Sizes and the delay come
from the standard `OTEL_BSP_*` variables, counted in records (a run's record carries
the PRODUCER spans of its emits too); a full queue drops spans and says so once (an
exporter must never make the server run out of memory).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from motia.runtime.otlp_http import OtlpPoster
from motia.runtime.otlp_proto import encode_request, span_fields
from motia.runtime.span_record import SpanRecord

DEFAULT_DELAY_MS = 5000
DEFAULT_QUEUE = 2048
DEFAULT_BATCH = 512


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    try:
        value = int(environ.get(name, "") or default)
    except ValueError:
        return default
    return value if value > 0 else default


class SpanBatches:
    def __init__(
        self,
        poster: OtlpPoster,
        resource: bytes,
        scope: bytes,
        environ: Mapping[str, str],
        warn: Callable[[str], None],
    ) -> None:
        self._poster = poster
        self._resource = resource
        self._scope = scope
        self._warn = warn
        self._delay = _positive(environ, "OTEL_BSP_SCHEDULE_DELAY", DEFAULT_DELAY_MS) / 1000
        self._capacity = _positive(environ, "OTEL_BSP_MAX_QUEUE_SIZE", DEFAULT_QUEUE)
        self._batch = min(
            _positive(environ, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", DEFAULT_BATCH), self._capacity
        )
        self._spans: deque[SpanRecord] = deque()
        self._wake = threading.Event()
        self._stopping = False
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="motia-otlp-spans", daemon=True)
        self._thread.start()

    def add(self, span: SpanRecord) -> None:
        span.handed = True  # what it emits from now on is a record of its own
        spans = self._spans
        spans.append(span)
        if len(spans) >= self._batch:  # a batch is ready (or the queue is full)
            self._full(spans)

    def _full(self, spans: deque[SpanRecord]) -> None:
        if len(spans) > self._capacity:
            spans.pop()  # the span just added: the oldest leave first
            self.dropped += 1
            if self.dropped == 1:
                self._warn(
                    f"OpenTelemetry: {self._capacity} spans are waiting for the collector "
                    "(OTEL_BSP_MAX_QUEUE_SIZE); newer spans are dropped until it catches up"
                )
        elif not self._wake.is_set():
            self._wake.set()

    def _run(self) -> None:
        while not self._stopping:
            # Woken: full batches leave now. The delay passed: whatever waits leaves.
            full_only = self._wake.wait(self._delay)
            self._wake.clear()
            self._send_waiting(None, full_only)
        self._send_waiting(time.monotonic() + self._poster.target.timeout, False)
        self._poster.close()

    def _send_waiting(self, deadline: float | None, full_only: bool) -> None:
        spans, size = self._spans, self._batch
        while len(spans) >= (size if full_only else 1):
            batch = span_fields([spans.popleft() for _ in range(min(len(spans), size))])
            self._poster.post(encode_request(self._resource, self._scope, batch), deadline)
            if deadline is not None and time.monotonic() >= deadline:
                return

    def shutdown(self) -> None:
        """Send what is waiting (the last batches within the exporter's timeout), then
        stop the thread."""
        self._stopping = True
        self._wake.set()
        self._thread.join(2 * self._poster.target.timeout)
