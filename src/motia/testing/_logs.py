"""A log sink that keeps every record in memory and prints nothing (unless asked to)."""

from __future__ import annotations

import io
from typing import TextIO

from motia.logs import LogRecord, LogSink


class _Discard(io.StringIO):
    def write(self, text: str) -> int:
        return len(text)


class CaptureSink(LogSink):
    """The runtime's sink, writing to `echo` (nowhere by default); every record is also
    kept in `records` (unbounded), heard before any later subscriber hears it."""

    def __init__(self, level: str = "debug", echo: TextIO | None = None, fmt: str = "json") -> None:
        super().__init__(level, fmt, echo if echo is not None else _Discard(), history=1000)
        self.records: list[LogRecord] = []
        self.subscribe(self.records.append)
