"""Redis stream store: items shared by every process of a deployment.

Keys, with `P` the prefix and `S` = `P:stream:{<stream>}`:

- `S:items:<group>`  hash item id -> encoded item;
- `S:order:<group>`  zset item id -> creation time: `get_group` order (creation time, then
                     id, as the SQLite store orders them);
- `S:groups`         set of the stream's groups that hold items;
- `P:stream-expiry`  zset of every item with a TTL -> its expiry time. A member names its
                     item as `<len(stream)>:<stream><len(group)>:<group><id>` (lengths in
                     bytes), which the scripts can take apart whatever the names contain.

An expired item is invisible to reads at once but stays until `expired()` removes it, so
every expiry is announced once: `expired()` removes and reports items in one atomic script
(several processes sweeping at the same time report each item once), and a write to an
expired, unswept item says it "revived" it. Time comes from the injected clock, passed to
the scripts.
"""

from __future__ import annotations

from typing import Any, cast

from redis.asyncio import Redis

from motia.adapters.redis.calls import settle
from motia.adapters.streams.base import PutResult, StreamStore
from motia.clock import Clock

# ARGV[1] is the prefix in every script.
_LIB = """
local P = ARGV[1]
local function skey(stream, part, group)
  local k = P .. ':stream:{' .. stream .. '}:' .. part
  if group then k = k .. ':' .. group end
  return k
end
local function member(stream, group, id)
  return #stream .. ':' .. stream .. #group .. ':' .. group .. id
end
local EXPIRY = P .. ':stream-expiry'
local function expired(stream, group, id, now)
  local at = redis.call('ZSCORE', EXPIRY, member(stream, group, id))
  return at and tonumber(at) <= now
end
-- Remove one item; returns its value (false when there was none).
local function remove(stream, group, id)
  local items = skey(stream, 'items', group)
  local old = redis.call('HGET', items, id)
  redis.call('HDEL', items, id)
  redis.call('ZREM', skey(stream, 'order', group), id)
  redis.call('ZREM', EXPIRY, member(stream, group, id))
  if redis.call('EXISTS', items) == 0 then
    redis.call('SREM', skey(stream, 'groups'), group)
  end
  return old
end
"""

# ARGV: prefix, stream, group, id, now.
_GET = (
    _LIB
    + """
if expired(ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])) then return false end
return redis.call('HGET', skey(ARGV[2], 'items', ARGV[3]), ARGV[4])
"""
)

# ARGV: prefix, stream, group, id, value, expires_at ('' for none), now.
# Returns what the write did: created (no such item), updated (it was live) or revived (it
# had expired but was not swept yet). A replaced item keeps its place in the group.
_PUT = (
    _LIB
    + """
local stream, group, id, now = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[7])
local items = skey(stream, 'items', group)
local result = 'updated'
if redis.call('HEXISTS', items, id) == 0 then
  result = 'created'
  redis.call('ZADD', skey(stream, 'order', group), now, id)  -- a new item goes last
elseif expired(stream, group, id, now) then
  result = 'revived'
end
redis.call('HSET', items, id, ARGV[5])
redis.call('SADD', skey(stream, 'groups'), group)
if ARGV[6] == '' then
  redis.call('ZREM', EXPIRY, member(stream, group, id))
else
  redis.call('ZADD', EXPIRY, ARGV[6], member(stream, group, id))
end
return result
"""
)

# ARGV: prefix, stream, group, id, now. Returns the old value unless it had expired.
_DELETE = (
    _LIB
    + """
local gone = expired(ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]))
local old = remove(ARGV[2], ARGV[3], ARGV[4])
if gone then return false end
return old
"""
)

# ARGV: prefix, stream, group, now. Returns [id, value, ...] of live items, in order.
_GROUP = (
    _LIB
    + """
local stream, group, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
local items = skey(stream, 'items', group)
local out = {}
for _, id in ipairs(redis.call('ZRANGE', skey(stream, 'order', group), 0, -1)) do
  if not expired(stream, group, id, now) then
    local value = redis.call('HGET', items, id)
    if value then
      table.insert(out, id)
      table.insert(out, value)
    end
  end
end
return out
"""
)

# ARGV: prefix, stream, now. Returns the groups that hold a live item.
_GROUPS = (
    _LIB
    + """
local stream, now = ARGV[2], tonumber(ARGV[3])
local out = {}
for _, group in ipairs(redis.call('SMEMBERS', skey(stream, 'groups'))) do
  for _, id in ipairs(redis.call('HKEYS', skey(stream, 'items', group))) do
    if not expired(stream, group, id, now) then
      table.insert(out, group)
      break
    end
  end
end
return out
"""
)

# ARGV: prefix, now, limit. Removes expired items; returns their members.
_EXPIRED = (
    _LIB
    + """
local gone = redis.call('ZRANGEBYSCORE', EXPIRY, '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])
for _, m in ipairs(gone) do
  local a = string.find(m, ':', 1, true)
  local ls = tonumber(string.sub(m, 1, a - 1))
  local stream = string.sub(m, a + 1, a + ls)
  local b = string.find(m, ':', a + ls + 1, true)
  local lg = tonumber(string.sub(m, a + ls + 1, b - 1))
  local group = string.sub(m, b + 1, b + lg)
  remove(stream, group, string.sub(m, b + lg + 1))
end
return gone
"""
)

_SWEEP_BATCH = 1000


class RedisStreamStore(StreamStore):
    def __init__(self, client: Redis, prefix: str, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self._client = client
        self._prefix = prefix
        register = client.register_script
        self._get_script = register(_GET)
        self._put_script = register(_PUT)
        self._delete_script = register(_DELETE)
        self._group_script = register(_GROUP)
        self._groups_script = register(_GROUPS)
        self._expired_script = register(_EXPIRED)

    async def _get(self, stream: str, group_id: str, item_id: str, now: float) -> bytes | None:
        raw: Any = await settle(
            self._get_script(args=[self._prefix, stream, group_id, item_id, repr(now)])
        )
        return None if raw is None else bytes(raw)

    async def _put(
        self,
        stream: str,
        group_id: str,
        item_id: str,
        value: bytes,
        expires_at: float | None,
        now: float,
    ) -> PutResult:
        result = await settle(
            self._put_script(
                args=[
                    self._prefix,
                    stream,
                    group_id,
                    item_id,
                    value,
                    "" if expires_at is None else repr(expires_at),
                    repr(now),
                ]
            )
        )
        outcome = bytes(result).decode()
        assert outcome in ("created", "updated", "revived"), outcome
        return cast(PutResult, outcome)

    async def _delete(self, stream: str, group_id: str, item_id: str, now: float) -> bytes | None:
        raw: Any = await settle(
            self._delete_script(args=[self._prefix, stream, group_id, item_id, repr(now)])
        )
        return None if raw is None else bytes(raw)

    async def _group(self, stream: str, group_id: str, now: float) -> list[tuple[str, bytes]]:
        raw = cast(
            list[bytes],
            await settle(self._group_script(args=[self._prefix, stream, group_id, repr(now)])),
        )
        return [(raw[i].decode(), bytes(raw[i + 1])) for i in range(0, len(raw), 2)]

    async def groups(self, stream: str) -> list[str]:
        raw = cast(
            list[bytes],
            await settle(self._groups_script(args=[self._prefix, stream, repr(self.clock.time())])),
        )
        return sorted(g.decode() for g in raw)

    async def expired(self) -> list[tuple[str, str, str]]:
        now = repr(self.clock.time())
        gone: list[tuple[str, str, str]] = []
        while True:
            batch = cast(
                list[bytes],
                await settle(self._expired_script(args=[self._prefix, now, _SWEEP_BATCH])),
            )
            gone += [_split(m) for m in batch]
            if len(batch) < _SWEEP_BATCH:
                return gone


def _split(member: bytes) -> tuple[str, str, str]:
    """(stream, group, id) of an expiry member: `<len>:<stream><len>:<group><id>`."""
    colon = member.index(b":")
    start = colon + 1
    end = start + int(member[:colon])
    stream = member[start:end]
    colon = member.index(b":", end)
    start = colon + 1
    group_end = start + int(member[end:colon])
    return stream.decode(), member[start:group_end].decode(), member[group_end:].decode()
