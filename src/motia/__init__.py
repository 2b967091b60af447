"""Motia for Python: APIs, events, cron and streams as steps, in one process."""

from motia.errors import EmitNotDeclared, MotiaError, ProjectInvalid, SettingsError
from motia.runtime.context import FlowContext
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

__version__ = "0.1.0"

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
]
