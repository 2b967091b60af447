"""Logs and traces in the project's SQLite file: they survive restarts."""

from __future__ import annotations

from typing import Any

from motia import jsoncodec
from motia.adapters.observability.base import (
    LogQuery,
    LogRecord,
    ObservabilityStore,
    Span,
    TraceSummary,
    span_from_dict,
    summarise,
)
from motia.adapters.sqlite.database import SqliteDatabase

PRUNE_BATCH = 500

SCHEMA = """
CREATE TABLE IF NOT EXISTS motia_logs (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    time     INTEGER NOT NULL,
    level    TEXT NOT NULL,
    step     TEXT,
    trace_id TEXT,
    flows    TEXT,
    msg      TEXT NOT NULL,
    record   BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS motia_logs_by_time ON motia_logs (time);
CREATE INDEX IF NOT EXISTS motia_logs_by_trace ON motia_logs (trace_id, time);
CREATE TABLE IF NOT EXISTS motia_spans (
    id         TEXT PRIMARY KEY,
    trace_id   TEXT NOT NULL,
    step       TEXT NOT NULL,
    status     TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at   REAL,
    span       BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS motia_spans_by_trace ON motia_spans (trace_id, started_at);
CREATE INDEX IF NOT EXISTS motia_spans_by_start ON motia_spans (started_at);
"""


class SqliteObservabilityStore(ObservabilityStore):
    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database
        self._db.execute_script(SCHEMA)

    async def write(self, logs: list[LogRecord], spans: list[Span]) -> None:
        statements: list[tuple[str, tuple[Any, ...]]] = [
            (
                "INSERT INTO motia_logs (time, level, step, trace_id, flows, msg, record) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    int(r["time"]),
                    str(r.get("level")),
                    r.get("step"),
                    r.get("traceId"),
                    jsoncodec.dumps_str(r.get("flows") or []),
                    str(r.get("msg", "")),
                    jsoncodec.dumps(r),
                ),
            )
            for r in logs
        ]
        statements += [
            (
                "INSERT OR REPLACE INTO motia_spans (id, trace_id, step, status, started_at, "
                "ended_at, span) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    s.id,
                    s.trace_id,
                    s.step,
                    s.status,
                    s.started_at,
                    s.ended_at,
                    jsoncodec.dumps(s.as_dict()),
                ),
            )
            for s in spans
        ]
        if statements:
            await self._db.write_many(statements)

    async def logs(self, query: LogQuery) -> list[LogRecord]:
        clauses: list[str] = []
        params: list[Any] = []
        if query.before is not None:
            clauses.append("time < ?")
            params.append(query.before)
        if query.trace_id:
            clauses.append("trace_id = ?")
            params.append(query.trace_id)
        if query.step:
            clauses.append("step = ?")
            params.append(query.step)
        if query.flow:
            clauses.append("flows LIKE ?")
            params.append(f'%"{query.flow}"%')
        if query.levels:
            clauses.append(f"level IN ({', '.join('?' for _ in query.levels)})")
            params.extend(query.levels)
        if query.search:
            clauses.append("(msg LIKE ? OR CAST(record AS TEXT) LIKE ?)")
            params.extend([f"%{query.search}%"] * 2)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.query(
            f"SELECT record FROM motia_logs{where} ORDER BY seq DESC LIMIT ?",
            (*params, query.limit),
        )
        return [jsoncodec.loads(row[0]) for row in rows]

    async def traces(
        self, *, status: str | None = None, step: str | None = None, limit: int = 100
    ) -> list[TraceSummary]:
        where = (
            " WHERE trace_id IN (SELECT trace_id FROM motia_spans WHERE step = ?)" if step else ""
        )
        # Newest traces first; fetch more than asked when filtering by status.
        ids = self._db.query(
            f"SELECT trace_id, MIN(started_at) AS s FROM motia_spans{where} "
            "GROUP BY trace_id ORDER BY s DESC LIMIT ?",
            ((step,) if step else ()) + (limit * (5 if status else 1),),
        )
        summaries = []
        for trace_id, _ in ids:
            summary = summarise(trace_id, await self.spans(trace_id))
            if status and summary.status != status:
                continue
            summaries.append(summary)
            if len(summaries) >= limit:
                break
        return summaries

    async def spans(self, trace_id: str) -> list[Span]:
        rows = self._db.query(
            "SELECT span FROM motia_spans WHERE trace_id = ? ORDER BY started_at", (trace_id,)
        )
        return [span_from_dict(jsoncodec.loads(row[0])) for row in rows]

    async def prune(self, older_than: float) -> None:
        """In batches of PRUNE_BATCH rows, each its own short transaction, so pruning a
        large backlog never holds the event loop or the write lock for long."""
        cutoff_ms = int(older_than * 1000)
        while True:
            deleted = await self._db.write(
                "DELETE FROM motia_logs WHERE seq IN (SELECT seq FROM motia_logs "
                "WHERE time < ? ORDER BY time LIMIT ?)",
                (cutoff_ms, PRUNE_BATCH),
            )
            if deleted < PRUNE_BATCH:
                break
        # Traces go whole, once their newest run ended before the cutoff; candidates are
        # taken in start order, from a cursor, so a long-lived trace cannot stall the rest.
        after = float("-inf")
        while True:
            rows = self._db.query(
                "SELECT trace_id, started_at FROM motia_spans WHERE started_at > ? "
                "AND started_at < ? ORDER BY started_at LIMIT ?",
                (after, older_than, PRUNE_BATCH),
            )
            if not rows:
                break
            traces = sorted({row[0] for row in rows})
            await self._db.write(
                f"DELETE FROM motia_spans WHERE trace_id IN ({', '.join('?' for _ in traces)}) "
                "AND NOT EXISTS (SELECT 1 FROM motia_spans AS s WHERE s.trace_id = "
                "motia_spans.trace_id AND COALESCE(s.ended_at, s.started_at) >= ?)",
                (*traces, older_than),
            )
            if len(rows) < PRUNE_BATCH:
                break
            after = rows[-1][1]
