"""Scheduled emits in the SQLite queue: an index beside `motia_queue`.

A scheduled emit's copies are ordinary queue rows whose `visible_at` is the fire time, so
leasing, retries and firing once need nothing new. The index says which rows belong to
which scheduled emit (`motia_scheduled_copies`) and what the emit was (`motia_scheduled`):
enough to list, cancel and replace by key. A copy is pending, and may be cancelled, until
it is leased for the first time; it is written and deleted in the transactions that
publish, complete and cancel, so a restart finds exactly what was pending.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from motia import jsoncodec
from motia.adapters.queue.base import OutgoingMessage, ScheduledEmit
from motia.adapters.sqlite.database import Execute

SCHEMA = """
CREATE TABLE IF NOT EXISTS motia_scheduled (
    event_id    TEXT PRIMARY KEY,
    topic       TEXT NOT NULL,
    key         TEXT,
    fire_at     REAL NOT NULL,
    trace_id    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS motia_scheduled_by_key ON motia_scheduled (topic, key)
    WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS motia_scheduled_by_time ON motia_scheduled (fire_at);
CREATE TABLE IF NOT EXISTS motia_scheduled_copies (
    message_id  TEXT PRIMARY KEY,
    event_id    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS motia_scheduled_copies_by_event
    ON motia_scheduled_copies (event_id);
"""

# A queue row (alias q) that was never leased.
PENDING = "q.lease_token IS NULL AND q.attempts = 0"
# Fired emits dropped from the index per scheduled publish: it stays as small as what waits.
_PRUNE_BATCH = 100

Query = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


def record(execute: Execute, query: Query, messages: Sequence[OutgoingMessage], now: float) -> None:
    """Index the scheduled messages among `messages` (already inserted into the queue, in
    the same transaction); a keyed one replaces the pending emit with its key first."""
    scheduled = [m for m in messages if m.fire_at is not None]
    if not scheduled:
        return
    emits: dict[str, OutgoingMessage] = {}
    for m in scheduled:
        emits.setdefault(m.event_id, m)
    # A keyed emit replaces what waits under its key, including an earlier emit of this
    # same publish: one at a time, in order, each indexed before the next looks.
    for m in emits.values():
        if m.key is not None:
            rows = query(
                "SELECT event_id FROM motia_scheduled WHERE topic = ? AND key = ? "
                "AND event_id != ?",
                (m.topic, m.key, m.event_id),
            )
            cancel(execute, [row[0] for row in rows])
            _index(execute, [m], [c for c in scheduled if c.event_id == m.event_id])
    # The others many per statement: scheduling costs about what the queue insert does.
    plain = {event_id: m for event_id, m in emits.items() if m.key is None}
    _index(execute, list(plain.values()), [c for c in scheduled if c.event_id in plain])
    _prune(execute, query, now)


_ROWS_PER_INSERT = 200


def _index(
    execute: Execute, emits: Sequence[OutgoingMessage], copies: Sequence[OutgoingMessage]
) -> None:
    _insert_rows(
        execute,
        "INSERT OR REPLACE INTO motia_scheduled (event_id, topic, key, fire_at, trace_id)",
        [(m.event_id, m.topic, m.key, m.fire_at, m.trace_id) for m in emits],
    )
    _insert_rows(
        execute,
        "INSERT OR IGNORE INTO motia_scheduled_copies (message_id, event_id)",
        [(m.id, m.event_id) for m in copies],
    )


def _insert_rows(execute: Execute, insert: str, rows: Sequence[tuple[Any, ...]]) -> None:
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[start : start + _ROWS_PER_INSERT]
        marks = "(" + ", ".join("?" for _ in chunk[0]) + ")"
        values = ", ".join(marks for _ in chunk)
        execute(f"{insert} VALUES {values}", tuple(v for row in chunk for v in row))


def cancel(execute: Execute, event_ids: Sequence[str]) -> int:
    """Delete the pending copies of these emits and forget them; returns the copies
    deleted (a leased copy runs on)."""
    if not event_ids:
        return 0
    marks = ", ".join("?" for _ in event_ids)
    deleted = execute(
        f"DELETE FROM motia_queue AS q WHERE {PENDING} AND q.id IN (SELECT message_id FROM "
        f"motia_scheduled_copies WHERE event_id IN ({marks}))",
        tuple(event_ids),
    )
    execute(f"DELETE FROM motia_scheduled_copies WHERE event_id IN ({marks})", tuple(event_ids))
    execute(f"DELETE FROM motia_scheduled WHERE event_id IN ({marks})", tuple(event_ids))
    return deleted


def matching(query: Query, event_id: str | None, topic: str | None, key: str | None) -> list[str]:
    """The event ids a cancel names: one id, or a key on one topic or on all."""
    if event_id is not None:
        return [event_id]
    if key is None:
        return []
    if topic is None:
        rows = query("SELECT event_id FROM motia_scheduled WHERE key = ?", (key,))
    else:
        rows = query(
            "SELECT event_id FROM motia_scheduled WHERE topic = ? AND key = ?", (topic, key)
        )
    return [row[0] for row in rows]


def listing(query: Query, topic: str | None, limit: int) -> list[ScheduledEmit]:
    where, params = ("", ()) if topic is None else (" AND s.topic = ?", (topic,))
    rows = query(
        "SELECT s.event_id, s.topic, s.key, s.fire_at, s.trace_id, "
        "group_concat(q.subscriber, char(31)), min(q.data) "
        "FROM motia_scheduled AS s "
        "JOIN motia_scheduled_copies AS c ON c.event_id = s.event_id "
        f"JOIN motia_queue AS q ON q.id = c.message_id AND {PENDING} "
        f"WHERE 1 = 1{where} GROUP BY s.event_id ORDER BY s.fire_at, s.event_id LIMIT ?",
        (*params, limit),
    )
    return [
        ScheduledEmit(
            id=event_id,
            topic=topic_,
            key=key,
            fire_at=fire_at,
            trace_id=trace_id,
            subscribers=sorted(subscribers.split("\x1f")),
            data=jsoncodec.loads(data),
        )
        for event_id, topic_, key, fire_at, trace_id, subscribers, data in rows
    ]


def _prune(execute: Execute, query: Query, now: float) -> None:
    """Forget emits whose time has come and that have no pending copy left (they fired)."""
    fired = [
        row[0]
        for row in query(
            "SELECT s.event_id FROM motia_scheduled AS s WHERE s.fire_at <= ? "
            "AND NOT EXISTS (SELECT 1 FROM motia_scheduled_copies AS c "
            f"JOIN motia_queue AS q ON q.id = c.message_id AND {PENDING} "
            "WHERE c.event_id = s.event_id) ORDER BY s.fire_at LIMIT ?",
            (now, _PRUNE_BATCH),
        )
    ]
    if fired:
        cancel(execute, fired)
