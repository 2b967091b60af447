"""Logs and traces in memory, bounded: for tests and `--memory`."""

from __future__ import annotations

from collections import OrderedDict, deque

from motia.adapters.observability.base import (
    LogQuery,
    LogRecord,
    ObservabilityStore,
    Span,
    TraceSummary,
    summarise,
)


class MemoryObservabilityStore(ObservabilityStore):
    def __init__(self, max_logs: int = 20_000, max_traces: int = 5_000) -> None:
        self._logs: deque[LogRecord] = deque(maxlen=max_logs)
        self._traces: OrderedDict[str, dict[str, Span]] = OrderedDict()
        self._max_traces = max_traces

    async def write(self, logs: list[LogRecord], spans: list[Span]) -> None:
        self._logs.extend(logs)
        for span in spans:
            trace = self._traces.setdefault(span.trace_id, {})
            trace[span.id] = span
            while len(self._traces) > self._max_traces:
                self._traces.popitem(last=False)

    async def logs(self, query: LogQuery) -> list[LogRecord]:
        found: list[LogRecord] = []
        search = query.search.lower() if query.search else None
        for record in reversed(self._logs):
            if query.before is not None and record["time"] >= query.before:
                continue
            if query.trace_id and record.get("traceId") != query.trace_id:
                continue
            if query.step and record.get("step") != query.step:
                continue
            if query.flow and query.flow not in (record.get("flows") or []):
                continue
            if query.levels and record.get("level") not in query.levels:
                continue
            if (
                search
                and search not in str(record.get("msg", "")).lower()
                and search not in str(record).lower()
            ):
                continue
            found.append(record)
            if len(found) >= query.limit:
                break
        return found

    async def traces(
        self, *, status: str | None = None, step: str | None = None, limit: int = 100
    ) -> list[TraceSummary]:
        summaries = []
        for trace_id in reversed(self._traces):
            spans = list(self._traces[trace_id].values())
            if step and not any(s.step == step for s in spans):
                continue
            summary = summarise(trace_id, spans)
            if status and summary.status != status:
                continue
            summaries.append(summary)
        summaries.sort(key=lambda t: t.started_at, reverse=True)
        return summaries[:limit]

    async def spans(self, trace_id: str) -> list[Span]:
        return sorted(self._traces.get(trace_id, {}).values(), key=lambda s: s.started_at)

    async def prune(self, older_than: float) -> None:
        cutoff_ms = older_than * 1000
        while self._logs and self._logs[0]["time"] < cutoff_ms:
            self._logs.popleft()
        for trace_id in list(self._traces):
            spans = self._traces[trace_id].values()
            if all((s.ended_at or s.started_at) < older_than for s in spans):
                del self._traces[trace_id]
