"""Motia's log records as OpenTelemetry log records, read back from the SDK's in-memory
exporter: body, severity, fields as attributes, and the trace they belong to."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from motia.runtime.otel_logs import LogExport

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def exported(record: dict[str, Any]) -> Any:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    LogExport(provider, None).emit(record)
    [finished] = exporter.get_finished_logs()
    return finished.log_record


def test_a_record_outside_any_span_keeps_its_trace_id() -> None:
    log = exported(
        {
            "level": "warn",
            "time": 1_700_000_000_123,
            "msg": "stock is low",
            "step": "Reserve",
            "traceId": TRACE,
            "flows": ["shop"],
            "item": {"sku": "a-1"},
            "left": 3,
            "note": None,
        }
    )
    assert log.body == "stock is low"
    assert log.severity_text == "WARN"
    assert log.timestamp == 1_700_000_000_123_000_000
    assert f"{log.trace_id:032x}" == TRACE and log.span_id == 0
    assert dict(log.attributes) == {
        "motia.step": "Reserve",
        "motia.flows": ("shop",),
        "item": '{"sku":"a-1"}',  # objects go as JSON text
        "left": 3,
    }


def test_a_record_without_a_trace_has_none() -> None:
    log = exported({"level": "info", "time": 1, "msg": "ready", "traceId": None, "flows": []})
    assert log.trace_id == 0 and log.body == "ready"
    assert log.severity_text == "INFO"
