"""The kinds of value a setting holds. Each kind turns what `config.yml`, an environment
variable or a flag gives into the setting's value, within its bounds, and describes itself for
the configuration reference: one parser per kind, so every source obeys the same rules."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motia.errors import SettingsError


class Invalid(ValueError):
    """A value a kind refuses; the message is a predicate ("is not an integer from 1 to 9")
    that the caller puts after the setting and the value."""


class Kind:
    """How one setting's value is read. `parse` takes a YAML value, an environment string or
    a flag's typed value and returns the setting's value, or raises Invalid."""

    # Never echo the value in messages (tokens, passwords).
    secret: bool = False

    def parse(self, value: object) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        """The type column of the reference, in Markdown."""
        raise NotImplementedError

    def show(self, value: Any) -> str:
        """A default value, in Markdown."""
        if value is None:
            return "none"
        if isinstance(value, bool):
            return f"`{str(value).lower()}`"
        if isinstance(value, float) and value.is_integer():
            return f"`{int(value)}`"
        return f"`{value}`"


def _number(value: object, convert: type[int] | type[float]) -> int | float | None:
    """The number in a YAML number or a string, or None; booleans are not numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip()) if convert is float else int(value.strip())
        except ValueError:
            return None
    if isinstance(value, int):
        return value if convert is int else float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if convert is int:
            return int(value) if value.is_integer() else None
        return value
    return None


@dataclass(frozen=True)
class Range:
    """Bounds of a number: `low` (excluded when `above`), `high` included; None: unbounded."""

    low: float | None = None
    high: float | None = None
    above: bool = False

    def contains(self, number: float) -> bool:
        if self.low is not None and (number <= self.low if self.above else number < self.low):
            return False
        return self.high is None or number <= self.high

    def describe(self) -> str:
        low, high = _plain(self.low), _plain(self.high)
        if self.low is not None and self.high is not None and not self.above:
            return f"from {low} to {high}"
        parts = []
        if self.low is not None:
            parts.append(f"> {low}" if self.above else f"≥ {low}")
        if self.high is not None:
            parts.append(f"≤ {high}")
        return " and ".join(parts)


def _plain(number: float | None) -> str:
    if number is None:
        return ""
    return str(int(number)) if float(number).is_integer() else str(number)


@dataclass(frozen=True)
class Integer(Kind):
    bounds: Range = field(default_factory=Range)

    def parse(self, value: object) -> int:
        number = _number(value, int)
        if number is None or not self.bounds.contains(number):
            raise Invalid(f"is not an integer {self.bounds.describe()}".rstrip())
        return int(number)

    def describe(self) -> str:
        bounds = self.bounds
        if bounds.low is not None and bounds.high is not None and not bounds.above:
            return f"integer, {_plain(bounds.low)} to {_plain(bounds.high)}"
        return f"integer, {bounds.describe()}" if bounds.describe() else "integer"


@dataclass(frozen=True)
class Seconds(Kind):
    bounds: Range = field(default_factory=Range)

    def parse(self, value: object) -> float:
        number = _number(value, float)
        if number is None or not self.bounds.contains(number):
            raise Invalid(f"is not a number of seconds {self.bounds.describe()}".rstrip())
        return float(number)

    def describe(self) -> str:
        return f"seconds, {self.bounds.describe()}" if self.bounds.describe() else "seconds"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_UNITS = {
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
}
_BINARY = (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024))


class Size(Kind):
    """Bytes, as a number or with a unit: `1048576`, `512kb`, `10mib`."""

    def parse(self, value: object) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            size = value
        else:
            match = _SIZE.match(value) if isinstance(value, str) else None
            if match is None:
                raise Invalid("is not a size such as 1048576, 512kb or 10mb")
            size = int(float(match.group(1)) * _UNITS[(match.group(2) or "b").lower()])
        if size <= 0:
            raise Invalid("is not a positive size")
        return size

    def describe(self) -> str:
        return "bytes, or a size such as `512kb`, `10mb`, `1mib`"

    def show(self, value: Any) -> str:
        for unit, factor in _BINARY:
            if isinstance(value, int) and value % factor == 0:
                return f"`{value}` ({value // factor} {unit})"
        return super().show(value)


def parse_size(value: int | str, where: str) -> int:
    """`1048576`, `512kb` or `10mb` as bytes."""
    try:
        return int(Size().parse(value))
    except Invalid as exc:
        raise SettingsError(f"{where}: {value!r} {exc}") from None


@dataclass(frozen=True)
class Choice(Kind):
    """One of a few words, in any case; `aliases` are other spellings of a choice."""

    choices: tuple[str, ...]
    aliases: tuple[tuple[str, str], ...] = ()

    def parse(self, value: object) -> str:
        if isinstance(value, str):
            word = value.strip().lower()
            word = dict(self.aliases).get(word, word)
            if word in self.choices:
                return word
        raise Invalid(f"is not one of: {', '.join(self.choices)}")

    def describe(self) -> str:
        spelled = dict((choice, alias) for alias, choice in self.aliases)
        words = [f"`{c}` (or `{spelled[c]}`)" if c in spelled else f"`{c}`" for c in self.choices]
        return ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else words[0]


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


class Flag(Kind):
    """A boolean: YAML's true/false, or true/false, yes/no, on/off, 1/0 in any case."""

    def parse(self, value: object) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise Invalid("is not a boolean (true or false)")

    def describe(self) -> str:
        return "boolean"


@dataclass(frozen=True)
class Text(Kind):
    min_length: int = 0
    secret: bool = False

    def parse(self, value: object) -> str:
        if not isinstance(value, str):
            raise Invalid("is not a string")
        if len(value) < self.min_length:
            if self.min_length == 1:
                raise Invalid("must not be empty")
            raise Invalid(f"must be at least {self.min_length} characters long")
        return value

    def describe(self) -> str:
        if self.min_length > 1:
            return f"string, at least {self.min_length} characters"
        return "non-empty string" if self.min_length else "string"


@dataclass(frozen=True)
class Names(Kind):
    """A list of strings; from the environment, comma-separated. `hosts`: host names, kept
    in lower case and without the brackets of IPv6 addresses."""

    hosts: bool = False

    def parse(self, value: object) -> tuple[str, ...]:
        items: Sequence[object]
        if isinstance(value, str):
            items = value.split(",")
        elif isinstance(value, list | tuple):
            items = value
        else:
            raise Invalid("is not a list of strings")
        if not all(isinstance(item, str) for item in items):
            raise Invalid("is not a list of strings")
        names = [str(item).strip() for item in items]
        if self.hosts:
            return tuple(name.lower().strip("[]") for name in names if name)
        return tuple(name for name in names if name)

    def describe(self) -> str:
        return "list of host names" if self.hosts else "list of strings"

    def show(self, value: Any) -> str:
        return "`[" + ", ".join(f'"{item}"' for item in value) + "]`"


class Folder(Kind):
    def parse(self, value: object) -> Path:
        if isinstance(value, Path):
            return value
        if not isinstance(value, str) or not value.strip():
            raise Invalid("is not a folder path")
        return Path(value)

    def describe(self) -> str:
        return "path"


class TimeZone(Kind):
    def parse(self, value: object) -> str:
        import zoneinfo  # only when one is given: its first use reads the tz database

        try:
            if isinstance(value, str):
                zoneinfo.ZoneInfo(value)
                return value
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
        raise Invalid("is not a known IANA time zone (for example 'UTC' or 'Europe/Berlin')")

    def describe(self) -> str:
        return "IANA time zone name"


class RedisUrl(Kind):
    def parse(self, value: object) -> str:
        if not isinstance(value, str) or not value.startswith(("redis://", "rediss://", "unix://")):
            raise Invalid("must start with redis://, rediss:// or unix://")
        return value

    def describe(self) -> str:
        return "`redis://[user:password@]host:port/db`"


POSTGRES_SCHEMES = ("postgres://", "postgresql://")


class PostgresUrl(Kind):
    secret = True  # it usually carries a password

    def parse(self, value: object) -> str:
        if not isinstance(value, str) or not value.startswith(POSTGRES_SCHEMES):
            raise Invalid("must start with postgresql:// or postgres://")
        return value

    def describe(self) -> str:
        return "`postgresql://[user:password@]host:port/database`"


_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class HeaderValues(Kind):
    """Response headers by name: a value sets one, `false` (or null) removes one. From the
    environment, a JSON object: `{"Referrer-Policy": "same-origin"}`."""

    def parse(self, value: object) -> tuple[tuple[str, str | None], ...]:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise Invalid("is not a JSON object of header names and values") from None
        if not isinstance(value, dict):
            raise Invalid("is not a mapping of header names to values")
        headers: list[tuple[str, str | None]] = []
        for name, item in value.items():
            problem = header_problem(name, item)
            if problem:
                raise Invalid(problem)
            headers.append((str(name).lower(), None if item in (False, None) else str(item)))
        return tuple(headers)

    def describe(self) -> str:
        return "mapping of header names to values"

    def show(self, value: Any) -> str:
        return "`{}`" if not value else super().show(dict(value))


def header_problem(name: object, value: object) -> str | None:
    """Why `name: value` cannot be a response header (a value of false or null removes it)."""
    if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
        return f"has {name!r}, which is not a valid header name"
    if value is False or value is None:
        return None
    if not isinstance(value, str):
        return f"has a value for {name!r} that is not a string (or false to remove it)"
    try:
        encoded = value.encode("latin-1")
    except UnicodeEncodeError:
        return f"has a value for {name!r} with characters outside Latin-1"
    if re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", encoded):
        return f"has a value for {name!r} with a control character"
    return None
