"""The HTTP options of an API step's config (`securityHeaders`, `cors`, ...): their
validation, so a mistake is reported at load with the file, step and field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from motia.settings.kinds import Invalid, Size, header_problem
from motia.settings.origins import CREDENTIALS_WITH_ANY, origin_problem

HeaderOverrides = dict[str, str | bool | None]


def check_security_headers(value: bool | HeaderOverrides | None) -> Any:
    """`True`/`False`, or header names mapped to a value (false or null removes one)."""
    if isinstance(value, dict):
        for name, item in value.items():
            if item is True:
                raise ValueError(f"'{name}': true is not a header value (a string, or false)")
            problem = header_problem(name, item)
            if problem:
                raise ValueError(problem)
    return value


def parse_body_size(value: object) -> int | None:
    """`maxBodySize`: bytes, or a size with a unit, as `http.maxBodySize` takes."""
    if value is None:
        return None
    try:
        return int(Size().parse(value))
    except Invalid as exc:
        raise ValueError(f"{value!r} {exc}") from None


class CorsConfig(BaseModel):
    """A route's own CORS policy. It is whole: what it leaves out takes the default of the
    matching `http.cors.*` setting, not the value configured there."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )

    origins: list[str]
    credentials: bool = False
    methods: list[str] = Field(default_factory=lambda: ["*"])
    headers: list[str] = Field(default_factory=lambda: ["*"])
    expose_headers: list[str] = Field(default_factory=list)
    max_age: int = Field(default=600, ge=0)

    @field_validator("origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            problem = origin_problem(origin)
            if problem:
                raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _no_credentials_for_any(self) -> CorsConfig:
        if self.credentials and "*" in self.origins:
            raise ValueError(f"origins: {CREDENTIALS_WITH_ANY}")
        return self
