"""The Lua of scheduled emits in the Redis queue (appended to `queue_scripts.LIB`).

A scheduled emit's copies are ordinary messages delayed until the fire time, so leasing,
retries and firing once need nothing new. Beside them, with `P` the prefix:

- `P:s:e:<event>`  hash: topic, key (when given), fire_at, trace, and one field
                   `><subscriber>` = message id per copy;
- `P:s:at`         zset event -> fire_at: every scheduled emit, soonest first;
- `P:s:key:<key>`  set of the events with that key (on any topic);
- `P:s:prune`      where the pruning of fired emits goes on from.

A copy is pending, and may be cancelled, until it is leased for the first time (no token,
no attempt). The index is written by the WRITE script that publishes or completes, and
pruned of fired emits as new ones are scheduled, so it stays as small as what waits.
"""

from __future__ import annotations

SCHEDULE_LIB = """
local function pending_copy(q, id)
  local f = redis.call('HMGET', q .. ':m:' .. id, 'seq', 'token', 'attempts')
  if not f[1] then return false end
  if f[2] and f[2] ~= '' then return false end
  return (tonumber(f[3]) or 0) == 0
end

-- Delete a copy that was never leased; 1 when it was deleted.
local function drop_copy(sub, id, now)
  local q = base(sub)
  if not pending_copy(q, id) then return 0 end
  local mkey = q .. ':m:' .. id
  local group = redis.call('HGET', mkey, 'group')
  redis.call('ZREM', q .. ':delayed', id)
  redis.call('ZREM', q .. ':ready', id)
  redis.call('ZREM', q .. ':parked', id)
  if group then next_of_group(q, group, id, now) end
  redis.call('DEL', mkey)
  return 1
end

-- The fields of a scheduled emit: {topic=, key=, fire_at=, trace=, copies={{sub, id}...}}.
local function scheduled_emit(event)
  local fields = redis.call('HGETALL', P .. ':s:e:' .. event)
  if #fields == 0 then return nil end
  local emit = {copies = {}}
  for i = 1, #fields, 2 do
    local name = fields[i]
    if string.sub(name, 1, 1) == '>' then
      table.insert(emit.copies, {string.sub(name, 2), fields[i + 1]})
    else
      emit[name] = fields[i + 1]
    end
  end
  return emit
end

-- Delete the pending copies of a scheduled emit and forget it; returns the copies deleted.
local function cancel_event(event, now)
  local emit = scheduled_emit(event)
  if not emit then return 0 end
  local count = 0
  for _, copy in ipairs(emit.copies) do
    count = count + drop_copy(copy[1], copy[2], now)
  end
  if emit.key then redis.call('SREM', P .. ':s:key:' .. emit.key, event) end
  redis.call('DEL', P .. ':s:e:' .. event)
  redis.call('ZREM', P .. ':s:at', event)
  return count
end

local function has_pending(emit)
  for _, copy in ipairs(emit.copies) do
    if pending_copy(base(copy[1]), copy[2]) then return true end
  end
  return false
end

-- Forget emits whose time has come and that have no pending copy left (they fired). Each
-- call looks at the next 100 due ones (`P:s:prune` keeps the place), so due emits still
-- waiting for a worker never hide fired ones behind them.
local function prune(now)
  local cursor = P .. ':s:prune'
  local from = tonumber(redis.call('GET', cursor) or '0')
  local due = redis.call('ZRANGEBYSCORE', P .. ':s:at', '-inf', now, 'LIMIT', from, 100)
  local kept = 0
  for _, event in ipairs(due) do
    local emit = scheduled_emit(event)
    if not emit or not has_pending(emit) then
      cancel_event(event, now)
    else
      kept = kept + 1
    end
  end
  if #due < 100 then
    redis.call('DEL', cursor)
  else
    redis.call('SET', cursor, from + kept)
  end
end

-- Index one copy of a scheduled emit; `s` is [event, topic, key or null, fire_at, trace].
-- The first copy of a keyed emit replaces the pending emit with the same topic and key.
local function schedule(sub, id, s, now)
  local event = s[1]
  local ekey = P .. ':s:e:' .. event
  if redis.call('EXISTS', ekey) == 0 then
    if s[3] ~= cjson.null then
      local kkey = P .. ':s:key:' .. s[3]
      for _, other in ipairs(redis.call('SMEMBERS', kkey)) do
        if other ~= event and redis.call('HGET', P .. ':s:e:' .. other, 'topic') == s[2] then
          cancel_event(other, now)
        end
      end
      redis.call('SADD', kkey, event)
      redis.call('HSET', ekey, 'key', s[3])
    end
    redis.call('HSET', ekey, 'topic', s[2], 'fire_at', s[4], 'trace', s[5])
    redis.call('ZADD', P .. ':s:at', s[4], event)
    prune(now)
  end
  redis.call('HSET', ekey, '>' .. sub, id)
end
"""

# ARGV: prefix, now, event id or '', key or '', topic or ''. Returns the copies deleted.
CANCEL = """
local now = tonumber(ARGV[2])
if ARGV[3] ~= '' then return cancel_event(ARGV[3], now) end
if ARGV[4] == '' then return 0 end
local count = 0
for _, event in ipairs(redis.call('SMEMBERS', P .. ':s:key:' .. ARGV[4])) do
  if ARGV[5] == '' or redis.call('HGET', P .. ':s:e:' .. event, 'topic') == ARGV[5] then
    count = count + cancel_event(event, now)
  end
end
return count
"""

# ARGV: prefix, topic or '', limit. Returns a JSON list of [fields, body of a pending copy]
# with fields [event, topic, key or null, fire_at, trace, [subscriber, ...]], soonest first.
LIST = """
local limit = tonumber(ARGV[3])
local out = {}
local start = 0
while #out < limit do
  local events = redis.call('ZRANGE', P .. ':s:at', start, start + 99)
  if #events == 0 then break end
  start = start + 100
  for _, event in ipairs(events) do
    local emit = scheduled_emit(event)
    if emit and (ARGV[2] == '' or emit.topic == ARGV[2]) and #out < limit then
      local subs, body = {}, nil
      for _, copy in ipairs(emit.copies) do
        local q = base(copy[1])
        if pending_copy(q, copy[2]) then
          table.insert(subs, copy[1])
          body = body or redis.call('HGET', q .. ':m:' .. copy[2], 'body')
        end
      end
      if body then
        table.sort(subs)
        local fields = {event, emit.topic, emit.key or cjson.null, emit.fire_at, emit.trace, subs}
        table.insert(out, '[' .. cjson.encode(fields) .. ',' .. body .. ']')
      end
    end
  end
end
return '[' .. table.concat(out, ',') .. ']'
"""
