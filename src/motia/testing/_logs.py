"""A log sink that keeps every record in memory and prints nothing (unless asked to)."""

from __future__ import annotations

import io
from typing import TextIO

from motia.logs import LogRecord, LogSink


class _Discard(io.StringIO):
    def write(self, text: str) -> int:
        return len(text)


class CaptureSink(LogSink):
    """Every record goes to `records` (unbounded) and to subscribers; it is printed only
    when an `echo` stream is given."""

    def __init__(self, level: str = "debug", echo: TextIO | None = None, fmt: str = "json") -> None:
        super().__init__(level, fmt, echo if echo is not None else _Discard(), history=1000)
        self._echo = echo is not None
        self.records: list[LogRecord] = []

    def emit(self, record: LogRecord) -> None:
        self.records.append(record)
        self.history.append(record)
        for listener in list(self._listeners):
            listener(record)
        if self._echo:
            self._write(record)
