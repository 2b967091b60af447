"""The Lua scripts of the Redis queue (see `queue.py` for the keys they keep).

A round trip costs far more CPU than the work of one message: on the worker, the client
library's command machinery and the socket calls (about 70 us on the project's 2-core
machine); in Redis, the socket I/O. So the hot paths work in batches: one `WRITE` call
carries everything a process publishes, completes and leases in one event-loop turn, and
a lease takes up to `limit` messages. Each message then costs a few O(1)/O(log n)
commands:

- publish: EXISTS, HSET, ZADD (plus, per call, one INCRBY for all the seqs); a message
  taken by its publisher's idle worker is stored leased, never ready: EXISTS, HSET (its
  token and attempt with the rest), ZADD to `leased`;
- lease: HMGET, HSET (plus, per lease, one ZRANGE, ZREMRANGEBYRANK and ZADD for all);
- complete: HMGET, ZREM, DEL (plus the group's next head for a FIFO message).

Inside a script the cost is per element, not per command (20 HSETs cost what one HSET of
20 fields does; a ZADD element about 2 us), so one hash per message stays: a column
layout (one hash per field and queue, touched once per batch) measured no cheaper.

Hash fields of a message (`Q:m:<id>`): seq, body, enqueued_at, group (FIFO only),
attempts and token (once leased), error (after a failed attempt); the fewer fields, the
cheaper the HSET. A message's visibility time is kept only as the score of `delayed` or
`parked`, and its lease expiry only as the score of `leased`. Times are passed in as the
strings Python made, and stored as given: Lua's own number formatting would drop digits.
"""

from __future__ import annotations

from motia.adapters.redis.schedule_scripts import SCHEDULE_LIB

# ARGV[1] is always the prefix; keys are built as `RedisQueueAdapter._queue_key` builds them.
LIB = """
local P = ARGV[1]
local function base(sub) return P .. ':q:{' .. sub .. '}' end

-- ZADD many (score, member) pairs, in chunks: unpack() has a stack limit.
local function zadd_all(key, items)
  for i = 1, #items, 1000 do
    redis.call('ZADD', key, unpack(items, i, math.min(i + 999, #items)))
  end
end

-- Make a message that may run now (unordered, or the new head of its group) leasable.
local function activate(q, id, seq, visible_at, now)
  if visible_at <= now then
    redis.call('ZADD', q .. ':ready', seq, id)
  else
    redis.call('ZADD', q .. ':delayed', visible_at, id)
  end
end

-- Add a message to a subscriber's queue; a no-op when the id is already queued. With
-- `ready` (a table), messages that may run now are collected there per queue, for one
-- ZADD each (see add_ready), instead of added one by one.
local function enqueue(sub, id, group, body, visible_at, now, now_text, seq, ready)
  local q = base(sub)
  local mkey = q .. ':m:' .. id
  if redis.call('EXISTS', mkey) == 1 then return end
  if group then
    redis.call('HSET', mkey, 'seq', seq, 'body', body, 'enqueued_at', now_text, 'group', group)
    local gkey = q .. ':g:' .. group
    redis.call('ZADD', gkey, seq, id)
    if redis.call('ZCARD', gkey) > 1 then  -- behind the head of its group
      redis.call('ZADD', q .. ':parked', visible_at, id)
      return
    end
  else
    redis.call('HSET', mkey, 'seq', seq, 'body', body, 'enqueued_at', now_text)
    if ready and visible_at <= now then
      local items = ready[q]
      if not items then
        items = {}
        ready[q] = items
      end
      table.insert(items, seq)
      table.insert(items, id)
      return
    end
  end
  activate(q, id, seq, visible_at, now)
end

local function add_ready(ready)
  for q, items in pairs(ready) do zadd_all(q .. ':ready', items) end
end

-- The message left its group: the next one of the group (parked so far) may run.
local function next_of_group(q, group, id, now)
  local gkey = q .. ':g:' .. group
  redis.call('ZREM', gkey, id)
  local head = redis.call('ZRANGE', gkey, 0, 0)[1]
  if not head then return end
  local visible_at = redis.call('ZSCORE', q .. ':parked', head)
  if visible_at then
    redis.call('ZREM', q .. ':parked', head)
    local seq = redis.call('HGET', q .. ':m:' .. head, 'seq')
    activate(q, head, seq, tonumber(visible_at), now)
  end
end

-- Take a held message out of its queue (keeping its hash). A held message is in `leased`,
-- or in `ready` once its lease expired and nobody took it over.
local function unlink(q, id, group, now)
  if redis.call('ZREM', q .. ':leased', id) == 0 then
    redis.call('ZREM', q .. ':ready', id)
  end
  if group then next_of_group(q, group, id, now) end
end

-- Lease up to `limit` messages of a subscriber, oldest first. Returns one JSON text (a
-- client parses a reply list item by item; this is one read and one JSON decode):
-- [next, [id, attempts, enqueued_at, message], ...] with each message's body spliced in as
-- stored. `next` is 0 when `limit` were leased; otherwise when the next message becomes
-- visible (`now` if one already is), or null when nothing else waits.
-- Due delays and expired leases become leasable; an expired lease's token stays valid
-- until the message is leased again.
local function make_due_leasable(q, now)
  for _, part in ipairs({':delayed', ':leased'}) do
    local due = redis.call('ZRANGEBYSCORE', q .. part, '-inf', now)
    if #due > 0 then
      local moved = {}
      for _, id in ipairs(due) do
        table.insert(moved, redis.call('HGET', q .. ':m:' .. id, 'seq'))
        table.insert(moved, id)
      end
      zadd_all(q .. ':ready', moved)
      redis.call('ZREMRANGEBYSCORE', q .. part, '-inf', now)
    end
  end
end

local function lease(sub, now, now_text, limit, lease_until, token)
  local q = base(sub)
  local mkeys = q .. ':m:'
  make_due_leasable(q, now)
  if limit < 1 then return '[0]' end
  local out = {}
  local ids = redis.call('ZRANGE', q .. ':ready', 0, limit - 1)
  if #ids > 0 then
    redis.call('ZREMRANGEBYRANK', q .. ':ready', 0, #ids - 1)
    local leased = {}
    for _, id in ipairs(ids) do
      local mkey = mkeys .. id
      local fields = redis.call('HMGET', mkey, 'body', 'enqueued_at', 'attempts')
      if fields[1] and fields[2] then
        local attempts = (tonumber(fields[3]) or 0) + 1
        redis.call('HSET', mkey, 'token', token, 'attempts', attempts)
        table.insert(leased, lease_until)
        table.insert(leased, id)
        table.insert(out, ',[' .. cjson.encode(id) .. ',' .. attempts .. ',' .. fields[2]
          .. ',' .. fields[1] .. ']')
      else  -- its hash was deleted behind our back: drop the id rather than fail the call
        redis.call('DEL', mkey)
      end
    end
    if #leased > 0 then zadd_all(q .. ':leased', leased) end
  end
  local next_at = '0'
  if #ids < limit then
    if redis.call('ZCARD', q .. ':ready') > 0 then
      next_at = now_text
    else
      next_at = 'null'
      for _, part in ipairs({':delayed', ':leased', ':parked'}) do
        local head = redis.call('ZRANGE', q .. part, 0, 0, 'WITHSCORES')[2]
        if head and (next_at == 'null' or tonumber(head) < tonumber(next_at)) then
          next_at = head
        end
      end
    end
  end
  return '[' .. next_at .. table.concat(out) .. ']'
end

local function held(q, id, token)
  return redis.call('HGET', q .. ':m:' .. id, 'token') == token
end
"""

# ARGV: prefix, now, plan (JSON), bodies (concatenated). The plan is a list of operations,
# run in order:
# - ["p", messages]: publish;
# - ["c", subscriber, id, token, messages]: complete: acknowledge and publish the emits,
#   only while the lease is held;
# - ["t", token, lease_until, taken, messages]: publish, and lease the messages whose
#   [subscriber, id] pairs are in `taken` to the publisher at once (their first attempt
#   counted); answers the ids it leased (one that was queued already is left as it was);
# - ["l", subscriber, limit, lease_until, token]: lease (see `lease` above). A worker's
#   lease usually travels with the completions that freed its slots, and so sees the next
#   messages of their FIFO groups.
# A message is [subscriber, id, group or null, visible_at, length of its body, schedule?],
# its body the next `length` bytes of the bodies; `schedule` (a scheduled emit's copy, see
# `schedule_scripts`) is [event, topic, key or null, fire_at, trace] (or false), and a priority,
# when not 0, follows it. Returns a JSON array
# with one entry per operation: 1, 0 when the lease was lost, or the lease's result.
WRITE = (
    LIB
    + SCHEDULE_LIB
    + """
local now_text = ARGV[2]
local now = tonumber(now_text)
local plan = cjson.decode(ARGV[3])
local bodies = ARGV[4]
local count = 0
for _, op in ipairs(plan) do
  if op[1] ~= 'l' then count = count + #op[#op] end
end
local PRIORITY_BLOCK = 4398046511104  -- 2^42: priorities from -1000 to 1000 fit in 2^53
local seq = 0
if count > 0 then seq = redis.call('INCRBY', P .. ':q:seq', count) - count end
local offset = 1
local ready = {}
-- `take` (from a 't' operation): id -> [subscriber, token, lease_until] of the messages to
-- store leased to the publisher, never made ready; the ids taken are listed in `taken`.
local function enqueue_all(messages, keep, take, taken)
  for _, m in ipairs(messages) do
    local stop = offset + m[5]
    seq = seq + 1
    if keep then
      local group = m[3]
      if group == cjson.null then group = nil end
      -- A priority orders before the publish order: the score is moved down by whole
      -- blocks of PRIORITY_BLOCK seqs, written out in full (not as Lua prints numbers).
      local order = seq
      if m[7] then order = string.format('%.0f', seq - m[7] * PRIORITY_BLOCK) end
      local lease = take and take[m[2]]
      if lease and lease[1] == m[1] and not group and tonumber(m[4]) <= now then
        local q = base(m[1])
        redis.call('HSET', q .. ':m:' .. m[2], 'seq', order, 'body',
          string.sub(bodies, offset, stop - 1), 'enqueued_at', now_text,
          'token', lease[2], 'attempts', 1)
        redis.call('ZADD', q .. ':leased', lease[3], m[2])
        table.insert(taken, cjson.encode(m[2]))
      else
        enqueue(m[1], m[2], group, string.sub(bodies, offset, stop - 1), m[4], now, now_text,
          order, ready)
      end
      if m[6] then schedule(m[1], m[2], m[6], now) end
    end
    offset = stop
  end
end
local out = {}
for i, op in ipairs(plan) do
  local kind = op[1]
  if kind == 'p' then
    enqueue_all(op[2], true)
    out[i] = '1'
  elseif kind == 't' then
    -- Messages queued before this publish are left as they are: not ours to take.
    local take = {}
    for _, pair in ipairs(op[4]) do
      if redis.call('EXISTS', base(pair[1]) .. ':m:' .. pair[2]) == 0 then
        take[pair[2]] = {pair[1], op[2], op[3]}
      end
    end
    local taken = {}
    enqueue_all(op[5], true, take, taken)
    out[i] = '[' .. table.concat(taken, ',') .. ']'
  elseif kind == 'c' then
    local q = base(op[2])
    local id = op[3]
    local mkey = q .. ':m:' .. id
    local fields = redis.call('HMGET', mkey, 'token', 'group')
    if fields[1] == op[4] then
      unlink(q, id, fields[2] or nil, now)
      redis.call('DEL', mkey)
      enqueue_all(op[5], true)
      out[i] = '1'
    else
      enqueue_all(op[5], false)  -- skip their bodies
      out[i] = '0'
    end
  else
    add_ready(ready)  -- what this script published so far is leasable
    ready = {}
    out[i] = lease(op[2], now, now_text, op[3], op[4], op[5])
  end
end
add_ready(ready)
return '[' .. table.concat(out, ',') .. ']'
"""
)

# ARGV: prefix, lease_until, then (subscriber, id, token) for each delivery.
EXTEND = (
    LIB
    + """
for i = 3, #ARGV, 3 do
  local q = base(ARGV[i])
  local id = ARGV[i + 1]
  if held(q, id, ARGV[i + 2]) then
    redis.call('ZREM', q .. ':ready', id)  -- an expired lease nobody took over
    redis.call('ZADD', q .. ':leased', ARGV[2], id)
  end
end
return 1
"""
)

# ARGV: prefix, subscriber, id, token, visible_at, error.
RETRY = (
    LIB
    + """
local q = base(ARGV[2])
local id = ARGV[3]
if not held(q, id, ARGV[4]) then return 0 end
redis.call('HSET', q .. ':m:' .. id, 'token', '', 'error', ARGV[6])
redis.call('ZREM', q .. ':leased', id)
redis.call('ZREM', q .. ':ready', id)
redis.call('ZADD', q .. ':delayed', ARGV[5], id)
return 1
"""
)

# ARGV: prefix, subscriber, id, token, visible_at (0: at once).
RELEASE = (
    LIB
    + """
local q = base(ARGV[2])
local id = ARGV[3]
if not held(q, id, ARGV[4]) then return 0 end
local mkey = q .. ':m:' .. id
local fields = redis.call('HMGET', mkey, 'attempts', 'seq')
redis.call('HSET', mkey, 'token', '', 'attempts', math.max(tonumber(fields[1]) - 1, 0))
redis.call('ZREM', q .. ':leased', id)
if tonumber(ARGV[5]) > 0 then
  redis.call('ZREM', q .. ':ready', id)
  redis.call('ZADD', q .. ':delayed', ARGV[5], id)
else
  redis.call('ZADD', q .. ':ready', fields[2], id)
end
return 1
"""
)

# ARGV: prefix, subscriber, id, token, now, error, has_stack, stack, reason, topic.
DEAD_LETTER = (
    LIB
    + """
local sub = ARGV[2]
local q = base(sub)
local id = ARGV[3]
local mkey = q .. ':m:' .. id
local fields = redis.call('HMGET', mkey, 'token', 'group')
if fields[1] ~= ARGV[4] then return 0 end
unlink(q, id, fields[2] or nil, tonumber(ARGV[5]))
local dkey = P .. ':q:dead:' .. id
local previous = redis.call('HGET', dkey, 'subscriber')
if previous then
  redis.call('ZREM', base(previous) .. ':dead', id)
end
redis.call('RENAME', mkey, dkey)
-- visible_at and lease_until: fields of messages queued by earlier versions.
redis.call('HDEL', dkey, 'seq', 'token', 'lease_until', 'visible_at', 'stack')
redis.call('HSET', dkey, 'subscriber', sub, 'topic', ARGV[10], 'error', ARGV[6],
  'reason', ARGV[9], 'failed_at', ARGV[5])
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
  local fields = redis.call('HMGET', dkey, 'subscriber', 'body', 'group')
  if not fields[1] then return nil end
  redis.call('DEL', dkey)
  redis.call('ZREM', P .. ':q:dead', id)
  redis.call('ZREM', base(fields[1]) .. ':dead', id)
  return fields
end
"""

# ARGV: prefix, now, ids... (oldest failure first). Returns how many were redriven.
REDRIVE = (
    LIB
    + _UNDEAD
    + """
local now_text = ARGV[2]
local now = tonumber(now_text)
local count = 0
for i = 3, #ARGV do
  local f = undead(ARGV[i])
  if f then
    local seq = redis.call('INCR', P .. ':q:seq')
    enqueue(f[1], ARGV[i], f[3] or nil, f[2], now, now, now_text, seq, nil)
    count = count + 1
  end
end
return count
"""
)

# ARGV: prefix, ids... Returns how many were deleted.
PURGE = (
    LIB
    + _UNDEAD
    + """
local count = 0
for i = 2, #ARGV do
  if undead(ARGV[i]) then count = count + 1 end
end
return count
"""
)

# ARGV: prefix, subscriber, now. Returns [ready, delayed, leased, parked, leased after now,
# delayed after now, parked after now, dead, enqueued_at of the oldest leasable message or
# ""]. Due delays and expired leases are made leasable first, as a lease would: then the
# oldest leasable message is the first of `ready`, one lookup however long the queue.
STATS = (
    LIB
    + """
local q = base(ARGV[2])
local now = tonumber(ARGV[3])
local after = '(' .. ARGV[3]
make_due_leasable(q, now)
local out = {}
for _, part in ipairs({':ready', ':delayed', ':leased', ':parked'}) do
  table.insert(out, redis.call('ZCARD', q .. part))
end
table.insert(out, redis.call('ZCOUNT', q .. ':leased', after, '+inf'))
table.insert(out, redis.call('ZCOUNT', q .. ':delayed', after, '+inf'))
table.insert(out, redis.call('ZCOUNT', q .. ':parked', after, '+inf'))
table.insert(out, redis.call('ZCARD', q .. ':dead'))
local oldest = ''
local head = redis.call('ZRANGE', q .. ':ready', 0, 0)[1]
if head then oldest = redis.call('HGET', q .. ':m:' .. head, 'enqueued_at') or '' end
table.insert(out, oldest)
return out
"""
)
