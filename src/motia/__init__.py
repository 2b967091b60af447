"""Motia for Python: APIs, events, cron and streams as steps, in one process.

The root stays light: `import motia.<anything>` runs this file first, so it imports nothing
and resolves each public name on first use. `motia --version` and an adapter import never
load the runtime this way.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from motia.errors import EmitNotDeclared, MotiaError, ProjectInvalid, SettingsError
    from motia.runtime.context import FlowContext
    from motia.steps.trigger_helpers import api, cron, http, queue, state, stream
    from motia.types import (
        ApiHandler,
        ApiMiddleware,
        ApiRequest,
        ApiResponse,
        ApiRouteConfig,
        CronConfig,
        CronHandler,
        Emit,
        EventConfig,
        EventHandler,
        HandlerConfig,
        NoopConfig,
        QueueConfig,
        StreamConfig,
    )

# Public name -> the module that defines it.
_HOMES = {
    "EmitNotDeclared": "motia.errors",
    "MotiaError": "motia.errors",
    "ProjectInvalid": "motia.errors",
    "SettingsError": "motia.errors",
    "FlowContext": "motia.runtime.context",
    "ApiHandler": "motia.types",
    "ApiMiddleware": "motia.types",
    "ApiRequest": "motia.types",
    "ApiResponse": "motia.types",
    "ApiRouteConfig": "motia.types",
    "CronConfig": "motia.types",
    "CronHandler": "motia.types",
    "Emit": "motia.types",
    "EventConfig": "motia.types",
    "EventHandler": "motia.types",
    "HandlerConfig": "motia.types",
    "NoopConfig": "motia.types",
    "QueueConfig": "motia.types",
    "StreamConfig": "motia.types",
    # Trigger helpers of the 1.0 step form.
    "api": "motia.steps.trigger_helpers",
    "cron": "motia.steps.trigger_helpers",
    "http": "motia.steps.trigger_helpers",
    "queue": "motia.steps.trigger_helpers",
    "state": "motia.steps.trigger_helpers",
    "stream": "motia.steps.trigger_helpers",
}

__all__ = [
    "ApiHandler",
    "ApiMiddleware",
    "ApiRequest",
    "ApiResponse",
    "ApiRouteConfig",
    "CronConfig",
    "CronHandler",
    "Emit",
    "EmitNotDeclared",
    "EventConfig",
    "EventHandler",
    "FlowContext",
    "HandlerConfig",
    "MotiaError",
    "NoopConfig",
    "ProjectInvalid",
    "QueueConfig",
    "SettingsError",
    "StreamConfig",
    "__version__",
    "api",
    "cron",
    "http",
    "queue",
    "state",
    "stream",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'motia' has no attribute '{name}'")
    value = getattr(import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
