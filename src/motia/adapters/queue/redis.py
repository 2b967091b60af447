"""Redis queue: one durable queue per subscriber, shared by every process of a deployment.

Why not Redis Streams with consumer groups? Their pending-entry list gives leases by idle
time and XCLAIM, but the queue contract asks for more than that: a lease token that stays
valid until somebody else leases the message, retries that hide a message for a delay,
`release` giving an attempt back, FIFO groups where only the head may run, and exact
`stats` and `next_visible_at`. With Streams every one of those needs side structures
(and the stream entry itself cannot be re-ordered or re-delayed), so the design below
keeps the same state in plain sorted sets and hashes, and changes it only in Lua scripts:
each operation is one atomic step, so two processes can never lease the same message or
let a later message of a group overtake its head.

Keys, with `P` the prefix and `Q` = `P:q:{<subscriber>}` (the braces are a cluster hash
tag: a subscriber's keys stay in one slot):

- `P:q:seq`          INCR counter: the global publish order (`seq`).
- `Q:m:<id>`         hash, one per message: seq, body (the encoded message), topic, group
                     (absent for an unordered message), attempts, visible_at, enqueued_at,
                     token (empty when not leased), lease_until, error.
- `Q:ready`          zset id -> seq: visible, not leased, and allowed to run; leased
                     oldest first.
- `Q:delayed`        zset id -> visible_at: allowed to run but not visible yet (publish
                     delay, retry backoff).
- `Q:leased`         zset id -> lease_until: leased.
- `Q:g:<group>`      zset id -> seq: every message of a FIFO group; the first is the head.
- `Q:parked`         zset id -> visible_at: messages of a group behind its head. They are
                     in none of ready/delayed/leased, so a lease never has to skip them.
- `P:q:dead:<id>`    hash, one per dead letter: the message's fields plus subscriber,
                     error, stack, reason, failed_at.
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
"""

from __future__ import annotations

import os
from collections.abc import Sequence
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
)
from motia.adapters.redis_calls import settle
from motia.adapters.redis_connection import key
from motia.clock import Clock

# Shared Lua helpers, prepended to every script that needs them. ARGV[1] is always the
# prefix; keys are built here exactly as `_QueueKeys` builds them in Python.
_LIB = """
local P = ARGV[1]
local function base(sub) return P .. ':q:{' .. sub .. '}' end

-- Make a message that may run now (unordered, or the new head of its group) leasable.
local function activate(q, id, now)
  local mkey = q .. ':m:' .. id
  local visible_at = tonumber(redis.call('HGET', mkey, 'visible_at'))
  if visible_at <= now then
    redis.call('ZADD', q .. ':ready', redis.call('HGET', mkey, 'seq'), id)
  else
    redis.call('ZADD', q .. ':delayed', visible_at, id)
  end
end

-- Add a message to a subscriber's queue; a no-op when the id is already queued.
local function enqueue(sub, id, grouped, group, body, topic, visible_at, now)
  local q = base(sub)
  local mkey = q .. ':m:' .. id
  if redis.call('EXISTS', mkey) == 1 then return 0 end
  local seq = redis.call('INCR', P .. ':q:seq')
  redis.call('HSET', mkey, 'seq', seq, 'body', body, 'topic', topic, 'attempts', 0,
    'visible_at', visible_at, 'enqueued_at', now, 'token', '', 'lease_until', 0)
  if grouped == '1' then
    redis.call('HSET', mkey, 'group', group)
    local gkey = q .. ':g:' .. group
    redis.call('ZADD', gkey, seq, id)
    if redis.call('ZCARD', gkey) > 1 then  -- behind the head of its group
      redis.call('ZADD', q .. ':parked', visible_at, id)
      return 1
    end
  end
  activate(q, id, now)
  return 1
end

-- Take a message out of its queue (keeping its hash); the next of its group may run.
local function unlink(q, id, now)
  redis.call('ZREM', q .. ':ready', id)
  redis.call('ZREM', q .. ':delayed', id)
  redis.call('ZREM', q .. ':leased', id)
  redis.call('ZREM', q .. ':parked', id)
  local group = redis.call('HGET', q .. ':m:' .. id, 'group')
  if group then
    local gkey = q .. ':g:' .. group
    redis.call('ZREM', gkey, id)
    local head = redis.call('ZRANGE', gkey, 0, 0)[1]
    if head and redis.call('ZSCORE', q .. ':parked', head) then
      redis.call('ZREM', q .. ':parked', head)
      activate(q, head, now)
    end
  end
end

local function held(q, id, token)
  return redis.call('HGET', q .. ':m:' .. id, 'token') == token
end

-- Publish ARGV[first ...] as groups of 7: subscriber, id, grouped, group, body, topic,
-- visible_at.
local function enqueue_all(first, now)
  for i = first, #ARGV, 7 do
    enqueue(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5],
      tonumber(ARGV[i + 6]), now)
  end
end
"""

# ARGV: prefix, now, messages...
_PUBLISH = (
    _LIB
    + """
enqueue_all(3, tonumber(ARGV[2]))
return 1
"""
)

# ARGV: prefix, subscriber, now, limit, lease_until, token base.
# Returns [id, body, attempts, enqueued_at, token] for each leased message, oldest first.
_LEASE = (
    _LIB
    + """
local q = base(ARGV[2])
local now = tonumber(ARGV[3])
local mkeys = q .. ':m:'
for _, id in ipairs(redis.call('ZRANGEBYSCORE', q .. ':delayed', '-inf', now)) do
  redis.call('ZREM', q .. ':delayed', id)
  redis.call('ZADD', q .. ':ready', redis.call('HGET', mkeys .. id, 'seq'), id)
end
-- Expired leases become leasable; their token stays valid until the next lease.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', q .. ':leased', '-inf', now)) do
  redis.call('ZREM', q .. ':leased', id)
  redis.call('ZADD', q .. ':ready', redis.call('HGET', mkeys .. id, 'seq'), id)
end
local out = {}
local limit = tonumber(ARGV[4])
if limit < 1 then return out end
for i, id in ipairs(redis.call('ZRANGE', q .. ':ready', 0, limit - 1)) do
  local mkey = mkeys .. id
  local token = ARGV[6] .. '.' .. i
  local attempts = redis.call('HINCRBY', mkey, 'attempts', 1)
  redis.call('HSET', mkey, 'token', token, 'lease_until', ARGV[5])
  redis.call('ZREM', q .. ':ready', id)
  redis.call('ZADD', q .. ':leased', ARGV[5], id)
  local fields = redis.call('HMGET', mkey, 'body', 'enqueued_at')
  table.insert(out, id)
  table.insert(out, fields[1])
  table.insert(out, tostring(attempts))
  table.insert(out, fields[2])
  table.insert(out, token)
end
return out
"""
)

# ARGV: prefix, lease_until, then (subscriber, id, token) for each delivery.
_EXTEND = (
    _LIB
    + """
for i = 3, #ARGV, 3 do
  local q = base(ARGV[i])
  local id = ARGV[i + 1]
  if held(q, id, ARGV[i + 2]) then
    redis.call('HSET', q .. ':m:' .. id, 'lease_until', ARGV[2])
    redis.call('ZREM', q .. ':ready', id)  -- an expired lease nobody took over
    redis.call('ZADD', q .. ':leased', ARGV[2], id)
  end
end
return 1
"""
)

# ARGV: prefix, subscriber, id, token, now, emits... Returns 1 when acknowledged.
_COMPLETE = (
    _LIB
    + """
local q = base(ARGV[2])
local id = ARGV[3]
if not held(q, id, ARGV[4]) then return 0 end
local now = tonumber(ARGV[5])
unlink(q, id, now)
redis.call('DEL', q .. ':m:' .. id)
enqueue_all(6, now)
return 1
"""
)

# ARGV: prefix, subscriber, id, token, visible_at, error.
_RETRY = (
    _LIB
    + """
local q = base(ARGV[2])
local id = ARGV[3]
if not held(q, id, ARGV[4]) then return 0 end
redis.call('HSET', q .. ':m:' .. id, 'token', '', 'lease_until', 0, 'visible_at', ARGV[5],
  'error', ARGV[6])
redis.call('ZREM', q .. ':leased', id)
redis.call('ZREM', q .. ':ready', id)
redis.call('ZADD', q .. ':delayed', ARGV[5], id)
return 1
"""
)

# ARGV: prefix, subscriber, id, token.
_RELEASE = (
    _LIB
    + """
local q = base(ARGV[2])
local id = ARGV[3]
if not held(q, id, ARGV[4]) then return 0 end
local mkey = q .. ':m:' .. id
local attempts = tonumber(redis.call('HGET', mkey, 'attempts'))
redis.call('HSET', mkey, 'token', '', 'lease_until', 0,
  'attempts', math.max(attempts - 1, 0))
redis.call('ZREM', q .. ':leased', id)
redis.call('ZADD', q .. ':ready', redis.call('HGET', mkey, 'seq'), id)
return 1
"""
)

# ARGV: prefix, subscriber, id, token, now, error, has_stack, stack, reason.
_DEAD_LETTER = (
    _LIB
    + """
local sub = ARGV[2]
local q = base(sub)
local id = ARGV[3]
if not held(q, id, ARGV[4]) then return 0 end
local now = tonumber(ARGV[5])
unlink(q, id, now)
local dkey = P .. ':q:dead:' .. id
local previous = redis.call('HGET', dkey, 'subscriber')
if previous then
  redis.call('ZREM', base(previous) .. ':dead', id)
end
redis.call('RENAME', q .. ':m:' .. id, dkey)
redis.call('HDEL', dkey, 'seq', 'token', 'lease_until', 'visible_at', 'stack')
redis.call('HSET', dkey, 'subscriber', sub, 'error', ARGV[6], 'reason', ARGV[9],
  'failed_at', ARGV[5])
if ARGV[7] == '1' then
  redis.call('HSET', dkey, 'stack', ARGV[8])
end
redis.call('ZADD', P .. ':q:dead', ARGV[5], id)
redis.call('ZADD', q .. ':dead', ARGV[5], id)
return 1
"""
)

# Remove a dead letter; returns its fields or nil. Used by redrive and purge.
_UNDEAD = """
local function undead(id)
  local dkey = P .. ':q:dead:' .. id
  local fields = redis.call('HMGET', dkey, 'subscriber', 'body', 'topic', 'group')
  if not fields[1] then return nil end
  redis.call('DEL', dkey)
  redis.call('ZREM', P .. ':q:dead', id)
  redis.call('ZREM', base(fields[1]) .. ':dead', id)
  return fields
end
"""

# ARGV: prefix, now, ids... (oldest failure first). Returns how many were redriven.
_REDRIVE = (
    _LIB
    + _UNDEAD
    + """
local now = tonumber(ARGV[2])
local count = 0
for i = 3, #ARGV do
  local f = undead(ARGV[i])
  if f then
    local grouped = '0'
    if f[4] then grouped = '1' end
    enqueue(f[1], ARGV[i], grouped, f[4] or '', f[2], f[3], now, now)
    count = count + 1
  end
end
return count
"""
)

# ARGV: prefix, ids... Returns how many were deleted.
_PURGE = (
    _LIB
    + _UNDEAD
    + """
local count = 0
for i = 2, #ARGV do
  if undead(ARGV[i]) then count = count + 1 end
end
return count
"""
)

_PAGE = 500  # dead letters read per round trip when a filter needs every one checked


class RedisQueueAdapter(QueueAdapter):
    def __init__(self, client: Redis, prefix: str, clock: Clock | None = None) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock or Clock()
        self._dead_index = key(prefix, "q", "dead")
        register = client.register_script
        self._publish = register(_PUBLISH)
        self._lease = register(_LEASE)
        self._extend = register(_EXTEND)
        self._complete = register(_COMPLETE)
        self._retry = register(_RETRY)
        self._release = register(_RELEASE)
        self._dead_letter = register(_DEAD_LETTER)
        self._redrive = register(_REDRIVE)
        self._purge = register(_PURGE)

    # --- keys ------------------------------------------------------------------------

    def _queue_key(self, subscriber: str, *parts: str) -> str:
        return key(self._prefix, "q", "{" + subscriber + "}", *parts)

    def _dead_key(self, message_id: str) -> str:
        return key(self._prefix, "q", "dead", message_id)

    # --- messages --------------------------------------------------------------------

    @staticmethod
    def _encode(messages: Sequence[OutgoingMessage], now: float) -> list[Any]:
        """Script arguments for messages; raises TypeError (before anything is written)
        when a payload cannot be encoded."""
        args: list[Any] = []
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
            grouped = m.group_id is not None
            args += [
                m.subscriber,
                m.id,
                "1" if grouped else "0",
                m.group_id if grouped else "",
                body,
                m.topic,
                repr(now + m.delay),
            ]
        return args

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        if not messages:
            return
        now = self._clock.time()
        args = self._encode(messages, now)
        await settle(self._publish(args=[self._prefix, repr(now), *args]))

    async def lease(self, subscriber: str, limit: int, lease_seconds: float) -> list[Delivery]:
        now = self._clock.time()
        raw: list[bytes] = await settle(
            self._lease(
                args=[
                    self._prefix,
                    subscriber,
                    repr(now),
                    limit,
                    repr(now + lease_seconds),
                    os.urandom(8).hex(),
                ]
            )
        )
        deliveries = []
        for i in range(0, len(raw), 5):
            id_, body, attempts, enqueued_at, token = raw[i : i + 5]
            message = jsoncodec.loads(body)
            deliveries.append(
                Delivery(
                    id=id_.decode(),
                    event_id=message["event_id"],
                    subscriber=subscriber,
                    topic=message["topic"],
                    data=message["data"],
                    trace_id=message["trace_id"],
                    flows=message["flows"],
                    group_id=message["group_id"],
                    attempt=int(attempts),
                    lease_token=token.decode(),
                    enqueued_at=float(enqueued_at),
                )
            )
        return deliveries

    async def extend(self, deliveries: Sequence[Delivery], lease_seconds: float) -> None:
        if not deliveries:
            return
        until = self._clock.time() + lease_seconds
        args: list[Any] = [self._prefix, repr(until)]
        for d in deliveries:
            args += [d.subscriber, d.id, d.lease_token]
        await settle(self._extend(args=args))

    async def complete(self, delivery: Delivery, emits: Sequence[OutgoingMessage]) -> bool:
        now = self._clock.time()
        encoded = self._encode(emits, now)  # a bad emit raises here: nothing has changed
        done = await settle(
            self._complete(
                args=[
                    self._prefix,
                    delivery.subscriber,
                    delivery.id,
                    delivery.lease_token,
                    repr(now),
                    *encoded,
                ]
            )
        )
        return bool(done)

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

    async def release(self, delivery: Delivery) -> None:
        await settle(
            self._release(
                args=[self._prefix, delivery.subscriber, delivery.id, delivery.lease_token]
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

    # --- observation -----------------------------------------------------------------

    async def stats(self, subscriber: str) -> QueueStats:
        now = self._clock.time()
        after_now = f"({now!r}"
        q = self._queue_key
        async with self._client.pipeline(transaction=True) as pipe:
            for part in ("ready", "delayed", "leased", "parked"):
                pipe.zcard(q(subscriber, part))
            pipe.zcount(q(subscriber, "leased"), after_now, "+inf")
            pipe.zcount(q(subscriber, "delayed"), after_now, "+inf")
            pipe.zcount(q(subscriber, "parked"), after_now, "+inf")
            pipe.zcard(q(subscriber, "dead"))
            ready, delayed, leased, parked, in_flight, later, parked_later, dead = (
                int(n) for n in await settle(pipe.execute())
            )
        total = ready + delayed + leased + parked
        return QueueStats(subscriber, total - in_flight, in_flight, later + parked_later, dead)

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
