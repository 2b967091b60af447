"""Logs and traces in PostgreSQL, shared by every process of the deployment."""

from __future__ import annotations

from typing import Any

from psycopg import sql

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
from motia.adapters.postgres.database import PostgresDatabase

PRUNE_BATCH = 500

_INSERT_LOGS = """
INSERT INTO logs (time, level, step, trace_id, flows, msg, record)
SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                     %s::json[])
"""
_UPSERT_SPANS = """
INSERT INTO spans (id, trace_id, step, status, started_at, ended_at, span)
SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::float8[],
                     %s::float8[], %s::json[])
ON CONFLICT (id) DO UPDATE SET status = excluded.status, started_at = excluded.started_at,
    ended_at = excluded.ended_at, span = excluded.span
"""


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]


class PostgresObservabilityStore(ObservabilityStore):
    def __init__(self, database: PostgresDatabase) -> None:
        self._db = database

    async def write(self, logs: list[LogRecord], spans: list[Span]) -> None:
        log_rows = [
            (
                int(r["time"]),
                str(r.get("level")),
                r.get("step"),
                r.get("traceId"),
                jsoncodec.dumps_str(r.get("flows") or []),
                str(r.get("msg", "")),
                jsoncodec.dumps_str(r),
            )
            for r in logs
        ]
        # A span written twice in one batch: its last version wins.
        latest = {s.id: s for s in spans}
        span_rows = [
            (
                s.id,
                s.trace_id,
                s.step,
                s.status,
                s.started_at,
                s.ended_at,
                jsoncodec.dumps_str(s.as_dict()),
            )
            for s in latest.values()
        ]
        if not log_rows and not span_rows:
            return
        # One statement: atomic without a transaction left open if the caller goes.
        await self._db.execute(
            f"WITH logged AS ({_INSERT_LOGS}) {_UPSERT_SPANS}",
            [*_columns(log_rows, 7), *_columns(span_rows, 7)],
        )

    async def logs(self, query: LogQuery) -> list[LogRecord]:
        clauses: list[sql.Composable] = []
        params: list[Any] = []
        if query.before is not None:
            clauses.append(sql.SQL("time < %s"))
            params.append(query.before)
        if query.trace_id:
            clauses.append(sql.SQL("trace_id = %s"))
            params.append(query.trace_id)
        if query.step:
            clauses.append(sql.SQL("step = %s"))
            params.append(query.step)
        if query.flow:
            clauses.append(sql.SQL("flows LIKE %s"))
            params.append(f'%"{query.flow}"%')
        if query.levels:
            clauses.append(sql.SQL("level = ANY(%s::text[])"))
            params.append(list(query.levels))
        if query.search:
            clauses.append(sql.SQL("(msg ILIKE %s OR record::text ILIKE %s)"))
            params.extend([f"%{query.search}%"] * 2)
        where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("")
        rows = await self._db.fetch(
            sql.SQL("SELECT record::text FROM logs{} ORDER BY seq DESC LIMIT %s").format(where),
            (*params, query.limit),
        )
        return [jsoncodec.loads(row[0]) for row in rows]

    async def traces(
        self, *, status: str | None = None, step: str | None = None, limit: int = 100
    ) -> list[TraceSummary]:
        # Newest traces first, with their spans in one query; more than asked when
        # filtering by status.
        wanted = limit * (5 if status else 1)
        rows = await self._db.fetch(
            "WITH newest AS (SELECT trace_id, min(started_at) AS s FROM spans "
            "WHERE %(step)s::text IS NULL OR trace_id IN "
            "(SELECT trace_id FROM spans WHERE step = %(step)s) "
            "GROUP BY trace_id ORDER BY s DESC LIMIT %(limit)s) "
            "SELECT newest.trace_id, spans.span::text FROM newest JOIN spans USING (trace_id) "
            "ORDER BY newest.s DESC, newest.trace_id, spans.started_at",
            {"step": step, "limit": wanted},
        )
        by_trace: dict[str, list[Span]] = {}
        for trace_id, span in rows:
            by_trace.setdefault(trace_id, []).append(span_from_dict(jsoncodec.loads(span)))
        summaries = []
        for trace_id, spans in by_trace.items():
            summary = summarise(trace_id, spans)
            if status and summary.status != status:
                continue
            summaries.append(summary)
            if len(summaries) >= limit:
                break
        return summaries

    async def spans(self, trace_id: str) -> list[Span]:
        rows = await self._db.fetch(
            "SELECT span::text FROM spans WHERE trace_id = %s ORDER BY started_at", (trace_id,)
        )
        return [span_from_dict(jsoncodec.loads(row[0])) for row in rows]

    async def prune(self, older_than: float) -> None:
        """In batches of PRUNE_BATCH rows, each its own short statement, so pruning a large
        backlog holds no lock for long and never touches the queue's tables."""
        cutoff_ms = int(older_than * 1000)
        while True:
            deleted = await self._db.execute(
                "DELETE FROM logs WHERE seq IN (SELECT seq FROM logs WHERE time < %s "
                "ORDER BY time LIMIT %s)",
                (cutoff_ms, PRUNE_BATCH),
            )
            if deleted < PRUNE_BATCH:
                break
        # Traces go whole, once their newest run ended before the cutoff; candidates are
        # taken in start order, from a cursor, so a long-lived trace cannot stall the rest.
        after = float("-inf")
        while True:
            rows = await self._db.fetch(
                "SELECT trace_id, started_at FROM spans WHERE started_at > %s "
                "AND started_at < %s ORDER BY started_at LIMIT %s",
                (after, older_than, PRUNE_BATCH),
            )
            if not rows:
                break
            traces = sorted({row[0] for row in rows})
            await self._db.execute(
                "DELETE FROM spans WHERE trace_id = ANY(%s::text[]) AND NOT EXISTS "
                "(SELECT 1 FROM spans AS s WHERE s.trace_id = spans.trace_id "
                "AND coalesce(s.ended_at, s.started_at) >= %s)",
                (traces, older_than),
            )
            if len(rows) < PRUNE_BATCH:
                break
            after = rows[-1][1]
