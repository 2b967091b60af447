"""OpenTelemetry export, switched on by the standard `OTEL_*` environment variables.

Spans and logs go out over OTLP/HTTP (protobuf) when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
the traces or logs endpoint of its own) is set and `OTEL_SDK_DISABLED` is not `true`.
Otherwise nothing is imported and no hook is registered: a run costs what it did without.
The SDK comes with the `otel` extra (`pip install 'motia-python[otel]'`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from motia.errors import SettingsError
from motia.logs import Logger, LogSink
from motia.runtime.otel_sampling import TraceSampling

if TYPE_CHECKING:
    from motia.runtime.bus import EventBus
    from motia.runtime.hooks import HookChain
    from motia.runtime.otel_export import OtelExport

PROTOCOL = "http/protobuf"
INSTALL_HINT = "pip install 'motia-python[otel]'"


@dataclass(frozen=True)
class OtelConfig:
    traces: bool
    logs: bool
    service_name: str
    sampling: TraceSampling = field(default_factory=TraceSampling)

    @property
    def enabled(self) -> bool:
        return self.traces or self.logs


def otel_config(environ: Mapping[str, str], default_service: str) -> OtelConfig:
    """What the environment asks to export; raises `SettingsError` for a protocol other
    than http/protobuf, or a sampler Motia cannot apply."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return OtelConfig(False, False, default_service)
    endpoint = bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    traces = (endpoint or bool(environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))) and _exporter(
        environ, "OTEL_TRACES_EXPORTER"
    )
    logs = (endpoint or bool(environ.get("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"))) and _exporter(
        environ, "OTEL_LOGS_EXPORTER"
    )
    for signal, on in (("", traces or logs), ("TRACES_", traces), ("LOGS_", logs)):
        name = f"OTEL_EXPORTER_OTLP_{signal}PROTOCOL"
        protocol = environ.get(name, "").strip()
        if on and protocol and protocol != PROTOCOL:
            raise SettingsError(
                f"{name}={protocol!r} is not supported: Motia exports OTLP over HTTP "
                f"with protobuf; set it to {PROTOCOL!r} (or leave it unset)"
            )
    service = environ.get("OTEL_SERVICE_NAME") or default_service
    sampling = TraceSampling.from_environ(environ) if traces else TraceSampling()
    return OtelConfig(traces, logs, service, sampling)


def _exporter(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "otlp").strip().lower() or "otlp"
    if value == "none":
        return False
    if value != "otlp":
        raise SettingsError(f"{name}={value!r} is not supported: use 'otlp' or 'none'")
    return True


def install_otel(
    default_service: str,
    hooks: HookChain,
    bus: EventBus,
    sink: LogSink,
    logger: Logger,
    environ: Mapping[str, str] | None = None,
) -> OtelExport | None:
    """Start exporting what the environment asks for; None when it asks for nothing, or
    when the SDK is not installed (said once in the log)."""
    config = otel_config(os.environ if environ is None else environ, default_service)
    if not config.enabled:
        return None
    try:
        from motia.runtime.otel_export import OtelExport
    except ImportError as exc:
        logger.warn(
            f"OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry SDK is missing "
            f"({exc.name or exc}): nothing is exported; {INSTALL_HINT}"
        )
        return None
    return OtelExport.install(config, hooks, bus, sink, logger)
