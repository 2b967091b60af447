"""Flow-control settings of an event step (see docs/flow-control.md): `concurrency`,
`throttle` (alias `rateLimit`), `idempotencyKey` with `idempotencyWindow`, `debounce`,
`priority` and `batch`.

A *key* says which events share a limit: a dotted path into the event (`"data.userId"`;
the first part is one of `data`, `topic`, `traceId`, `messageGroupId`), or a function that
takes the event's data and returns the key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from motia.settings.kinds import Invalid
from motia.settings.rate_limit import parse_period

KEY_ROOTS = ("data", "topic", "traceId", "messageGroupId")
# The config keys of flow control, as users write them (rateLimit is the alias of throttle).
FLOW_KEYS = (
    "concurrency",
    "throttle",
    "rateLimit",
    "idempotencyKey",
    "idempotencyWindow",
    "debounce",
    "priority",
    "batch",
)
DAY = 86_400.0
# Message priorities (`priority` on a step or an emit): higher is leased first.
PRIORITY_MIN, PRIORITY_MAX = -1000, 1000

Key = str | Callable[..., Any]


def check_key(value: object) -> object:
    """A dotted path rooted in the event, or a callable; anything else is refused here."""
    if value is None or callable(value):
        return value
    if not isinstance(value, str):
        raise ValueError(
            f"must be a dotted path such as 'data.userId' or a function taking the event "
            f"data, not {type(value).__name__}"
        )
    parts = value.split(".")
    if parts[0] not in KEY_ROOTS or not all(parts):
        roots = ", ".join(repr(r) for r in KEY_ROOTS)
        raise ValueError(f"unknown key {value!r}: a dotted path starting with one of {roots}")
    return value


def _period(value: object) -> float:
    try:
        return parse_period(value)
    except Invalid as exc:
        raise ValueError(f"{value!r} {exc}") from None


class _Flow(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        arbitrary_types_allowed=True,
        frozen=True,
    )

    _key = field_validator("key", mode="before", check_fields=False)(check_key)


class ConcurrencyConfig(_Flow):
    """At most `limit` runs at once (per `key` when given), across every process."""

    limit: int = Field(ge=1, le=100_000, strict=True)
    key: Key | None = None


class ThrottleConfig(_Flow):
    """At most `limit` starts per `period` seconds (per `key` when given)."""

    limit: int = Field(ge=1, le=1_000_000, strict=True)
    period: float = Field(gt=0, le=DAY)
    key: Key | None = None

    _read_period = field_validator("period", mode="before")(_period)


class DebounceConfig(_Flow):
    """One run per `key`, with the last event, once `period` seconds passed without one."""

    period: float = Field(gt=0, le=DAY)
    key: Key | None = None

    _read_period = field_validator("period", mode="before")(_period)


class BatchConfig(_Flow):
    """The handler gets a list of up to `size` inputs, those that arrived within `timeout`
    seconds of the first."""

    size: int = Field(ge=1, le=10_000, strict=True)
    timeout: float = Field(default=1.0, gt=0, le=3600)


class FlowControlFields(BaseModel):
    """The flow-control fields of `EventStepConfig`."""

    concurrency: ConcurrencyConfig | None = None
    throttle: ThrottleConfig | None = None
    rate_limit: ThrottleConfig | None = None
    idempotency_key: Key | None = None
    idempotency_window: float = Field(default=DAY, gt=0, le=DAY)
    debounce: DebounceConfig | None = None
    # The priority of the step's messages when the emit gives none.
    priority: int | None = Field(default=None, ge=PRIORITY_MIN, le=PRIORITY_MAX, strict=True)
    batch: BatchConfig | None = None

    @field_validator("concurrency", mode="before")
    @classmethod
    def _limit_alone(cls, value: object) -> object:
        """`"concurrency": 5` is `{"limit": 5}`."""
        if isinstance(value, int) and not isinstance(value, bool):
            return {"limit": value}
        return value

    _idempotency_key = field_validator("idempotency_key", mode="before")(check_key)
    _window = field_validator("idempotency_window", mode="before")(_period)

    @model_validator(mode="after")
    def _one_throttle(self) -> FlowControlFields:
        if self.throttle is not None and self.rate_limit is not None:
            raise ValueError("give either 'throttle' or its alias 'rateLimit', not both")
        return self

    @property
    def throttle_rule(self) -> ThrottleConfig | None:
        return self.throttle or self.rate_limit

    def flow_control_summary(self) -> dict[str, Any]:
        """The step's flow control as JSON for people (manifest, workbench); key functions
        appear by name. Empty when the step has none."""
        summary: dict[str, Any] = {}
        rules: dict[str, _Flow | None] = {
            "concurrency": self.concurrency,
            "throttle": self.throttle_rule,
            "debounce": self.debounce,
            "batch": self.batch,
        }
        for name, rule in rules.items():
            if rule is not None:
                summary[name] = {
                    k: describe_key(v) if k == "key" else v
                    for k, v in rule.model_dump(by_alias=True, exclude_none=True).items()
                }
        if self.idempotency_key is not None:
            summary["idempotencyKey"] = describe_key(self.idempotency_key)
            summary["idempotencyWindow"] = self.idempotency_window
        if self.priority is not None:
            summary["priority"] = self.priority
        return summary


def describe_key(key: object) -> object:
    """A key as people read it: the path, or `<function name>`."""
    if callable(key):
        return f"<function {getattr(key, '__name__', type(key).__name__)}>"
    return key


def misplaced_flow_keys(raw: dict[str, Any], step_type: str) -> list[str]:
    """Flow-control keys a non-event step carries (an API step's `rateLimit` is its HTTP
    limit, not flow control)."""
    if step_type == "event":
        return []
    return [k for k in FLOW_KEYS if k in raw and not (step_type == "api" and k == "rateLimit")]
