"""An emit's PRODUCER span travels with its run's record while the run is open, and is
a record of its own once the run's span was handed to the exporter."""

from __future__ import annotations

import io
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from motia.logs import Logger, LogSink
from motia.runtime.events import Event
from motia.runtime.hooks import Run, RunEnd
from motia.runtime.otel import OtelConfig
from motia.runtime.otel_export import OtelExport, current_span
from motia.runtime.otel_runs import RunSpans
from motia.runtime.otlp_proto import KIND_PRODUCER
from motia.runtime.span_record import SpanRecord

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def export() -> Iterator[OtelExport]:
    exporter = OtelExport(
        OtelConfig(True, False, "svc"),
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",  # nothing listens
            "OTEL_EXPORTER_OTLP_TIMEOUT": "0.2",
            "OTEL_BSP_SCHEDULE_DELAY": "600000",
        },
        Logger(LogSink(stream=io.StringIO()), None, None, []),
    )
    yield exporter
    exporter.shutdown()


def waiting(export: OtelExport) -> list[SpanRecord]:
    assert export.spans is not None
    return list(export.spans._spans)


def test_emits_inside_a_run_ride_on_its_record_and_later_ones_stand_alone(
    export: OtelExport,
) -> None:
    runs = RunSpans(export)
    step: Any = SimpleNamespace(name="Cleanup", language="python", config=SimpleNamespace())
    run = Run(step, "cron", TRACE, "cron * * * * *", 0.0)
    runs.run_started(run)
    inside = [Event("order.placed", {}, TRACE), Event("order.placed", {}, TRACE)]
    for event in inside:
        export.emitted(event)
    span = current_span.get()
    assert span is not None
    runs.run_ended(run, RunEnd("ok", 0.0, emits=["order.placed", "order.placed"]))
    [record] = waiting(export)
    assert record is span and record.handed
    assert record.emit_id == inside[0].id and record.emit_at > 0 and record.emit_head
    assert record.emitted is not None
    assert [(m, at > 0) for m, _head, at in record.emitted] == [(inside[1].id, True)]

    # A task the handler started, still emitting after the run's span left.
    token = current_span.set(span)
    try:
        late = Event("order.placed", {}, TRACE)
        export.emitted(late)
    finally:
        current_span.reset(token)
    assert len(record.emitted) == 1  # the handed record is never changed
    assert record.emit_id == inside[0].id
    _, alone = waiting(export)
    assert (alone.kind, alone.message_id, alone.span_from_message) == (
        KIND_PRODUCER,
        late.id,
        True,
    )
    assert (alone.trace_id, alone.parent_id) == (TRACE, span.span_id)
    assert alone.name == "emit order.placed" and alone.head is not None
