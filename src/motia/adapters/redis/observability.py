"""Logs and traces in Redis, shared by every process of a deployment.

Keys (under the deployment's prefix):
- `obs:logs`: log records in a sorted set scored by their time (ms), capped in length;
- `obs:trace-logs:<trace>`: the log records of one trace (a list that expires);
- `obs:spans:<trace>`: the spans of one trace (a hash by span id that expires);
- `obs:traces`: every trace id, scored by its start time, for listing newest first.
"""

from __future__ import annotations

import os
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
from motia.adapters.redis.calls import settle

MAX_LOGS = 100_000
SCAN_BATCH = 1000


class RedisObservabilityStore(ObservabilityStore):
    def __init__(self, client: Any, prefix: str, retention_seconds: float) -> None:
        self._redis = client
        self._prefix = prefix
        self._ttl = max(1, int(retention_seconds))

    def _key(self, *parts: str) -> str:
        return ":".join([self._prefix, "obs", *parts])

    async def write(self, logs: list[LogRecord], spans: list[Span]) -> None:
        if not logs and not spans:
            return
        pipe = self._redis.pipeline(transaction=False)
        if logs:
            # A nonce keeps two identical records (same time and text) apart.
            members = {_member(record): float(record["time"]) for record in logs}
            pipe.zadd(self._key("logs"), members)
            pipe.zremrangebyrank(self._key("logs"), 0, -(MAX_LOGS + 1))
        for record in logs:
            encoded = jsoncodec.dumps(record)
            trace_id = record.get("traceId")
            if trace_id:
                pipe.rpush(self._key("trace-logs", trace_id), encoded)
                pipe.expire(self._key("trace-logs", trace_id), self._ttl)
        for span in spans:
            key = self._key("spans", span.trace_id)
            pipe.hset(key, span.id, jsoncodec.dumps(span.as_dict()))
            pipe.expire(key, self._ttl)
            pipe.zadd(self._key("traces"), {span.trace_id: span.started_at}, nx=True)
        await settle(pipe.execute())

    async def logs(self, query: LogQuery) -> list[LogRecord]:
        if query.trace_id:
            key = self._key("trace-logs", query.trace_id)
            raw = await settle(self._redis.lrange(key, 0, -1))
            candidates = [jsoncodec.loads(r) for r in reversed(raw)]
            return [r for r in candidates if _matches(r, query)][: query.limit]
        found: list[LogRecord] = []
        upper = "+inf" if query.before is None else f"({query.before}"
        offset = 0
        while len(found) < query.limit:
            batch = await settle(
                self._redis.zrevrangebyscore(
                    self._key("logs"), upper, "-inf", start=offset, num=SCAN_BATCH
                )
            )
            if not batch:
                break
            offset += len(batch)
            for member in batch:
                record = _record(member)
                if _matches(record, query):
                    found.append(record)
                    if len(found) >= query.limit:
                        break
        return found

    async def traces(
        self, *, status: str | None = None, step: str | None = None, limit: int = 100
    ) -> list[TraceSummary]:
        wanted = limit * (5 if status or step else 1)
        ids = await settle(self._redis.zrevrange(self._key("traces"), 0, wanted - 1))
        summaries = []
        for raw_id in ids:
            trace_id = raw_id.decode() if isinstance(raw_id, bytes) else raw_id
            spans = await self.spans(trace_id)
            if not spans or (step and not any(s.step == step for s in spans)):
                continue
            summary = summarise(trace_id, spans)
            if status and summary.status != status:
                continue
            summaries.append(summary)
            if len(summaries) >= limit:
                break
        return summaries

    async def spans(self, trace_id: str) -> list[Span]:
        raw = await settle(self._redis.hvals(self._key("spans", trace_id)))
        return sorted((span_from_dict(jsoncodec.loads(r)) for r in raw), key=lambda s: s.started_at)

    async def prune(self, older_than: float) -> None:
        # Span and per-trace log keys expire on their own; trim the shared indexes.
        pipe = self._redis.pipeline(transaction=False)
        pipe.zremrangebyscore(self._key("traces"), "-inf", older_than)
        pipe.zremrangebyscore(self._key("logs"), "-inf", f"({older_than * 1000}")
        await settle(pipe.execute())


def _member(record: LogRecord) -> bytes:
    return os.urandom(4).hex().encode() + b"|" + jsoncodec.dumps(record)


def _record(member: bytes | str) -> LogRecord:
    raw = member.encode() if isinstance(member, str) else member
    decoded: LogRecord = jsoncodec.loads(raw.split(b"|", 1)[1])
    return decoded


def _matches(record: LogRecord, query: LogQuery) -> bool:
    if query.before is not None and record.get("time", 0) >= query.before:
        return False
    if query.step and record.get("step") != query.step:
        return False
    if query.flow and query.flow not in (record.get("flows") or []):
        return False
    if query.levels and record.get("level") not in query.levels:
        return False
    return not (query.search and query.search.lower() not in jsoncodec.dumps_str(record).lower())
