"""One span per step run, current while its handler runs (so its emits and logs link)."""

from __future__ import annotations

import contextvars
import time
from typing import Any

from opentelemetry import context as otel_context

from motia.adapters.queue.base import Failure
from motia.runtime.hooks import Run, RunEnd, RunHooks
from motia.runtime.otel_export import (
    OtelExport,
    api_context,
    current_span,
    emit_span_int,
    otel_trace_id,
)
from motia.runtime.otlp_proto import (
    KIND_CONSUMER,
    KIND_INTERNAL,
    KIND_SERVER,
    STATUS_ERROR,
    SpanRecord,
    attribute,
    encode_attributes,
    exception_event,
    id_attribute,
)

# Outcomes that leave a run's span in error; "rejected" (a 4xx) is the caller's fault.
ERROR_OUTCOMES = frozenset({"failed", "retrying", "dead", "lost"})


# An open run: its span, the token that restores the span current before it, and the
# OpenTelemetry context token when handlers trace with a provider of their own.
_Open = tuple[SpanRecord, contextvars.Token[SpanRecord | None], object | None]


class RunSpans(RunHooks):
    def __init__(self, export: OtelExport) -> None:
        self._export = export
        self._open: dict[Run, _Open] = {}
        # The open run of each step in each trace, for logs that arrive from a runner
        # process outside the run's task (kept only when logs are exported).
        self._running: dict[tuple[str, str], SpanRecord] = {}
        self._track = export.logger_provider is not None

    def running(self, step: str, trace_id: str) -> SpanRecord | None:
        return self._running.get((step, trace_id))

    def run_started(self, run: Run) -> None:
        step = run.step
        request = current_span.get()
        trace_id = run.trace_id
        parent_id = 0
        remote = False
        kind = KIND_INTERNAL
        if run.kind == "api" and request is not None and request.trace_id == trace_id:
            parent_id, sampled = request.span_id, request.sampled
            if sampled and request.kind == KIND_SERVER and " " not in request.name:
                _name_request(request, run)
        else:  # an event from the queue, a cron run: the decision is taken here
            trace_id = otel_trace_id(trace_id)
            sampled = self._export.sampled(trace_id)
            if run.kind == "event":
                kind = KIND_CONSUMER
                if run.event_id is not None and (sampled or self._export.user_tracing):
                    parent_id, remote = emit_span_int(run.event_id), True
        if not sampled and not self._export.user_tracing:
            return  # nothing to record, and nothing inside asks (emits decide alike)
        name, fixed, first = _step_fields(run)
        span = SpanRecord(
            trace_id,
            int(run.span_id, 16),  # the id its log lines carry
            parent_id,
            name,
            kind,
            time.time_ns(),
            sampled,
            remote,
            fixed=_run_attributes(run, fixed, first) if sampled else b"",
        )
        api_token = None
        if self._export.user_tracing:
            api_token = otel_context.attach(api_context(span))
        self._open[run] = (span, current_span.set(span), api_token)
        if self._track:
            self._running[(step.name, run.trace_id)] = span

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
        if self._track:
            key = (run.step.name, run.trace_id)
            if self._running.get(key) is span:
                del self._running[key]
        if span.sampled:
            _record_end(span, run, end)
        self._export.end(span)
        if api_token is not None:
            otel_context.detach(api_token)  # type: ignore[arg-type]
        current_span.reset(token)


# The name and the attributes (in wire format) every run of a step shares, by (step,
# kind, trigger): alone, and with `motia.attempt` 1 after them (most runs are first runs).
_fixed: dict[tuple[str, str, str], tuple[str, bytes, bytes]] = {}


def _step_fields(run: Run) -> tuple[str, bytes, bytes]:
    key = (run.step.name, run.kind, run.trigger if run.kind == "event" else "")
    fields = _fixed.get(key)
    if fields is None:
        attributes: dict[str, Any] = {"motia.step": run.step.name, "motia.kind": run.kind}
        if run.kind == "event":
            topic = run.trigger.removeprefix("topic ")
            attributes["motia.topic"] = topic
            attributes["messaging.system"] = "motia"
            attributes["messaging.operation.type"] = "process"
            attributes["messaging.destination.name"] = topic
            attributes["messaging.consumer.group.name"] = run.step.name
        name = f"{run.kind} {run.step.name}"
        encoded = encode_attributes(attributes)
        fields = _fixed[key] = (name, encoded, encoded + attribute("motia.attempt", 1))
    return fields


def _run_attributes(run: Run, fixed: bytes, first: bytes) -> bytes:
    """The step's attributes, then those of this run alone."""
    fixed = first if run.attempt == 1 else fixed + attribute("motia.attempt", run.attempt)
    if run.event_id is not None:
        fixed += id_attribute("messaging.message.id", run.event_id)
    return fixed


# The request span's name and `http.route` attribute, by (method, route).
_routes: dict[tuple[str, str], tuple[str, bytes]] = {}


def _name_request(request: SpanRecord, run: Run) -> None:
    """The request's SERVER span (named by its method until now) learns its route once
    the step is known."""
    key = (request.name, run.step.api.path)
    named = _routes.get(key)
    if named is None:
        method, route = key
        named = (f"{method} {route}", attribute("http.route", route))
        if len(_routes) < 4096:  # methods and routes are few; keep them
            _routes[key] = named
    request.name = named[0]
    request.fixed += named[1]


def _record_end(span: SpanRecord, run: Run, end: RunEnd) -> None:
    span.fixed += _end_attributes(end.status, end.emits, end.http_status)
    if end.status in ERROR_OUTCOMES:
        failure = end.failure
        if failure is not None and run.kind == "api":  # an event or cron error was
            kind, _, message = failure.error.partition(": ")  # recorded by run_failed
            _add_event(span, exception_event(kind, message, failure.stack))
        span.status = STATUS_ERROR
        span.status_message = failure.error if failure is not None else end.status


# How runs end repeats (the outcome, the topics emitted, the HTTP status): each way is
# encoded once.
_ends: dict[tuple[str, tuple[str, ...], int | None], bytes] = {}


def _end_attributes(status: str, emits: list[str], http_status: int | None) -> bytes:
    key = (status, tuple(emits), http_status)
    encoded = _ends.get(key)
    if encoded is None:
        encoded = attribute("motia.outcome", status)
        if emits:
            encoded += attribute("motia.emits", list(emits))
        if http_status is not None:
            encoded += attribute("http.response.status_code", http_status)
        if len(_ends) >= 1024:
            _ends.clear()
        _ends[key] = encoded
    return encoded


def _add_event(span: SpanRecord, event: tuple[str, int, dict[str, Any]]) -> None:
    if span.events is None:
        span.events = []
    span.events.append(event)


def _stack(error: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(type(error), error, error.__traceback__))
