"""What each API route adds to the plain request path, computed once per step: its
request timeout and body limit (then its security headers, CORS and compression).

A route with nothing configured shares the defaults of the settings; the policy of a step
is built the first time it is asked for and kept while the step is loaded.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.types import Scope

from motia.http.compression import Compressor
from motia.http.cors import CorsPolicy
from motia.http.security_headers import SecurityHeaders, step_changes
from motia.steps.http_options import CorsConfig

if TYPE_CHECKING:
    from motia.runtime.runtime import Runtime
    from motia.settings import Settings
    from motia.steps.model import Step


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    timeout: float | None  # seconds; None: the handler may run as long as it likes
    max_body: int  # bytes
    security: SecurityHeaders | None  # None: no security headers
    cors: CorsPolicy | None  # None: no CORS headers
    compressor: Compressor | None  # None: answers are sent uncompressed


class RoutePolicies:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._security = SecurityHeaders.build(settings.security_header_values)
        self._compressor = Compressor(settings.compression_min_size)
        self.default = RoutePolicy(
            timeout=settings.request_timeout or None,
            max_body=settings.max_body_size,
            security=self._security if settings.security_headers else None,
            cors=CorsPolicy.of(settings.cors) if settings.cors.origins else None,
            compressor=self._compressor if settings.compression else None,
        )
        self._known: weakref.WeakKeyDictionary[Step, RoutePolicy] = weakref.WeakKeyDictionary()
        # Whether any step of the loaded project has a CORS policy of its own.
        self._steps_seen: object = None
        self._step_cors = False

    def of(self, step: Step) -> RoutePolicy:
        policy = self._known.get(step)
        if policy is None:
            policy = self._known[step] = self._build(step)
        return policy

    def _build(self, step: Step) -> RoutePolicy:
        api = step.api
        default = self.default
        if (
            api.timeout is None
            and api.security_headers is None
            and api.cors is None
            and api.compression is None
            and api.max_body_size is None
        ):
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
            max_body=api.max_body_size or default.max_body,
            security=security,
            cors=_step_cors(api.cors) if api.cors is not None else default.cors,
            compressor=(
                default.compressor
                if api.compression is None
                else (self._compressor if api.compression else None)
            ),
        )

    def has_step_cors(self, steps: list[Step]) -> bool:
        """Whether a step in `steps` (the loaded project's) has its own `cors`."""
        if steps is not self._steps_seen:
            self._steps_seen = steps
            self._step_cors = any(s.type == "api" and s.api.cors is not None for s in steps)
        return self._step_cors

    def cors_for(self, runtime: Runtime, method: str, scope: Scope) -> CorsPolicy | None:
        """The CORS policy of the route `method` and the scope's path lead to."""
        if not self.has_step_cors(runtime.project.steps):
            return self.default.cors
        step = runtime.router.match(method, scope["path"], scope.get("raw_path")).step
        return self.default.cors if step is None else self.of(step).cors


def _step_cors(option: CorsConfig) -> CorsPolicy | None:
    """`cors: False` is a policy without origins: no CORS on the route."""
    return CorsPolicy.of(option) if option.origins else None
