"""Scheduled emits in the PostgreSQL queue: an index beside `queue_messages`.

A scheduled emit's copies are ordinary queue rows whose `visible_at` is the fire time, so
leasing (`FOR UPDATE SKIP LOCKED`), retries and firing once across processes need
nothing new. `scheduled_copies` says which rows belong to which emit and
`scheduled_emits` what the emit was: enough to list, cancel and replace by key. A copy is
pending, and may be cancelled, until it is leased for the first time. A cancel deletes
only rows still pending, re-checked under the row lock, so a copy is either leased or
cancelled, never both. Replacing by key takes a transaction-scoped advisory lock on the
topic and key, so two processes replacing the same key at once leave one emit pending.
"""

from __future__ import annotations

from collections.abc import Sequence

from motia import jsoncodec
from motia.adapters.postgres.database import Connection, PostgresDatabase
from motia.adapters.queue.base import OutgoingMessage, ScheduledEmit

# A queue row (alias q) that was never leased.
PENDING = "q.lease_token IS NULL AND q.attempts = 0"
# Fired emits dropped from the index per scheduled publish: it stays as small as what waits.
_PRUNE_BATCH = 100


def has_scheduled(messages: Sequence[OutgoingMessage]) -> bool:
    return any(m.fire_at is not None for m in messages)


async def record(connection: Connection, messages: Sequence[OutgoingMessage], now: float) -> None:
    """Index the scheduled messages among `messages` (inserted into the queue in this
    transaction); a keyed one replaces the pending emit with its topic and key first."""
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
            await connection.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"motia.scheduled:{m.topic}\n{m.key}",),
            )
            cursor = await connection.execute(
                "SELECT event_id FROM scheduled_emits WHERE key = %s AND topic = %s "
                "AND event_id <> %s",
                (m.key, m.topic, m.event_id),
            )
            await cancel(connection, [row[0] for row in await cursor.fetchall()])
            await _index(connection, [m], [c for c in scheduled if c.event_id == m.event_id])
    # The others in one statement per table: a round trip per row made scheduling ten
    # times slower than an immediate emit.
    plain = {event_id: m for event_id, m in emits.items() if m.key is None}
    await _index(connection, list(plain.values()), [c for c in scheduled if c.event_id in plain])
    await _prune(connection, now)


async def _index(
    connection: Connection, emits: Sequence[OutgoingMessage], copies: Sequence[OutgoingMessage]
) -> None:
    if not emits:
        return
    await connection.execute(
        "INSERT INTO scheduled_emits (event_id, topic, key, fire_at, trace_id) "
        "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::float8[], %s::text[]) "
        "ON CONFLICT (event_id) DO NOTHING",
        (
            [m.event_id for m in emits],
            [m.topic for m in emits],
            [m.key for m in emits],
            [m.fire_at for m in emits],
            [m.trace_id for m in emits],
        ),
    )
    await connection.execute(
        "INSERT INTO scheduled_copies (message_id, event_id) "
        "SELECT * FROM unnest(%s::text[], %s::text[]) ON CONFLICT (message_id) DO NOTHING",
        ([m.id for m in copies], [m.event_id for m in copies]),
    )


async def cancel(connection: Connection, event_ids: Sequence[str]) -> int:
    """Delete the pending copies of these emits and forget them; returns the copies
    deleted (a leased copy runs on)."""
    if not event_ids:
        return 0
    ids = list(event_ids)
    cursor = await connection.execute(
        f"DELETE FROM queue_messages AS q WHERE {PENDING} AND q.id IN (SELECT message_id "
        "FROM scheduled_copies WHERE event_id = ANY(%s::text[]))",
        (ids,),
    )
    deleted = cursor.rowcount
    await connection.execute(
        "DELETE FROM scheduled_copies WHERE event_id = ANY(%s::text[])", (ids,)
    )
    await connection.execute("DELETE FROM scheduled_emits WHERE event_id = ANY(%s::text[])", (ids,))
    return deleted


async def cancel_matching(
    connection: Connection, event_id: str | None, topic: str | None, key: str | None
) -> int:
    """Cancel one emit by id, or those with a key (on one topic or on all)."""
    if event_id is not None:
        return await cancel(connection, [event_id])
    if key is None:
        return 0
    cursor = await connection.execute(
        "SELECT event_id FROM scheduled_emits WHERE key = %s AND (%s::text IS NULL OR topic = %s)",
        (key, topic, topic),
    )
    return await cancel(connection, [row[0] for row in await cursor.fetchall()])


async def listing(database: PostgresDatabase, topic: str | None, limit: int) -> list[ScheduledEmit]:
    rows = await database.fetch(
        "SELECT s.event_id, s.topic, s.key, s.fire_at, s.trace_id, "
        "array_agg(q.subscriber ORDER BY q.subscriber), min(q.data::text) "
        "FROM scheduled_emits AS s "
        "JOIN scheduled_copies AS c ON c.event_id = s.event_id "
        f"JOIN queue_messages AS q ON q.id = c.message_id AND {PENDING} "
        "WHERE %(topic)s::text IS NULL OR s.topic = %(topic)s "
        "GROUP BY s.event_id ORDER BY s.fire_at, s.event_id LIMIT %(limit)s",
        {"topic": topic, "limit": limit},
    )
    return [
        ScheduledEmit(
            id=event_id,
            topic=topic_,
            key=key,
            fire_at=fire_at,
            trace_id=trace_id,
            subscribers=list(subscribers),
            data=jsoncodec.loads(data),
        )
        for event_id, topic_, key, fire_at, trace_id, subscribers, data in rows
    ]


async def _prune(connection: Connection, now: float) -> None:
    """Forget emits whose time has come and that have no pending copy left (they fired)."""
    cursor = await connection.execute(
        "SELECT s.event_id FROM scheduled_emits AS s WHERE s.fire_at <= %s "
        "AND NOT EXISTS (SELECT 1 FROM scheduled_copies AS c "
        f"JOIN queue_messages AS q ON q.id = c.message_id AND {PENDING} "
        "WHERE c.event_id = s.event_id) ORDER BY s.fire_at LIMIT %s",
        (now, _PRUNE_BATCH),
    )
    fired = [row[0] for row in await cursor.fetchall()]
    if fired:
        await cancel(connection, fired)
