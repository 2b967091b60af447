"""Redis queue: one durable queue per subscriber, shared by every process of a deployment.

Why not Redis Streams with consumer groups? Their pending-entry list gives leases by idle
time and XCLAIM, but the queue contract asks for more than that: a lease token that stays
valid until somebody else leases the message, retries that hide a message for a delay,
`release` giving an attempt back, FIFO groups where only the head may run, and exact
`stats` and `next_visible_at`. With Streams every one of those needs side structures
(and the stream entry itself cannot be re-ordered or re-delayed), so the design below
keeps the same state in plain sorted sets and hashes, and changes it only in Lua scripts
(`queue_scripts.py`): each script call is one atomic step, so two processes can never
lease the same message or let a later message of a group overtake its head.

Keys, with `P` the prefix and `Q` = `P:q:{<subscriber>}` (the braces are a cluster hash
tag: a subscriber's keys stay in one slot):

- `P:q:seq`          INCR counter: the global publish order (`seq`).
- `Q:m:<id>`         hash, one per message: seq, body (the encoded message), enqueued_at,
                     group (absent for an unordered message), attempts (absent: 0), token
                     (absent or empty when not leased), error.
- `Q:ready`          zset id -> seq: visible, not leased, and allowed to run; leased
                     oldest first.
- `Q:delayed`        zset id -> visible_at: allowed to run but not visible yet (publish
                     delay, retry backoff).
- `Q:leased`         zset id -> lease_until: leased.
- `Q:g:<group>`      zset id -> seq: every message of a FIFO group; the first is the head.
- `Q:parked`         zset id -> visible_at: messages of a group behind its head. They are
                     in none of ready/delayed/leased, so a lease never has to skip them.
- `P:q:dead:<id>`    hash, one per dead letter: the message's fields plus subscriber,
                     topic, error, stack, reason, failed_at.
- `P:q:dead`         zset id -> failed_at: every dead letter.
- `Q:dead`           zset id -> failed_at: the dead letters of one subscriber.

Every message is in exactly one of ready, delayed, leased or parked. A group has at most
one message outside `parked` (its head), so a group runs one message at a time, in order;
when the head is completed or dead-lettered, the next message is moved out of `parked`.

Time is the injected clock's, passed to every script as an argument (never Redis TIME), so
the contract tests drive leases and delays with a fake clock.

The scripts that lease move due entries of `delayed` and expired entries of `leased` into
`ready` first. An expired lease keeps its token until the message is leased again, so a
slow holder can still complete, retry or release it until then. `publish` ignores a
message whose id is already queued, which makes a publish retried after a lost reply
(the connection retries commands) harmless.

Publishes, completions and leases are batched (`batching.Batcher`): what the process asks
for in one event-loop turn goes to Redis in one `WRITE` script call, and each caller still
gets its own answer. A lease takes up to `limit` messages and says when to look next, so
an idle or drained worker needs no separate `next_visible_at` query.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Collection, Sequence
from typing import Any, cast

from redis.asyncio import Redis

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
from motia.adapters.queue.batching import Batcher
from motia.adapters.redis import queue_scripts as scripts
from motia.adapters.redis import schedule_scripts
from motia.adapters.redis.calls import settle
from motia.adapters.redis.connection import key
from motia.clock import Clock

_PAGE = 500  # dead letters read per round trip when a filter needs every one checked
# Messages and operations per WRITE call: large enough to amortise the round trip, small
# enough that one script never blocks Redis for long (a few us of Redis time per message).
_MAX_WRITE = 1000

# One WRITE operation (see queue_scripts.WRITE) and the bodies of its messages.
_Write = tuple[list[Any], list[bytes]]


class RedisQueueAdapter(QueueAdapter):
    def __init__(self, client: Redis, prefix: str, clock: Clock | None = None) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock or Clock()
        self._dead_index = key(prefix, "q", "dead")
        register = client.register_script
        self._write = register(scripts.WRITE)
        self._extend = register(scripts.EXTEND)
        self._retry = register(scripts.RETRY)
        self._release = register(scripts.RELEASE)
        self._dead_letter = register(scripts.DEAD_LETTER)
        self._redrive = register(scripts.REDRIVE)
        self._purge = register(scripts.PURGE)
        self._stats = register(scripts.STATS)
        schedule_lib = scripts.LIB + schedule_scripts.SCHEDULE_LIB
        self._cancel_scheduled = register(schedule_lib + schedule_scripts.CANCEL)
        self._list_scheduled = register(schedule_lib + schedule_scripts.LIST)
        self._writes: Batcher[_Write, Any] = Batcher(self._flush_writes, _MAX_WRITE)
        self._giving_back: set[asyncio.Task[None]] = set()

    # --- keys ------------------------------------------------------------------------

    def _queue_key(self, subscriber: str, *parts: str) -> str:
        return key(self._prefix, "q", "{" + subscriber + "}", *parts)

    def _dead_key(self, message_id: str) -> str:
        return key(self._prefix, "q", "dead", message_id)

    # --- messages --------------------------------------------------------------------

    @staticmethod
    def _encode(messages: Sequence[OutgoingMessage], now: float) -> tuple[list[Any], list[bytes]]:
        """The WRITE descriptions and bodies of messages; raises TypeError (before anything
        is written) when a payload cannot be encoded."""
        described: list[Any] = []
        bodies: list[bytes] = []
        for m in messages:
            body = jsoncodec.dumps(
                {
                    "event_id": m.event_id,
                    "topic": m.topic,
                    "trace_id": m.trace_id,
                    "flows": m.flows,
                    "group_id": m.group_id,
                    "data": m.data,
                }
            )
            bodies.append(body)
            described.append([m.subscriber, m.id, m.group_id, now + m.delay, len(body)])
            if m.fire_at is not None:
                described[-1].append([m.event_id, m.topic, m.key, repr(m.fire_at), m.trace_id])
            if m.priority and m.group_id is None:
                if m.fire_at is None:
                    described[-1].append(False)
                described[-1].append(m.priority)
        return described, bodies

    async def _flush_writes(self, writes: list[_Write]) -> list[Any]:
        # Four arguments however many messages: a client encodes arguments one by one.
        plan = jsoncodec.dumps([operation for operation, _ in writes])
        bodies = b"".join(body for _, some in writes for body in some)
        now = repr(self._clock.time())
        done = await settle(self._write(args=[self._prefix, now, plan, bodies]))
        results: list[Any] = jsoncodec.loads(done)
        return results

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        if not messages:
            return
        described, bodies = self._encode(messages, self._clock.time())
        await self._writes.submit((["p", described], bodies), len(bodies))

    leases_on_publish = True

    async def publish_taking(
        self,
        messages: Sequence[OutgoingMessage],
        taken: Collection[str],
        token: str,
        lease_until: float,
    ) -> list[Delivery]:
        now = self._clock.time()
        described, bodies = self._encode(messages, now)
        pairs = [[m.subscriber, m.id] for m in messages if m.id in taken]
        operation = ["t", token, repr(lease_until), pairs, described]
        leased = set(await self._writes.submit((operation, bodies), len(bodies)))
        return [
            self.taken_delivery(message, jsoncodec.loads(body)["data"], token, now)
            for message, body in zip(messages, bodies, strict=True)
            if message.id in leased
        ]

    async def lease(self, subscriber: str, limit: int, lease_seconds: float) -> list[Delivery]:
        deliveries, _ = await self.lease_and_peek(subscriber, limit, lease_seconds)
        return deliveries

    async def lease_and_peek(
        self, subscriber: str, limit: int, lease_seconds: float
    ) -> tuple[list[Delivery], float | None]:
        until = repr(self._clock.time() + lease_seconds)
        token = os.urandom(8).hex()  # one per call: a lease is a message id and a token
        operation = ["l", subscriber, limit, until, token]
        next_at, *leased = await self._writes.submit(
            (operation, []),
            max(limit, 1),
            orphaned=lambda result: self._give_back(subscriber, token, result),
        )
        deliveries = [
            Delivery(
                id=id_,
                event_id=message["event_id"],
                subscriber=subscriber,
                topic=message["topic"],
                data=message["data"],
                trace_id=message["trace_id"],
                flows=message["flows"],
                group_id=message["group_id"],
                attempt=int(attempts),
                lease_token=token,
                enqueued_at=float(enqueued_at),
            )
            for id_, attempts, enqueued_at, message in leased
        ]
        return deliveries, None if next_at is None else float(next_at)

    def _give_back(self, subscriber: str, token: str, result: list[Any]) -> None:
        """A lease whose caller was cancelled (a worker stopping) while it was on its way:
        release its messages now instead of leaving them leased, attempt counted, until
        the lease runs out."""
        ids = [leased[0] for leased in result[1:]]
        if ids:
            task = asyncio.get_running_loop().create_task(self._release_all(subscriber, token, ids))
            self._giving_back.add(task)
            task.add_done_callback(self._giving_back.discard)

    async def _release_all(self, subscriber: str, token: str, ids: list[str]) -> None:
        with contextlib.suppress(Exception):  # if Redis is gone, the lease runs out instead
            for id_ in ids:
                await settle(self._release(args=[self._prefix, subscriber, id_, token, "0"]))

    async def extend(self, deliveries: Sequence[Delivery], lease_seconds: float) -> None:
        if not deliveries:
            return
        until = self._clock.time() + lease_seconds
        args: list[Any] = [self._prefix, repr(until)]
        for d in deliveries:
            args += [d.subscriber, d.id, d.lease_token]
        await settle(self._extend(args=args))

    async def complete(self, delivery: Delivery, emits: Sequence[OutgoingMessage]) -> bool:
        # A bad emit raises here, before anything is sent.
        described, bodies = self._encode(emits, self._clock.time())
        operation = ["c", delivery.subscriber, delivery.id, delivery.lease_token, described]
        return bool(await self._writes.submit((operation, bodies), len(bodies) + 1))

    async def retry(self, delivery: Delivery, delay: float, failure: Failure) -> None:
        visible_at = self._clock.time() + delay
        await settle(
            self._retry(
                args=[
                    self._prefix,
                    delivery.subscriber,
                    delivery.id,
                    delivery.lease_token,
                    repr(visible_at),
                    failure.error,
                ]
            )
        )

    async def release(self, delivery: Delivery, delay: float = 0.0) -> None:
        visible_at = self._clock.time() + delay if delay > 0 else 0.0
        await settle(
            self._release(
                args=[
                    self._prefix,
                    delivery.subscriber,
                    delivery.id,
                    delivery.lease_token,
                    repr(visible_at),
                ]
            )
        )

    async def dead_letter(self, delivery: Delivery, failure: Failure) -> None:
        await settle(
            self._dead_letter(
                args=[
                    self._prefix,
                    delivery.subscriber,
                    delivery.id,
                    delivery.lease_token,
                    repr(self._clock.time()),
                    failure.error,
                    "0" if failure.stack is None else "1",
                    failure.stack or "",
                    failure.reason,
                    delivery.topic,
                ]
            )
        )

    # --- dead letters ----------------------------------------------------------------

    async def _select(self, where: DeadLetterFilter) -> list[str]:
        """Ids of the dead letters that match, newest failure first."""
        if where.ids:
            async with self._client.pipeline(transaction=False) as pipe:
                for id_ in where.ids:
                    pipe.hmget(self._dead_key(id_), ["subscriber", "topic", "failed_at"])
                rows: list[list[bytes | None]] = await settle(pipe.execute())
            found = []
            for id_, (subscriber, topic, failed_at) in zip(where.ids, rows, strict=True):
                if subscriber is None or topic is None or failed_at is None:
                    continue
                if where.subscriber is not None and subscriber.decode() != where.subscriber:
                    continue
                if where.topic is not None and topic.decode() != where.topic:
                    continue
                found.append((float(failed_at), id_))
            found.sort(key=lambda pair: pair[0], reverse=True)
            return list(dict.fromkeys(id_ for _, id_ in found))
        everything = cast(
            list[bytes], await settle(self._client.zrevrange(self._index(where), 0, -1))
        )
        ids = [m.decode() for m in everything]
        if where.topic is None:
            return ids
        matching: list[str] = []
        for start in range(0, len(ids), _PAGE):
            chunk = ids[start : start + _PAGE]
            async with self._client.pipeline(transaction=False) as pipe:
                for id_ in chunk:
                    pipe.hget(self._dead_key(id_), "topic")
                topics: list[bytes | None] = await settle(pipe.execute())
            matching += [
                id_
                for id_, topic in zip(chunk, topics, strict=True)
                if topic is not None and topic.decode() == where.topic
            ]
        return matching

    def _index(self, where: DeadLetterFilter) -> str:
        if where.subscriber is not None:
            return self._queue_key(where.subscriber, "dead")
        return self._dead_index

    async def dead_letters(
        self, where: DeadLetterFilter = ALL_DEAD_LETTERS, limit: int = 100, offset: int = 0
    ) -> list[DeadLetter]:
        if limit <= 0:
            return []
        if where.ids or where.topic is not None:
            ids = (await self._select(where))[offset : offset + limit]
        else:  # page in Redis
            last = offset + limit - 1
            members = cast(
                list[bytes], await settle(self._client.zrevrange(self._index(where), offset, last))
            )
            ids = [m.decode() for m in members]
        if not ids:
            return []
        async with self._client.pipeline(transaction=False) as pipe:
            for id_ in ids:
                pipe.hgetall(self._dead_key(id_))
            rows: list[dict[bytes, bytes]] = await settle(pipe.execute())
        return [_dead_letter(id_, row) for id_, row in zip(ids, rows, strict=True) if row]

    async def redrive(self, where: DeadLetterFilter = ALL_DEAD_LETTERS) -> int:
        ids = await self._select(where)
        if not ids:
            return 0
        ids.reverse()  # oldest failure first, as they failed
        now = self._clock.time()
        count = 0
        for start in range(0, len(ids), _PAGE):
            chunk = ids[start : start + _PAGE]
            count += int(await settle(self._redrive(args=[self._prefix, repr(now), *chunk])))
        return count

    async def purge(self, where: DeadLetterFilter = ALL_DEAD_LETTERS) -> int:
        ids = await self._select(where)
        count = 0
        for start in range(0, len(ids), _PAGE):
            chunk = ids[start : start + _PAGE]
            count += int(await settle(self._purge(args=[self._prefix, *chunk])))
        return count

    # --- scheduled emits -------------------------------------------------------------

    async def scheduled(self, topic: str | None = None, limit: int = 100) -> list[ScheduledEmit]:
        if limit <= 0:
            return []
        found = await settle(self._list_scheduled(args=[self._prefix, topic or "", limit]))
        return [
            ScheduledEmit(
                id=event_id,
                topic=topic_,
                key=key,
                fire_at=float(fire_at),
                trace_id=trace_id,
                subscribers=list(subscribers),
                data=body["data"],
            )
            for (event_id, topic_, key, fire_at, trace_id, subscribers), body in (
                jsoncodec.loads(found)
            )
        ]

    async def cancel_scheduled(
        self, event_id: str | None = None, *, topic: str | None = None, key: str | None = None
    ) -> int:
        await self._writes.drain()  # a cancel sees the publishes made before it
        args = [self._prefix, repr(self._clock.time()), event_id or "", key or "", topic or ""]
        return int(await settle(self._cancel_scheduled(args=args)))

    # --- observation -----------------------------------------------------------------

    async def stats(self, subscriber: str) -> QueueStats:
        now = self._clock.time()
        reply = await settle(self._stats(args=[self._prefix, subscriber, repr(now)]))
        *numbers, oldest = reply
        ready, delayed, leased, parked, in_flight, later, parked_later, dead = (
            int(n) for n in numbers
        )
        total = ready + delayed + leased + parked
        counts = (total - in_flight, in_flight, later + parked_later, dead)
        return QueueStats.read(subscriber, counts, float(oldest) if oldest else None, now)

    async def next_visible_at(self, subscriber: str) -> float | None:
        q = self._queue_key
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.zcard(q(subscriber, "ready"))
            for part in ("delayed", "leased", "parked"):
                pipe.zrange(q(subscriber, part), 0, 0, withscores=True)
            ready, *firsts = await settle(pipe.execute())
        if int(ready):
            return self._clock.time()
        times = [float(first[0][1]) for first in firsts if first]
        return min(times) if times else None

    async def next_delayed_at(self, subscriber: str, now: float) -> float | None:
        # Delayed and parked entries are scored by the time they become visible.
        q = self._queue_key
        async with self._client.pipeline(transaction=True) as pipe:
            for part in ("delayed", "parked"):
                pipe.zrangebyscore(q(subscriber, part), f"({now!r}", "+inf", 0, 1, withscores=True)
            firsts = await settle(pipe.execute())
        times = [float(first[0][1]) for first in firsts if first]
        return min(times) if times else None

    async def close(self) -> None:
        await self._writes.drain()
        if self._giving_back:
            await asyncio.wait(self._giving_back)


def _dead_letter(id_: str, row: dict[bytes, bytes]) -> DeadLetter:
    fields = {k.decode(): v for k, v in row.items()}
    message = jsoncodec.loads(fields["body"])
    stack = fields.get("stack")
    return DeadLetter(
        id=id_,
        event_id=message["event_id"],
        subscriber=fields["subscriber"].decode(),
        topic=message["topic"],
        data=message["data"],
        trace_id=message["trace_id"],
        flows=message["flows"],
        group_id=message["group_id"],
        attempts=int(fields["attempts"]),
        error=fields["error"].decode(),
        stack=None if stack is None else stack.decode(),
        reason=fields["reason"].decode(),
        enqueued_at=float(fields["enqueued_at"]),
        failed_at=float(fields["failed_at"]),
    )
