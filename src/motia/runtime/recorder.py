"""Records every step run as a span, and every log line, into the observability store.
It hears the runs through the runtime's run hooks.

Writes are buffered and flushed a few times a second in one batch, so recording costs a
handler run a few object allocations, not a database write."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from motia.adapters.observability.base import LogRecord, ObservabilityStore, Span
from motia.logs import Logger, LogSink
from motia.randomness import random_hex
from motia.runtime.hooks import Run, RunEnd, RunHooks
from motia.tasks import start_task, stop_task

SpanListener = Callable[[Span], None]
FLUSH_INTERVAL = 0.25
# Old logs and traces are pruned this often (in small batches): they live at most the
# retention plus this long.
PRUNE_INTERVAL = 10.0


class Recorder(RunHooks):
    def __init__(
        self, store: ObservabilityStore, sink: LogSink, logger: Logger, retention_seconds: float
    ) -> None:
        self.store = store
        self._logger = logger
        self._retention = retention_seconds
        self._logs: list[LogRecord] = []
        self._spans: dict[str, Span] = {}
        self._open: dict[Run, Span] = {}  # runs started and not ended yet
        self._span_listeners: set[SpanListener] = set()
        self._unsubscribe = sink.subscribe(self._logs.append)
        self._flusher: asyncio.Task[None] | None = None
        self._pruner: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._flusher = start_task(self._flush_loop(), self._logger, "recording logs and traces")
        self._pruner = start_task(self._prune_loop(), self._logger, "pruning logs and traces")

    def subscribe_spans(self, listener: SpanListener) -> Callable[[], None]:
        self._span_listeners.add(listener)
        return lambda: self._span_listeners.discard(listener)

    def run_started(self, run: Run) -> None:
        self._open[run] = self.begin(
            trace_id=run.trace_id,
            step=run.step.name,
            kind=run.kind,
            trigger=run.trigger,
            flows=run.step.flows,
            started_at=run.started_at,
            attempt=run.attempt,
        )

    def run_ended(self, run: Run, end: RunEnd) -> None:
        span = self._open.pop(run, None)
        if span is None:  # started before the recorder subscribed
            return
        failure = end.failure
        self.end(
            span,
            end.status,
            end.ended_at,
            emits=end.emits,
            error=failure.error if failure else None,
            stack=failure.stack if failure else None,
            state_ops=end.state_ops,
            stream_ops=end.stream_ops,
            http_status=end.http_status,
            field_errors=end.field_errors,
        )

    def begin(
        self,
        *,
        trace_id: str,
        step: str,
        kind: str,
        trigger: str,
        flows: list[str],
        started_at: float,
        attempt: int = 1,
    ) -> Span:
        span = Span(
            id=random_hex(8),
            trace_id=trace_id,
            step=step,
            kind=kind,
            started_at=started_at,
            attempt=attempt,
            trigger=trigger,
            flows=flows,
        )
        self._record(span)
        return span

    def end(
        self,
        span: Span,
        status: str,
        ended_at: float,
        *,
        emits: list[str] | None = None,
        error: str | None = None,
        stack: str | None = None,
        state_ops: int = 0,
        stream_ops: int = 0,
        http_status: int | None = None,
        field_errors: list[dict[str, Any]] | None = None,
    ) -> None:
        span.status = status
        span.ended_at = ended_at
        span.emits = emits or []
        span.error = error
        span.stack = stack
        span.state_ops = state_ops
        span.stream_ops = stream_ops
        span.http_status = http_status
        span.field_errors = field_errors or []
        self._record(span)

    def _record(self, span: Span) -> None:
        self._spans[span.id] = span
        for listener in list(self._span_listeners):
            listener(span)

    async def flush(self) -> None:
        logs, self._logs[:] = list(self._logs), []
        spans, self._spans = list(self._spans.values()), {}
        if logs or spans:
            await self.store.write(logs, spans)

    async def _flush_loop(self) -> None:
        failed = 0  # flushes lost in a row: reported once, not every FLUSH_INTERVAL
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            try:
                await self.flush()
            except Exception as exc:  # never let observability take the server down
                if not failed:
                    self._logger.error(
                        "recording logs and traces failed; the workbench misses them until "
                        f"the store works again: {type(exc).__name__}: {exc}"
                    )
                failed += 1
            else:
                if failed:
                    self._logger.info(
                        f"recording logs and traces resumed ({failed} flush(es) were lost)"
                    )
                    failed = 0

    async def _prune_loop(self) -> None:
        while True:
            try:
                await self.store.prune(time.time() - self._retention)
            except Exception as exc:
                self._logger.error(
                    f"pruning old logs and traces failed: {type(exc).__name__}: {exc}"
                )
            await asyncio.sleep(PRUNE_INTERVAL)

    async def stop(self) -> None:
        for task in (self._flusher, self._pruner):
            await stop_task(task)
        self._unsubscribe()
        with contextlib.suppress(Exception):
            await self.flush()
