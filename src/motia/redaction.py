"""Masks secrets in structured data before it leaves the process: log fields, the logs and
field errors the workbench stores, error reports.

A key is secret when its name, in lower case and with `-` read as `_`, is on the list
(`Authorization` and `set-cookie` match `authorization` and `set_cookie`), or matches an
entry written as a glob (`*_token`). Its value, whatever it is, becomes `[redacted]`, at
any depth of dicts and lists. Strings are never searched: a secret inside a message or a
stack trace is not found.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable
from typing import Any

MASK = "[redacted]"
DEFAULT_KEYS: tuple[str, ...] = (
    "password",
    "passwd",
    "secret",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "authorization",
    "proxy_authorization",
    "cookie",
    "set_cookie",
    "api_key",
    "apikey",
    "x_api_key",
    "private_key",
    "client_secret",
    "credit_card",
    "card_number",
    "cvv",
)
# Deeper than this, values are left alone: a cyclic structure must not loop forever.
MAX_DEPTH = 64
_GLOB = re.compile(r"[*?\[]")


def key_form(key: str) -> str:
    """The form keys are compared in: lower case, `-` as `_`."""
    return key.strip().lower().replace("-", "_")


class Redactor:
    """The compiled key list; `mask(value)` returns `value` itself when nothing in it is
    secret, else a copy with the secret values replaced (the caller's data is untouched)."""

    __slots__ = ("_exact", "_pattern", "is_secret", "keys")

    def __init__(self, keys: Iterable[str]) -> None:
        self.keys = tuple(dict.fromkeys(key_form(key) for key in keys if key.strip()))
        self._exact = frozenset(key for key in self.keys if not _GLOB.search(key))
        globs = [fnmatch.translate(key) for key in self.keys if _GLOB.search(key)]
        self._pattern = re.compile("|".join(globs)) if globs else None
        # Log fields use the same few keys over and over: decide each one once.
        self.is_secret = functools.lru_cache(maxsize=4096)(self._decide)

    def _decide(self, key: str) -> bool:
        form = key_form(key)
        if form in self._exact:
            return True
        return self._pattern is not None and self._pattern.match(form) is not None

    def mask(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            return value
        if isinstance(value, dict):
            copy: dict[Any, Any] | None = None
            for key, item in value.items():
                new = MASK if isinstance(key, str) and self.is_secret(key) else None
                if new is None:
                    new = self.mask(item, depth + 1)
                if new is not item:
                    if copy is None:
                        copy = dict(value)
                    copy[key] = new
            return value if copy is None else copy
        if isinstance(value, (list, tuple)):
            items: list[Any] | None = None
            for index, item in enumerate(value):
                new = self.mask(item, depth + 1)
                if new is not item:
                    if items is None:
                        items = list(value)
                    items[index] = new
            return value if items is None else items
        return value

    def field_errors(self, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Schema errors quote the offending value ("'hunter2' is too short"): the message
        of a field whose path names a secret key is masked."""
        masked = []
        for error in errors:
            path = str(error.get("field", ""))
            if any(self.is_secret(part) for part in path.split(".")):
                error = {**error, "message": MASK}
            masked.append(error)
        return masked
