"""Spans and logs exported with the OpenTelemetry SDK (imported only when switched on).

Every step run is a span (API runs are children of the request's SERVER span, event runs
CONSUMER spans, cron runs roots) and every emit a PRODUCER span. An emit's span id is
derived from the event id (`motia.tracecontext.emit_span_id`), which every queued copy
already carries, so a subscriber's run names its parent across the queue and across
processes without the message holding anything more. Motia's trace id is the span's.
"""

from __future__ import annotations

import contextvars
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

from motia import jsoncodec
from motia.adapters.queue.base import Failure
from motia.logs import LogRecord, LogSink
from motia.runtime.bus import EventBus
from motia.runtime.events import Event
from motia.runtime.hooks import HookChain, Run, RunEnd, RunHooks
from motia.runtime.otel import OtelConfig
from motia.tracecontext import emit_span_id, is_trace_id

SCOPE = "motia"
# Outcomes that leave a run's span in error; "rejected" (a 4xx) is the caller's fault.
ERROR_OUTCOMES = frozenset({"failed", "retrying", "dead", "lost"})
_SEVERITY = {
    "debug": SeverityNumber.DEBUG,
    "info": SeverityNumber.INFO,
    "warn": SeverityNumber.WARN,
    "error": SeverityNumber.ERROR,
}
_RECORD_KEYS = frozenset({"time", "level", "msg", "traceId", "step", "flows"})

# The ids the next span gets, when it must have Motia's (0: a random one).
_next_trace_id: contextvars.ContextVar[int] = contextvars.ContextVar("otel_trace_id", default=0)
_next_span_id: contextvars.ContextVar[int] = contextvars.ContextVar("otel_span_id", default=0)


class MotiaIds(IdGenerator):
    """Random ids, except where Motia already named the trace or the span."""

    def __init__(self) -> None:
        self._random = RandomIdGenerator()

    def generate_span_id(self) -> int:
        return _next_span_id.get() or self._random.generate_span_id()

    def generate_trace_id(self) -> int:
        return _next_trace_id.get() or self._random.generate_trace_id()


def service_resource(default_name: str) -> Resource:
    """The resource of `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`; the service is
    called `default_name` (the project folder's name) when they name none."""
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: default_name}))
    return resource


def trace_int(trace_id: str | None) -> int:
    """Motia's trace id as the SDK's integer; 0 when it is not a W3C one."""
    return int(trace_id, 16) if trace_id is not None and is_trace_id(trace_id) else 0


class OtelExport:
    """The providers, the run hooks and the listeners; `shutdown` flushes what is left."""

    def __init__(self, config: OtelConfig) -> None:
        resource = service_resource(config.service_name)
        self.tracer_provider: TracerProvider | None = None
        self.logger_provider: LoggerProvider | None = None
        self._remove: list[Any] = []
        if config.traces:
            self.tracer_provider = TracerProvider(resource=resource, id_generator=MotiaIds())
            self.tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            self.tracer: trace.Tracer = self.tracer_provider.get_tracer(SCOPE)
        if config.logs:
            self.logger_provider = LoggerProvider(resource=resource)
            self.logger_provider.add_log_record_processor(
                BatchLogRecordProcessor(OTLPLogExporter())
            )

    @classmethod
    def install(
        cls, config: OtelConfig, hooks: HookChain, bus: EventBus, sink: LogSink
    ) -> OtelExport:
        export = cls(config)
        runs: RunSpans | None = None
        if export.tracer_provider is not None:
            runs = RunSpans(export)
            export._remove.append(hooks.add(runs))
            export._remove.append(bus.add_listener(export.emitted))
        if export.logger_provider is not None:
            logs = LogExport(export.logger_provider, runs)
            export._remove.append(sink.subscribe(logs.emit))
        return export

    def shutdown(self) -> None:
        """Stop listening and send what is still buffered (blocks up to the exporters'
        timeouts: call it off the event loop)."""
        for remove in self._remove:
            remove()
        self._remove = []
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()
        if self.logger_provider is not None:
            self.logger_provider.shutdown()

    def sampled(self, trace_id: int) -> bool:
        """Whether a trace is sampled, as its root decided: a parent met across the
        queue carries no flags, and the configured samplers decide by trace id alone."""
        assert self.tracer_provider is not None
        decision = self.tracer_provider.sampler.should_sample(None, trace_id, "emit")
        return decision.decision is Decision.RECORD_AND_SAMPLE

    def start(
        self,
        name: str,
        trace_id: str,
        kind: SpanKind,
        attributes: dict[str, Any],
        parent: Context | None = None,
        span_id: int = 0,
    ) -> Span:
        """A span in Motia's trace `trace_id`: a child of the current span when that is in
        the same trace, of `parent` when given, a root span otherwise."""
        wanted = trace_int(trace_id)
        if parent is None:
            current = trace.get_current_span().get_span_context()
            if not (current.is_valid and current.trace_id == wanted):
                parent = Context()
        trace_token = _next_trace_id.set(wanted)
        span_token = _next_span_id.set(span_id)
        try:
            return self.tracer.start_span(name, parent, kind, attributes)
        finally:
            _next_span_id.reset(span_token)
            _next_trace_id.reset(trace_token)

    def emitted(self, event: Event) -> None:
        """The PRODUCER span of one emit, with the span id its subscribers' runs name."""
        span = self.start(
            f"emit {event.topic}",
            event.trace_id,
            SpanKind.PRODUCER,
            {
                "messaging.system": "motia",
                "messaging.operation.type": "send",
                "messaging.destination.name": event.topic,
                "messaging.message.id": event.id,
                "motia.topic": event.topic,
            },
            span_id=int(emit_span_id(event.id), 16),
        )
        span.end()


class RunSpans(RunHooks):
    """One span per step run, current while its handler runs (so emits and logs link)."""

    def __init__(self, export: OtelExport) -> None:
        self._export = export
        self._open: dict[Run, tuple[Span, object]] = {}
        # The open run of each step in each trace, for logs that arrive from a runner
        # process outside the run's task.
        self._running: dict[tuple[str, str], Span] = {}

    def running(self, step: str, trace_id: str) -> Span | None:
        return self._running.get((step, trace_id))

    def run_started(self, run: Run) -> None:
        step = run.step
        attributes: dict[str, Any] = {
            "motia.step": step.name,
            "motia.kind": run.kind,
            "motia.attempt": run.attempt,
        }
        parent: Context | None = None
        kind = SpanKind.INTERNAL
        if run.kind == "api":
            self._name_request(run)
        elif run.kind == "event":
            kind = SpanKind.CONSUMER
            topic = run.trigger.removeprefix("topic ")
            attributes.update(
                {
                    "motia.topic": topic,
                    "messaging.system": "motia",
                    "messaging.operation.type": "process",
                    "messaging.destination.name": topic,
                    "messaging.consumer.group.name": step.name,
                }
            )
            if run.event_id is not None:
                attributes["messaging.message.id"] = run.event_id
                parent = self._emit_parent(run.trace_id, run.event_id)
        else:
            parent = Context()  # a cron run starts its trace
        span = self._export.start(
            f"{run.kind} {step.name}",
            run.trace_id,
            kind,
            attributes,
            parent,
            span_id=int(run.span_id, 16),  # the id its log lines carry
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        self._open[run] = (span, token)
        self._running[(step.name, run.trace_id)] = span

    def _emit_parent(self, trace_id: str, event_id: str) -> Context:
        wanted = trace_int(trace_id)
        if not wanted:
            return Context()
        flags = TraceFlags(TraceFlags.SAMPLED if self._export.sampled(wanted) else 0)
        emit = SpanContext(wanted, int(emit_span_id(event_id), 16), True, flags)
        return trace.set_span_in_context(NonRecordingSpan(emit), Context())

    @staticmethod
    def _name_request(run: Run) -> None:
        """The request's SERVER span learns its route once the step is known."""
        server = trace.get_current_span()
        if getattr(server, "kind", None) is SpanKind.SERVER and server.is_recording():
            route = run.step.api.path
            method = run.trigger.split(" ", 1)[0]
            server.update_name(f"{method} {route}")
            server.set_attribute("http.route", route)

    def run_failed(self, run: Run, error: BaseException) -> None:
        opened = self._open.get(run)
        if opened is not None:
            span = opened[0]
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))

    def run_retrying(self, run: Run, delay: float, failure: Failure) -> None:
        opened = self._open.get(run)
        if opened is not None:
            opened[0].add_event("motia.retry", {"motia.retry.delay": delay})

    def run_dead_lettered(self, run: Run, failure: Failure) -> None:
        opened = self._open.get(run)
        if opened is not None:
            opened[0].add_event("motia.dead_letter", {"motia.dead_letter.reason": failure.reason})

    def run_ended(self, run: Run, end: RunEnd) -> None:
        opened = self._open.pop(run, None)
        if opened is None:
            return
        span, token = opened
        key = (run.step.name, run.trace_id)
        if self._running.get(key) is span:
            del self._running[key]
        span.set_attribute("motia.outcome", end.status)
        if end.emits:
            span.set_attribute("motia.emits", end.emits)
        if end.http_status is not None:
            span.set_attribute("http.response.status_code", end.http_status)
        if end.status in ERROR_OUTCOMES:
            failure = end.failure
            if failure is not None and run.kind == "api":  # an event or cron error was
                kind, _, message = failure.error.partition(": ")  # recorded by run_failed
                exception = {"exception.type": kind, "exception.message": message}
                if failure.stack:
                    exception["exception.stacktrace"] = failure.stack
                span.add_event("exception", exception)
            description = failure.error if failure is not None else end.status
            span.set_status(Status(StatusCode.ERROR, description))
        span.end()
        otel_context.detach(token)  # type: ignore[arg-type]


class LogExport:
    """Motia's log records as OpenTelemetry logs, with the trace and span they belong to."""

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
                attributes[key] = _attribute(value)
        wanted = trace_int(record.get("traceId"))
        current = trace.get_current_span().get_span_context()
        context: Context | None = None  # the current span's
        if wanted and not (current.is_valid and current.trace_id == wanted):
            # Logged outside the run's task (by a runner process), or outside any run (a
            # rejected request): the step's open run in the trace, else the trace alone.
            step = record.get("step")
            run = self._runs.running(step, record["traceId"]) if self._runs and step else None
            outside = run if run is not None else NonRecordingSpan(SpanContext(wanted, 0, False))
            context = trace.set_span_in_context(outside, Context())
        elif not wanted:
            context = Context()
        level = str(record.get("level", "info"))
        self._logger.emit(
            timestamp=int(record.get("time", 0)) * 1_000_000 or None,
            context=context,
            severity_number=_SEVERITY.get(level, SeverityNumber.INFO),
            severity_text=level.upper(),
            body=str(record.get("msg", "")),
            attributes=attributes,
        )


def _attribute(value: Any) -> Any:
    """OTel attributes take scalars and lists of them; anything else goes as JSON."""
    if isinstance(value, (str, bool, int, float)):
        return value
    try:
        return jsoncodec.dumps_str(value)
    except TypeError:
        return str(value)
