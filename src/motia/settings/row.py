"""One row of the settings table: where a setting is read from (its `config.yml` key and
environment variable), how (its kind, with bounds) and what the reference says of it. Rows
live on the fields of the Settings dataclass, so a setting is declared in one place."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from motia.settings.kinds import Kind

T = TypeVar("T")

_UNSET: Any = object()


@dataclass(frozen=True)
class Setting:
    key: str  # camelCase path in config.yml: "http.maxBodySize"
    kind: Kind
    doc: str
    # Other environment variables read for it, weaker than its own (LOG_LEVEL, REDIS_URL).
    env_aliases: tuple[str, ...] = ()
    # Defaults of one mode, when they differ from the field's.
    dev: Any = _UNSET
    start: Any = _UNSET
    # The default as the reference shows it, when its value alone does not say it.
    shown: str | None = None
    # Filled in when the table is built from the dataclass.
    attrs: tuple[str, ...] = ()
    default: Any = None

    @property
    def env(self) -> str:
        """MOTIA_ and the key in upper snake case, without `http.`: http.cors.maxAge is
        MOTIA_CORS_MAX_AGE, queue.leaseSeconds is MOTIA_QUEUE_LEASE_SECONDS."""
        path = self.key.removeprefix("http.")
        return "MOTIA_" + re.sub(r"(?<=[a-z0-9])(?=[A-Z])|\.", "_", path).upper()

    @property
    def label(self) -> str:
        """How messages name it: state adapter, log level."""
        return " ".join(self.attrs).replace("_", " ")

    def default_for(self, mode: str) -> Any:
        chosen = self.dev if mode == "dev" else self.start
        return self.default if chosen is _UNSET else chosen

    def mode_dependent(self) -> bool:
        return self.dev is not _UNSET or self.start is not _UNSET


METADATA = "motia.setting"


def setting(
    default: T,
    *,
    key: str,
    kind: Kind,
    doc: str,
    env_aliases: tuple[str, ...] = (),
    dev: Any = _UNSET,
    start: Any = _UNSET,
    shown: str | None = None,
) -> T:
    """A dataclass field that is a setting: its default, and the row that reads it."""
    row = Setting(key, kind, doc, env_aliases, dev, start, shown)
    created: T = field(default=default, metadata={METADATA: row})
    return created
