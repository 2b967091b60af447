"""Project settings: `config.yml`, then environment variables, then CLI flags, into one
frozen Settings object. Each setting is declared once, as a row on its Settings field
(`model.py`); reading, validation and the reference in docs/configuration.md follow from it."""

from motia.settings.kinds import parse_size
from motia.settings.load import database_location, load_settings, redis_location
from motia.settings.model import (
    ADAPTER_SETTINGS,
    CONFIG_FILE,
    LOG_LEVELS,
    TABLE,
    Mode,
    Settings,
)
from motia.settings.row import Setting
from motia.settings.sections import AuthSettings, CorsSettings

__all__ = [
    "ADAPTER_SETTINGS",
    "CONFIG_FILE",
    "LOG_LEVELS",
    "TABLE",
    "AuthSettings",
    "CorsSettings",
    "Mode",
    "Setting",
    "Settings",
    "database_location",
    "load_settings",
    "parse_size",
    "redis_location",
]
