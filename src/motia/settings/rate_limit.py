"""How a rate limit is written, in `config.yml` and in step configs: a period (`per`) and
what requests are counted by (`by`). The step config and the settings read them alike."""

from __future__ import annotations

import math
import re
from typing import Any

from motia.settings.kinds import Invalid, Kind

_PERIOD = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# A day is the longest window: a longer one keeps a counter per client for a long time.
LONGEST_PERIOD = 86400.0

BY_IP = "ip"
BY_SUBJECT = "subject"
HEADER_PREFIX = "header:"


def parse_period(value: object) -> float:
    """Seconds from a number or from `"10s"`, `"1m"`, `"1h"`, `"1d"`; Invalid otherwise."""
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        match = _PERIOD.match(value.lower())
        if match is not None:
            seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    if seconds is None or not math.isfinite(seconds):
        raise Invalid("is not a period such as 30, '10s', '1m', '1h' or '1d'")
    if not 0 < seconds <= LONGEST_PERIOD:
        raise Invalid("is not a period longer than 0 and at most a day ('1d')")
    return seconds


def parse_by(value: object) -> str:
    """`ip`, `subject` or `header:<name>` (the name in lower case, as `req.headers` has it)."""
    if isinstance(value, str):
        word = value.strip()
        if word.lower() in (BY_IP, BY_SUBJECT):
            return word.lower()
        if word.lower().startswith(HEADER_PREFIX):
            name = word[len(HEADER_PREFIX) :].strip().lower()
            if name and re.fullmatch(r"[!#$%&'*+.^_`|~0-9a-z-]+", name):
                return HEADER_PREFIX + name
    raise Invalid("is not 'ip', 'subject' or 'header:<name>' (for example 'header:x-api-key')")


class Period(Kind):
    def parse(self, value: object) -> float:
        return parse_period(value)

    def describe(self) -> str:
        return "seconds, or a period such as `10s`, `1m`, `1h`, `1d`"

    def show(self, value: Any) -> str:
        return super().show(value) + " (1 minute)" if value == 60 else super().show(value)


class LimitKey(Kind):
    def parse(self, value: object) -> str:
        return parse_by(value)

    def describe(self) -> str:
        return "`ip`, `subject` or `header:<name>`"
