"""The HTTP options of an API step's config (`securityHeaders`, `cors`, ...): their
validation, so a mistake is reported at load with the file, step and field."""

from __future__ import annotations

from typing import Any

from motia.settings.kinds import header_problem

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
