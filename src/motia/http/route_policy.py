"""What each API route adds to the plain request path, computed once per step: its
request timeout and body limit (then its security headers, CORS and compression).

A route with nothing configured shares the defaults of the settings; the policy of a step
is built the first time it is asked for and kept while the step is loaded.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from motia.http.security_headers import SecurityHeaders, step_changes

if TYPE_CHECKING:
    from motia.settings import Settings
    from motia.steps.model import Step


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    timeout: float | None  # seconds; None: the handler may run as long as it likes
    max_body: int  # bytes
    security: SecurityHeaders | None  # None: no security headers


class RoutePolicies:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._security = SecurityHeaders.build(settings.security_header_values)
        self.default = RoutePolicy(
            timeout=settings.request_timeout or None,
            max_body=settings.max_body_size,
            security=self._security if settings.security_headers else None,
        )
        self._known: weakref.WeakKeyDictionary[Step, RoutePolicy] = weakref.WeakKeyDictionary()

    def of(self, step: Step) -> RoutePolicy:
        policy = self._known.get(step)
        if policy is None:
            policy = self._known[step] = self._build(step)
        return policy

    def _build(self, step: Step) -> RoutePolicy:
        api = step.api
        default = self.default
        if api.timeout is None and api.security_headers is None:
            return default
        security = default.security
        enabled, changes = step_changes(api.security_headers)
        if enabled is False:
            security = None
        elif changes:
            security = SecurityHeaders.build(self._settings.security_header_values, changes)
        elif enabled:
            security = self._security
        return RoutePolicy(
            timeout=api.timeout if api.timeout is not None else default.timeout,
            max_body=default.max_body,
            security=security,
        )
