"""A tracer provider of the user's own: spans opened in a handler are children of the
run's span; without one, nothing is attached to the OpenTelemetry context."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from motia.logs import Logger, LogSink
from motia.runtime.hooks import Run, RunEnd
from motia.runtime.otel import OtelConfig
from motia.runtime.otel_export import OtelExport
from motia.runtime.otel_runs import RunSpans

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def cron_run() -> Run:
    step: Any = SimpleNamespace(name="Cleanup", language="python", config=SimpleNamespace())
    return Run(step, "cron", TRACE, "cron */5 * * * *", 0.0)


@pytest.fixture
def export() -> Any:
    sink = LogSink(stream=io.StringIO())
    exporter = OtelExport(
        OtelConfig(True, False, "svc"),
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",  # nothing listens
            "OTEL_EXPORTER_OTLP_TIMEOUT": "0.2",
            "OTEL_BSP_SCHEDULE_DELAY": "600000",
        },
        Logger(sink, None, None, []),
    )
    yield exporter
    exporter.shutdown()


def test_spans_a_handler_opens_are_children_of_its_run(
    export: OtelExport, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(finished))
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    export.user_tracing = True
    runs = RunSpans(export)
    run = cron_run()
    runs.run_started(run)
    with provider.get_tracer("handler").start_as_current_span("charge card"):
        pass
    runs.run_ended(run, RunEnd("ok", 0.0))
    [mine] = finished.get_finished_spans()
    assert mine.parent is not None
    assert f"{mine.context.trace_id:032x}" == TRACE
    assert f"{mine.parent.span_id:016x}" == run.span_id  # the run's span
    assert not trace.get_current_span().get_span_context().is_valid  # detached after


def test_without_a_provider_of_their_own_nothing_is_attached(export: OtelExport) -> None:
    runs = RunSpans(export)
    run = cron_run()
    runs.run_started(run)
    assert not trace.get_current_span().get_span_context().is_valid
    runs.run_ended(run, RunEnd("ok", 0.0))
