"""Errors raised by Motia. Library code raises; only the CLI turns them into exit codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class MotiaError(Exception):
    """Root of every error Motia raises on purpose."""


class StartupFailed(MotiaError):
    """The server cannot start; the reason was logged already, so it is not repeated."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a project: where it is, what it is and how to fix it."""

    message: str
    file: Path | None = None
    step: str | None = None
    field: str | None = None
    hint: str | None = None
    severity: str = "error"  # "error" | "warning" | "info" (worth knowing, nothing to fix)
    line: int | None = None
    # Lines shown under the message as they are, such as a source line with a caret.
    detail: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def location(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(f"{self.file}:{self.line}" if self.line else str(self.file))
        if self.step:
            parts.append(f"step '{self.step}'")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        if self.detail:
            text += "\n" + "\n".join(f"    {line}" for line in self.detail.splitlines())
        return text


@dataclass
class ProjectInvalid(MotiaError):
    """The project has errors that stop it from running; every problem is listed at once."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        errors = [p for p in self.problems if p.is_error]
        lines = [f"{len(errors)} error(s) in the project:"]
        lines += [f"  - {p}" for p in errors]
        return "\n".join(lines)


class SettingsError(MotiaError):
    """config.yml, an environment variable or a flag has a value Motia cannot use."""


class EmitNotDeclared(MotiaError):
    """A step emitted a topic that its config does not list in `emits`."""

    def __init__(self, step: str, topic: str, declared: list[str]) -> None:
        self.step = step
        self.topic = topic
        super().__init__(
            f"step '{step}' emitted topic '{topic}', which is not in its 'emits' "
            f"({', '.join(declared) or 'none'}); add '{topic}' to the step's emits"
        )


class InvalidEmit(MotiaError):
    """An emit call was not shaped like {'topic': str, 'data': ...}."""


class HandlerTimeout(MotiaError):
    """A handler ran longer than its configured infrastructure.handler.timeout."""


class HandlerExited(MotiaError):
    """A handler raised SystemExit, KeyboardInterrupt or another exception that is not an
    `Exception`. A handler cannot stop the server: only its own run fails."""

    def __init__(self, raised: BaseException) -> None:
        self.raised = raised
        super().__init__(
            f"the handler raised {_short_repr(raised)}; a handler cannot stop the server, "
            "so only this run failed"
        )


def _short_repr(value: BaseException) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


class StoreUnavailable(MotiaError):
    """The data store cannot keep or read data right now (a full disk, an I/O error, a
    corrupted or read-only database file, an unreachable server). Nothing was written."""
