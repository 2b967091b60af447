"""Security headers on API answers: what a browser should not do with a JSON answer (sniff
it as another type, frame it, leak the page in `Referer`, share it across origins).

The header list is built once per step; a request only picks the plain or the HTTPS list
(`Strict-Transport-Security` is sent over HTTPS only, as browsers ignore it otherwise) and
leaves out the headers a handler set itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import Scope

from motia.http.response import Headers

DEFAULTS: tuple[tuple[str, str], ...] = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("content-security-policy", "frame-ancestors 'none'"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
)
HSTS = "strict-transport-security"
HSTS_DEFAULT = "max-age=31536000"


def is_https(scope: Scope) -> bool:
    """Whether the client reached us over HTTPS. Behind a TLS-terminating proxy the scheme
    is the proxy's to say: trusted proxy headers are applied to the scope before this."""
    return scope.get("scheme") == "https"


@dataclass(frozen=True, slots=True)
class SecurityHeaders:
    plain: Headers
    secure: Headers  # plain and Strict-Transport-Security
    names: frozenset[bytes]

    @classmethod
    def build(cls, *changes: Iterable[tuple[str, str | None]]) -> SecurityHeaders | None:
        """The defaults with each set of changes applied in turn (None removes a header);
        None when nothing is left."""
        values: dict[str, str | None] = {**dict(DEFAULTS), HSTS: HSTS_DEFAULT}
        for change in changes:
            for name, value in change:
                values[name.lower()] = value
        plain = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in values.items()
            if value is not None and name != HSTS
        ]
        hsts = values[HSTS]
        secure = [*plain, (HSTS.encode(), hsts.encode("latin-1"))] if hsts else plain
        if not secure:
            return None
        return cls(plain, secure, frozenset(name for name, _ in secure))

    def for_answer(self, scope: Scope, answer: Headers) -> Headers:
        """The headers to add to `answer`: those it does not set itself."""
        headers = self.secure if is_https(scope) else self.plain
        if not answer:
            return headers
        own = {name for name, _ in answer if name in self.names}
        return [item for item in headers if item[0] not in own] if own else headers


def step_changes(
    option: bool | dict[str, str | bool | None] | None,
) -> tuple[bool | None, list[tuple[str, str | None]]]:
    """A step's `securityHeaders`: whether it turns them on or off (None: as the settings
    say), and its changes to the values."""
    if option is None or isinstance(option, bool):
        return option, []
    changes = [(name, value if isinstance(value, str) else None) for name, value in option.items()]
    return True, changes
