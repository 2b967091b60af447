"""Motia for Python: APIs, events, cron and streams as steps, in one process."""

from motia.errors import EmitNotDeclared, MotiaError, ProjectInvalid, SettingsError
from motia.runtime.context import FlowContext

__version__ = "0.1.0"

__all__ = [
    "EmitNotDeclared",
    "FlowContext",
    "MotiaError",
    "ProjectInvalid",
    "SettingsError",
    "__version__",
]
