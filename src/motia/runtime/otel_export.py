"""Spans and logs exported over OTLP (imported only when the environment switches it on).

Every step run is a span (API runs are children of the request's SERVER span, event runs
CONSUMER spans, cron runs roots) and every emit a PRODUCER span. An emit's span id is
derived from the event id (`motia.tracecontext.emit_span_id`), which every queued copy
already carries, so a subscriber's run names its parent across the queue and across
processes without the message holding anything more. Motia's trace id is the span's.

Spans are Motia's own light records (`SpanRecord`), encoded by `otlp_proto` and posted by
`otlp_http` from a background thread: the SDK's span objects cost more than the runs they
describe. The SDK still provides the resource (`OTEL_SERVICE_NAME`,
`OTEL_RESOURCE_ATTRIBUTES`) and the log pipeline. A trace's sampling decision
(`otel_sampling`) is taken where it enters the process (a request, a cron run, an event
from the queue); the spans made inside follow it.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import time
from collections.abc import Callable, Mapping
from hashlib import blake2b

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.trace import (
    NonRecordingSpan,
    ProxyTracerProvider,
    SpanContext,
    TraceFlags,
    get_tracer_provider,
    set_span_in_context,
)

from motia import __version__
from motia.logs import Logger, LogSink
from motia.runtime.bus import EventBus
from motia.runtime.events import Event
from motia.runtime.hooks import HookChain
from motia.runtime.otel import OtelConfig
from motia.runtime.otel_sampling import ALL
from motia.runtime.otlp_http import OtlpPoster, OtlpTarget
from motia.runtime.otlp_proto import (
    KIND_PRODUCER,
    encode_attributes,
    encode_resource,
    encode_scope,
    span_head,
)
from motia.runtime.span_batches import SpanBatches
from motia.runtime.span_record import SpanRecord
from motia.tracecontext import TraceParent, is_trace_id

SCOPE = "motia"

# The span whose children new spans are: the request's, then its run's.
current_span: contextvars.ContextVar[SpanRecord | None] = contextvars.ContextVar(
    "motia_current_span", default=None
)


def service_resource(default_name: str) -> Resource:
    """The resource of `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`; the service is
    called `default_name` (the project folder's name) when they name none."""
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: default_name}))
    return resource


def otel_trace_id(trace_id: str) -> str:
    """Motia's trace id as a W3C one: itself when it is one (always, for ids Motia
    made), else a digest of it, so every span of that trace still agrees."""
    if is_trace_id(trace_id):
        return trace_id
    return blake2b(trace_id.encode(), digest_size=16).hexdigest()


class OtelExport:
    """The sampler, the span batches and the log pipeline; `shutdown` sends what is left."""

    def __init__(self, config: OtelConfig, environ: Mapping[str, str], logger: Logger) -> None:
        resource = service_resource(config.service_name)
        self._logger = logger
        self._loop: asyncio.AbstractEventLoop | None = None
        self.user_tracing = False
        self._remove: list[Callable[[], None]] = []
        self.spans: SpanBatches | None = None
        self.logger_provider: LoggerProvider | None = None
        self.sampling = config.sampling
        self.samples_all = config.sampling.bound == ALL
        if config.traces:
            poster = OtlpPoster(OtlpTarget.from_environ(environ, "traces"), self.warn)
            self.spans = SpanBatches(
                poster,
                encode_resource(dict(resource.attributes)),
                encode_scope(SCOPE, __version__),
                environ,
                self.warn,
            )
        if config.logs:
            self.logger_provider = LoggerProvider(resource=resource)
            self.logger_provider.add_log_record_processor(
                BatchLogRecordProcessor(OTLPLogExporter())
            )

    @classmethod
    def install(
        cls,
        config: OtelConfig,
        hooks: HookChain,
        bus: EventBus,
        sink: LogSink,
        logger: Logger,
        environ: Mapping[str, str] | None = None,
    ) -> OtelExport:
        from motia.runtime.otel_logs import LogExport
        from motia.runtime.otel_runs import RunSpans

        export = cls(config, os.environ if environ is None else environ, logger)
        runs: RunSpans | None = None
        if export.spans is not None:
            runs = RunSpans(export)
            export._remove.append(hooks.add(runs))
            export._remove.append(bus.add_listener(export.emitted))
        if export.logger_provider is not None:
            logs = LogExport(export.logger_provider, runs)
            export._remove.append(sink.subscribe(logs.emit))
        return export

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop that warnings from the export thread are logged on. Called when the
        server starts, with the steps loaded: a tracer provider set by then (by
        `opentelemetry-instrument`, or when a step module is imported) gets each run's
        span as the current one, so the spans handlers open are its children."""
        self._loop = loop
        self.user_tracing = not isinstance(get_tracer_provider(), ProxyTracerProvider)

    def warn(self, message: str) -> None:
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self._logger.warn, message)
        else:
            self._logger.warn(message)

    def shutdown(self) -> None:
        """Stop listening and send what is still waiting (blocks up to the exporters'
        timeouts: call it off the event loop)."""
        for remove in self._remove:
            remove()
        self._remove = []
        if self.spans is not None:
            self.spans.shutdown()
        if self.logger_provider is not None:
            self.logger_provider.shutdown()

    def sampled(self, trace_id: str) -> bool:
        """The decision for a trace met without a parent that says (a request without
        `traceparent`, a cron run, an event from the queue)."""
        return self.sampling.root(trace_id)

    def sampled_under(self, trace_id: str, caller: TraceParent) -> bool:
        """The decision for a request whose caller sent `traceparent`."""
        return self.sampling.under(trace_id, caller.sampled)

    def end(self, span: SpanRecord) -> None:
        span.end = time.time_ns()
        if span.sampled and self.spans is not None:
            self.spans.add(span)

    def emitted(self, event: Event) -> None:
        """The PRODUCER span of one emit, with the span id its subscribers' runs name:
        kept on the run's record, and sent with it, when the run is still open."""
        parent = current_span.get()
        trace_id = event.trace_id
        if parent is not None and parent.trace_id == trace_id:  # an emit inside a run
            if not parent.sampled:
                return
            if not parent.handed:
                head = (_emit_fixed.get(event.topic) or _emit_fields(event.topic))[2]
                if parent.emit_id is None:
                    parent.emit_id, parent.emit_head, parent.emit_at = (
                        event.id,
                        head,
                        time.time_ns(),
                    )
                elif parent.emitted is None:
                    parent.emitted = [(event.id, head, time.time_ns())]
                else:
                    parent.emitted.append((event.id, head, time.time_ns()))
                return
            parent_id = parent.span_id
        else:
            trace_id = otel_trace_id(trace_id)
            if parent is not None and parent.trace_id == trace_id:
                if not parent.sampled:
                    return
                parent_id = parent.span_id
            elif self.samples_all or self.sampled(trace_id):
                parent_id = 0
            else:
                return
        name, _fixed, head = _emit_fixed.get(event.topic) or _emit_fields(event.topic)
        now = time.time_ns()
        span = SpanRecord(trace_id, 0, parent_id, name, KIND_PRODUCER, now)
        span.head, span.end = head, now
        span.message_id, span.span_from_message = event.id, True  # the span id, at export
        if self.spans is not None:
            self.spans.add(span)


# By topic: the name of its emits' spans, their attributes, and both with the kind and
# flags (`span_head`).
_emit_fixed: dict[str, tuple[str, bytes, bytes]] = {}


def _emit_fields(topic: str) -> tuple[str, bytes, bytes]:
    """The name and the attributes (in wire format) every emit to `topic` shares."""
    name = f"emit {topic}"
    fixed = encode_attributes(
        {
            "messaging.system": "motia",
            "messaging.operation.type": "send",
            "messaging.destination.name": topic,
            "motia.topic": topic,
        }
    )
    if len(_emit_fixed) >= 4096:
        _emit_fixed.clear()
    fields = _emit_fixed[topic] = (name, fixed, span_head(name, KIND_PRODUCER, fixed))
    return fields


def api_context(span: SpanRecord) -> Context:
    """An OpenTelemetry context whose current span is `span`, for code in a handler that
    uses the OpenTelemetry API with a tracer provider of its own."""
    flags = TraceFlags(TraceFlags.SAMPLED if span.sampled else 0)
    context = SpanContext(int(span.trace_id, 16), span.span_id, False, flags)
    return set_span_in_context(NonRecordingSpan(context), Context())
