"""SQLite queue: the embedded default. Messages live in the project's `.motia/motia.db`
next to state, so a crash (even kill -9) loses nothing that `publish` accepted."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Collection, Sequence
from typing import Any

from motia import jsoncodec
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
from motia.adapters.sqlite import scheduled as schedule
from motia.adapters.sqlite.database import Execute, SqliteDatabase
from motia.clock import Clock
from motia.randomness import random_hex

# `seq` orders a subscriber's messages. Without AUTOINCREMENT a new row still gets a seq
# above every row in the table, which is all the order needs, and an insert does not
# also update `sqlite_sequence` (a row, and a page of each commit, the less).
QUEUE_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    event_id    TEXT NOT NULL,
    subscriber  TEXT NOT NULL,
    topic       TEXT NOT NULL,
    data        BLOB NOT NULL,
    trace_id    TEXT NOT NULL,
    flows       TEXT NOT NULL,
    group_id    TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    visible_at  REAL NOT NULL,
    lease_token TEXT,
    lease_until REAL NOT NULL DEFAULT 0,
    enqueued_at REAL NOT NULL,
    last_error  TEXT,
    priority    INTEGER NOT NULL DEFAULT 0
)"""
QUEUE_COLUMNS = (
    "seq, id, event_id, subscriber, topic, data, trace_id, flows, group_id, attempts, "
    "visible_at, lease_token, lease_until, enqueued_at, last_error, priority"
)
QUEUE_INDEXES = (
    "CREATE INDEX IF NOT EXISTS motia_queue_by_subscriber ON motia_queue (subscriber, seq)",
    "CREATE INDEX IF NOT EXISTS motia_queue_by_group ON motia_queue (subscriber, group_id, seq) "
    "WHERE group_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS motia_queue_by_priority "
    "ON motia_queue (subscriber, priority DESC, seq)",
)
SCHEMA = (
    QUEUE_TABLE.format(name="motia_queue")
    + ";\n"
    + "".join(f"{index};\n" for index in QUEUE_INDEXES[:2])
    + """
CREATE TABLE IF NOT EXISTS motia_dead_letters (
    id          TEXT PRIMARY KEY,
    event_id    TEXT NOT NULL,
    subscriber  TEXT NOT NULL,
    topic       TEXT NOT NULL,
    data        BLOB NOT NULL,
    trace_id    TEXT NOT NULL,
    flows       TEXT NOT NULL,
    group_id    TEXT,
    attempts    INTEGER NOT NULL,
    error       TEXT NOT NULL,
    stack       TEXT,
    reason      TEXT NOT NULL,
    enqueued_at REAL NOT NULL,
    failed_at   REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS motia_dead_letters_by_subscriber
    ON motia_dead_letters (subscriber, failed_at);
"""
)

_INSERT = (
    "INSERT OR IGNORE INTO motia_queue (id, event_id, subscriber, topic, data, trace_id, flows, "
    "group_id, visible_at, enqueued_at, priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# A message leased as it is published, its first attempt counted (see `publish_taking`).
_INSERT_TAKEN = (
    "INSERT OR IGNORE INTO motia_queue (id, event_id, subscriber, topic, data, trace_id, flows, "
    "group_id, visible_at, enqueued_at, priority, attempts, lease_token, lease_until) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)"
)
# Visible messages of a subscriber, oldest first; a message of a FIFO group only when it is
# the oldest of its group (so a leased or retrying head blocks the rest of the group).
_LEASABLE_WHERE = """
WHERE subscriber = ? AND visible_at <= ? AND (lease_token IS NULL OR lease_until <= ?)
  AND (group_id IS NULL OR seq = (
        SELECT MIN(seq) FROM motia_queue AS g
        WHERE g.subscriber = m.subscriber AND g.group_id = m.group_id))
"""
# Highest priority first, then oldest (walking the subscriber's priority index).
_LEASABLE = f"""
SELECT seq, id, event_id, topic, data, trace_id, flows, group_id, attempts, enqueued_at
FROM motia_queue AS m {_LEASABLE_WHERE} ORDER BY priority DESC, seq LIMIT ?
"""
# The stats of a subscriber in one statement; the oldest message a lease would take is
# found as a lease finds it (walking the subscriber's index in seq order, so it stops at
# the first leasable row).
_STATS = f"""
SELECT COUNT(*),
    COALESCE(SUM(lease_token IS NOT NULL AND lease_until > ?), 0),
    COALESCE(SUM((lease_token IS NULL OR lease_until <= ?) AND visible_at > ?), 0),
    (SELECT COUNT(*) FROM motia_dead_letters WHERE subscriber = ?),
    (SELECT enqueued_at FROM motia_queue AS m {_LEASABLE_WHERE} ORDER BY seq LIMIT 1)
FROM motia_queue WHERE subscriber = ?
"""
# A lease is still held while nobody has leased the message again: an expired lease whose
# message was not re-leased (the loop was busy, say) can still complete it.
_HELD = "id = ? AND lease_token = ?"


class SqliteQueueAdapter(QueueAdapter):
    def __init__(self, database: SqliteDatabase, clock: Clock | None = None) -> None:
        self._db = database
        self._clock = clock or Clock()
        self._undoing: set[asyncio.Future[int]] = set()
        self._db.execute_script(SCHEMA)
        self._db.execute_script(schedule.SCHEMA)
        _add_priority(self._db)
        _drop_autoincrement(self._db)

    @staticmethod
    def _row(message: OutgoingMessage, now: float) -> tuple[Any, ...]:
        return (
            message.id,
            message.event_id,
            message.subscriber,
            message.topic,
            jsoncodec.dumps(message.data),
            message.trace_id,
            jsoncodec.dumps_str(message.flows),
            message.group_id,
            now + message.delay,
            now,
            message.priority,
        )

    leases_on_publish = True

    async def publish_taking(
        self,
        messages: Sequence[OutgoingMessage],
        taken: Collection[str],
        token: str,
        lease_until: float,
    ) -> list[Delivery]:
        now = self._clock.time()
        rows = [self._row(m, now) for m in messages]  # encode first: a bad payload writes nothing

        def work(execute: Execute) -> list[Delivery]:
            deliveries: list[Delivery] = []
            for message, row in zip(messages, rows, strict=True):
                if message.id not in taken:
                    execute(_INSERT, row)
                elif execute(_INSERT_TAKEN, (*row, token, lease_until)):  # not queued before
                    data = jsoncodec.loads(row[4])
                    deliveries.append(self.taken_delivery(message, data, token, now))
            schedule.record(execute, self._db.query, messages, now)
            return deliveries

        return await self._db.transact(work)

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        if not messages:
            return
        now = self._clock.time()
        rows = [self._row(m, now) for m in messages]  # encode first: a bad payload writes nothing
        if any(m.fire_at is not None for m in messages):
            await self._db.transact(lambda execute: self._insert(execute, messages, rows, now))
            return
        if len(rows) == 1:  # the common case: one subscriber, without the closures
            await self._db.write(_INSERT, rows[0])
            return
        await self._db.write_many((_INSERT, row) for row in rows)

    def _insert(
        self,
        execute: Execute,
        messages: Sequence[OutgoingMessage],
        rows: list[tuple[Any, ...]],
        now: float,
    ) -> None:
        for row in rows:
            execute(_INSERT, row)
        schedule.record(execute, self._db.query, messages, now)

    async def lease(self, subscriber: str, limit: int, lease_seconds: float) -> list[Delivery]:
        now = self._clock.time()
        # A read first, so an idle poll writes nothing (unless this process's transaction
        # is open anyway); then the rows are picked in the write transaction, which other
        # processes sharing the file cannot enter: two processes never lease the same
        # message.
        if self._db.open_transaction() is None and not self._db.query(
            _LEASABLE, (subscriber, now, now, 1)
        ):
            return []
        until = now + lease_seconds
        # One token for the whole batch: a lease is identified by message id and token.
        token = random_hex(8)

        def work(execute: Execute) -> list[tuple[Any, ...]]:
            rows = self._db.query(_LEASABLE, (subscriber, now, now, limit))
            if rows:
                seqs = [row[0] for row in rows]
                execute(
                    "UPDATE motia_queue SET attempts = attempts + 1, lease_token = ?, "
                    f"lease_until = ? WHERE seq IN ({', '.join('?' for _ in seqs)})",
                    (token, until, *seqs),
                )
            return rows

        # The attempt is counted durably before the handler runs: when the store cannot
        # write (a full disk), nothing runs, rather than runs that are never counted.
        try:
            rows = await self._db.transact(work)
        except asyncio.CancelledError:
            # The caller is gone but the lease may still commit: hand the messages back,
            # their attempt not counted (a no-op when the lease was never written).
            undo = asyncio.ensure_future(
                self._db.write(
                    "UPDATE motia_queue SET lease_token = NULL, lease_until = 0, "
                    "attempts = MAX(attempts - 1, 0) WHERE lease_token = ?",
                    (token,),
                )
            )
            self._undoing.add(undo)
            undo.add_done_callback(self._undone)
            raise
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
                attempt=attempts + 1,
                lease_token=token,
                enqueued_at=enqueued,
            )
            for _, id_, event_id, topic, data, trace_id, flows, group_id, attempts, enqueued in rows
        ]

    def _undone(self, task: asyncio.Future[int]) -> None:
        self._undoing.discard(task)
        if not task.cancelled():
            task.exception()  # a failed undo leaves the lease to expire: nothing to report

    async def extend(self, deliveries: Sequence[Delivery], lease_seconds: float) -> None:
        now = self._clock.time()
        await self._db.write_many(
            (
                f"UPDATE motia_queue SET lease_until = ? WHERE {_HELD}",
                (now + lease_seconds, d.id, d.lease_token),
            )
            for d in deliveries
        )

    async def complete(self, delivery: Delivery, emits: Sequence[OutgoingMessage]) -> bool:
        if not emits:  # the common case, without the closures
            deleted = await self._db.write(
                f"DELETE FROM motia_queue WHERE {_HELD}", (delivery.id, delivery.lease_token)
            )
            return deleted > 0
        now = self._clock.time()
        rows = [self._row(m, now) for m in emits]

        def work(execute: Execute) -> bool:
            deleted = execute(
                f"DELETE FROM motia_queue WHERE {_HELD}", (delivery.id, delivery.lease_token)
            )
            if deleted:
                self._insert(execute, emits, rows, now)
            return deleted > 0

        return await self._db.transact(work)

    async def retry(self, delivery: Delivery, delay: float, failure: Failure) -> None:
        now = self._clock.time()
        await self._db.write(
            f"UPDATE motia_queue SET lease_token = NULL, lease_until = 0, visible_at = ?, "
            f"last_error = ? WHERE {_HELD}",
            (now + delay, failure.error, delivery.id, delivery.lease_token),
        )

    async def release(self, delivery: Delivery, delay: float = 0.0) -> None:
        visible_at = self._clock.time() + delay if delay > 0 else 0.0
        await self._db.write(
            "UPDATE motia_queue SET lease_token = NULL, lease_until = 0, "
            "visible_at = MAX(visible_at, ?), "
            f"attempts = MAX(attempts - 1, 0) WHERE {_HELD}",
            (visible_at, delivery.id, delivery.lease_token),
        )

    async def dead_letter(self, delivery: Delivery, failure: Failure) -> None:
        def work(execute: Execute) -> None:
            moved = execute(
                "INSERT OR REPLACE INTO motia_dead_letters (id, event_id, subscriber, topic, data, "
                "trace_id, flows, group_id, attempts, error, stack, reason, enqueued_at, "
                "failed_at) SELECT id, event_id, subscriber, topic, data, trace_id, flows, "
                "group_id, attempts, ?, ?, ?, enqueued_at, ? FROM motia_queue "
                "WHERE id = ? AND lease_token = ?",
                (
                    failure.error,
                    failure.stack,
                    failure.reason,
                    self._clock.time(),
                    delivery.id,
                    delivery.lease_token,
                ),
            )
            if moved:
                execute(
                    "DELETE FROM motia_queue WHERE id = ? AND lease_token = ?",
                    (delivery.id, delivery.lease_token),
                )

        await self._db.transact(work)

    @staticmethod
    def _where(where: DeadLetterFilter) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if where.ids:
            clauses.append(f"id IN ({', '.join('?' for _ in where.ids)})")
            params.extend(where.ids)
        if where.subscriber is not None:
            clauses.append("subscriber = ?")
            params.append(where.subscriber)
        if where.topic is not None:
            clauses.append("topic = ?")
            params.append(where.topic)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    async def dead_letters(
        self, where: DeadLetterFilter = ALL_DEAD_LETTERS, limit: int = 100, offset: int = 0
    ) -> list[DeadLetter]:
        clause, params = self._where(where)
        rows = self._db.query(
            "SELECT id, event_id, subscriber, topic, data, trace_id, flows, group_id, attempts, "
            f"error, stack, reason, enqueued_at, failed_at FROM motia_dead_letters{clause} "
            "ORDER BY failed_at DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [DeadLetter.from_row(r) for r in rows]

    async def redrive(self, where: DeadLetterFilter = ALL_DEAD_LETTERS) -> int:
        clause, params = self._where(where)
        now = self._clock.time()

        def work(execute: Execute) -> int:
            execute(
                "INSERT OR IGNORE INTO motia_queue (id, event_id, subscriber, topic, data, "
                "trace_id, flows, group_id, visible_at, enqueued_at) SELECT id, event_id, "
                "subscriber, topic, data, trace_id, flows, group_id, ?, ? "
                f"FROM motia_dead_letters{clause} ORDER BY failed_at",
                (now, now, *params),
            )
            return execute(f"DELETE FROM motia_dead_letters{clause}", tuple(params))

        return await self._db.transact(work)

    async def purge(self, where: DeadLetterFilter = ALL_DEAD_LETTERS) -> int:
        clause, params = self._where(where)
        return await self._db.write(f"DELETE FROM motia_dead_letters{clause}", tuple(params))

    async def stats(self, subscriber: str) -> QueueStats:
        now = self._clock.time()
        row = self._db.query_one(
            _STATS, (now, now, now, subscriber, subscriber, now, now, subscriber)
        )
        total, in_flight, delayed, dead, oldest = row or (0, 0, 0, 0, None)
        counts = (total - in_flight, in_flight, delayed, dead)
        return QueueStats.read(subscriber, counts, oldest, now)

    async def scheduled(self, topic: str | None = None, limit: int = 100) -> list[ScheduledEmit]:
        return schedule.listing(self._db.query, topic, limit)

    async def cancel_scheduled(
        self, event_id: str | None = None, *, topic: str | None = None, key: str | None = None
    ) -> int:
        def work(execute: Execute) -> int:
            return schedule.cancel(execute, schedule.matching(self._db.query, event_id, topic, key))

        return await self._db.transact(work)

    def open_write(self) -> Awaitable[None] | None:
        committed = self._db.open_transaction()
        return None if committed is None else _after(committed)

    async def next_visible_at(self, subscriber: str) -> float | None:
        row = self._db.query_one(
            "SELECT MIN(MAX(visible_at, "
            "CASE WHEN lease_token IS NULL THEN 0 ELSE lease_until END)) "
            "FROM motia_queue WHERE subscriber = ?",
            (subscriber,),
        )
        return None if row is None or row[0] is None else float(row[0])

    async def next_delayed_at(self, subscriber: str, now: float) -> float | None:
        row = self._db.query_one(
            "SELECT MIN(visible_at) FROM motia_queue WHERE subscriber = ? AND visible_at > ?",
            (subscriber, now),
        )
        return None if row is None or row[0] is None else float(row[0])


def _add_priority(database: SqliteDatabase) -> None:
    """Queues created before message priorities get the column and its index (once; when
    another process sharing the file adds the column first, that is as good)."""

    def has_column() -> bool:
        return any(row[1] == "priority" for row in database.query("PRAGMA table_info(motia_queue)"))

    if not has_column():
        try:
            database.execute_script(
                "ALTER TABLE motia_queue ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;"
            )
        except Exception:
            if not has_column():
                raise
    database.execute_script(QUEUE_INDEXES[2] + ";")


def _drop_autoincrement(database: SqliteDatabase) -> None:
    """Queues created with `seq` AUTOINCREMENT are rebuilt without it once, in one
    transaction: the same rows and seqs, the same indexes."""

    def needed() -> bool:
        row = database.query_one(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'motia_queue'"
        )
        return row is not None and "AUTOINCREMENT" in str(row[0]).upper()

    if not needed():
        return
    database.upgrade(
        needed,
        [
            "DROP TABLE IF EXISTS motia_queue_rebuilt",
            QUEUE_TABLE.format(name="motia_queue_rebuilt"),
            f"INSERT INTO motia_queue_rebuilt ({QUEUE_COLUMNS}) "
            f"SELECT {QUEUE_COLUMNS} FROM motia_queue",
            "DROP TABLE motia_queue",  # and its indexes
            "ALTER TABLE motia_queue_rebuilt RENAME TO motia_queue",
            *QUEUE_INDEXES,
        ],
    )


async def _after(committed: asyncio.Future[None]) -> None:
    """Until the commit has run, whatever its outcome: its own writers see that."""
    with contextlib.suppress(Exception):
        await asyncio.shield(committed)
