"""Motia's log records as OpenTelemetry logs, with the trace and span they belong to."""

from __future__ import annotations

from typing import Any

from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

from motia import jsoncodec
from motia.logs import LogRecord
from motia.runtime.otel_export import SCOPE, current_span, otel_trace_id
from motia.runtime.otel_runs import RunSpans
from motia.runtime.span_record import SpanRecord

_SEVERITY = {
    "debug": SeverityNumber.DEBUG,
    "info": SeverityNumber.INFO,
    "warn": SeverityNumber.WARN,
    "error": SeverityNumber.ERROR,
}
_RECORD_KEYS = frozenset({"time", "level", "msg", "traceId", "step", "flows"})


class LogExport:
    def __init__(self, provider: LoggerProvider, runs: RunSpans | None) -> None:
        self._logger = provider.get_logger(SCOPE)
        self._runs = runs

    def emit(self, record: LogRecord) -> None:
        attributes: dict[str, Any] = {}
        if record.get("step"):
            attributes["motia.step"] = record["step"]
        if record.get("flows"):
            attributes["motia.flows"] = [str(flow) for flow in record["flows"]]
        for key, value in record.items():
            if key not in _RECORD_KEYS and value is not None:
                attributes[key] = attribute(value)
        level = str(record.get("level", "info"))
        self._logger.emit(
            timestamp=int(record.get("time", 0)) * 1_000_000 or None,
            context=self._context(record),
            severity_number=_SEVERITY.get(level, SeverityNumber.INFO),
            severity_text=level.upper(),
            body=str(record.get("msg", "")),
            attributes=attributes,
        )

    def _context(self, record: LogRecord) -> Context:
        """The run's span that logged it: the current one, or, for a record from a
        runner process (outside the run's task), the step's open run in the trace; the
        trace alone for a record outside any run (a rejected request)."""
        motia_trace = record.get("traceId")
        if not motia_trace:
            return Context()
        trace_id = otel_trace_id(str(motia_trace))
        span: SpanRecord | None = current_span.get()
        if span is None or span.trace_id != trace_id:
            step = record.get("step")
            span = self._runs.running(step, motia_trace) if self._runs and step else None
        if span is None:
            context = SpanContext(int(trace_id, 16), 0, False)
        else:
            flags = TraceFlags(TraceFlags.SAMPLED if span.sampled else 0)
            context = SpanContext(int(trace_id, 16), span.span_id, False, flags)
        return set_span_in_context(NonRecordingSpan(context), Context())


def attribute(value: Any) -> Any:
    """What an attribute can hold: scalars and lists of them; anything else as JSON."""
    if isinstance(value, (str, bool, int, float)):
        return value
    try:
        return jsoncodec.dumps_str(value)
    except TypeError:
        return str(value)
