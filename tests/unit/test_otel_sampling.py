"""Motia's sampling decisions against the OpenTelemetry SDK's samplers, built from the
same variables: the same traces are recorded, roots and callers' children alike."""

from __future__ import annotations

import random

import pytest
from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import Decision, _get_from_env_or_default
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

from motia.errors import SettingsError
from motia.runtime.otel import otel_config
from motia.runtime.otel_sampling import TraceSampling

ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
CASES = [
    {},
    {"OTEL_TRACES_SAMPLER": "always_on"},
    {"OTEL_TRACES_SAMPLER": "always_off"},
    {"OTEL_TRACES_SAMPLER": "parentbased_always_off"},
    {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"},
    {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"},
    {"OTEL_TRACES_SAMPLER": "PARENTBASED_TRACEIDRATIO"},  # no ratio: all of them
]


def sdk_decides(trace_id: str, caller_sampled: bool | None) -> bool:
    parent = None
    if caller_sampled is not None:
        flags = TraceFlags(TraceFlags.SAMPLED if caller_sampled else 0)
        remote = SpanContext(int(trace_id, 16), 0x1234, True, flags)
        parent = set_span_in_context(NonRecordingSpan(remote), Context())
    result = _get_from_env_or_default().should_sample(parent, int(trace_id, 16), "x")
    return result.decision is Decision.RECORD_AND_SAMPLE


@pytest.mark.parametrize("environ", CASES, ids=lambda e: "-".join(e.values()) or "default")
def test_the_same_traces_are_recorded_as_by_the_sdk(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    sampling = otel_config({**ENDPOINT, **environ}, "svc").sampling
    rng = random.Random(7)
    recorded = 0
    for _ in range(2000):
        trace_id = f"{rng.getrandbits(128):032x}"
        assert sampling.root(trace_id) == sdk_decides(trace_id, None), trace_id
        for caller in (True, False):
            assert sampling.under(trace_id, caller) == sdk_decides(trace_id, caller), trace_id
        recorded += sampling.root(trace_id)
    ratio = float(environ.get("OTEL_TRACES_SAMPLER_ARG", "1"))
    if "always_off" in environ.get("OTEL_TRACES_SAMPLER", ""):
        ratio = 0.0
    assert abs(recorded / 2000 - ratio) < 0.05  # the ratio holds over random ids


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"OTEL_TRACES_SAMPLER": "jaeger_remote"}, "OTEL_TRACES_SAMPLER='jaeger_remote'"),
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"}, "'1.5'"),
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"}, "'half'"),
    ],
)
def test_a_sampler_motia_cannot_apply_stops_the_start_by_name(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        otel_config({**ENDPOINT, **environ}, "svc")


def test_without_export_the_sampler_is_not_read() -> None:
    config = otel_config({"OTEL_TRACES_SAMPLER": "nonsense"}, "svc")
    assert not config.enabled and config.sampling == TraceSampling()
