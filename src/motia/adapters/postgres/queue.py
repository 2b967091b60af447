"""PostgreSQL queue: messages are rows of `queue_messages`, shared by every process.

- A lease is one `UPDATE` of rows picked `FOR UPDATE SKIP LOCKED`: processes leasing at
  once never wait for each other and never take the same message.
- In a FIFO group only the oldest message (lowest `seq`) can be leased, so while it is
  leased or waiting for a retry the rest of its group waits: one in flight per group.
- `complete` deletes the message and inserts the handler's emits in one statement (one
  transaction), only while the lease is held: the outbox. A failed or lost attempt
  publishes nothing.
- Every write that makes messages visible sends a NOTIFY naming the subscribers, so idle
  workers of every process look at once instead of at their next poll.
Times come from the backend's clock (epoch seconds), like the other backends, so tests
drive retries and leases with a manual clock.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from typing import Any

from motia import jsoncodec
from motia.adapters.postgres.database import PostgresDatabase
from motia.adapters.postgres.listener import Listener
from motia.adapters.queue.base import (
    ALL_DEAD_LETTERS,
    DeadLetter,
    DeadLetterFilter,
    Delivery,
    Failure,
    OutgoingMessage,
    QueueAdapter,
    QueueStats,
)
from motia.clock import Clock

_COLUMNS = "id, event_id, subscriber, topic, data, trace_id, flows, group_id, visible_at"
# The messages to insert, as arrays (one round trip however many), in their order.
_NEW = (
    "SELECT m.id, m.event_id, m.subscriber, m.topic, m.data::json, m.trace_id, "
    "m.flows::json, m.group_id, m.visible_at, %(now)s::float8 "
    "FROM unnest(%(ids)s::text[], %(event_ids)s::text[], %(subscribers)s::text[], "
    "%(topics)s::text[], %(data)s::text[], %(traces)s::text[], %(flows)s::text[], "
    "%(groups)s::text[], %(visible)s::float8[]) WITH ORDINALITY "
    f"AS m({_COLUMNS}, n) ORDER BY m.n"
)
_INSERT = f"INSERT INTO queue_messages ({_COLUMNS}, enqueued_at) {_NEW} ON CONFLICT (id) DO NOTHING"
# Wake the workers of the subscribers that got messages (delivered at commit).
_NOTIFY = (
    "SELECT pg_notify(%(channel)s, s) FROM "
    "(SELECT DISTINCT unnest(%(subscribers)s::text[]) AS s) AS subscribers"
)
_PUBLISH = f"WITH inserted AS ({_INSERT}), woken AS ({_NOTIFY}) SELECT count(*) FROM woken"
# Delete the message while the lease is held; only then insert the emits.
_COMPLETE = (
    "WITH done AS (DELETE FROM queue_messages WHERE id = %(id)s AND lease_token = %(token)s "
    "RETURNING 1), "
    f"inserted AS (INSERT INTO queue_messages ({_COLUMNS}, enqueued_at) "
    f"SELECT * FROM ({_NEW}) AS new WHERE EXISTS (SELECT 1 FROM done) "
    "ON CONFLICT (id) DO NOTHING), "
    f"woken AS ({_NOTIFY} WHERE EXISTS (SELECT 1 FROM done)) "
    "SELECT (SELECT count(*) FROM done), (SELECT count(*) FROM woken)"
)
# Visible messages of a subscriber, oldest first; a message of a FIFO group only when it is
# the oldest of its group (so a leased or retrying head blocks the rest of the group).
_LEASE = """
WITH picked AS (
    SELECT seq FROM queue_messages AS m
    WHERE subscriber = %(subscriber)s AND visible_at <= %(now)s
      AND (lease_token IS NULL OR lease_until <= %(now)s)
      AND (group_id IS NULL OR seq = (
            SELECT min(seq) FROM queue_messages AS g
            WHERE g.subscriber = m.subscriber AND g.group_id = m.group_id))
    ORDER BY seq
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE queue_messages AS q
SET attempts = q.attempts + 1, lease_token = %(token)s, lease_until = %(until)s
FROM picked WHERE q.seq = picked.seq
RETURNING q.seq, q.id, q.event_id, q.topic, q.data::text, q.trace_id, q.flows::text,
          q.group_id, q.attempts, q.enqueued_at
"""
_NEXT_VISIBLE = (
    "SELECT min(greatest(visible_at, "
    "CASE WHEN lease_token IS NULL THEN 0 ELSE lease_until END)) "
    "FROM queue_messages WHERE subscriber = %s"
)
_HELD = "id = %s AND lease_token = %s"


def _new_rows(messages: Sequence[OutgoingMessage], now: float) -> dict[str, Any]:
    """The parameters of `_NEW`; encodes first, so a bad payload writes nothing."""
    data = [jsoncodec.dumps(m.data).decode() for m in messages]
    return {
        "now": now,
        "ids": [m.id for m in messages],
        "event_ids": [m.event_id for m in messages],
        "subscribers": [m.subscriber for m in messages],
        "topics": [m.topic for m in messages],
        "data": data,
        "traces": [m.trace_id for m in messages],
        "flows": [jsoncodec.dumps_str(m.flows) for m in messages],
        "groups": [m.group_id for m in messages],
        "visible": [now + m.delay for m in messages],
    }


class PostgresQueueAdapter(QueueAdapter):
    def __init__(self, database: PostgresDatabase, clock: Clock, channel: str) -> None:
        self._db = database
        self._clock = clock
        self._channel = channel
        self._undoing: set[asyncio.Task[Any]] = set()
        self._listener: Listener | None = None

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        if not messages:
            return
        params = _new_rows(messages, self._clock.time())
        await self._db.execute(_PUBLISH, {**params, "channel": self._channel})

    async def lease(self, subscriber: str, limit: int, lease_seconds: float) -> list[Delivery]:
        now = self._clock.time()
        # One token for the whole batch: a lease is identified by message id and token.
        token = os.urandom(8).hex()
        params = {
            "subscriber": subscriber,
            "now": now,
            "limit": limit,
            "token": token,
            "until": now + lease_seconds,
        }
        leasing = asyncio.ensure_future(self._db.fetch(_LEASE, params))
        try:
            # Shielded: a caller cancelled mid-way does not leave the statement half-read;
            # what it leased is handed back below, its attempt not counted.
            rows = await asyncio.shield(leasing)
        except asyncio.CancelledError:
            leasing.add_done_callback(lambda _: self._undo_lease(token))
            raise
        rows.sort(key=lambda row: row[0])
        return [
            Delivery(
                id=id_,
                event_id=event_id,
                subscriber=subscriber,
                topic=topic,
                data=jsoncodec.loads(data),
                trace_id=trace_id,
                flows=jsoncodec.loads(flows),
                group_id=group_id,
                attempt=attempts,
                lease_token=token,
                enqueued_at=enqueued,
            )
            for _, id_, event_id, topic, data, trace_id, flows, group_id, attempts, enqueued in rows
        ]

    def _undo_lease(self, token: str) -> None:
        self._in_background(
            self._db.execute(
                "UPDATE queue_messages SET lease_token = NULL, lease_until = 0, "
                "attempts = greatest(attempts - 1, 0) WHERE lease_token = %s",
                (token,),
            )
        )

    def _in_background(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._undoing.add(task)
        task.add_done_callback(self._settled)

    def _settled(self, task: asyncio.Task[Any]) -> None:
        self._undoing.discard(task)
        if not task.cancelled():
            task.exception()  # a failed undo leaves the lease to expire: nothing to report

    async def lease_and_peek(
        self, subscriber: str, limit: int, lease_seconds: float
    ) -> tuple[list[Delivery], float | None]:
        deliveries = await self.lease(subscriber, limit, lease_seconds)
        if len(deliveries) >= limit:
            return deliveries, 0.0
        return deliveries, await self.next_visible_at(subscriber)

    async def extend(self, deliveries: Sequence[Delivery], lease_seconds: float) -> None:
        if not deliveries:
            return
        await self._db.execute(
            "UPDATE queue_messages AS q SET lease_until = %s FROM unnest(%s::text[], %s::text[]) "
            "AS held(id, token) WHERE q.id = held.id AND q.lease_token = held.token",
            (
                self._clock.time() + lease_seconds,
                [d.id for d in deliveries],
                [d.lease_token for d in deliveries],
            ),
        )

    async def complete(self, delivery: Delivery, emits: Sequence[OutgoingMessage]) -> bool:
        params = _new_rows(emits, self._clock.time())
        row = await self._db.fetch_one(
            _COMPLETE,
            {**params, "id": delivery.id, "token": delivery.lease_token, "channel": self._channel},
        )
        return row is not None and row[0] > 0

    async def retry(self, delivery: Delivery, delay: float, failure: Failure) -> None:
        await self._db.execute(
            "UPDATE queue_messages SET lease_token = NULL, lease_until = 0, visible_at = %s, "
            f"last_error = %s WHERE {_HELD}",
            (self._clock.time() + delay, failure.error, delivery.id, delivery.lease_token),
        )

    async def release(self, delivery: Delivery) -> None:
        await self._db.execute(
            "UPDATE queue_messages SET lease_token = NULL, lease_until = 0, "
            f"attempts = greatest(attempts - 1, 0) WHERE {_HELD}",
            (delivery.id, delivery.lease_token),
        )

    async def dead_letter(self, delivery: Delivery, failure: Failure) -> None:
        await self._db.execute(
            f"WITH moved AS (DELETE FROM queue_messages WHERE {_HELD} RETURNING *) "
            "INSERT INTO dead_letters (id, event_id, subscriber, topic, data, trace_id, flows, "
            "group_id, attempts, error, stack, reason, enqueued_at, failed_at) "
            "SELECT id, event_id, subscriber, topic, data, trace_id, flows, group_id, attempts, "
            "%s, %s, %s, enqueued_at, %s FROM moved ON CONFLICT (id) DO UPDATE SET "
            "attempts = excluded.attempts, error = excluded.error, stack = excluded.stack, "
            "reason = excluded.reason, failed_at = excluded.failed_at",
            (
                delivery.id,
                delivery.lease_token,
                failure.error,
                failure.stack,
                failure.reason,
                self._clock.time(),
            ),
        )

    @staticmethod
    def _where(where: DeadLetterFilter) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if where.ids:
            clauses.append("id = ANY(%s::text[])")
            params.append(list(where.ids))
        if where.subscriber is not None:
            clauses.append("subscriber = %s")
            params.append(where.subscriber)
        if where.topic is not None:
            clauses.append("topic = %s")
            params.append(where.topic)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    async def dead_letters(
        self, where: DeadLetterFilter = ALL_DEAD_LETTERS, limit: int = 100, offset: int = 0
    ) -> list[DeadLetter]:
        clause, params = self._where(where)
        rows = await self._db.fetch(
            "SELECT id, event_id, subscriber, topic, data::text, trace_id, flows::text, "
            "group_id, attempts, error, stack, reason, enqueued_at, failed_at "
            f"FROM dead_letters{clause} ORDER BY failed_at DESC, id LIMIT %s OFFSET %s",
            (*params, limit, offset),
        )
        return [DeadLetter.from_row(r) for r in rows]

    async def redrive(self, where: DeadLetterFilter = ALL_DEAD_LETTERS) -> int:
        clause, params = self._where(where)
        now = self._clock.time()
        row = await self._db.fetch_one(
            f"WITH moved AS (DELETE FROM dead_letters{clause} RETURNING *), "
            f"inserted AS (INSERT INTO queue_messages ({_COLUMNS}, enqueued_at) "
            "SELECT id, event_id, subscriber, topic, data, trace_id, flows, group_id, %s, %s "
            "FROM moved ORDER BY failed_at, id ON CONFLICT (id) DO NOTHING), "
            "woken AS (SELECT pg_notify(%s, s) FROM (SELECT DISTINCT subscriber AS s FROM moved) "
            "AS subscribers) "
            "SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM woken)",
            (*params, now, now, self._channel),
        )
        return int(row[0]) if row else 0

    async def purge(self, where: DeadLetterFilter = ALL_DEAD_LETTERS) -> int:
        clause, params = self._where(where)
        return await self._db.execute(f"DELETE FROM dead_letters{clause}", params)

    async def stats(self, subscriber: str) -> QueueStats:
        now = self._clock.time()
        row = await self._db.fetch_one(
            "SELECT count(*), "
            "count(*) FILTER (WHERE lease_token IS NOT NULL AND lease_until > %(now)s), "
            "count(*) FILTER (WHERE (lease_token IS NULL OR lease_until <= %(now)s) "
            "AND visible_at > %(now)s), "
            "(SELECT count(*) FROM dead_letters WHERE subscriber = %(subscriber)s) "
            "FROM queue_messages WHERE subscriber = %(subscriber)s",
            {"now": now, "subscriber": subscriber},
        )
        total, in_flight, delayed, dead = row or (0, 0, 0, 0)
        return QueueStats(subscriber, total - in_flight, in_flight, delayed, dead)

    async def next_visible_at(self, subscriber: str) -> float | None:
        row = await self._db.fetch_one(_NEXT_VISIBLE, (subscriber,))
        return None if row is None or row[0] is None else float(row[0])

    async def next_delayed_at(self, subscriber: str, now: float) -> float | None:
        row = await self._db.fetch_one(
            "SELECT min(visible_at) FROM queue_messages WHERE subscriber = %s AND visible_at > %s",
            (subscriber, now),
        )
        return None if row is None or row[0] is None else float(row[0])

    async def watch(self, wake: Callable[[str], None]) -> None:
        if self._listener is not None:
            raise RuntimeError("the queue is already watched")
        self._listener = Listener(self._db, self._channel)

        async def handle(subscriber: str) -> None:
            wake(subscriber)

        await self._listener.start(handle)

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        # Leases handed back after a cancelled lease call finish before the pool closes.
        while self._undoing:
            await asyncio.wait(list(self._undoing))
