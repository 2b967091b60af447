"""Which `OTEL_*` environments switch the export on, and the ones refused with a reason."""

from __future__ import annotations

import io
import sys

import pytest

from motia.errors import SettingsError
from motia.logs import Logger, LogSink
from motia.runtime.hooks import HookChain
from motia.runtime.otel import install_otel, otel_config

ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}


def test_nothing_is_exported_without_an_endpoint() -> None:
    assert not otel_config({}, "shop").enabled
    assert not otel_config({"OTEL_SERVICE_NAME": "x"}, "shop").enabled


def test_the_endpoint_switches_traces_and_logs_on() -> None:
    config = otel_config(ENDPOINT, "shop")
    assert (config.traces, config.logs, config.service_name) == (True, True, "shop")
    named = otel_config({**ENDPOINT, "OTEL_SERVICE_NAME": "orders"}, "shop")
    assert named.service_name == "orders"
    only_traces = otel_config({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c/v1/traces"}, "s")
    assert (only_traces.traces, only_traces.logs) == (True, False)
    no_logs = otel_config({**ENDPOINT, "OTEL_LOGS_EXPORTER": "none"}, "shop")
    assert (no_logs.traces, no_logs.logs) == (True, False)
    explicit = otel_config({**ENDPOINT, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, "s")
    assert explicit.enabled


@pytest.mark.parametrize("value", ["true", "TRUE", " true "])
def test_otel_sdk_disabled_wins(value: str) -> None:
    assert not otel_config({**ENDPOINT, "OTEL_SDK_DISABLED": value}, "shop").enabled


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL='grpc'"),
        (
            {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"},
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL='http/json'",
        ),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER='zipkin'"),
    ],
)
def test_what_motia_cannot_export_is_refused_by_name(extra: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        otel_config({**ENDPOINT, **extra}, "shop")


def test_a_missing_sdk_is_said_once_and_nothing_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "motia.runtime.otel_export", None)  # import fails
    sink = LogSink("info", "json", stream=io.StringIO())
    hooks = HookChain(Logger(sink, None, None, []))
    installed = install_otel("shop", hooks, None, sink, Logger(sink, None, None, []), ENDPOINT)  # type: ignore[arg-type]
    assert installed is None
    assert not hooks._hooks
    [record] = [r for r in sink.history if r["level"] == "warn"]
    assert "pip install 'motia-python[otel]'" in record["msg"]


@pytest.mark.parametrize(
    ("variables", "name"),
    [
        ({}, "shop"),
        ({"OTEL_SERVICE_NAME": "orders"}, "orders"),
        ({"OTEL_RESOURCE_ATTRIBUTES": "service.name=billing,team=payments"}, "billing"),
    ],
)
def test_the_service_is_named_by_the_environment_else_by_the_project_folder(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], name: str
) -> None:
    from motia.runtime.otel_export import service_resource

    for variable in ("OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in variables.items():
        monkeypatch.setenv(variable, value)
    assert service_resource("shop").attributes["service.name"] == name
