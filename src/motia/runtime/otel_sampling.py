"""Which traces are recorded: the standard `OTEL_TRACES_SAMPLER` samplers, decided here.

The six samplers the SDK knows by name (`always_on`, `always_off`, `traceidratio` and
their `parentbased_` forms) decide by the caller's flag or by the trace id alone, as the
SDK does (a trace is in a ratio when the low 64 bits of its id fall below the ratio's
bound), so every process that meets a trace takes the same decision. A decision is a
comparison; asking the SDK's sampler objects cost several microseconds per span.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from motia.errors import SettingsError

ALL = 1 << 64
SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)


@dataclass(frozen=True)
class TraceSampling:
    parent_based: bool = True
    bound: int = ALL  # sampled: traces whose id's low 64 bits are below it

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> TraceSampling:
        """Raises `SettingsError` naming the variable for a sampler or ratio it cannot
        use (the SDK would fall back to another sampler, or fail, without saying so)."""
        name = environ.get("OTEL_TRACES_SAMPLER", "").strip().lower() or "parentbased_always_on"
        if name not in SAMPLERS:
            raise SettingsError(
                f"OTEL_TRACES_SAMPLER={name!r} is not a sampler Motia knows: use one of "
                + ", ".join(SAMPLERS)
            )
        parent_based = name.startswith("parentbased_")
        kind = name.removeprefix("parentbased_")
        if kind == "always_on":
            return cls(parent_based, ALL)
        if kind == "always_off":
            return cls(parent_based, 0)
        raw = environ.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
        try:
            rate = float(raw) if raw else 1.0
        except ValueError:
            rate = -1.0
        if not 0.0 <= rate <= 1.0:
            raise SettingsError(
                f"OTEL_TRACES_SAMPLER_ARG={raw!r} is not a ratio between 0 and 1 "
                f"(the share of traces {name} records)"
            )
        return cls(parent_based, round(rate * ALL))

    def root(self, trace_id: str) -> bool:
        """A trace met without a sampled or unsampled parent to follow: a request without
        `traceparent`, a cron run, an event taken from the queue."""
        bound = self.bound
        return bound == ALL or (bound > 0 and int(trace_id[16:], 16) < bound)

    def under(self, trace_id: str, caller_sampled: bool) -> bool:
        """A request whose caller's `traceparent` says whether it records the trace."""
        return caller_sampled if self.parent_based else self.root(trace_id)
