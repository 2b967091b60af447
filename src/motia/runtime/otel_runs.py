"""One span per step run, current while its handler runs (so its emits and logs link)."""

from __future__ import annotations

import contextvars
import re
import time
from typing import Any

from opentelemetry import context as otel_context

from motia.adapters.queue.base import Failure
from motia.runtime.hooks import Run, RunEnd, RunHooks
from motia.runtime.otel_export import (
    OtelExport,
    api_context,
    current_span,
    otel_trace_id,
)
from motia.runtime.otlp_proto import (
    KIND_CONSUMER,
    KIND_INTERNAL,
    KIND_SERVER,
    STATUS_ERROR,
    attribute,
    encode_attributes,
    exception_event,
    span_head,
)
from motia.runtime.span_record import SpanRecord
from motia.steps.model import Step

# Outcomes that leave a run's span in error; "rejected" (a 4xx) is the caller's fault.
ERROR_OUTCOMES = frozenset({"failed", "retrying", "dead", "lost"})


# An open run: its span, the token that restores the span current before it, and the
# OpenTelemetry context token when handlers trace with a provider of their own.
_Open = tuple[SpanRecord, contextvars.Token[SpanRecord | None], object | None]


class _StepFields:
    """What every run of one step by one trigger shares, worked out at its first run."""

    __slots__ = ("first", "fixed", "head", "kind", "name", "route", "step", "tracked")

    def __init__(self, run: Run) -> None:
        self.step = step = run.step
        attributes: dict[str, Any] = {"motia.step": step.name, "motia.kind": run.kind}
        if run.kind == "event":
            topic = run.trigger.removeprefix("topic ")
            attributes["motia.topic"] = topic
            attributes["messaging.system"] = "motia"
            attributes["messaging.operation.type"] = "process"
            attributes["messaging.destination.name"] = topic
            attributes["messaging.consumer.group.name"] = step.name
        self.name = f"{run.kind} {step.name}"
        # The attributes in wire format, alone and with `motia.attempt` 1 after them
        # (most runs are first runs).
        self.fixed = encode_attributes(attributes)
        self.first = self.fixed + attribute("motia.attempt", 1)
        # A first run's span in wire format but for its ids, times and outcome. An event
        # run's parent is an emit, maybe in another process: remote.
        self.kind = KIND_CONSUMER if run.kind == "event" else KIND_INTERNAL
        self.head = span_head(self.name, self.kind, self.first, run.kind == "event")
        self.route = step.api.path if run.kind == "api" else None
        # Logs of steps run in another process arrive outside the run's task: those runs
        # are found by step and trace instead of as the current span.
        self.tracked = step.language != "python" or _in_process_pool(step)


def _fixed(fields: _StepFields, attempt: int) -> bytes:
    if attempt == 1:
        return fields.first
    return fields.fixed + attribute("motia.attempt", attempt)


# Motia's own trace ids are W3C ones already: checked here without a call per layer.
_w3c = re.compile("[0-9a-f]{32}").fullmatch
_ZERO = "0" * 32


def _in_process_pool(step: Step) -> bool:
    return getattr(step.config, "executor", "") == "process"


class RunSpans(RunHooks):
    def __init__(self, export: OtelExport) -> None:
        self._export = export
        assert export.spans is not None
        self._add = export.spans.add
        self._all = export.samples_all  # every trace recorded: no decision to take
        self._open: dict[Run, _Open] = {}
        # The open run of each step in each trace, for logs that arrive from a runner
        # process outside the run's task (kept only when logs are exported).
        self._running: dict[tuple[str, str], SpanRecord] = {}
        self._track = export.logger_provider is not None
        self._fields: dict[tuple[str, str, str], _StepFields] = {}  # by step, kind, trigger

    def running(self, step: str, trace_id: str) -> SpanRecord | None:
        return self._running.get((step, trace_id))

    def run_started(self, run: Run) -> None:
        key = (run.step.name, run.kind, run.trigger)
        fields = self._fields.get(key)
        if fields is None or fields.step is not run.step:  # new, or reloaded
            if len(self._fields) >= 4096:
                self._fields.clear()
            fields = self._fields[key] = _StepFields(run)
        trace_id = run.trace_id
        user_tracing = self._export.user_tracing
        request = current_span.get()
        if run.kind == "api" and request is not None and request.trace_id == trace_id:
            sampled = request.sampled
            if not sampled and not user_tracing:
                return  # nothing to record, and nothing inside asks (emits decide alike)
            span = SpanRecord(
                trace_id,
                int(run.span_id, 16),  # the id its log lines carry
                request.span_id,
                fields.name,
                KIND_INTERNAL,
                time.time_ns(),
            )
            if sampled:
                if request.kind == KIND_SERVER and request.route is None:
                    request.route = fields.route  # the SERVER span is named by its route
                if run.attempt == 1:
                    span.head = fields.head
                else:
                    span.fixed = _fixed(fields, run.attempt)
            else:
                span.sampled = False
        else:  # an event from the queue, a cron run: the decision is taken here
            if _w3c(trace_id) is None or trace_id == _ZERO:
                trace_id = otel_trace_id(trace_id)
            sampled = self._all or self._export.sampled(trace_id)
            if not sampled and not user_tracing:
                return
            span = SpanRecord(
                trace_id, int(run.span_id, 16), 0, fields.name, fields.kind, time.time_ns()
            )
            if run.kind == "event":
                span.parent_from_message = True
                event_id = span.message_id = run.event_id
                remote = event_id is not None  # the emit's span, maybe elsewhere
            else:
                remote = False
            if not sampled:
                span.sampled = False
            elif run.attempt == 1 and remote == (run.kind == "event"):
                span.head = fields.head
            else:
                span.fixed = _fixed(fields, run.attempt)
                span.parent_remote = remote
        api_token = None
        if user_tracing:
            api_token = otel_context.attach(api_context(span))
        self._open[run] = (span, current_span.set(span), api_token)
        if self._track and fields.tracked:
            self._running[(run.step.name, run.trace_id)] = span

    def run_failed(self, run: Run, error: BaseException) -> None:
        opened = self._open.get(run)
        if opened is not None and opened[0].sampled:
            span = opened[0]
            stack = _stack(error)
            _add_event(span, exception_event(type(error).__name__, str(error), stack))
            span.status, span.status_message = STATUS_ERROR, f"{type(error).__name__}: {error}"

    def run_retrying(self, run: Run, delay: float, failure: Failure) -> None:
        opened = self._open.get(run)
        if opened is not None and opened[0].sampled:
            event = ("motia.retry", time.time_ns(), {"motia.retry.delay": delay})
            _add_event(opened[0], event)

    def run_dead_lettered(self, run: Run, failure: Failure) -> None:
        opened = self._open.get(run)
        if opened is not None and opened[0].sampled:
            reason = {"motia.dead_letter.reason": failure.reason}
            _add_event(opened[0], ("motia.dead_letter", time.time_ns(), reason))

    def run_ended(self, run: Run, end: RunEnd) -> None:
        opened = self._open.pop(run, None)
        if opened is None:
            return
        span, token, api_token = opened
        if self._track and self._running:
            key = (run.step.name, run.trace_id)
            if self._running.get(key) is span:
                del self._running[key]
        if span.sampled:
            status = end.status
            span.outcome = status  # these become attributes in the export thread
            span.emits = end.emits
            if end.http_status is not None:
                span.http_status = end.http_status
            if status in ERROR_OUTCOMES:
                _record_error(span, run, end)
            span.end = time.time_ns()
            self._add(span)
        if api_token is not None:
            otel_context.detach(api_token)  # type: ignore[arg-type]
        current_span.reset(token)


def _record_error(span: SpanRecord, run: Run, end: RunEnd) -> None:
    failure = end.failure
    if failure is not None and run.kind == "api":  # an event or cron error was
        kind, _, message = failure.error.partition(": ")  # recorded by run_failed
        _add_event(span, exception_event(kind, message, failure.stack))
    span.status = STATUS_ERROR
    span.status_message = failure.error if failure is not None else end.status


def _add_event(span: SpanRecord, event: tuple[str, int, dict[str, Any]]) -> None:
    if span.events is None:
        span.events = []
    span.events.append(event)


def _stack(error: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(type(error), error, error.__traceback__))
