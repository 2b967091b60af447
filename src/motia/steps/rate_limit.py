"""`rateLimit` of an API step: `{"requests": 5, "per": "1m", "by": "ip"}`, or `False` to
exempt the step from the project's default limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from motia.settings.kinds import Invalid
from motia.settings.rate_limit import parse_by, parse_period


class RateLimitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)

    requests: int = Field(ge=1, le=1_000_000_000)
    # Seconds; written as a number or as "10s", "1m", "1h", "1d".
    per: float
    # "ip", "subject", "header:<name>", or `by(req) -> str` for a key of the step's own.
    by: str | Callable[..., Any] = "ip"

    @field_validator("requests", mode="before")
    @classmethod
    def _whole_number(cls, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a whole number of requests, such as 100")
        return value

    @field_validator("per", mode="before")
    @classmethod
    def _period(cls, value: object) -> float:
        try:
            return parse_period(value)
        except Invalid as exc:
            raise ValueError(f"{value!r} {exc}") from None

    @field_validator("by", mode="before")
    @classmethod
    def _key(cls, value: object) -> object:
        if callable(value):
            return value
        try:
            return parse_by(value)
        except Invalid as exc:
            raise ValueError(f"{value!r} {exc}, or a function by(req) -> str") from None


class _NoRateLimit(RateLimitConfig):
    """`rateLimit: False`: the step is exempt from the default limit. Falsy, as written."""

    def __bool__(self) -> bool:
        return False


NO_RATE_LIMIT = _NoRateLimit.model_construct(requests=1, per=1.0, by="ip")


def read_rate_limit(value: object) -> object:
    """`False` is the exemption; `True` reads as "on" but says nothing of how much."""
    if value is False:
        return NO_RATE_LIMIT
    if value is True:
        raise ValueError(
            "must be an object such as {'requests': 100, 'per': '1m'}, or false to exempt "
            "the step from the default limit"
        )
    return value
