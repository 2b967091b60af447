"""Where logs and traces are kept for the workbench, with a retention limit.

A trace is every step run (a span) that shares one trace id: the API request, cron tick or
emit that started it and every event handled downstream. Logs carry the same trace id, so
a trace shows its own log lines."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

LogRecord = dict[str, Any]


@dataclass
class Span:
    """One run of one step."""

    id: str
    trace_id: str
    step: str
    kind: str  # "api" | "event" | "cron"
    started_at: float
    ended_at: float | None = None
    # running | ok | failed | retrying | dead | rejected (an API request answered 4xx by
    # Motia before the handler ran: bad JSON, a schema violation, a body too large)
    status: str = "running"
    attempt: int = 1
    trigger: str = ""  # "POST /orders", "topic order.created", "cron */5 * * * *"
    error: str | None = None
    stack: str | None = None
    emits: list[str] = field(default_factory=list)
    state_ops: int = 0
    stream_ops: int = 0
    flows: list[str] = field(default_factory=list)
    http_status: int | None = None  # API runs: the status code answered
    # A rejected request's errors: [{"field": ..., "message": ...}] as the client got them.
    field_errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "traceId": self.trace_id,
            "step": self.step,
            "kind": self.kind,
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
            "durationMs": None
            if self.ended_at is None
            else round((self.ended_at - self.started_at) * 1000, 3),
            "status": self.status,
            "attempt": self.attempt,
            "trigger": self.trigger,
            "error": self.error,
            "stack": self.stack,
            "emits": self.emits,
            "stateOps": self.state_ops,
            "streamOps": self.stream_ops,
            "flows": self.flows,
            "httpStatus": self.http_status,
            "fieldErrors": self.field_errors,
        }


@dataclass(frozen=True)
class TraceSummary:
    trace_id: str
    entry_step: str
    entry_kind: str
    trigger: str
    started_at: float
    ended_at: float | None
    status: str  # running | ok | failed | rejected
    spans: int
    errors: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "traceId": self.trace_id,
            "entryStep": self.entry_step,
            "entryKind": self.entry_kind,
            "trigger": self.trigger,
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
            "durationMs": None
            if self.ended_at is None
            else round((self.ended_at - self.started_at) * 1000, 3),
            "status": self.status,
            "spans": self.spans,
            "errors": self.errors,
        }


@dataclass(frozen=True)
class LogQuery:
    trace_id: str | None = None
    step: str | None = None
    flow: str | None = None
    levels: tuple[str, ...] = ()
    search: str | None = None
    before: float | None = None  # epoch ms: page backwards from here
    limit: int = 200


class ObservabilityStore(ABC):
    @abstractmethod
    async def write(self, logs: list[LogRecord], spans: list[Span]) -> None:
        """Store a batch; a span written again (same id) replaces the earlier version."""

    @abstractmethod
    async def logs(self, query: LogQuery) -> list[LogRecord]:
        """Newest first."""

    @abstractmethod
    async def traces(
        self, *, status: str | None = None, step: str | None = None, limit: int = 100
    ) -> list[TraceSummary]:
        """Newest first."""

    @abstractmethod
    async def spans(self, trace_id: str) -> list[Span]:
        """The runs of one trace, in start order."""

    @abstractmethod
    async def prune(self, older_than: float) -> None:
        """Forget logs and traces older than this epoch time (seconds)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""


def summarise(trace_id: str, spans: list[Span]) -> TraceSummary:
    """A trace's status: failed if any run ended failed or dead and nothing after it
    succeeded for that step; running while any run is still going; rejected when the
    request was refused before its handler ran; ok otherwise."""
    ordered = sorted(spans, key=lambda s: s.started_at)
    entry = ordered[0]
    final: dict[str, str] = {}
    for span in ordered:
        final[span.step] = span.status
    errors = sum(1 for s in ordered if s.status in ("failed", "retrying", "dead"))
    if any(s.status == "running" for s in ordered):
        status = "running"
    elif any(v in ("failed", "dead") for v in final.values()):
        status = "failed"
    elif any(v == "rejected" for v in final.values()):
        status = "rejected"
    else:
        status = "ok"
    ends = [s.ended_at for s in ordered if s.ended_at is not None]
    return TraceSummary(
        trace_id=trace_id,
        entry_step=entry.step,
        entry_kind=entry.kind,
        trigger=entry.trigger,
        started_at=entry.started_at,
        ended_at=max(ends) if ends and status != "running" else None,
        status=status,
        spans=len(ordered),
        errors=errors,
    )


def span_from_dict(data: dict[str, Any]) -> Span:
    return Span(
        id=data["id"],
        trace_id=data["traceId"],
        step=data["step"],
        kind=data["kind"],
        started_at=data["startedAt"],
        ended_at=data["endedAt"],
        status=data["status"],
        attempt=data["attempt"],
        trigger=data["trigger"],
        error=data["error"],
        stack=data["stack"],
        emits=data["emits"],
        state_ops=data["stateOps"],
        stream_ops=data["streamOps"],
        flows=data["flows"],
        # Spans stored by an earlier version have neither.
        http_status=data.get("httpStatus"),
        field_errors=data.get("fieldErrors") or [],
    )
