"""PostgreSQL queue: messages are rows of `queue_messages`, shared by every process.

- A lease is one `UPDATE` of rows picked `FOR UPDATE SKIP LOCKED`: processes leasing at
  once never wait for each other and never take the same message.
- In a FIFO group only the oldest message (lowest `seq`) can be leased, so while it is
  leased or waiting for a retry the rest of its group waits: one in flight per group.
- `complete` deletes the message and inserts the handler's emits in one statement (one
  transaction), only while the lease is held: the outbox. A failed or lost attempt
  publishes nothing.
- Publishes and completions are batched (`batching.Batcher`): those made in one
  event-loop turn are one statement, one commit and one WAL flush, and each caller still
  gets its own answer. A lease says in the same statement when to look next.
- Every write that makes messages visible sends a NOTIFY naming the subscribers, so idle
  workers of every process look at once instead of at their next poll.
Times come from the backend's clock (epoch seconds), like the other backends, so tests
drive retries and leases with a manual clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from motia import jsoncodec
from motia.adapters.postgres import scheduled as schedule
from motia.adapters.postgres.database import Connection, PostgresDatabase
from motia.adapters.postgres.listener import Listener
from motia.adapters.postgres.state import PostgresStateAdapter, apply_writes
from motia.adapters.queue.base import (
    ALL_DEAD_LETTERS,
    DeadLetter,
    DeadLetterFilter,
    Delivery,
    Failure,
    OutgoingMessage,
    QueueAdapter,
    QueueStats,
    ScheduledEmit,
)
from motia.adapters.queue.batching import Batcher
from motia.adapters.state.base import StateAdapter
from motia.adapters.state.pending import StateWrite
from motia.clock import Clock
from motia.randomness import random_hex

_COLUMNS = "id, event_id, subscriber, topic, data, trace_id, flows, group_id, visible_at"
# One batch of writes (see `_Write`) in one statement, so one round trip and one commit
# (one WAL flush) however many handlers finished in the same event-loop turn:
# - `ended`: the completed messages, deleted only while their lease is held;
# - `new`: the messages to insert, in order: those published (item 0) and the emits of
#   each completion that held its lease (a failed or lost attempt publishes nothing);
# - `woken`: one NOTIFY per subscriber that got messages (delivered at commit).
# The answer: the items whose completion held its lease.
_WRITE = f"""
WITH ended AS (
    DELETE FROM queue_messages AS q
    USING unnest(%(ended_ids)s::text[], %(ended_tokens)s::text[], %(ended_items)s::int[])
        AS e(id, token, item)
    WHERE q.id = e.id AND q.lease_token = e.token
    RETURNING e.item
), new AS (
    SELECT m.* FROM unnest(%(ids)s::text[], %(event_ids)s::text[], %(subscribers)s::text[],
        %(topics)s::text[], %(data)s::text[], %(traces)s::text[], %(flows)s::text[],
        %(groups)s::text[], %(visible)s::float8[], %(priorities)s::int[], %(items)s::int[])
        WITH ORDINALITY AS m({_COLUMNS}, priority, item, n)
    WHERE m.item = 0 OR m.item IN (SELECT item FROM ended)
), inserted AS (
    INSERT INTO queue_messages ({_COLUMNS}, priority, enqueued_at)
    SELECT id, event_id, subscriber, topic, data::json, trace_id, flows::json, group_id,
        visible_at, priority, %(now)s::float8 FROM new ORDER BY n
    ON CONFLICT (id) DO NOTHING
), woken AS (
    SELECT pg_notify(%(channel)s, s) FROM (SELECT DISTINCT subscriber AS s FROM new) AS w
)
SELECT (SELECT coalesce(array_agg(item), '{{}}') FROM ended), (SELECT count(*) FROM woken)
"""
# Messages per batch: large enough to amortise the round trip and the commit, small
# enough that one statement never holds its rows locked for long.
_MAX_WRITE = 1000
# Visible messages of a subscriber, highest priority first, then oldest; a message of a
# FIFO group only when it is the oldest of its group (so a leased or retrying head blocks
# the rest of the group). When it leases fewer than asked, the same statement says when to
# look next (the earliest time a message that was not leased becomes visible): a drained
# worker needs no second round trip.
# A lease is committed without waiting for its WAL flush (`synchronous_commit` off for
# this transaction only): a crash can forget a lease, and then the message is simply
# leased again, which at-least-once delivery allows; the flush would cost a disk sync.
_LEASE = """
WITH no_flush AS (
    SELECT set_config('synchronous_commit', 'off', true)
), picked AS (
    SELECT seq FROM queue_messages AS m
    WHERE subscriber = %(subscriber)s AND visible_at <= %(now)s
      AND (lease_token IS NULL OR lease_until <= %(now)s)
      AND (group_id IS NULL OR seq = (
            SELECT min(seq) FROM queue_messages AS g
            WHERE g.subscriber = m.subscriber AND g.group_id = m.group_id))
      AND EXISTS (SELECT 1 FROM no_flush)
    ORDER BY priority DESC, seq
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), leased AS (
    UPDATE queue_messages AS q
    SET attempts = q.attempts + 1, lease_token = %(token)s, lease_until = %(until)s
    FROM picked WHERE q.seq = picked.seq
    RETURNING q.seq, q.id, q.event_id, q.topic, q.data::text, q.trace_id, q.flows::text,
              q.group_id, q.attempts, q.enqueued_at, q.priority
), next_visible AS (
    SELECT min(greatest(visible_at, CASE WHEN lease_token IS NULL THEN 0 ELSE lease_until END))
    FROM queue_messages
    WHERE subscriber = %(subscriber)s AND seq NOT IN (SELECT seq FROM picked)
      AND (SELECT count(*) FROM picked) < %(limit)s  -- a full lease looks again anyway
)
SELECT (SELECT * FROM next_visible), leased.* FROM (SELECT 1) AS one
LEFT JOIN leased ON true
"""
# The stats of a subscriber in one statement; the oldest message a lease would take is
# found as `_LEASE` finds it (the subscriber's index in seq order, stopping at the first
# leasable row), without locking anything.
_STATS = """
SELECT count(*),
    count(*) FILTER (WHERE lease_token IS NOT NULL AND lease_until > %(now)s),
    count(*) FILTER (WHERE (lease_token IS NULL OR lease_until <= %(now)s)
        AND visible_at > %(now)s),
    (SELECT count(*) FROM dead_letters WHERE subscriber = %(subscriber)s),
    (SELECT enqueued_at FROM queue_messages AS m
        WHERE subscriber = %(subscriber)s AND visible_at <= %(now)s
          AND (lease_token IS NULL OR lease_until <= %(now)s)
          AND (group_id IS NULL OR seq = (
                SELECT min(seq) FROM queue_messages AS g
                WHERE g.subscriber = m.subscriber AND g.group_id = m.group_id))
        ORDER BY seq LIMIT 1)
FROM queue_messages WHERE subscriber = %(subscriber)s
"""
_NEXT_VISIBLE = (
    "SELECT min(greatest(visible_at, "
    "CASE WHEN lease_token IS NULL THEN 0 ELSE lease_until END)) "
    "FROM queue_messages WHERE subscriber = %s"
)
_HELD = "id = %s AND lease_token = %s"


@dataclass(frozen=True)
class _Write:
    """One item of a write batch: messages to insert and, for a completion, the lease
    that must still be held (id, token) for them to be inserted."""

    ending: tuple[str, str] | None
    rows: list[tuple[Any, ...]]


def _rows(messages: Sequence[OutgoingMessage], now: float) -> list[tuple[Any, ...]]:
    """The columns of `messages`, encoded; raises TypeError (before anything is written)
    when a payload cannot be stored as JSON."""
    return [
        (
            m.id,
            m.event_id,
            m.subscriber,
            m.topic,
            jsoncodec.dumps(m.data).decode(),
            m.trace_id,
            jsoncodec.dumps_str(m.flows),
            m.group_id,
            now + m.delay,
            m.priority,
        )
        for m in messages
    ]


# The array parameters of `_WRITE`: one per column of `_Write.rows` and its item tag.
_ROW_ARRAYS = (
    "ids", "event_ids", "subscribers", "topics", "data", "traces", "flows", "groups",
    "visible", "priorities", "items",
)  # fmt: skip


def _batch_params(writes: Sequence[_Write]) -> dict[str, Any]:
    """The parameters of `_WRITE`; items are numbered from 1, and the rows of a
    completion carry its item's number (those of a publish carry 0)."""
    ended: list[tuple[str, str, int]] = []
    rows: list[tuple[Any, ...]] = []
    for item, write in enumerate(writes, start=1):
        tag = 0
        if write.ending is not None:
            ended.append((*write.ending, item))
            tag = item
        rows += [(*row, tag) for row in write.rows]
    columns = zip(*rows, strict=True) if rows else [()] * len(_ROW_ARRAYS)
    params: dict[str, Any] = {
        name: list(column) for name, column in zip(_ROW_ARRAYS, columns, strict=True)
    }
    ended_columns = zip(*ended, strict=True) if ended else [()] * 3
    for name, column in zip(
        ("ended_ids", "ended_tokens", "ended_items"), ended_columns, strict=True
    ):
        params[name] = list(column)
    return params


class PostgresQueueAdapter(QueueAdapter):
    def __init__(self, database: PostgresDatabase, clock: Clock, channel: str) -> None:
        self._db = database
        self._clock = clock
        self._channel = channel
        self._undoing: set[asyncio.Task[Any]] = set()
        self._listener: Listener | None = None
        self._writes: Batcher[_Write, bool] = Batcher(self._flush_writes, _MAX_WRITE)

    async def _flush_writes(self, writes: list[_Write]) -> list[bool]:
        params = {**_batch_params(writes), "now": self._clock.time(), "channel": self._channel}
        row = await self._db.fetch_one(_WRITE, params)
        held = set(row[0]) if row is not None else set()
        return [write.ending is None or item in held for item, write in enumerate(writes, 1)]

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        if not messages:
            return
        rows = _rows(messages, self._clock.time())
        if schedule.has_scheduled(messages):  # indexed in the same transaction, unbatched
            await self._write_scheduled(_Write(None, rows), messages, ())
            return
        await self._writes.submit(_Write(None, rows), len(rows))

    async def lease(self, subscriber: str, limit: int, lease_seconds: float) -> list[Delivery]:
        deliveries, _ = await self.lease_and_peek(subscriber, limit, lease_seconds)
        return deliveries

    async def lease_and_peek(
        self, subscriber: str, limit: int, lease_seconds: float
    ) -> tuple[list[Delivery], float | None]:
        now = self._clock.time()
        until = now + lease_seconds
        # One token for the whole batch: a lease is identified by message id and token.
        token = random_hex(8)
        params = {
            "subscriber": subscriber,
            "now": now,
            "limit": limit,
            "token": token,
            "until": until,
        }
        leasing = asyncio.ensure_future(self._db.fetch(_LEASE, params))
        try:
            # Shielded: a caller cancelled mid-way does not leave the statement half-read;
            # what it leased is handed back below, its attempt not counted.
            rows = await asyncio.shield(leasing)
        except asyncio.CancelledError:
            leasing.add_done_callback(lambda _: self._undo_lease(token))
            raise
        others_next = rows[0][0] if rows else None
        # In lease order: highest priority first, then oldest.
        leased = sorted(
            (row[1:] for row in rows if row[1] is not None), key=lambda r: (-r[-1], r[0])
        )
        deliveries = [
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
            for _, id_, event_id, topic, data, trace_id, flows, group_id, attempts, enqueued, _ in (
                leased
            )
        ]
        if len(deliveries) >= limit:
            return deliveries, 0.0
        # What `next_visible_at` answers now: the messages just leased count at `until`.
        candidates = [float(others_next)] if others_next is not None else []
        if deliveries:
            candidates.append(until)
        return deliveries, min(candidates, default=None)

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
        rows = _rows(emits, self._clock.time())
        ending = (delivery.id, delivery.lease_token)
        if schedule.has_scheduled(emits):
            return await self._write_scheduled(_Write(ending, rows), emits, ())
        return await self._writes.submit(_Write(ending, rows), len(rows) + 1)

    def holds_state_writes(self, state: StateAdapter) -> bool:
        return isinstance(state, PostgresStateAdapter) and state.database is self._db

    async def complete_with_state(
        self,
        delivery: Delivery,
        emits: Sequence[OutgoingMessage],
        state_writes: Sequence[StateWrite],
    ) -> bool:
        """`complete` and the handler's state writes in one transaction; not batched with
        other completions, since a lost lease must leave the writes out of it."""
        ending = (delivery.id, delivery.lease_token)
        return await self._write_scheduled(
            _Write(ending, _rows(emits, self._clock.time())), emits, state_writes
        )

    async def _write_scheduled(
        self,
        write: _Write,
        messages: Sequence[OutgoingMessage],
        state_writes: Sequence[StateWrite],
    ) -> bool:
        """One write (a publish, or a completion and its emits) in its own transaction,
        with the state writes and the index of scheduled emits; False when a completion's
        lease was lost (then nothing is written)."""
        now = self._clock.time()
        params = {**_batch_params([write]), "now": now, "channel": self._channel}

        async def work(connection: Connection) -> bool:
            cursor = await connection.execute(_WRITE, params)
            row = await cursor.fetchone()
            if write.ending is not None and (row is None or not row[0]):
                return False  # the lease was lost: nothing was written, nothing will be
            await apply_writes(connection, state_writes)
            await schedule.record(connection, messages, now)
            return True

        return await self._db.transaction(work)

    async def retry(self, delivery: Delivery, delay: float, failure: Failure) -> None:
        await self._db.execute(
            "UPDATE queue_messages SET lease_token = NULL, lease_until = 0, visible_at = %s, "
            f"last_error = %s WHERE {_HELD}",
            (self._clock.time() + delay, failure.error, delivery.id, delivery.lease_token),
        )

    async def release(self, delivery: Delivery, delay: float = 0.0) -> None:
        visible_at = self._clock.time() + delay if delay > 0 else 0.0
        await self._db.execute(
            "UPDATE queue_messages SET lease_token = NULL, lease_until = 0, "
            "visible_at = greatest(visible_at, %s), "
            f"attempts = greatest(attempts - 1, 0) WHERE {_HELD}",
            (visible_at, delivery.id, delivery.lease_token),
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
        row = await self._db.fetch_one(_STATS, {"now": now, "subscriber": subscriber})
        total, in_flight, delayed, dead, oldest = row or (0, 0, 0, 0, None)
        counts = (total - in_flight, in_flight, delayed, dead)
        return QueueStats.read(subscriber, counts, oldest, now)

    async def scheduled(self, topic: str | None = None, limit: int = 100) -> list[ScheduledEmit]:
        return await schedule.listing(self._db, topic, limit)

    async def cancel_scheduled(
        self, event_id: str | None = None, *, topic: str | None = None, key: str | None = None
    ) -> int:
        async def work(connection: Connection) -> int:
            return await schedule.cancel_matching(connection, event_id, topic, key)

        return await self._db.transaction(work)

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
