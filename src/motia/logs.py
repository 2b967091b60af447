"""Structured logs: every record carries time, level, step, trace id and flows (and, in a
step run, the run's span id; in an event run, the topic, event id and attempt too).

`motia dev` prints them readably; `motia start` writes one JSON object per line. The values
of secret keys in a record's fields are masked before anything sees the record (see
`motia.redaction`), so the terminal, the workbench's store and its live view agree.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TextIO

from motia import jsoncodec
from motia.redaction import DEFAULT_KEYS, Redactor

if TYPE_CHECKING:
    from rich.console import Console

LEVELS = {"debug": 10, "info": 20, "warn": 30, "error": 40}
_LEVEL_STYLES = {"debug": "magenta", "info": "green", "warn": "yellow", "error": "bold red"}
# Fields every record relies on; spanId (on a run's lines) only matters to machines.
_SHOWN = frozenset({"time", "level", "msg", "step", "traceId", "spanId", "flows"})
LogRecord = dict[str, Any]


class LogSink:
    """Where records go: the terminal, and a bounded in-memory history for tooling."""

    def __init__(
        self,
        level: str = "info",
        fmt: str = "pretty",
        stream: TextIO | None = None,
        history: int = 1000,
        redact: Iterable[str] = DEFAULT_KEYS,
    ) -> None:
        self.threshold = LEVELS[level]
        keys = tuple(redact)
        self.redactor: Redactor | None = Redactor(keys) if keys else None
        self._stream = stream if stream is not None else sys.stdout
        self._write: Callable[[LogRecord], None] = (
            self._write_json if fmt == "json" else self._write_pretty
        )
        self._console: Console | None = None
        self.history: deque[LogRecord] = deque(maxlen=history)
        self._listeners: list[Callable[[LogRecord], None]] = []

    def enabled(self, level: str) -> bool:
        return LEVELS[level] >= self.threshold

    def subscribe(self, listener: Callable[[LogRecord], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def emit(self, record: LogRecord) -> None:
        self.history.append(record)
        for listener in self._listeners:
            listener(record)
        self._write(record)

    def _write_json(self, record: LogRecord) -> None:
        self._stream.write(jsoncodec.dumps_str(record) + "\n")
        self._stream.flush()

    def _write_pretty(self, record: LogRecord) -> None:
        from rich.text import Text  # only the pretty format needs rich: import it lazily

        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self._stream, highlight=False, soft_wrap=True)
        stamp = time.strftime("%H:%M:%S", time.localtime(record["time"] / 1000))
        level = record["level"]
        line = Text(f"{stamp} ", style="dim")
        line.append(level.upper().ljust(5), style=_LEVEL_STYLES[level])
        if record.get("step"):
            line.append(f" [{record['step']}]", style="bold cyan")
        line.append(f" {record['msg']}")
        if record.get("traceId"):
            line.append(f" {record['traceId']}", style="dim")
        extra = {k: v for k, v in record.items() if k not in _SHOWN and k != "stack"}
        if extra:
            line.append(f" {jsoncodec.dumps_str(extra)}", style="dim")
        self._console.print(line)
        if record.get("stack"):
            self._console.print(Text(str(record["stack"]).rstrip(), style="red"))


class Logger:
    """`ctx.logger`: `info/warn/warning/error/debug(message, fields)`, bound to a step run."""

    __slots__ = ("_base", "_sink")

    def __init__(
        self,
        sink: LogSink,
        step: str | None,
        trace_id: str | None,
        flows: list[str],
        bound: dict[str, Any] | None = None,
    ):
        self._sink = sink
        self._base: LogRecord = {"step": step, "traceId": trace_id, "flows": flows}
        if bound:
            self._base.update(bound)

    @property
    def redactor(self) -> Redactor | None:
        """What masks secret keys in this logger's records; None when nothing is masked."""
        return self._sink.redactor

    def _log(self, level: str, message: Any, fields: Any) -> None:
        if LEVELS[level] < self._sink.threshold:
            return
        record: LogRecord = {"level": level, "time": int(time.time() * 1000), "msg": str(message)}
        record.update(self._base)
        if fields is not None:
            if not isinstance(fields, dict):
                fields = vars(fields) if hasattr(fields, "__dict__") else {"data": fields}
            redactor = self._sink.redactor
            if redactor is not None:
                fields = redactor.mask(fields)
            for key, value in fields.items():
                # A user field never replaces a field every record relies on.
                record[f"{key}_" if key in _SHOWN else key] = value
        self._sink.emit(record)

    def debug(self, message: Any, fields: Any = None) -> None:
        self._log("debug", message, fields)

    def info(self, message: Any, fields: Any = None) -> None:
        self._log("info", message, fields)

    def warn(self, message: Any, fields: Any = None) -> None:
        self._log("warn", message, fields)

    warning = warn

    def error(self, message: Any, fields: Any = None) -> None:
        self._log("error", message, fields)

    def log(self, record: dict[str, Any]) -> None:
        """Classic `logger.log({level, msg, ...})`."""
        fields = dict(record)
        level = str(fields.pop("level", "info")).lower()
        message = fields.pop("msg", fields.pop("message", ""))
        self._log(level if level in LEVELS else "info", message, fields)

    def child(
        self,
        step: str | None,
        trace_id: str | None,
        flows: list[str],
        bound: dict[str, Any] | None = None,
    ) -> Logger:
        """A logger for one run; `bound` fields (an event's topic, id and attempt) go on each
        of its records."""
        return Logger(self._sink, step, trace_id, flows, bound)
