"""Allowed CORS origins: exact origins, `"*"`, or patterns with a leading wildcard label
(`https://*.example.com` matches `https://app.example.com`, not `https://example.com`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from motia.errors import SettingsError

if TYPE_CHECKING:
    from motia.settings.sections import CorsSettings

_PATTERN = re.compile(r"^([a-z][a-z0-9+.-]*)://\*\.([^*/?#]+)$", re.IGNORECASE)


def origin_problem(origin: str) -> str | None:
    """Why `origin` cannot be an allowed origin, or None."""
    if origin == "*" or "*" not in origin:
        return None
    if _PATTERN.match(origin):
        return None
    return (
        f"{origin!r}: a wildcard may only stand for the leading labels of the host, as in "
        "'https://*.example.com'"
    )


CREDENTIALS_WITH_ANY = (
    "'*' cannot be combined with credentials: browsers refuse it, and allowing every origin "
    "to send cookies would let any site act as the user; list the origins instead"
)


@dataclass(frozen=True, slots=True)
class Origins:
    """A compiled list of allowed origins."""

    any: bool
    exact: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, origins: Iterable[str]) -> Origins:
        exact: set[str] = set()
        patterns: list[re.Pattern[str]] = []
        wildcard = False
        for origin in origins:
            found = _PATTERN.match(origin)
            if origin == "*":
                wildcard = True
            elif found:
                scheme, rest = found.groups()
                patterns.append(
                    re.compile(
                        rf"{re.escape(scheme)}://[a-z0-9-]+(\.[a-z0-9-]+)*\.{re.escape(rest)}",
                        re.IGNORECASE,
                    )
                )
            else:
                exact.add(origin)
        return cls(wildcard, frozenset(exact), tuple(patterns))

    def allows(self, origin: str) -> bool:
        if self.any or origin in self.exact:
            return True
        return any(pattern.fullmatch(origin) for pattern in self.patterns)


def check_cors(cors: CorsSettings) -> None:
    """The `http.cors.*` settings together: patterns that can be read, no `*` with
    credentials."""
    for origin in cors.origins:
        problem = origin_problem(origin)
        if problem:
            raise SettingsError(f"http.cors.origins: {problem}")
    if cors.credentials and "*" in cors.origins:
        raise SettingsError(
            f"http.cors.origins with http.cors.credentials: {CREDENTIALS_WITH_ANY} "
            "(`motia dev` allows '*' unless http.cors.origins is set)"
        )
